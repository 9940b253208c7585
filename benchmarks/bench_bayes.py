"""Speed of htsr.bayes (docs/benchmarks.md, "Bayesian fits").

    python3 benchmarks/bench_bayes.py            # the three cases of issue 12
    python3 benchmarks/bench_bayes.py --quick    # smaller, for a smoke run
    python3 benchmarks/bench_bayes.py --cases unknown   # only some of: fixed, unknown, hierarchical

Each case is timed twice in one process: "cold" includes tracing and XLA compilation,
"warm" is a second call on the same shapes with another seed.  The conjugate closed form
of the fixed-xmin case is timed beside NUTS, as a ratio.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import htsr.bayes as hb


def pareto(rng, n, alpha, xmin=1.0):
    return xmin * (1.0 - rng.random(n)) ** (-1.0 / (alpha - 1.0))


def clauset_exp_body(rng, n, alpha=2.5, xmin=1.0):
    mb = np.exp(alpha) * xmin / alpha * -np.expm1(-alpha)
    mt = xmin / (alpha - 1.0)
    nb = rng.binomial(n, mb / (mb + mt))
    body = -xmin / alpha * np.log1p(-rng.random(nb) * -np.expm1(-alpha))
    return np.concatenate([body, pareto(rng, n - nb, alpha, xmin)])


def lognormal_body(rng, n, alpha=2.5, xmin=1.0, mu=-0.5, sigma=0.5):
    """A lognormal(mu, sigma) body truncated to (0, xmin), a power law above, density continuous at xmin."""
    from scipy import stats

    ln = stats.lognorm(sigma, scale=np.exp(mu))
    ratio = ln.pdf(xmin) / ln.cdf(xmin)  # body density at xmin per unit body mass
    phi = ratio / ((alpha - 1.0) / xmin + ratio)  # (1 - phi) ratio = phi (alpha - 1) / xmin
    nt = rng.binomial(n, phi)
    body = ln.ppf(rng.random(n - nt) * ln.cdf(xmin))
    return np.concatenate([body, pareto(rng, nt, alpha, xmin)])


def timed(fn, *args, **kw):
    t = time.perf_counter()
    out = fn(*args, **kw)
    return out, time.perf_counter() - t


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--cases", nargs="+", choices=("fixed", "unknown", "hierarchical"),
                    default=("fixed", "unknown", "hierarchical"))
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    n = 1000 if args.quick else 5000
    draws = 300 if args.quick else 1000
    L = 10 if args.quick else 40
    rows = []

    # the data sets are drawn in this order whatever --cases says, so each case sees the same data
    x = pareto(rng, n, 2.5)
    y = clauset_exp_body(rng, n)
    sizes = rng.integers(10, 301, L)
    alphas = rng.normal(2.5, 0.3, L).clip(1.5)
    samples = [pareto(rng, int(k), a) for k, a in zip(sizes, alphas)]

    if "fixed" in args.cases:
        for seed in (0, 1):
            f, t = timed(hb.fit, x, xmin=1.0, draws=draws, chains=4, seed=seed)
            rows.append((f"fixed xmin, {n}-point tail, 4x{draws} NUTS", "cold" if seed == 0 else "warm", t, f))
        c, tc = timed(hb.fit, x, xmin=1.0, draws=draws, chains=4, method="conjugate")
        c, tc = timed(hb.fit, x, xmin=1.0, draws=draws, chains=4, method="conjugate", seed=1)
        rows.append((f"fixed xmin, {n}-point tail, conjugate closed form", "warm", tc, c))

    if "unknown" in args.cases:
        # the same sample twice, NUTS seeds 0 and 1 (the second reuses the compiled kernels)
        for seed in (0, 1):
            f, t = timed(hb.fit, y, draws=draws, chains=4, seed=seed)
            rows.append((f"unknown xmin, {n} points, 4x{draws} NUTS, seed {seed}", "cold" if seed == 0 else "warm",
                         t, f))

    if "hierarchical" in args.cases:
        for seed in (0, 1):
            h, t = timed(hb.fit_many, samples, xmin=1.0, draws=draws, chains=4, seed=seed)
            rows.append((f"hierarchical, {L} layers of 10-300 tail points, 4x{draws}",
                         "cold" if seed == 0 else "warm", t, h))

    print("| case | run | seconds | r_hat max | divergent | min ESS bulk |")
    print("|---|---|---:|---:|---:|---:|")
    for name, kind, t, r in rows:
        d = r.diagnostics
        print(f"| {name} | {kind} | {t:.2f} | {d.max_r_hat:.3f} | {d.n_divergent} | {d.min_ess_bulk:.0f} |")
    if "fixed" in args.cases:
        nuts_warm = [t for name, kind, t, _ in rows if name.startswith("fixed") and "NUTS" in name
                     and kind == "warm"][0]
        print(f"\nconjugate closed form is {nuts_warm / tc:.0f}x faster than warm NUTS on the fixed-xmin tail")


if __name__ == "__main__":
    main()
