"""htsr.fit versus powerlaw.Fit on the same data, side by side, in one run.

    python benchmarks/bench_fit.py              # full table, n up to 10^6 (about 5 minutes)
    python benchmarks/bench_fit.py --quick      # n <= 5000 only
    python benchmarks/bench_fit.py --scale 1e7  # htsr alone on 10^7 points: times and peak memory

For each dataset: powerlaw 2.0.0's time (one call; its scan is a Python loop
and has no warm-up), htsr's first call in this process (compile + run), and
htsr's warm time (best of several calls); then the ratio powerlaw / htsr warm,
and whether the two agree on xmin and alpha.  powerlaw is given
``parameter_ranges={'alpha': [1, 10]}`` so that its default clamp (alpha <= 3)
does not bias the comparison.

powerlaw's scan costs about n^2 (every candidate xmin recomputes D over its
tail): 10^6 points would take hours.  For that row powerlaw is timed on a
random 10% subsample and its time extrapolated with the exponent measured on
the rows above (slope of log time against log n); the row says so, and the
agreement columns compare the two packages on that subsample.

``--scale N`` runs htsr alone on N points (Pareto alpha = 2.5): the first call
(compile + run), the best of the warm calls, and the peak resident memory of
the process (``resource.getrusage``).  Run it in a fresh process per N.

The persistent compilation cache is turned off (``HTSR_NO_COMPILATION_CACHE=1``,
unless set otherwise in the environment), so that "first call" always includes
XLA compilation.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import time
import warnings
from pathlib import Path

import numpy as np

SUBSAMPLE = 0.1  # fraction of the data powerlaw is timed on where a full run would take hours
FULL_POWERLAW_MAX_N = 100_000


def timeit(fn, repeat=1):
    best, out = np.inf, None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def pareto(rng, n):
    return 1.0 + rng.pareto(1.5, n)  # density ~ x^-2.5 on x >= 1


def datasets(quick: bool):
    import powerlaw

    rng = np.random.default_rng(2026)
    sizes = [1000, 5000] if quick else [1000, 5000, 20000, 50000, 100_000, 1_000_000]
    for n in sizes:
        yield f"Pareto alpha=2.5, n={n}", pareto(rng, n)
    if not quick:
        ref = Path(powerlaw.__file__).parent / "reference_data"
        yield "fires (n=203785)", np.loadtxt(ref / "fires.txt")
        yield "cities x1e-3 (n=19447)", np.loadtxt(ref / "cities.txt") / 1e3


def powerlaw_fit(x):
    import powerlaw

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return powerlaw.Fit(x, parameter_ranges={"alpha": [1, 10]}, verbose=0)


class PowerlawClock:
    """powerlaw's time per dataset: measured, or extrapolated from a subsample."""

    def __init__(self):
        self.sizes, self.times = [], []

    def exponent(self):
        n, t = np.log(self.sizes), np.log(self.times)
        keep = np.asarray(self.sizes) >= 20000
        return float(np.polyfit(n[keep], t[keep], 1)[0]) if keep.sum() >= 2 else 2.0

    def time(self, x, label):
        if len(x) <= FULL_POWERLAW_MAX_N or label.startswith(("fires", "cities")):
            t, ref = timeit(lambda: powerlaw_fit(x))
            if label.startswith("Pareto"):
                self.sizes.append(len(x))
                self.times.append(t)
            return t, ref, x, ""
        rng = np.random.default_rng(7)
        sub = rng.choice(x, int(SUBSAMPLE * len(x)), replace=False)
        t_sub, ref = timeit(lambda: powerlaw_fit(sub))
        k = self.exponent()
        note = (f" (estimated: {t_sub:.0f} s on a {SUBSAMPLE:.0%} subsample x {1 / SUBSAMPLE:.0f}^{k:.2f};"
                f" agreement on the subsample)")
        return t_sub * (len(x) / len(sub)) ** k, ref, sub, note


def table(quick: bool):
    import jax
    import powerlaw

    import htsr

    print(f"# {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"python {platform.python_version()}, jax {jax.__version__}, powerlaw {powerlaw.__version__}, "
          f"htsr {htsr.__version__}")
    print("| data | powerlaw 2.0.0 (s) | htsr first call (s) | htsr warm (s) | speed-up (warm) | same xmin |"
          " max abs alpha diff |")
    print("|---|---:|---:|---:|---:|:---:|---:|")
    clock = PowerlawClock()
    for label, x in datasets(quick):
        t_pl, ref, compared, note = clock.time(x, label)
        t_cold, _ = timeit(lambda x=x: htsr.fit(x))
        t_warm, r = timeit(lambda x=x: htsr.fit(x), repeat=3 if len(x) >= 10**6 else 5)
        if compared is not x:
            r = htsr.fit(compared)
        print(f"| {label}{note} | {t_pl:.3f} | {t_cold:.3f} | {t_warm:.4f} | {t_pl / t_warm:.0f}x | "
              f"{'yes' if r.xmin == ref.xmin else 'NO'} | {abs(r.alpha - ref.alpha):.1e} |", flush=True)


def scale(n: int):
    import jax

    import htsr

    x = pareto(np.random.default_rng(2026), n)
    t_cold, r = timeit(lambda: htsr.fit(x))
    t_warm, r = timeit(lambda: htsr.fit(x), repeat=3)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # KiB -> GiB
    cache = jax.config.jax_compilation_cache_dir or "off"
    print(f"n={n}: first call {t_cold:.2f} s, warm {t_warm:.2f} s, peak RSS {peak:.2f} GiB "
          f"(persistent compilation cache: {cache}); xmin={r.xmin!r}, alpha={r.alpha!r}, D={r.D!r}, "
          f"n_tail={r.n_tail}, {r.n_evaluated} of {r.n_candidates} candidates needed an exact D")


def main():
    os.environ.setdefault("HTSR_NO_COMPILATION_CACHE", "1")  # before htsr is imported
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--scale", type=float, metavar="N", help="time htsr alone on N points")
    args = ap.parse_args()
    if args.scale:
        scale(int(args.scale))
    else:
        table(args.quick)


if __name__ == "__main__":
    main()
