"""``htsr compare FILE``: the power law against the alternative tail models.

Prints one row per alternative (lognormal, exponential, stretched exponential,
power law with cutoff) like Table 6.2 of Clauset et al. (2009): the
log-likelihood ratio R (> 0 favours the power law), the normalised ratio, the
p-value and a plain-language verdict at the 0.1 level.
"""

from __future__ import annotations

import sys

from ._common import check_figure, read_data, save_figure, to_json


def add_parser(sub) -> None:
    p = sub.add_parser(
        "compare",
        help="test the power law against lognormal, exponential, stretched exponential and cutoff",
        description="Fit the power law and the usual alternatives to the tail of the numbers in FILE "
        "(text separated by whitespace or commas, a .npy array, or '-' for standard input) and "
        "compare them with likelihood-ratio tests (Clauset, Shalizi & Newman 2009, section 5).",
    )
    p.add_argument("file", metavar="FILE", help="data file, or - for stdin")
    p.add_argument("--discrete", action="store_true", help="use the discrete (integer) forms of the laws")
    p.add_argument("--xmin", type=float, default=None,
                   help="start of the tail (default: chosen by the power-law KS scan)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--plot", metavar="OUT.png", default=None,
                   help="write the tail CCDF with every fitted model overlaid")
    p.set_defaults(func=run)


def run(args) -> int:
    x = read_data(args.file)  # file errors answer before JAX is imported
    check_figure(args.plot)  # and a bad --plot path before the work
    from ..inference.compare import compare_all

    res = compare_all(x, xmin=args.xmin, discrete=args.discrete)
    print(to_json(res.to_dict()) if args.json else _text(res))
    sys.stdout.flush()  # the results are out before the figure is written
    if args.plot:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        from ..plot.models import plot_models

        ax = plot_models(res)
        save_figure(ax.figure, args.plot)
        plt.close(ax.figure)
        print(f"wrote figure to {args.plot}", file=sys.stderr)  # stderr: --json keeps stdout pure JSON
    return 0


def _text(res) -> str:
    """The table of a :class:`~htsr.inference.results.CompareAllResult`, with a note per degenerate fit."""
    pl_fit = res.power_law
    kind = "discrete" if res.discrete else "continuous"
    head = (f"power law ({kind}): alpha = {pl_fit.params['alpha']:.4f} ± {pl_fit.se['alpha']:.4f}, "
            f"xmin = {res.xmin:.6g}, n_tail = {res.n_tail}")
    cols = ("alternative", "R", "norm. R", "p", "test", "verdict", "fitted parameters")
    rows, notes = [], []
    verdicts = res.verdicts
    for name, r in res.comparisons.items():
        fit = r.model2
        params = ", ".join(f"{k}={v:.4g}" for k, v in fit.params.items())
        note = _degenerate(name, fit)
        if note:
            notes.append(f"[{len(notes) + 1}] {name.replace('_', ' ')}: {note}")
            params += f" [{len(notes)}]"
        rows.append((name.replace("_", " "), f"{r.R:.4g}", f"{r.normalized_R:.3f}", f"{r.p:.3g}",
                     "nested" if r.nested else "Vuong", verdicts[name], params))
    widths = [max(len(c), *(len(row[i]) for row in rows)) for i, c in enumerate(cols)]
    lines = [head, "", "  ".join(c.ljust(w) for c, w in zip(cols, widths))]
    lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths)) for row in rows]
    lines.append("")
    lines += notes
    lines.append("R > 0 favours the power law; verdicts at the 0.1 level (Clauset et al. 2009, Table 6.2).")
    return "\n".join(lines)


def _degenerate(name: str, fit) -> str:
    """A note when an alternative's fit is degenerate: on its parameter box, or (lognormal) so near
    the power-law limit that over the data it is a power law; empty otherwise."""
    import math

    if fit.at_boundary:
        return (f"at the boundary of its parameter space ({', '.join(fit.at_boundary)}): the fit is degenerate, "
                "the likelihood still rising towards a limit of the family (for this law, usually the power "
                "law itself); its parameters are not estimates, and its R compares the power law with that limit")
    if name == "lognormal" and fit.tail is not None and len(fit.tail):
        mu, sigma = fit.params["mu"], fit.params["sigma"]
        span = math.log(float(max(fit.tail)) / fit.xmin)
        if span ** 2 / (2 * sigma ** 2) < 1:  # the curvature adds < 1 to log p across the whole tail
            slope = 1 + (math.log(fit.xmin) - mu) / sigma ** 2
            return (f"mu = {mu:.4g} lies far below ln(xmin) = {math.log(fit.xmin):.4g}: near the power-law "
                    f"limit (mu -> -inf, sigma -> inf), so over the data this lognormal is a power law with "
                    f"exponent {slope:.4g} and its mu and sigma are not determined separately: the fit is degenerate")
    return ""
