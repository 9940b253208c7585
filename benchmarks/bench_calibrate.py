"""Speed of a calibration study against its LAPACK floor and the loop users write today.

    python3 benchmarks/bench_calibrate.py                 # the issue's study: 20 reps x 19 mu, M=1000, Q=2
    python3 benchmarks/bench_calibrate.py --sample 6      # reference cells timed (then extrapolated)
    python3 benchmarks/bench_calibrate.py --floor-only    # htsr against its floor only (no powerlaw loop)

htsr: ``htsr.calibrate("pareto", mu=0.5:5:0.25, M=1000, Q=2, reps=20, estimators=("clauset",))``,
timed in full (JAX generators, ESDs by dsyrk + dsyevd with one BLAS thread per matrix,
all replicates of a cell fitted in one batch).

Floor: the same 380 Grams and eigensolves in a plain NumPy loop, two matrices at a
time (one thread each, one BLAS thread each, as htsr runs them): per matrix,
``W = rng.pareto(mu, (N, M))``, ``X = W.T @ W / N`` in float64 and
``numpy.linalg.eigvalsh(X)``; no fit.  Two floors are printed: the loop's wall time
(NumPy's draws included, as htsr's time includes its own), and the Grams and
eigensolves alone (their summed time over the two threads).  htsr and its floor run
in the same invocation, one after the other, and the ratio is printed.

Reference: for each matrix, ``W = numpy.random.pareto(mu, (N, M))`` as in the seed posts,
``numpy.linalg.svd(W)`` (NumPy's default: full U and V, what the seed code and
WeightWatcher call), eigenvalues ``s**2 / N`` and ``powerlaw.Fit(evals)`` (powerlaw
2.0.0 defaults; its alpha is read).  ``--sample`` matrices at mu values spread over the
grid are timed and the time is extrapolated to the 380 matrices.  The same loop with
``svd(W, compute_uv=False)`` (what a careful user would write) is timed too.  Both in
one run: ratios, not absolute times, are the result (this machine is shared).
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np

MUS = [round(0.5 + 0.25 * k, 2) for k in range(19)]


def reference(mu, M, N, rng, compute_uv):
    import powerlaw

    W = rng.pareto(mu, size=(N, M))
    s = np.linalg.svd(W, compute_uv=compute_uv)
    s = s[1] if compute_uv else s
    evals = s**2 / N
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return powerlaw.Fit(evals, verbose=False).power_law.alpha


def floor(mus, reps, M, N, workers=2):
    """Seconds for ``len(mus) * reps`` Pareto matrices drawn by NumPy, their Grams and
    ``eigvalsh``, ``workers`` at a time: (wall time, the Gram + eigvalsh part alone).

    The second is the summed time of the Grams and eigensolves divided by ``workers``:
    what the spectra cost without drawing the matrices."""
    from concurrent.futures import ThreadPoolExecutor

    from threadpoolctl import threadpool_limits

    jobs = [(mu, r) for mu in mus for r in range(reps)]

    def one(job):
        mu, r = job
        W = np.random.default_rng([r, int(mu * 100)]).pareto(mu, size=(N, M))
        t = time.perf_counter()
        np.linalg.eigvalsh(W.T @ W / N)
        return time.perf_counter() - t

    t = time.perf_counter()
    with threadpool_limits(limits=1, user_api="blas"), ThreadPoolExecutor(max_workers=workers) as pool:
        eig = sum(pool.map(one, jobs))
    return time.perf_counter() - t, eig / workers


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--M", type=int, default=1000)
    ap.add_argument("--Q", type=float, default=2.0)
    ap.add_argument("--reps", type=int, default=20)
    ap.add_argument("--sample", type=int, default=6, help="reference matrices timed per variant")
    ap.add_argument("--floor-only", action="store_true", help="time htsr and its floor, not the powerlaw loop")
    args = ap.parse_args()
    M, N = args.M, int(round(args.Q * args.M))
    total = args.reps * len(MUS)

    from htsr.calibration import calibrate

    calibrate("pareto", mu=[1.0], M=args.M, Q=args.Q, reps=2, estimators=("clauset",), seed=1)  # compile
    t = time.perf_counter()
    ds = calibrate("pareto", mu=MUS, M=args.M, Q=args.Q, reps=args.reps, estimators=("clauset",), seed=0)
    t_htsr = time.perf_counter() - t
    t_floor, t_eig = floor(MUS, args.reps, M, N)
    print(f"study: {len(MUS)} mu x {args.reps} replicates, {N} x {M} matrices ({total} ESDs and fits)")
    print(f"htsr.calibrate (measured)                           {t_htsr:8.1f} s")
    print(f"floor: NumPy pareto + Gram + eigvalsh, 2 x 1 thread {t_floor:8.1f} s   htsr / floor = "
          f"{t_htsr / t_floor:.2f}")
    print(f"floor: the Gram + eigvalsh part alone (sum / 2)      {t_eig:8.1f} s   htsr / floor = "
          f"{t_htsr / t_eig:.2f}")
    if args.floor_only:
        return
    rng = np.random.default_rng(0)
    picks = [MUS[i] for i in np.linspace(0, len(MUS) - 1, args.sample).round().astype(int)]
    times = {}
    for uv in (True, False):
        t = time.perf_counter()
        for mu in picks:
            reference(mu, M, N, rng, uv)
        times[uv] = (time.perf_counter() - t) / len(picks)

    for uv, label in ((True, "svd(W) + powerlaw.Fit"), (False, "svd(W, compute_uv=False) + powerlaw.Fit")):
        est = times[uv] * total
        print(f"{label:<46} {est:8.1f} s  (extrapolated from {len(picks)} matrices, "
              f"{times[uv]:.2f} s each)   htsr is {est / t_htsr:5.1f}x faster")
    m = ds["alpha_mean"].sel(estimator="clauset", M=args.M, Q=args.Q)
    print("mean fitted alpha at mu = 1, 1.5, 2:", np.round(m.sel(mu=[1.0, 1.5, 2.0]).values, 3))


if __name__ == "__main__":
    main()
