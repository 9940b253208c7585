"""The calibration studies behind docs/calibration.md: the seeds' two figures and the size scans.

    python3 benchmarks/calibration_studies.py --out studies/     # ~15-25 minutes on 2 cores

1. power-law samples, n = 1000, alpha = 1.5 .. 6 by 0.25, 200 replicates, every estimator:
   bias and coverage by alpha (seed 000: "overestimates small and underestimates large alpha");
2. Pareto matrices, M = 1000, Q = 2, mu = 0.5 .. 5 by 0.25, 20 replicates: fitted alpha vs mu,
   linear fits on mu < 2 and 2 < mu < 4 next to the theory's 1 + mu/2 (seed 001);
3. alpha vs Q and M at mu = 1, 1.5, 3: M = 125 .. 1000, Q = 1, 2, 4, 10 replicates.

Each study is stored (netCDF) under --out and resumes if interrupted; the figures go
to docs/ (calibration_*.png) and the numbers are printed as Markdown tables.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from htsr.calibration import calibrate, line_fit
from htsr.plot.calibration import plot_alpha_vs_mu, plot_alpha_vs_size, plot_fitted_vs_true

DOCS = Path(__file__).resolve().parents[1] / "docs"


def _save(ax, name):
    import matplotlib.pyplot as plt

    ax.figure.tight_layout()
    ax.figure.savefig(DOCS / name, dpi=110)
    plt.close(ax.figure)
    print(f"wrote docs/{name}")


def main():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=Path("studies"))
    ap.add_argument("--only", choices=("samples", "mu", "sizes"))
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    if args.only in (None, "samples"):
        t = time.time()
        s = calibrate("power_law", alpha=[round(1.5 + 0.25 * k, 2) for k in range(19)], n=1000, reps=200,
                      estimators=("clauset", "unbiased", "bounded", "bayes"), seed=0,
                      store=args.out / "samples_n1000.nc", progress=True)
        print(f"\n## power-law samples, n = 1000, 200 replicates ({time.time() - t:.0f} s)\n")
        print("| alpha | " + " | ".join(f"{e} bias (sd)" for e in s["estimator"].values)
              + " | clauset coverage | bayes coverage |")
        print("|---" * (3 + s.sizes["estimator"]) + "|")
        for a in s["alpha"].values:
            c = s.sel(alpha=a, n=1000)
            cells = [f"{float(c['bias'].sel(estimator=e)):+.3f} ({float(c['alpha_sd'].sel(estimator=e)):.3f})"
                     for e in s["estimator"].values]
            print(f"| {a:g} | " + " | ".join(cells) + f" | {float(c['coverage'].sel(estimator='clauset')):.3f}"
                  f" | {float(c['coverage'].sel(estimator='bayes')):.3f} |")
        _save(plot_fitted_vs_true(s, n=1000, estimators=["clauset", "bounded"]), "calibration_samples.png")

    if args.only in (None, "mu"):
        t = time.time()
        m = calibrate("pareto", mu=[round(0.5 + 0.25 * k, 2) for k in range(19)], M=1000, Q=2, reps=20,
                      estimators=("clauset", "bounded"), seed=0, store=args.out / "pareto_M1000_Q2.nc",
                      progress=True)
        print(f"\n## Pareto matrices, M = 1000, Q = 2, 20 replicates ({time.time() - t:.0f} s)\n")
        print("| estimator | range | slope | intercept | points |")
        print("|---|---|---|---|---|")
        for e in ("clauset", "bounded"):
            for lo, hi in ((0.0, 2.0), (2.0, 4.0)):
                lf = line_fit(m, lo, hi, estimator=e, M=1000, Q=2)
                print(f"| {e} | {lo:g} < mu < {hi:g} | {lf.slope:.3f} +- {lf.slope_se:.3f} | "
                      f"{lf.intercept:.3f} +- {lf.intercept_se:.3f} | {lf.n} |")
        print("\n| mu | 1 + mu/2 | clauset mean (sd) | bounded mean (sd) |")
        print("|---|---|---|---|")
        for mu in m["mu"].values:
            c = m.sel(mu=mu, M=1000, Q=2)
            tgt = float(c["target"])
            print(f"| {mu:g} | {tgt:.3f} | " + " | ".join(
                f"{float(c['alpha_mean'].sel(estimator=e)):.3f} ({float(c['alpha_sd'].sel(estimator=e)):.3f})"
                for e in ("clauset", "bounded")) + " |")
        _save(plot_alpha_vs_mu(m, M=1000, Q=2), "calibration_alpha_vs_mu.png")

    if args.only in (None, "sizes"):
        t = time.time()
        z = calibrate("pareto", mu=[1.0, 1.5, 3.0], M=[125, 250, 500, 1000], Q=[1, 2, 4], reps=10,
                      estimators=("clauset",), seed=0, store=args.out / "pareto_sizes.nc", progress=True)
        print(f"\n## alpha vs Q and M (clauset, 10 replicates, {time.time() - t:.0f} s)\n")
        print("| mu | M | Q=1 | Q=2 | Q=4 |")
        print("|---|---|---|---|---|")
        for mu in z["mu"].values:
            for M in z["M"].values:
                c = z["alpha_mean"].sel(mu=mu, M=M, estimator="clauset")
                print(f"| {mu:g} | {M} | " + " | ".join(f"{v:.3f}" for v in c.values) + " |")
        fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
        for ax, mu in zip(axes, (1.0, 1.5, 3.0)):
            plot_alpha_vs_size(z, "Q", mu=mu, ax=ax)
        _save(axes[0], "calibration_alpha_vs_Q.png")
        fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
        for ax, mu in zip(axes, (1.0, 1.5, 3.0)):
            plot_alpha_vs_size(z, "M", mu=mu, ax=ax)
        _save(axes[0], "calibration_alpha_vs_M.png")


if __name__ == "__main__":
    main()
