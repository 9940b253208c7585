"""htsr.fit versus powerlaw.Fit on the same data, side by side, in one run.

    python benchmarks/bench_fit.py            # full table (about 2 minutes)
    python benchmarks/bench_fit.py --quick    # n <= 5000 only

For each dataset: powerlaw 2.0.0's time (one call; its scan is a Python loop
and has no warm-up), htsr's first call in this process (compile + run), and
htsr's warm time (best of several calls); then the ratio powerlaw / htsr warm,
and whether the two agree on xmin and alpha.  powerlaw is given
``parameter_ranges={'alpha': [1, 10]}`` so that its default clamp (alpha <= 3)
does not bias the comparison.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
import warnings
from pathlib import Path

import numpy as np


def timeit(fn, repeat=1):
    best, out = np.inf, None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def datasets(quick: bool):
    import powerlaw

    rng = np.random.default_rng(2026)
    sizes = [1000, 5000] if quick else [1000, 5000, 20000, 50000]
    for n in sizes:
        yield f"Pareto alpha=2.5, n={n}", 1.0 + rng.pareto(1.5, n)
    if not quick:
        ref = Path(powerlaw.__file__).parent / "reference_data"
        yield "fires (n=203785)", np.loadtxt(ref / "fires.txt")
        yield "cities x1e-3 (n=19447)", np.loadtxt(ref / "cities.txt") / 1e3


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()

    import jax
    import powerlaw

    import htsr

    print(f"# {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"python {platform.python_version()}, jax {jax.__version__}, powerlaw {powerlaw.__version__}, "
          f"htsr {htsr.__version__}")
    print("| data | powerlaw 2.0.0 (s) | htsr first call (s) | htsr warm (s) | speed-up (warm) | same xmin | max abs alpha diff |")
    print("|---|---:|---:|---:|---:|:---:|---:|")
    for label, x in datasets(args.quick):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t_pl, ref = timeit(lambda: powerlaw.Fit(x, parameter_ranges={"alpha": [1, 10]}, verbose=0))
        t_cold, _ = timeit(lambda: htsr.fit(x))
        t_warm, r = timeit(lambda: htsr.fit(x), repeat=5)
        print(f"| {label} | {t_pl:.3f} | {t_cold:.3f} | {t_warm:.4f} | {t_pl / t_warm:.0f}x | "
              f"{'yes' if r.xmin == ref.xmin else 'NO'} | {abs(r.alpha - ref.alpha):.1e} |", flush=True)


if __name__ == "__main__":
    main()
