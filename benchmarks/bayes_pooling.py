"""Pooling study: RMSE of per-layer alpha, hierarchical vs independent (docs/bayes.md, "Pooling").

    python3 benchmarks/bayes_pooling.py --networks 5 --draws 2000 --chains 4 --seed 0

Each simulated network has 20-40 layers; layer alphas ~ Normal(2.5, 0.3) (clipped at 1.5),
tails of 10-50 points from a pure power law with xmin = 1 (known).  Compared: the per-layer
MLE 1 + n / sum ln x, the independent posterior mean (the default prior, in closed form:
exactly what NUTS would give), and the hierarchical posterior mean (NUTS, fit_many).
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import htsr.bayes as hb
from bench_bayes import pareto


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--networks", type=int, default=5)
    ap.add_argument("--draws", type=int, default=500)
    ap.add_argument("--chains", type=int, default=4)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    rng = np.random.default_rng(a.seed)
    err = {"mle": [], "independent": [], "hierarchical": []}
    t0 = time.perf_counter()
    for net in range(a.networks):
        L = int(rng.integers(20, 41))
        true = rng.normal(2.5, 0.3, L).clip(1.5)
        samples = [pareto(rng, int(k), t) for k, t in zip(rng.integers(10, 51, L), true)]
        mle = np.array([1 + s.size / np.sum(np.log(s)) for s in samples])
        ind = np.array([hb.fit(s, xmin=1.0, method="conjugate", draws=10, chains=1).exact.mean
                        for s in samples])
        h = hb.fit_many(samples, xmin=1.0, draws=a.draws, chains=a.chains, seed=a.seed + net)
        for k, est in (("mle", mle), ("independent", ind), ("hierarchical", h.alpha)):
            err[k].append(est - true)
        print(f"network {net}: {L} layers, r_hat {h.diagnostics.max_r_hat:.3f}, "
              f"divergent {h.diagnostics.n_divergent}")
    print(f"networks={a.networks} seed={a.seed} draws={a.chains}x{a.draws}, {time.perf_counter() - t0:.0f} s")
    print("| estimator | RMSE of alpha | mean error |")
    print("|---|---:|---:|")
    for k, e in err.items():
        e = np.concatenate(e)
        print(f"| {k} | {np.sqrt(np.mean(e ** 2)):.3f} | {e.mean():+.3f} |")


if __name__ == "__main__":
    main()
