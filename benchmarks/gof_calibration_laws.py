"""Calibration and power of htsr.gof for the alternative laws (fixed xmin), recorded in docs/validation.md.

Usage::

    python3 benchmarks/gof_calibration_laws.py [--samples 100] [--reps 200] [--n 300] [--power-samples 20]

Calibration: for each of the lognormal, exponential, stretched exponential and
power law with cutoff, ``--samples`` samples of ``--n`` points are drawn from the
law above xmin = 2 (the law's own sampler, keys ``PRNGKey(10_000 + s)``), and
each is tested with ``htsr.gof(x, model=law, xmin=2, reps=--reps, seed=s)`` with
each distance.  Under the null the p-values are uniform (up to the Monte Carlo
grid 1/reps): the script prints the KS test of the p-values against U(0, 1) and
the rejection rate at 0.1.  Power: ``--power-samples`` samples of ``--n`` points
from a wrong law (below), tested as each law, and the rejection rate at 0.1.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import jax
import numpy as np
from scipy import stats

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

import htsr  # noqa: E402
from htsr import _jax  # noqa: E402
from htsr.models import registry  # noqa: E402

XMIN = 2.0
TRUE = {"lognormal": (1.0, 0.8), "exponential": (0.5,), "stretched_exponential": (0.5, 0.6),
        "power_law_cutoff": (1.5, 0.1)}
#: the wrong law each is tested on (data law, its parameters)
WRONG = {"lognormal": ("exponential", (1.5,)), "exponential": ("power_law", (2.5,)),
         "stretched_exponential": ("power_law_cutoff", (-0.5, 1.0)), "power_law_cutoff": ("lognormal", (3.0, 0.4))}


def draw(name, params, n, seed):
    with _jax.x64():
        return np.sort(np.asarray(registry.get(name).sample(jax.random.PRNGKey(10_000 + seed), params, XMIN, (n,))))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--samples", type=int, default=100)
    ap.add_argument("--reps", type=int, default=200)
    ap.add_argument("--n", type=int, default=300)
    ap.add_argument("--power-samples", type=int, default=20)
    ap.add_argument("--distances", default="ks,kuiper,ad,reweighted_ks")
    args = ap.parse_args()
    print(f"fixed xmin = {XMIN}, n = {args.n}, reps = {args.reps}")
    print("calibration: law, distance, samples, KS statistic of p vs U(0,1), its p-value, P(p < 0.1)")
    for name, params in TRUE.items():
        for distance in args.distances.split(","):
            t0 = time.perf_counter()
            ps = np.array([htsr.gof(draw(name, params, args.n, s), model=name, xmin=XMIN, reps=args.reps, seed=s,
                                    distance=distance).p for s in range(args.samples)])
            ks = stats.kstest(ps, "uniform")
            print(f"  {name:<22} {distance:<14} {args.samples:4d}  D={ks.statistic:.3f}  p_KS={ks.pvalue:.3f}  "
                  f"P(p<0.1)={np.mean(ps < 0.1):.2f}  [{time.perf_counter() - t0:.0f} s]", flush=True)
    print("power: law tested, data law (params), distance, P(p < 0.1)")
    for name, (wrong, wparams) in WRONG.items():
        for distance in args.distances.split(","):
            ps = np.array([htsr.gof(draw(wrong, wparams, args.n, s), model=name, xmin=XMIN, reps=args.reps, seed=s,
                                    distance=distance).p for s in range(args.power_samples)])
            print(f"  {name:<22} {wrong}{wparams}  {distance:<14} P(p<0.1)={np.mean(ps < 0.1):.2f}", flush=True)


if __name__ == "__main__":
    main()
