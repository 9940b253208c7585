"""``htsr rmt OUTDIR``: draw the random-matrix gallery to PNG files.

Writes ``gaussian_esd.png`` (Gaussian ESDs for Q in {1, 2, 4} with the
Marchenko-Pastur density), ``heavy_tailed_esd.png`` (log-log ESDs for
mu in {1, 2.5, 5}) and ``alpha_vs_mu.png`` (fitted alpha versus mu with the
line 1 + mu/2) into OUTDIR, and prints each path.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..data import check_output
from ..errors import HtsrError

FIGURES = ("gaussian_esd.png", "heavy_tailed_esd.png", "alpha_vs_mu.png")

# plain text for --help (the module docstring above is reST, for the API docs)
DESCRIPTION = """\
Draw the random-matrix gallery into OUTDIR and print the path of each PNG:

  gaussian_esd.png      ESDs of Gaussian matrices for Q = 1, 2, 4, with the
                        Marchenko-Pastur density
  heavy_tailed_esd.png  log-log ESDs of Pareto matrices for mu = 1, 2.5, 5
  alpha_vs_mu.png       the fitted power-law exponent alpha versus mu, with the
                        line 1 + mu/2"""


def add_parser(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "rmt",
        help="draw the random-matrix gallery (MP, heavy-tailed ESDs, alpha vs mu) to PNGs",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("outdir", metavar="OUTDIR", help="directory for the PNG files (created if missing)")
    p.add_argument("--size", "-M", type=int, default=500, help="M, the smaller matrix side (default 500)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    p.add_argument("--seeds", type=int, default=3, help="matrices per mu in the alpha-vs-mu figure (default 3)")
    p.add_argument("--dpi", type=int, default=120, help="resolution of the PNGs (default 120)")
    p.set_defaults(func=run)
    return p


def run(args) -> int:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..plot.rmt import plot_alpha_vs_mu, plot_gaussian_esds, plot_heavy_tailed_esds

    if args.size < 10:
        raise HtsrError(f"--size must be at least 10, got {args.size}")
    if args.seeds < 1:
        raise HtsrError(f"--seeds must be at least 1, got {args.seeds}")
    out = Path(args.outdir)
    if out.exists() and not out.is_dir():
        raise HtsrError(f"OUTDIR {str(out)!r} exists and is not a directory")
    check_output(out, "OUTDIR", folder=True, create=True)  # refused if it cannot be written

    drawers = (
        lambda ax: plot_gaussian_esds(M=args.size, seed=args.seed, ax=ax),
        lambda ax: plot_heavy_tailed_esds(M=args.size, seed=args.seed, ax=ax),
        lambda ax: plot_alpha_vs_mu(M=min(args.size, 300), n_seeds=args.seeds, seed=args.seed, ax=ax),
    )
    for name, draw in zip(FIGURES, drawers):
        fig, ax = plt.subplots(figsize=(6, 4.5))
        draw(ax)
        fig.tight_layout()
        path = out / name
        fig.savefig(path, dpi=args.dpi)
        plt.close(fig)
        print(path)
    return 0
