"""``htsr rmt OUTDIR``: draw the random-matrix gallery to PNG files.

Writes ``gaussian_esd.png`` (Gaussian ESDs for Q in {1, 2, 4} with the
Marchenko-Pastur density), ``heavy_tailed_esd.png`` (log-log ESDs for
mu in {1, 2.5, 5}) and ``alpha_vs_mu.png`` (fitted alpha versus mu with the
line 1 + mu/2: a study of ``htsr.calibrate("pareto", ...)``, :data:`ALPHA_VS_MU`)
into OUTDIR, and prints each path.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..data import check_int, check_output, check_seed

FIGURES = ("gaussian_esd.png", "heavy_tailed_esd.png", "alpha_vs_mu.png")
#: The study behind alpha_vs_mu.png: Pareto matrices, M = min(--size, 300), --seeds replicates per mu.
ALPHA_VS_MU = dict(mu=(0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0, 5.0), Q=2.0, estimators=("clauset",))

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

    from ..calibration import calibrate
    from ..plot.rmt import plot_alpha_vs_mu, plot_gaussian_esds, plot_heavy_tailed_esds

    check_int(args.size, "size", minimum=10)
    check_int(args.seeds, "seeds", minimum=1)
    check_seed(args.seed)
    out = check_output(Path(args.outdir), "OUTDIR", folder=True, create=True)  # refused if it cannot be written

    drawers = (
        lambda ax: plot_gaussian_esds(M=args.size, seed=args.seed, ax=ax),
        lambda ax: plot_heavy_tailed_esds(M=args.size, seed=args.seed, ax=ax),
        lambda ax: plot_alpha_vs_mu(calibrate("pareto", **ALPHA_VS_MU, M=min(args.size, 300), reps=args.seeds,
                                              seed=args.seed), ax=ax),
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
