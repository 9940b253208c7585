"""``htsr calibrate``: estimator bias by parameter and size, in-process or on a Dask cluster.

    htsr calibrate --generator pareto --mu 0.5:5:0.25 --M 256,512,1024 --Q 1,2,4 --reps 20 --out study.nc
    htsr calibrate --generator power_law --alpha 1.5:6:0.25 --n 1000 --reps 100 --out samples.nc
    htsr calibrate plot study.nc --out figures/

Values are a number, a comma list (``1,2,4``) or an inclusive range
``START:STOP:STEP`` (``0.5:5:0.25`` is 19 values).  The study is saved to
``--out`` while it runs (``.nc``: netCDF, ``.zarr``: Zarr) and resumes from it
when run again.  Bad grids are one line and exit status 2.
"""

from __future__ import annotations

import sys
from pathlib import Path

from ..errors import HtsrError
from ._common import plain_help


def add_parser(sub) -> None:
    p = sub.add_parser("calibrate", help="calibration study: fitted alpha vs the generator's parameter and size",
                       description=plain_help(__doc__.split("\n\n")[0]))
    p.add_argument("action", nargs="*", metavar="plot STUDY",
                   help="'plot STUDY.nc --out DIR' draws a stored study; without it, run a study")
    p.add_argument("--generator", default="pareto", help="power_law, pareto (default), student_t or gaussian")
    p.add_argument("--mu", metavar="VALUES", help="tail index of the matrix entries (pareto, student_t)")
    p.add_argument("--alpha", metavar="VALUES", help="density exponent of the samples (power_law)")
    p.add_argument("--M", dest="M", metavar="VALUES", help="matrix columns (default 1000)")
    p.add_argument("--Q", dest="Q", metavar="VALUES", help="aspect ratios N/M (default 2)")
    p.add_argument("--n", dest="n", metavar="VALUES", help="sample sizes (power_law; default 1000)")
    p.add_argument("--estimators", default="clauset,bounded",
                   help="comma list of clauset, unbiased, bounded, bayes (default clauset,bounded)")
    p.add_argument("--reps", type=int, default=20, help="replicates per cell (default 20)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--min-tail", type=int, help="fewest tail points the xmin scan keeps")
    p.add_argument("--out", metavar="PATH",
                   help="the study file (.nc or .zarr; default study.nc), or the figures' folder for 'plot'")
    p.add_argument("--scheduler", metavar="ADDRESS", help="run cells on this Dask scheduler (pip install 'htsr[dask]')")
    p.add_argument("--quiet", action="store_true", help="print only where the study was written")
    p.set_defaults(func=run)


def parse_values(text, name: str, *, integer: bool = False):
    """``"1"``, ``"1,2,4"`` or ``"START:STOP:STEP"`` (inclusive) -> list of numbers."""
    if text is None:
        return None
    text = text.strip()
    what = f"--{name} {text!r}"
    def number(p):
        try:
            return float(p)
        except ValueError:
            raise HtsrError(f"{what}: expected a number, a comma list or START:STOP:STEP") from None

    if ":" in text:
        parts = [number(p) for p in text.split(":")]
        if len(parts) != 3:
            raise HtsrError(f"{what}: a range is START:STOP:STEP")
        start, stop, step = parts
        if not step > 0:
            raise HtsrError(f"{what}: STEP must be > 0")
        if stop < start:
            raise HtsrError(f"{what} is an empty range (STOP < START)")
        k = int(round((stop - start) / step + 1e-9))
        vals = [round(start + i * step, 10) for i in range(k + 1)]
    else:
        vals = [number(p) for p in text.split(",") if p.strip()]
    if not vals:
        raise HtsrError(f"{what} is empty")
    if integer:
        if any(not v.is_integer() for v in vals):
            raise HtsrError(f"{what}: {name} must be integers")
        vals = [int(v) for v in vals]
    return vals


def run(args) -> int:
    if args.action:
        if args.action[0] != "plot" or len(args.action) != 2:
            raise HtsrError("usage: htsr calibrate plot STUDY --out DIR (or options only, to run a study)")
        return _plot(args.action[1], args.out or "figures")
    from ..calibration import calibrate

    grid = dict(mu=parse_values(args.mu, "mu"), alpha=parse_values(args.alpha, "alpha"),
                M=parse_values(args.M, "M", integer=True), Q=parse_values(args.Q, "Q"),
                n=parse_values(args.n, "n", integer=True))
    grid = {k: v for k, v in grid.items() if v is not None}
    estimators = [e.strip() for e in args.estimators.split(",") if e.strip()]
    out = args.out or "study.nc"
    _check_before_work(out, args.scheduler)
    args.on_interrupt = f"the cells finished so far are saved in {out}; the same command resumes from them"
    ds = calibrate(args.generator, **grid, estimators=estimators, reps=args.reps, seed=args.seed,
                   min_tail=args.min_tail, client=args.scheduler, store=out, progress=not args.quiet)
    if not args.quiet:
        _print_summary(ds)
    print(f"study written to {out} (htsr calibrate plot {out} --out DIR draws it)")
    return 0


def _check_before_work(out: str, scheduler) -> None:
    """A bad --out or --scheduler answers now, not after the study has run."""
    from .._dask import check_address
    from ..data import check_output

    if scheduler is not None:
        check_address(scheduler, name="--scheduler")
    store = Path(out)
    check_output(store, "--out", folder=store.suffix == ".zarr" and store.is_dir())


def _print_summary(ds) -> None:
    import pandas as pd

    cols = [d for d in ds["alpha_mean"].dims if d != "estimator"]
    table = ds[["alpha_mean", "alpha_sd", "bias", "rmse", "coverage"]].to_dataframe()
    table = table.reset_index().set_index([*cols, "estimator"])
    with pd.option_context("display.width", 120, "display.precision", 3):
        print(table.to_string(max_rows=60))


def _plot(path, out) -> int:
    from ..calibration import open_study
    from ..data import check_output
    from ..plot.calibration import study_figures

    ds = open_study(path)
    check_output(out, "--out", folder=True)
    paths = study_figures(ds, out)
    for p in paths:
        print(f"wrote {p}")
    if not paths:
        print("htsr: warning: nothing to draw for this study", file=sys.stderr)
    return 0
