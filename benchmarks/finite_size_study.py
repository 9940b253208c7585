"""Finite-size study: bias and RMSE of the Clauset fitter and the bounded fitter on truncated Pareto samples.

Usage::

    python3 benchmarks/finite_size_study.py --reps 200 --out docs/finite_size

Grid: alpha in {0.5, 1, 1.5, 2, 2.5, 3, 4, 5, 6}, xmax/xmin in {10, 100, 1000},
n in {500, 5000}.  Each replicate is ``n`` draws from the power law truncated
to ``[1, xmax/xmin]`` (:func:`htsr.models.bounded.sample`), fitted three ways
under two protocols, all in batches:

* ``clauset``: the unbounded power law (Clauset et al. 2009);
* ``bounded``: ``method="bounded"``, xmax = the largest observation;
* ``bounded_unbiased``: the same fit with the first-order bias correction of alpha
  (``estimator="unbiased"``, :func:`htsr.models.bounded.continuous_bias`);

with xmin chosen by the KS scan (:func:`htsr.fitting.fit_padded`; columns
``clauset``, ``bounded``, ``bounded_unbiased``) and with xmin known, fixed at
the true lower end 1 (:func:`htsr.fitting.fixed_range.fit_range`;
columns ``*_known``).

For each cell: mean error (bias), its standard error (SEM = sd/sqrt(reps)),
RMSE, and whether |bias| < 2 SEM.  Writes ``OUT.csv``, ``OUT.md`` (tables),
``OUT.png`` (figure, KS scan) and ``OUT_known.png`` (figure, xmin known).

Confirmation.  Even an exactly unbiased estimator fails the 2-SEM check in
about 4.6% of cells (2.5 of the 54 expected), so a bounded fitter's cell that
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
from htsr.fitting.fixed_range import fit_range  # noqa: E402
from htsr.models import bounded as bd  # noqa: E402

ALPHAS = (0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0)
RATIOS = (10.0, 100.0, 1000.0)
SIZES = (500, 5000)
PROTOCOLS = (("known", "xmin known (= 1), no scan",
              ("clauset_known", "bounded_known", "bounded_known_unbiased")),
             ("scan", "xmin chosen by the KS scan", ("clauset", "bounded", "bounded_unbiased")))
BOUNDED_FITTERS = ("bounded", "bounded_unbiased", "bounded_known", "bounded_known_unbiased")


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
    # xmin known (the true lower end, 1): no scan, so no selection; xmax = the sample maximum
    ck = fit_range(_jax.padded(x, counts), 1.0)
    bk = fit_range(_jax.padded(x, counts), 1.0, x[:, -1], given=1)
    bku = fit_range(_jax.padded(x, counts), 1.0, x[:, -1], given=1, estimator="unbiased")
    return dict(clauset=cl.alpha, bounded=bo.alpha, bounded_unbiased=corr,
                clauset_known=ck.alpha, bounded_known=bk.alpha, bounded_known_unbiased=bku.alpha)


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
                fitters = BOUNDED_FITTERS
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
                      f"corrected {row['bounded_unbiased_bias']:+.4f}±{row['bounded_unbiased_sem']:.4f}  "
                      f"known-xmin corrected {row['bounded_known_unbiased_bias']:+.4f}"
                      f"±{row['bounded_known_unbiased_sem']:.4f} "
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


def _protocol_lines(df, names):
    from scipy import stats

    cl, mle, corr = names

    def cell(r, name):
        mark = "" if r[f"{name}_ok"] else " **x**"
        s = f"{r[f'{name}_bias']:+.3f} ± {r[f'{name}_sem']:.3f} ({r[f'{name}_rmse']:.3f}){mark}"
        col = f"{name}_confirm_bias"
        if not r[f"{name}_ok"] and col in r and r[col] == r[col]:
            cmark = "" if r[f"{name}_confirm_ok"] else " **x**"
            s += f"; confirmation {r[col]:+.4f} ± {r[f'{name}_confirm_sem']:.4f}{cmark}"
        return s

    lines = [
        "Each entry: bias ± SEM (RMSE); **x** marks |bias| >= 2 SEM.",
        "",
        "| n | xmax/xmin | alpha | Clauset | bounded (MLE) | bounded (bias-corrected) |",
        "|---:|---:|---:|---|---|---|",
    ]
    for _, r in df.iterrows():
        lines.append(f"| {int(r.n)} | {r.ratio:g} | {r.alpha:g} | {cell(r, cl)} | {cell(r, mle)} | {cell(r, corr)} |")
    summary = {k: int(df[f"{k}_ok"].sum()) for k in names}
    cl_biased = ~df[f"{cl}_ok"].astype(bool)
    ok_mle, ok_corr = _confirmed_ok(df, mle), _confirmed_ok(df, corr)
    lines += ["", f"Cells with |bias| < 2 SEM in the main run (of {len(df)}): Clauset {summary[cl]}, "
              f"bounded MLE {summary[mle]}, bounded bias-corrected {summary[corr]} "
              f"(an unbiased estimator is expected to fail about {0.0455 * len(df):.1f} by chance)."]
    if "confirm_reps" in df:
        lines += ["", f"After confirmation ({int(df.confirm_reps.max())} fresh replicates for each flagged "
                  f"cell): of the {int(cl_biased.sum())} cells where Clauset is biased, the bounded MLE is "
                  f"unbiased in {int((cl_biased & ok_mle).sum())} and the bias-corrected bounded fitter in "
                  f"{int((cl_biased & ok_corr).sum())}; over all {len(df)} cells, {int(ok_mle.sum())} and "
                  f"{int(ok_corr.sum())}."]
        still = df[cl_biased & ~ok_corr]
        if len(still):
            lines += ["", "Cells where the bias-corrected bounded fitter's bias survives confirmation "
                      "(bias ± SEM of the confirmation run, against Clauset's bias in the main run):", ""]
            for _, r in still.iterrows():
                lines.append(f"* n = {int(r.n)}, xmax/xmin = {r.ratio:g}, alpha = {r.alpha:g}: "
                             f"{r[f'{corr}_confirm_bias']:+.4f} ± {r[f'{corr}_confirm_sem']:.4f} "
                             f"(RMSE {r[f'{corr}_rmse']:.3f}), Clauset {r[f'{cl}_bias']:+.3f}, "
                             f"{abs(r[f'{cl}_bias'] / r[f'{corr}_confirm_bias']):.0f} times larger")
    chi = []
    for name, label in ((mle, "bounded MLE"), (corr, "bias-corrected")):
        z2 = float(np.sum((df[f"{name}_bias"] / df[f"{name}_sem"]) ** 2))
        chi.append(f"{label} {z2:.1f} (p = {stats.chi2.sf(z2, len(df)):.2g})")
    lines += ["", f"Sum of squared z-scores (bias/SEM) over the {len(df)} cells of the main run, "
              f"chi-square with {len(df)} degrees of freedom if unbiased: " + ", ".join(chi) + "."]
    return lines


def write_table(df, path, seconds):
    lines = [HEADER.format(reps=int(df.reps.iloc[0]),
                           seconds="" if seconds != seconds else f" ({seconds:.0f} s on 2 cores)"), ""]
    for key, title, names in PROTOCOLS:
        if f"{names[0]}_bias" not in df:
            continue
        lines += [f"## {title[0].upper()}{title[1:]}", ""]
        if key == "known":
            lines += [KNOWN_TEXT, ""]
        else:
            lines += [SCAN_TEXT, ""]
        lines += _protocol_lines(df, names) + [""]
    with open(path, "w") as fh:
        fh.write("\n".join(lines).rstrip() + "\n")


HEADER = """# Finite-size study: the Clauset fitter and the bounded fitter

Truncated Pareto samples (density ~ x^-alpha on [1, xmax/xmin]) for alpha in
{{0.5, 1, 1.5, 2, 2.5, 3, 4, 5, 6}}, xmax/xmin in {{10, 100, 1000}} and n in
{{500, 5000}}, {reps} replicates per cell, fitted three ways:

* **Clauset**: `htsr.fit(x)`, the unbounded power law (Clauset et al. 2009);
* **bounded (MLE)**: `htsr.fit(x, method="bounded")`, the power law truncated
  to [xmin, xmax] with xmax = the largest observation (the default rule) and
  alpha the MLE given the tail's largest point (and, when xmin is a data
  point, its smallest);
* **bounded (bias-corrected)**: the same with `estimator="unbiased"` (first-order
  Cox-Snell correction, `htsr.models.bounded.continuous_bias`).

Each fitter is run under two protocols on the same samples: **xmin known**
(fixed at the true lower end, 1: isolates what the issue is about, the effect
of the finite upper end on the estimator) and **xmin chosen by the KS scan**
(what a user gets when xmin must be found, which adds the selection effect of
the scan).

Command{seconds}:

    python3 benchmarks/finite_size_study.py --reps {reps} --out docs/finite_size

![bias of alpha, xmin known](finite_size_known.png)

![bias of alpha, xmin by the KS scan](finite_size.png)

Why the conditional MLE: with xmax = the sample maximum, the joint MLE of
(alpha, xmax) is biased low when the maximum falls well short of the true upper
end.  Given the sample's largest point, the others are i.i.d. from the law
truncated to [xmin, max], so their MLE with that range has only the O(1/n)
bias of any MLE, which the bias correction removes.

Confirmation.  An exactly unbiased estimator fails the 2-SEM check in about
4.6% of cells by chance, so a bounded-fitter cell that fails it is rerun with
fresh replicates and counts as biased only if the rerun fails too."""

KNOWN_TEXT = """Clauset: `htsr.fit(x, xmin=1)`; bounded: `htsr.fit(x, method="bounded", xmin=1)`
(computed in batches by `htsr.fitting.fixed_range.fit_range`)."""

SCAN_TEXT = """With xmin chosen from the data, a bias remains at n = 500 in several cells,
of both signs and at most about 7% of the RMSE, in all three fitters: the scan
picks the xmin whose fit looks best, which ties the chosen tail to the
sampling noise of alpha.  `python3 benchmarks/finite_size_diagnosis.py --alpha 4
--ratio 10 --n 500 --reps 5000`: with the range fixed at the sample's extremes
the MLE is off by +0.013 ± 0.002 (the O(1/n) term the correction removes);
with the scan, the bias-corrected fit is off by +0.016 ± 0.003, and tails the
scan cut to 100-200 points carry +0.14 ± 0.03.  It is a property of the
KS-scan xmin rule, not of the bounded estimator (the xmin-known table above),
and it shrinks with n: at n = 5000 every cell passes.

A rule without it exists: the smallest xmin whose fit passes a KS test
(`sqrt(n_tail) D <= 1`), the way Deluca & Corral (2013) choose the widest
acceptable range.  On pure samples of the same cell it is unbiased (-0.002 ± 0.002
against +0.010 ± 0.003, RMSE 0.15 against 0.21).  But when the body bends away
from the power law below the true xmin it takes body points into the tail:
with Clauset et al.'s exponential body under a power law of alpha 2.5 (n 2000)
its bias is +0.079 ± 0.003, against +0.010 ± 0.004 for the KS scan.  Finding
where a power law starts is what the scan is for, so it stays the default:

    python3 benchmarks/xmin_rule_comparison.py pure --alpha 4 --ratio 10 --n 500 --reps 5000
    python3 benchmarks/xmin_rule_comparison.py body --alpha 2.5 --ratio 100 --n 2000 --reps 1000

Before 2026-11-22 the scan could also pick a three-point tail with a
meaningless D (a placeholder fit; fixed, `tests/test_bounded.py`); those rare
wild fits (about 2 in 1000 at alpha 4) had partly hidden the selection bias."""


def plot(df, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    for key, title, names in PROTOCOLS:
        if f"{names[0]}_bias" not in df:
            continue
        fig, axes = plt.subplots(2, 3, figsize=(13, 7), sharex=True)
        for i, n in enumerate(SIZES):
            for j, ratio in enumerate(RATIOS):
                ax = axes[i, j]
                d = df[(df.n == n) & (df.ratio == ratio)]
                for name, label, c in zip(names, ("Clauset", "bounded MLE", "bounded, bias-corrected"),
                                          ("C3", "C0", "C2")):
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
        fig.suptitle(title, fontsize=10)
        fig.tight_layout()
        out = path if key == "scan" else path.replace(".png", f"_{key}.png")
        fig.savefig(out, dpi=110)
        plt.close(fig)


if __name__ == "__main__":
    main()
