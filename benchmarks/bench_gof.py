"""Goodness-of-fit p-value: htsr.gof versus a loop over powerlaw.Fit, side by side.

Usage::

    python3 benchmarks/bench_gof.py [--n 5000] [--reps 1000] [--powerlaw-calls 5] [--seed 0]

Both sides fit the same synthetic data sets: the semi-parametric replicates of
Clauset et al. (2009) section 4.1 for a sample of ``--n`` points (a power law
with alpha = 2.5 above xmin = 1, n/5 uniform points below).  htsr generates
and refits all ``--reps`` of them (``htsr.gof``, timed after one warm-up call
that compiles the kernels); ``powerlaw.Fit`` is timed on the first
``--powerlaw-calls`` replicates and extrapolated to ``--reps`` calls, which is
what a user looping over ``powerlaw.Fit`` would pay.  The D values of the
powerlaw calls are compared with htsr's for the same replicates.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

import htsr  # noqa: E402
from htsr import _jax, streams  # noqa: E402
from htsr.inference import _resample as R  # noqa: E402
from htsr.inference import gof  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=5000)
    ap.add_argument("--reps", type=int, default=1000)
    ap.add_argument("--powerlaw-calls", type=int, default=5)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    import powerlaw

    rng = np.random.default_rng(args.seed)
    n_tail = args.n - args.n // 5
    x = np.concatenate([(1 - rng.random(n_tail)) ** (-1 / 1.5), rng.uniform(0.2, 1.0, args.n - n_tail)])
    fit = htsr.fit(x)
    t0 = time.perf_counter()
    gof(fit, reps=R.BATCH, seed=args.seed + 1)  # warm-up: compile the kernels for these shapes
    t_warm = time.perf_counter() - t0
    t0 = time.perf_counter()
    g = gof(fit, reps=args.reps, seed=args.seed)
    t_htsr = time.perf_counter() - t0

    # the same replicates, for powerlaw.Fit
    body = fit.data[fit.data < fit.xmin]
    pad = np.concatenate([body, np.full(fit.n - len(body), fit.xmin)])
    k = args.powerlaw_calls
    with _jax.x64():
        rows, _ = R.semiparametric_rows(
            streams.keys(args.seed, "gof", 0, k), pad, len(body), fit.n_tail / fit.n,
            (np.float64(fit.alpha), np.float64(fit.xmin), np.float64(np.inf)),
            n=fit.n, cap=R.tail_cap(fit.n, fit.n_tail / fit.n), discrete=False, bounded=False)
    rows = np.asarray(rows)
    D_pl = []
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for r in rows:
            D_pl.append(powerlaw.Fit(r, verbose=False).power_law.D)
    t_pl = (time.perf_counter() - t0) / k * args.reps
    agree = np.max(np.abs(np.array(D_pl) - g.D_sim[:k]))
    print(f"n = {args.n}, reps = {args.reps}, observed D = {g.D:.5f}, p = {g.p:.3f} ± {g.p_se:.3f}")
    print(f"htsr.gof warm-up, {R.BATCH} reps, includes XLA compilation: {t_warm:.1f} s")
    print(f"htsr.gof                      : {t_htsr:8.1f} s  ({1e3 * t_htsr / args.reps:.1f} ms per replicate)")
    print(f"powerlaw.Fit x {args.reps} (extrapolated from {k} calls): {t_pl:8.1f} s  "
          f"({1e3 * t_pl / args.reps:.0f} ms per call)")
    print(f"speed-up                      : {t_pl / t_htsr:8.1f} x")
    print(f"max |D_htsr - D_powerlaw| on the timed replicates: {agree:.2e}")


if __name__ == "__main__":
    main()
