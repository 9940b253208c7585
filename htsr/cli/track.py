"""``htsr track``: the layer report of every checkpoint of a training run, by step.

    htsr track run/ --out track/                        # checkpoint-500/ folders, step_*.safetensors, ...
    htsr track "run/step_*.safetensors" --out track/ --no-intervals
    htsr track a.pt b.pt c.pt --steps 0,100,200 --out track/

Writes DIR/trajectory.nc (or trajectory.zarr with --zarr: alpha, its interval, xmin,
n_tail, alpha_weighted, log_norm and the verdict by layer and step), trajectory.csv
(one row per step and layer) and two figures, alpha_steps.png and alpha_heatmap.png.
Checkpoints already in the store are not redone: a rerun resumes, and a rerun with
new checkpoints adds them.
"""

from __future__ import annotations

import argparse
import sys

from ._common import plain_help


def add_parser(sub) -> None:
    p = sub.add_parser("track", help="per-layer alpha over a training run's checkpoints (netCDF/Zarr, csv, figures)",
                       description=plain_help(__doc__.split("\n\n")[0]))
    p.add_argument("checkpoints", nargs="+", metavar="CKPT",
                   help="checkpoints: files or folders, a glob (quoted), or one folder holding them; ordered by "
                        "the step in their names or trainer_state.json")
    p.add_argument("--steps", metavar="S,S,...",
                   help="the step of each CKPT, in the order given, when their names do not say (0,100,200)")
    p.add_argument("--out", metavar="DIR", default="track", help="output folder (default track/)")
    p.add_argument("--zarr", action="store_true", help="store DIR/trajectory.zarr instead of trajectory.nc")
    p.add_argument("--layers", metavar="PATTERN", action="append",
                   help="only these tensors: glob or exact name (repeatable; regular expressions with --regex)")
    p.add_argument("--exclude", metavar="PATTERN", action="append", help="leave these tensors out (repeatable)")
    p.add_argument("--regex", action="store_true", help="--layers/--exclude are regular expressions")
    p.add_argument("--no-intervals", dest="intervals", action="store_const", const=None, default="bootstrap",
                   help="no bootstrap interval for alpha (fastest)")
    p.add_argument("--reps", type=int, default=1000, help="bootstrap resamples per layer (default 1000)")
    p.add_argument("--level", type=float, default=0.95, help="interval level (default 0.95)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--workers", type=int, help="threads computing ESDs (default: the number of CPUs)")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="run each checkpoint's layers on this Dask scheduler (pip install 'htsr[dask]')")
    p.add_argument("--device", choices=("auto", "gpu", "cpu"), default="auto",
                   help="where Grams, eigensolves and fits run (default auto)")
    p.add_argument("--no-figures", dest="figures", action="store_false", help="write the store and csv only")
    p.add_argument("--quiet", action="store_true", help="print only where the trajectory was written")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import os

    import matplotlib

    matplotlib.use("Agg")
    from .._dask import check_address
    from ..data import check_output
    from ..plot.track import track_figures
    from ..track import track, write_csv

    if args.scheduler is not None:
        check_address(args.scheduler, name="--scheduler")
    check_output(args.out, "--out", folder=True)
    os.makedirs(args.out, exist_ok=True)
    store = os.path.join(args.out, "trajectory.zarr" if args.zarr else "trajectory.nc")
    sources = args.checkpoints[0] if len(args.checkpoints) == 1 else args.checkpoints
    args.on_interrupt = f"the checkpoints done so far are saved in {store}; run the same command to continue"
    ds = track(sources, steps=args.steps, store=store, layers=args.layers, exclude=args.exclude, regex=args.regex,
               intervals=args.intervals, reps=args.reps, level=args.level, seed=args.seed, workers=args.workers,
               client=args.scheduler, device=args.device, progress=not args.quiet)
    written = [store, str(write_csv(ds, os.path.join(args.out, "trajectory.csv")))]
    if args.figures:
        written += [str(p) for p in track_figures(ds, args.out).values()]
    if not args.quiet:
        steps = ds["step"].values
        print(f"{ds.sizes['layer']} layers x {len(steps)} {ds.attrs.get('step_unit', 'step')}s "
              f"({steps[0]} .. {steps[-1]})")
        for s, m, lo, hi in zip(steps, ds["mean_alpha"].values, ds["mean_alpha_lo"].values,
                                ds["mean_alpha_hi"].values):
            interval = f" [{lo:.3f}, {hi:.3f}]" if lo == lo else ""
            print(f"  {ds.attrs.get('step_unit', 'step')} {s}: mean alpha {m:.3f}{interval}")
    print(f"trajectory written to {args.out}/ ({', '.join(os.path.basename(p) for p in written)})")
    sys.stdout.flush()
    return 0
