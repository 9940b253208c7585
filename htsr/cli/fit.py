"""``htsr fit FILE``: fit a power law to the tail of the numbers in FILE."""

from __future__ import annotations

import argparse
import sys

from .._progress import Bar

from ._bayes import add_sampler_flags, nuts_progress, sampler_options
from ._common import check_figure, read_data, save_figure, table, to_json


def add_parser(sub) -> None:
    p = sub.add_parser(
        "fit",
        help="fit a power law to the tail of a sample (Clauset et al. 2009)",
        description="Fit a power law to the tail of the numbers in FILE: text with numbers "
        "separated by whitespace or commas, a .npy array, or '-' for standard input. "
        "Non-positive values are dropped with a warning.",
    )
    p.add_argument("file", metavar="FILE", help="data file, or - for stdin")
    p.add_argument("--discrete", action="store_true", help="fit the discrete (integer) power law")
    p.add_argument("--xmin", type=float, default=None, help="fix xmin instead of scanning for it")
    p.add_argument("--xmin-range", type=float, nargs=2, metavar=("LOW", "HIGH"), default=None,
                   help="only consider xmin in [LOW, HIGH]")
    p.add_argument("--min-tail", type=int, default=None, help="only consider xmin leaving at least N tail points")
    p.add_argument("--unbiased", action="store_true",
                   help="report the finite-size unbiased alpha (continuous; e.g. 1+(n-1)/sum(ln(x/xmin)) "
                        "for the unbounded law)")
    p.add_argument("--method", choices=("clauset", "bounded"), default="clauset",
                   help="clauset: power law on x >= xmin; bounded: power law truncated to [xmin, xmax]")
    p.add_argument("--xmax", type=_xmax_arg, default=None, metavar="XMAX|search",
                   help="upper end for --method bounded (default: the largest value; 'search': "
                   "Deluca-Corral widest range with p >= 0.1)")
    p.add_argument("--alpha-grid", choices=("plfit",), default=None,
                   help="with --discrete: maximise the likelihood on plfit.m's alpha grid 1.50:0.01:3.50, "
                        "to reproduce Clauset et al.'s published numbers (default: exact MLE)")
    p.add_argument("--gof", type=_positive_int, default=None, metavar="REPS",
                   help="goodness-of-fit p-value from REPS synthetic data sets (Clauset et al. 2009)")
    p.add_argument("--bootstrap", type=_positive_int, default=None, metavar="REPS",
                   help="bootstrap confidence intervals for alpha, xmin, n_tail from REPS resamples")
    p.add_argument("--level", type=float, default=0.95, help="confidence level of --bootstrap intervals")
    p.add_argument("--bayes", action="store_true",
                   help="add the NUTS posterior of alpha (mean, sd, 94%% HDI; and of xmin when --xmin is not "
                        "given: the unknown-xmin model of docs/bayes.md), 4 chains x 1000 draws by default; "
                        "minutes on thousands of points (progress on stderr)")
    p.add_argument("--seed", type=int, default=0, help="seed of --gof, --bootstrap and --bayes (default 0)")
    add_sampler_flags(p, chains=4, target_accept="0.95 with xmin unknown, 0.8 with --xmin")
    p.add_argument("--quiet", action="store_true", help="no progress on stderr (a bar, or lines when not a terminal)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--plot", metavar="OUT.png", default=None,
                   help="write a figure: PDF, CCDF and D versus xmin")
    p.set_defaults(func=run)


def _positive_int(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if v < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return v


def _xmax_arg(text: str):
    if text == "search":
        return text
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number or 'search', got {text!r}") from None


def _with_progress(label, quiet, fn, **kwargs):
    bar = Bar(label, enabled=not quiet and sys.stderr.isatty())
    try:
        return fn(progress=bar if bar.enabled else None, **kwargs)
    finally:  # also on Ctrl-C: end the bar's line before main prints "interrupted"
        bar.close()


def run(args: argparse.Namespace) -> int:
    sampler = sampler_options(args, enabled=args.bayes)  # sampler flags without --bayes: an error, before work
    data = read_data(args.file)  # a missing or malformed file answers before JAX is imported
    check_figure(args.plot)  # a bad --plot path answers before the work, not after it
    from ..fitting import fit

    result = _with_progress(
        "xmin scan", args.quiet, fit, data=data, xmin=args.xmin, discrete=args.discrete,
        xmin_range=args.xmin_range, min_tail=args.min_tail, estimator="unbiased" if args.unbiased else "mle",
        method=args.method, xmax=args.xmax, alpha_grid=args.alpha_grid,
    )
    out = result.to_dict()
    gof_result = boot = None
    if args.gof:
        from ..inference.gof import gof

        gof_result = _with_progress("goodness of fit", args.quiet, gof, data=result, reps=args.gof, seed=args.seed)
        out.update(p_value=gof_result.p, p_value_se=gof_result.p_se, gof_reps=gof_result.reps,
                   gof_procedure=gof_result.procedure, seed=args.seed)
    if args.bootstrap:
        from ..inference.bootstrap import bootstrap

        boot = _with_progress("bootstrap", args.quiet, bootstrap, data=result, reps=args.bootstrap,
                              seed=args.seed, level=args.level)
        out["bootstrap"] = boot.to_dict()
        out["seed"] = args.seed
    bayes = None
    if args.bayes:
        from ..bayes import fit as bayes_fit

        bayes = _bayes(bayes_fit, data, args, sampler).to_dict()
        out["bayes"] = bayes
    if args.json:  # the results first: a failed figure write cannot lose them
        print(to_json(out))
    else:
        print(format_result(result, gof_result, boot, bayes))
    sys.stdout.flush()
    if args.plot:
        write_plot(result, args.plot)
    return 0


def _bayes(bayes_fit, data, args, sampler):
    """``htsr.bayes.fit`` with the command's settings, its progress on stderr (docs/bayes.md, "What a fit costs")."""
    draws = sampler.get("draws", 1000)
    what = f"bayes ({'xmin fixed' if args.xmin is not None else 'xmin unknown'}, {len(data)} points)"
    progress, close = nuts_progress(args.quiet, what, warmup=sampler.get("warmup", draws), draws=draws,
                                    chains=sampler.get("chains", 4))
    try:
        return bayes_fit(data, xmin=args.xmin, discrete=args.discrete, seed=args.seed, progress=progress, **sampler)
    finally:  # also on Ctrl-C: end the bar's line
        close()


def _interval(name: str, lo: float, hi: float) -> str:
    """``[lo, hi]``; a count (``n_tail``) as whole numbers, rounded outwards (its draws are integers)."""
    import math

    if name == "n_tail" and math.isfinite(lo) and math.isfinite(hi):
        return f"[{math.floor(lo)}, {math.ceil(hi)}]"
    return f"[{lo:.6g}, {hi:.6g}]"


def format_result(result, gof_result=None, boot=None, bayes=None) -> str:
    kind = "discrete" if result.discrete else "continuous"
    rows = [
        ("model", f"power law ({kind}), method={result.method}, estimator={result.estimator}"),
        ("alpha", f"{result.alpha:.6g} ± {result.sigma:.2g}"),
        ("xmin", f"{result.xmin:.6g}"),
        ("xmax", f"{result.xmax:.6g}"),
        ("n_tail / n", f"{result.n_tail} / {result.n}"),
        ("KS distance D", f"{result.D:.4g}"),
    ]
    if result.n_candidates > 1:
        rows.append(("xmin candidates", f"{result.n_candidates} ({result.n_evaluated} needed an exact D)"))
    if gof_result is not None:
        rows.append(("GoF p-value", f"{gof_result.p:.4g} ± {gof_result.p_se:.2g} "
                     f"({gof_result.reps} reps, {gof_result.procedure})"))
    if boot is not None:
        pct = f"{100 * boot.level:g}%"
        for k in ("alpha", "xmin", "n_tail"):
            iv = boot.intervals[k]
            bca = "undefined" if iv.bca is None else _interval(k, *iv.bca)
            rows.append((f"{k} {pct} CI", f"BCa {bca}, "
                         f"percentile {_interval(k, *iv.percentile)} ({boot.reps} reps)"))
    if bayes is not None:
        lo, hi = bayes["alpha_hdi94"]
        rows.append(("alpha posterior", f"{bayes['alpha_mean']:.6g} ± {bayes['alpha_sd']:.2g}, 94% HDI "
                     f"[{lo:.6g}, {hi:.6g}] (r_hat {bayes['max_r_hat']:.3f}, {bayes['n_divergent']} divergent)"))
        if bayes.get("xmin_mean") is not None:
            lo, hi = bayes["xmin_hdi94"]
            rows.append(("xmin posterior", f"{bayes['xmin_mean']:.6g} ± {bayes['xmin_sd']:.2g}, 94% HDI "
                         f"[{lo:.6g}, {hi:.6g}]"))
        rows.append(("posterior predictive p (KS)", f"{bayes['ppc_p']:.3g}"))
    return table(rows)


def write_plot(result, path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..plot import plot_ccdf, plot_ks_curve, plot_pdf

    scanned = result.n_candidates > 1
    fig, axes = plt.subplots(1, 3 if scanned else 2, figsize=(14 if scanned else 9.5, 4))
    plot_pdf(result, ax=axes[0])
    plot_ccdf(result, ax=axes[1])
    if scanned:
        plot_ks_curve(result, ax=axes[2])
    fig.tight_layout()
    save_figure(fig, path)
    plt.close(fig)
    print(f"wrote figure to {path}", file=sys.stderr)  # stderr: --json keeps stdout pure JSON
