"""``htsr demo``: the main job of this release, end to end on a generated spectrum.

Draws a heavy-tailed random matrix (Pareto entries, tail index mu), computes its
eigenvalue spectrum, fits a power law to the tail, prints the fit and writes a
figure.  Needs nothing but htsr itself.
"""

from __future__ import annotations

import argparse

import numpy as np


def add_parser(sub) -> None:
    p = sub.add_parser("demo", help="fit a power law to the spectrum of a generated heavy-tailed matrix")
    p.add_argument("--M", type=int, default=500, help="matrix columns (default 500)")
    p.add_argument("--Q", type=float, default=2.0, help="aspect ratio N/M (default 2)")
    p.add_argument("--mu", type=float, default=1.5, help="Pareto tail index of the entries (default 1.5)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--plot", metavar="OUT.png", default="htsr-demo.png", help="figure path (default htsr-demo.png)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run)


def spectrum(M: int, Q: float, mu: float, seed: int) -> np.ndarray:
    """Eigenvalues of W^T W / N for W (N x M, N = round(Q M)) with symmetric Pareto(mu) entries."""
    from .. import rmt

    return rmt.esd(rmt.pareto(M, Q, mu, seed=seed))


def run(args: argparse.Namespace) -> int:
    from ..fitting import fit
    from ._common import check_figure, to_json
    from .fit import format_result, write_plot

    check_figure(args.plot)  # a bad --plot path answers before the work
    evals = spectrum(args.M, args.Q, args.mu, args.seed)
    result = fit(evals)
    if args.json:
        out = result.to_dict() | {"M": args.M, "Q": args.Q, "mu": args.mu, "expected_alpha": 1 + args.mu / 2}
        print(to_json(out))
    else:
        print(f"ESD of a {int(round(args.Q * args.M))} x {args.M} matrix with Pareto(mu={args.mu}) entries")
        print(f"(random matrix theory: alpha -> 1 + mu/2 = {1 + args.mu / 2:.3g} for mu < 2, as M grows)\n")
        print(format_result(result))
    if args.plot:
        write_plot(result, args.plot)  # says where it wrote the figure, on stderr
    return 0
