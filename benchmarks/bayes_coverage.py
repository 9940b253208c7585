"""Coverage of the 90% HDI of alpha (docs/bayes.md, "Coverage").

    python3 benchmarks/bayes_coverage.py --case fixed   --datasets 200 --n 100
    python3 benchmarks/bayes_coverage.py --case unknown --datasets 200 --n 300 --draws 500 --log cov.txt

fixed: pure power-law tails (alpha = 2.5, xmin = 1 known), the exact conjugate posterior
(alpha - 1 ~ Gamma(2, 0.5) prior) for every data set *and* NUTS on all data sets at once
(fit_many with hierarchical=False: independent posteriors in one run).
unknown: Clauset's exponential-body construction (density C e^(-alpha x / xmin) below
xmin = 1, C (x/xmin)^-alpha above), the unknown-xmin model fitted to each data set on its
own (htsr.bayes.fit(x), its own adaptation; one joint fit_many run of 10 data sets took
135 s against 20 s per separate fit, as the joint step size serves the hardest one).
Each data set's result is printed as it finishes (``--log FILE`` appends them), so an
interrupted run still gives the coverage so far.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import htsr.bayes as hb
from bench_bayes import clauset_exp_body, lognormal_body, pareto

ALPHA = 2.5


def hdi_contains(draws, truth, prob=0.9):
    from htsr.bayes._mcmc import arviz

    lo, hi = arviz().hdi(np.asarray(draws), hdi_prob=prob)
    return lo <= truth <= hi


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--case", choices=("fixed", "unknown"), default="unknown")
    ap.add_argument("--datasets", type=int, default=200)
    ap.add_argument("--n", type=int, default=100)
    ap.add_argument("--draws", type=int, default=500)
    ap.add_argument("--chains", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--max-candidates", type=int, default=60)
    ap.add_argument("--body", default="stretched_exponential", help="body law of the unknown-xmin model")
    ap.add_argument("--construction", choices=("clauset", "lognormal"), default="clauset",
                    help="unknown case: Clauset's exponential body, or a lognormal body (continuous density at xmin)")
    ap.add_argument("--target-accept", type=float, default=None,
                    help="NUTS target acceptance of the unknown-xmin fits (default: htsr's, 0.95)")
    ap.add_argument("--xmin-prior", default="log_tail", help="threshold prior of the unknown-xmin model")
    ap.add_argument("--log", default=None, help="append per-data-set lines here (unknown case)")
    ap.add_argument("--start", type=int, default=0, help="first data set to fit (unknown case; for parallel runs)")
    ap.add_argument("--stop", type=int, default=None, help="one past the last data set to fit (unknown case)")
    ap.add_argument("--from-logs", nargs="+", default=None, metavar="LOG",
                    help="print the unknown-case summary from the --log files of earlier (parallel) runs")
    a = ap.parse_args()
    if a.from_logs:
        return summarize_logs(a.from_logs)
    rng = np.random.default_rng(a.seed)
    t0 = time.perf_counter()
    if a.case == "fixed":
        data = [pareto(rng, a.n, ALPHA) for _ in range(a.datasets)]
        exact = [hb.fit(x, xmin=1.0, method="conjugate", draws=2000, chains=1) for x in data]
        cov_exact = np.mean([hdi_contains(np.asarray(f.idata.posterior["alpha"]).ravel(), ALPHA) for f in exact])
        many = hb.fit_many(data, xmin=1.0, hierarchical=False, draws=a.draws, chains=a.chains, seed=a.seed)
    else:
        make = clauset_exp_body if a.construction == "clauset" else lognormal_body
        data = [make(rng, a.n, ALPHA) for _ in range(a.datasets)]
        return unknown(a, data, t0)
    post = np.asarray(many.idata.posterior["alpha"])  # chain, draw, layer
    cover = np.mean([hdi_contains(post[:, :, i].ravel(), ALPHA) for i in range(a.datasets)])
    k = int(round(cover * a.datasets))
    se = np.sqrt(cover * (1 - cover) / a.datasets)
    print(f"case={a.case} datasets={a.datasets} n={a.n} draws={a.chains}x{a.draws} seed={a.seed}")
    print(f"NUTS 90% HDI coverage: {cover:.3f} ({k}/{a.datasets}, binomial se {se:.3f})")
    if a.case == "fixed":
        print(f"conjugate closed form 90% HDI coverage: {cov_exact:.3f}")
    print(f"max r_hat {many.diagnostics.max_r_hat:.3f}, divergent {many.diagnostics.n_divergent}, "
          f"{time.perf_counter() - t0:.0f} s")


def unknown(a, data, t0):
    import warnings

    hits, rhat, div, xmin_hit = [], [], [], []
    log = open(a.log, "a") if a.log else None
    for i, x in enumerate(data):
        if i < a.start or (a.stop is not None and i >= a.stop):
            continue  # every data set is still drawn, so each index gets the same data in any split
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            f = hb.fit(x, draws=a.draws, chains=a.chains, seed=a.seed + i, max_candidates=a.max_candidates,
                       body=a.body, xmin_prior=a.xmin_prior,
                       target_accept=a.target_accept)
        alpha = np.asarray(f.idata.posterior["alpha"]).ravel()
        xm = np.asarray(f.idata.posterior["xmin"]).ravel()
        hits.append(hdi_contains(alpha, ALPHA))
        xmin_hit.append(hdi_contains(xm, 1.0))
        rhat.append(f.diagnostics.max_r_hat)
        div.append(f.diagnostics.n_divergent)
        del f
        line = (f"{i} alpha_mean={alpha.mean():.3f} covered={int(hits[-1])} xmin_mean={xm.mean():.3f} "
                f"r_hat={rhat[-1]:.3f} div={div[-1]} t={time.perf_counter() - t0:.0f}s")
        print(line, flush=True)
        if log:
            log.write(line + "\n")
            log.flush()
    k, m = int(np.sum(hits)), len(hits)
    cover = k / m
    print(f"case=unknown datasets={m} n={a.n} draws={a.chains}x{a.draws} seed={a.seed} "
          f"max_candidates={a.max_candidates} body={a.body} xmin_prior={a.xmin_prior} construction={a.construction} "
          f"target_accept={a.target_accept or 'default'}")
    print(f"NUTS 90% HDI coverage of alpha: {cover:.3f} ({k}/{m}, binomial se {np.sqrt(cover * (1 - cover) / m):.3f})")
    print(f"90% HDI of xmin contains the true xmin: {np.mean(xmin_hit):.3f}")
    print(f"r_hat max {max(rhat):.3f} (> 1.01 in {sum(r > 1.01 for r in rhat)}), divergent in "
          f"{sum(d > 0 for d in div)} fits, {time.perf_counter() - t0:.0f} s")


def summarize_logs(paths):
    rows = {}
    for path in paths:
        for line in open(path):
            f = line.split()
            kv = dict(t.split("=", 1) for t in f[1:])
            rows[int(f[0])] = kv  # a data set fitted twice keeps its last line (the fits are deterministic)
    cov = np.array([int(r["covered"]) for r in rows.values()])
    rhat = np.array([float(r["r_hat"]) for r in rows.values()])
    div = np.array([int(r["div"]) for r in rows.values()])
    am = np.array([float(r["alpha_mean"]) for r in rows.values()])
    xm = np.array([float(r["xmin_mean"]) for r in rows.values()])
    m, k = cov.size, int(cov.sum())
    c = k / m
    print(f"data sets {m} (indices {min(rows)}-{max(rows)})")
    print(f"NUTS 90% HDI coverage of alpha: {c:.3f} ({k}/{m}, binomial se {np.sqrt(c * (1 - c) / m):.3f})")
    print(f"posterior mean of alpha: mean {am.mean():.3f}, sd {am.std(ddof=1):.3f} (truth {ALPHA})")
    print(f"posterior mean of xmin: median {np.median(xm):.3f}, quartiles {np.quantile(xm, 0.25):.3f}-"
          f"{np.quantile(xm, 0.75):.3f} (truth 1)")
    print(f"r_hat max {rhat.max():.3f} (> 1.01 in {int((rhat > 1.01).sum())}), divergences in "
          f"{int((div > 0).sum())} fits ({int(div.sum())} in all)")


if __name__ == "__main__":
    main()
