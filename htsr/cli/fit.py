"""``htsr fit FILE``: fit a power law to the tail of the numbers in FILE."""

from __future__ import annotations

import argparse

from ._common import read_data, save_figure, table, to_json


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
                   help="report the finite-size unbiased alpha 1+(n-1)/sum(ln(x/xmin)) (continuous)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--plot", metavar="OUT.png", default=None,
                   help="write a figure: PDF, CCDF and D versus xmin")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..fitting import fit

    data = read_data(args.file)
    result = fit(
        data, xmin=args.xmin, discrete=args.discrete, xmin_range=args.xmin_range,
        min_tail=args.min_tail, estimator="unbiased" if args.unbiased else "mle",
    )
    out = result.to_dict()
    if args.plot:
        write_plot(result, args.plot)
    if args.json:
        print(to_json(out))
    else:
        print(format_result(result))
    return 0


def format_result(result) -> str:
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
