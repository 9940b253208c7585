"""Finite-size study: bias and RMSE of the Clauset fitter and the bounded fitter on truncated Pareto samples.

Usage::

    python3 benchmarks/finite_size_study.py --reps 200 --out docs/finite_size

Grid: alpha in {0.5, 1, 1.5, 2, 2.5, 3, 4, 5, 6}, xmax/xmin in {10, 100, 1000},
n in {500, 5000}.  Each replicate is ``n`` draws from the power law truncated
to ``[1, xmax/xmin]`` (:func:`htsr.models.bounded.sample`), fitted three ways,
all in batches through :func:`htsr.fitting.fit_padded`:

* ``clauset``: the unbounded power law, xmin by the KS scan (Clauset et al. 2009);
* ``bounded``: ``method="bounded"``, xmax = the largest observation, xmin by the KS scan;
* ``bounded_unbiased``: the same fit with the first-order bias correction of alpha
  (``estimator="unbiased"``, :func:`htsr.models.bounded.continuous_bias`).

For each cell: mean error (bias), its standard error (SEM = sd/sqrt(reps)),
RMSE, and whether |bias| < 2 SEM.  Writes ``OUT.csv``, ``OUT.md`` (table) and
``OUT.png`` (figure).

Confirmation.  Even an exactly unbiased estimator fails the 2-SEM check in
about 5% of cells (2.7 of the 54 expected), so a bounded fitter's cell that
fails it is run again with ``--confirm-reps`` fresh replicates (a different
seed); the cell counts as biased only if the confirmation fails too.  Both runs
are reported, with the chi-square of the z-scores (bias/SEM) over all cells.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

import jax  # noqa: E402

from htsr import _jax  # noqa: E402
from htsr.fitting import fit_padded  # noqa: E402
from htsr.models import bounded as bd  # noqa: E402

ALPHAS = (0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0)
RATIOS = (10.0, 100.0, 1000.0)
SIZES = (500, 5000)


def run_cell(alpha, ratio, n, reps, seed):
    key = jax.random.fold_in(jax.random.PRNGKey(seed), int(1000 * alpha) * 7919 + int(ratio) * 31 + n)
    if reps > 1000:  # bounded memory: independent chunks of at most 1000 replicates
        parts = [run_cell(alpha, ratio, n, min(1000, reps - s), seed * 7 + 1 + s // 1000)
                 for s in range(0, reps, 1000)]
        return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    with _jax.x64():
        x = np.sort(np.asarray(bd.sample(key, alpha, 1.0, ratio, (reps, n))), axis=1)
    counts = np.full(reps, n)
    cl = fit_padded(x, counts)
    bo = fit_padded(x, counts, method="bounded")
    with _jax.x64():
        r = np.log(x[:, -1] / bo.xmin)
        corr = bo.alpha - np.asarray(bd.continuous_bias(bo.alpha, r, bo.n_tail - 2.0))  # conditional MLE uses n_tail - 2 points
    return dict(clauset=cl.alpha, bounded=bo.alpha, bounded_unbiased=corr)


def summarize(est, alpha):
    err = est - alpha
    err = err[np.isfinite(err)]
    bias = err.mean()
    sem = err.std(ddof=1) / np.sqrt(len(err))
    return bias, sem, np.sqrt(np.mean(err**2))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=200)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--confirm-reps", type=int, default=5000,
                    help="replicates of the confirmation run of a bounded-fitter cell that fails the 2-SEM check")
    ap.add_argument("--out", default="docs/finite_size")
    ap.add_argument("--from-csv", action="store_true", help="only rewrite OUT.md and OUT.png from OUT.csv")
    args = ap.parse_args()
    import pandas as pd

    if args.from_csv:
        df = pd.read_csv(args.out + ".csv")
        write_table(df, args.out + ".md", float(df.seconds_total.iloc[0]) if "seconds_total" in df else float("nan"))
        plot(df, args.out + ".png")
        return

    rows = []
    t0 = time.perf_counter()
    for n in SIZES:
        for ratio in RATIOS:
            for alpha in ALPHAS:
                t = time.perf_counter()
                res = run_cell(alpha, ratio, n, args.reps, args.seed)
                row = dict(alpha=alpha, ratio=ratio, n=n, reps=args.reps)
                for name, est in res.items():
                    b, s, rmse = summarize(est, alpha)
                    row.update({f"{name}_bias": b, f"{name}_sem": s, f"{name}_rmse": rmse,
                                f"{name}_ok": bool(abs(b) < 2 * s)})
                fitters = ("bounded", "bounded_unbiased")
                if args.confirm_reps and not all(row[f"{k}_ok"] for k in fitters):
                    conf = run_cell(alpha, ratio, n, args.confirm_reps, args.seed + 1000)
                    for name in fitters:
                        b, s, _ = summarize(conf[name], alpha)
                        row.update({f"{name}_confirm_bias": b, f"{name}_confirm_sem": s,
                                    f"{name}_confirm_ok": bool(abs(b) < 2 * s)})
                    row["confirm_reps"] = args.confirm_reps
                rows.append(row)
                print(f"n={n:5d} xmax/xmin={ratio:6g} alpha={alpha:3g}: "
                      f"clauset {row['clauset_bias']:+.4f}±{row['clauset_sem']:.4f}  "
                      f"bounded {row['bounded_bias']:+.4f}±{row['bounded_sem']:.4f}  "
                      f"corrected {row['bounded_unbiased_bias']:+.4f}±{row['bounded_unbiased_sem']:.4f} "
                      f"({time.perf_counter() - t:.1f}s)", flush=True)
    df = pd.DataFrame(rows)
    total = time.perf_counter() - t0
    df["seconds_total"] = round(total)
    df.to_csv(args.out + ".csv", index=False)
    write_table(df, args.out + ".md", total)
    plot(df, args.out + ".png")
    print(f"total {total:.0f} s")


def _confirmed_ok(df, name):
    """A cell passes if the main run passes, or else its confirmation run does."""
    ok = df[f"{name}_ok"].astype(bool)
    col = f"{name}_confirm_ok"
    if col in df:
        ok = ok | (df[col].fillna(False).astype(bool) & ~ok)
    return ok


def write_table(df, path, seconds):
    from scipy import stats

    def cell(r, name):
        mark = "" if r[f"{name}_ok"] else " **x**"
        s = f"{r[f'{name}_bias']:+.3f} ± {r[f'{name}_sem']:.3f} ({r[f'{name}_rmse']:.3f}){mark}"
        col = f"{name}_confirm_bias"
        if not r[f"{name}_ok"] and col in r and r[col] == r[col]:
            cmark = "" if r[f"{name}_confirm_ok"] else " **x**"
            s += f"; confirmation {r[col]:+.4f} ± {r[f'{name}_confirm_sem']:.4f}{cmark}"
        return s

    lines = [HEADER.format(reps=int(df.reps.iloc[0]),
                           seconds="" if seconds != seconds else f" ({seconds:.0f} s on 2 cores)"), ""]
    lines += [
        "Each entry: bias ± SEM (RMSE); **x** marks |bias| >= 2 SEM.",
        "",
        "| n | xmax/xmin | alpha | Clauset | bounded (MLE) | bounded (bias-corrected) |",
        "|---:|---:|---:|---|---|---|",
    ]
    for _, r in df.iterrows():
        lines.append(f"| {int(r.n)} | {r.ratio:g} | {r.alpha:g} | {cell(r, 'clauset')} | {cell(r, 'bounded')} "
                     f"| {cell(r, 'bounded_unbiased')} |")
    summary = {k: int(df[f"{k}_ok"].sum()) for k in ("clauset", "bounded", "bounded_unbiased")}
    cl_biased = ~df.clauset_ok.astype(bool)
    ok_mle, ok_corr = _confirmed_ok(df, "bounded"), _confirmed_ok(df, "bounded_unbiased")
    lines += ["", f"Cells with |bias| < 2 SEM in the main run (of {len(df)}): Clauset {summary['clauset']}, "
              f"bounded MLE {summary['bounded']}, bounded bias-corrected {summary['bounded_unbiased']} "
              f"(an unbiased estimator is expected to fail about {0.0455 * len(df):.1f} by chance)."]
    if "confirm_reps" in df:
        lines += ["", f"After confirmation ({int(df.confirm_reps.max())} fresh replicates for each flagged "
                  f"cell): of the {int(cl_biased.sum())} cells where Clauset is biased, the bounded MLE is "
                  f"unbiased in {int((cl_biased & ok_mle).sum())} and the bias-corrected bounded fitter in "
                  f"{int((cl_biased & ok_corr).sum())}; over all {len(df)} cells, {int(ok_mle.sum())} and "
                  f"{int(ok_corr.sum())}."]
    if "confirm_reps" in df:
        still = df[cl_biased & ~ok_corr]
        if len(still):
            lines += ["", "Cells where the bias-corrected bounded fitter's bias survives confirmation "
                      "(bias ± SEM of the confirmation run, against Clauset's bias in the main run):", ""]
            for _, r in still.iterrows():
                lines.append(f"* n = {int(r.n)}, xmax/xmin = {r.ratio:g}, alpha = {r.alpha:g}: "
                             f"{r.bounded_unbiased_confirm_bias:+.4f} ± {r.bounded_unbiased_confirm_sem:.4f} "
                             f"(RMSE {r.bounded_unbiased_rmse:.3f}), Clauset {r.clauset_bias:+.3f}, "
                             f"{abs(r.clauset_bias / r.bounded_unbiased_confirm_bias):.0f} times larger")
    chi = []
    for name, label in (("bounded", "bounded MLE"), ("bounded_unbiased", "bias-corrected")):
        z2 = float(np.sum((df[f"{name}_bias"] / df[f"{name}_sem"]) ** 2))
        chi.append(f"{label} {z2:.1f} (p = {stats.chi2.sf(z2, len(df)):.2g})")
    lines += ["", f"Sum of squared z-scores (bias/SEM) over the {len(df)} cells of the main run, "
              f"chi-square with {len(df)} degrees of freedom if unbiased: " + ", ".join(chi) + "."]
    with open(path, "w") as fh:
        fh.write("\n".join(lines) + "\n")


HEADER = """# Finite-size study: the Clauset fitter and the bounded fitter

Truncated Pareto samples (density ~ x^-alpha on [1, xmax/xmin]) for alpha in
{{0.5, 1, 1.5, 2, 2.5, 3, 4, 5, 6}}, xmax/xmin in {{10, 100, 1000}} and n in
{{500, 5000}}, {reps} replicates per cell, each fitted with xmin chosen by the
KS scan:

* **Clauset**: `htsr.fit(x)` — the unbounded power law (Clauset et al. 2009);
* **bounded (MLE)**: `htsr.fit(x, method="bounded")` — the power law truncated
  to [xmin, xmax] with xmax = the largest observation (the default rule) and
  alpha the MLE given the tail's smallest and largest points;
* **bounded (bias-corrected)**: the same with `estimator="unbiased"` (first-order
  Cox-Snell correction, `htsr.models.bounded.continuous_bias`).

Command{seconds}:

    python3 benchmarks/finite_size_study.py --reps {reps} --out docs/finite_size

![bias of alpha](finite_size.png)

Why the conditional MLE: with xmax = the sample maximum, the joint MLE of
(alpha, xmax) is biased low when the maximum falls well short of the true upper
end.  Given the tail's smallest and largest points, the points between them
are i.i.d. from the law truncated to exactly that range, so their MLE with the
range fixed has only the O(1/n) bias of any MLE; the bias correction removes
most of that.

Where the residual bias at n = 500 comes from (`python3
benchmarks/finite_size_diagnosis.py --alpha 6 --ratio 10 --n 500 --reps 3000`):
with the range fixed at the sample's extremes (no scan) the conditional MLE is
off by +0.020 ± 0.004, the O(1/n) term the correction targets; with xmin
chosen by the KS scan the bias grows to +0.034 ± 0.007, and it sits in the
replicates whose scan picked a short tail (tails of 100-200 points: +0.26;
400-500 points: +0.015).  Choosing xmin from the data is itself a source of
bias that no correction at fixed xmin removes; it shrinks as n grows (at
n = 5000 every cell of the bias-corrected fitter passes).
"""


def plot(df, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 3, figsize=(13, 7), sharex=True)
    for i, n in enumerate(SIZES):
        for j, ratio in enumerate(RATIOS):
            ax = axes[i, j]
            d = df[(df.n == n) & (df.ratio == ratio)]
            for name, label, c in (("clauset", "Clauset", "C3"), ("bounded", "bounded MLE", "C0"),
                                   ("bounded_unbiased", "bounded, bias-corrected", "C2")):
                ax.errorbar(d.alpha, d[f"{name}_bias"], yerr=2 * d[f"{name}_sem"], marker="o", ms=3,
                            color=c, label=label, capsize=2)
            ax.axhline(0, color="0.5", lw=0.8)
            ax.set_title(f"n = {n}, xmax/xmin = {ratio:g}", fontsize=9)
            ax.set_yscale("symlog", linthresh=0.02)
            if j == 0:
                ax.set_ylabel("bias of alpha (± 2 SEM)")
            if i == 1:
                ax.set_xlabel("true alpha")
    axes[0, 0].legend(fontsize=8, frameon=False)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


if __name__ == "__main__":
    main()
