"""Start-up costs: import time, time to an argument error, time to a first result,
and what the persistent compilation cache saves a library user.

    python3 benchmarks/bench_startup.py
    python3 benchmarks/bench_startup.py --report-only   # the fresh-process MiniLM report against WeightWatcher

Every number is a fresh Python process (median of ``--repeat`` runs), so this
measures what a user pays, not a warm interpreter.  The cache rows use a
private cache directory, emptied first, so "cold" really compiles.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FIRST_FIT = ("import numpy as np, htsr; "
             "x = (1 - np.random.default_rng(1).random(2000)) ** (-1 / 1.5); htsr.fit(x)")
REPORT = ("import sys, time; t = time.perf_counter(); import htsr, htsr.weights as hw; "
          "r = htsr.report(hw.example_path('minilm'){args}); "
          "print(time.perf_counter() - t)")
WW = ("import sys, io, time, logging, warnings, contextlib; t = time.perf_counter(); "
      "logging.disable(logging.WARNING); warnings.simplefilter('ignore'); "
      "f = io.StringIO(); cm = contextlib.redirect_stdout(f); cm.__enter__(); "
      "import weightwatcher as ww, htsr.weights as hw; from safetensors.torch import load_file; "
      "ww.WeightWatcher(model=load_file(str(hw.example_path('minilm')))).analyze(); cm.__exit__(None, None, None); "
      "print(time.perf_counter() - t)")
GOF = ("import numpy as np, htsr; "
       "x = (1 - np.random.default_rng(1).random(2000)) ** (-1 / 1.5); htsr.gof(x, reps=100, seed=0)")


def wall(cmd, env=None) -> float:
    t = time.perf_counter()
    subprocess.run(cmd, capture_output=True, env=env, check=False)
    return time.perf_counter() - t


def median(cmd, repeat, env=None) -> float:
    return statistics.median(wall(cmd, env) for _ in range(repeat))


def import_time(module: str) -> float:
    """Cumulative import time of ``module`` in microseconds, from ``-X importtime``."""
    out = subprocess.run([sys.executable, "-X", "importtime", "-c", f"import {module}"],
                         capture_output=True, text=True).stderr
    for line in out.splitlines():
        m = re.match(rf"import time:\s+\d+ \|\s+(\d+) \|\s*{re.escape(module)}$", line)
        if m:
            return int(m.group(1)) / 1e6
    raise RuntimeError(f"no import-time line for {module}")


def fresh_report(py, repeat) -> None:
    """MiniLM reported in a fresh process with an empty compilation cache, against
    WeightWatcher 0.7.7's ``analyze()`` in a fresh process (imports and loading included in both)."""
    rows = [("htsr.report(minilm, intervals=None), empty cache", REPORT.format(args=", intervals=None"), "empty"),
            ("htsr.report(minilm, intervals=None), warm cache", REPORT.format(args=", intervals=None"), "warm"),
            ("htsr.report(minilm) (1,000 resamples), empty cache", REPORT.format(args=""), "empty"),
            ("htsr.report(minilm) (1,000 resamples), warm cache", REPORT.format(args=""), "warm"),
            ("WeightWatcher().analyze() (1 BLAS thread)", WW, None)]
    times = {}
    for label, code, cache in rows:
        runs = []
        for _ in range(repeat):
            with tempfile.TemporaryDirectory() as tmp:
                env = dict(os.environ, HTSR_CACHE_DIR=str(Path(tmp) / "cache"))
                if cache is None:
                    env.update(OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
                if cache == "warm":
                    wall([py, "-c", code], env)  # fill this run's cache
                t = time.perf_counter()
                subprocess.run([py, "-c", code], capture_output=True, env=env, check=True)
                runs.append(time.perf_counter() - t)
        times[label] = statistics.median(runs)
    ref = times[rows[-1][0]]
    for label, t in times.items():
        print(f"{label:<52} {t:8.3f}   {t / ref:5.2f}x WeightWatcher")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--report-only", action="store_true", help="only the fresh-process MiniLM report rows")
    args = ap.parse_args()
    py = sys.executable
    if args.report_only:
        print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores; median of {args.repeat} fresh processes")
        fresh_report(py, args.repeat)
        return
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores; median of {args.repeat} fresh processes")
    print(f"{'what':<52} {'seconds':>8}")
    print(f"{'python -X importtime: import htsr':<52} {import_time('htsr'):8.3f}")
    print(f"{'python -X importtime: import jax':<52} {import_time('jax'):8.3f}")
    print(f"{'python -X importtime: import htsr.fitting (kernels)':<52} {import_time('htsr.fitting'):8.3f}")
    rows = [
        ("htsr --version", [py, "-m", "htsr", "--version"]),
        ("htsr fit --gof abc x.txt (argument error, exit 2)", [py, "-m", "htsr", "fit", "--gof", "abc", "x.txt"]),
        ("htsr fit missing.txt (data error, exit 2)", [py, "-m", "htsr", "fit", "missing.txt"]),
    ]
    for label, cmd in rows:
        print(f"{label:<52} {median(cmd, args.repeat):8.3f}")
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "x.txt"
        subprocess.run([py, "-c", f"import numpy as np; np.savetxt({str(data)!r}, "
                        "(1 - np.random.default_rng(1).random(2000)) ** (-1 / 1.5))"], check=True)
        cache = Path(tmp) / "cache"
        env = dict(os.environ, HTSR_CACHE_DIR=str(cache))
        off = dict(os.environ, HTSR_NO_COMPILATION_CACHE="1")
        print(f"{'htsr fit x.txt, n=2000, no cache':<52} {median([py, '-m', 'htsr', 'fit', str(data)], args.repeat, off):8.3f}")
        wall([py, "-m", "htsr", "fit", str(data)], env)  # fill the cache
        print(f"{'htsr fit x.txt, n=2000, warm cache':<52} {median([py, '-m', 'htsr', 'fit', str(data)], args.repeat, env):8.3f}")
        print(f"{'API: import + first fit, n=2000, no cache':<52} {median([py, '-c', FIRST_FIT], args.repeat, off):8.3f}")
        print(f"{'API: import + first fit, n=2000, warm cache':<52} {median([py, '-c', FIRST_FIT], args.repeat, env):8.3f}")
        print(f"{'API: htsr.gof(x, reps=100), n=2000, no cache':<52} {median([py, '-c', GOF], args.repeat, off):8.3f}")
        wall([py, "-c", GOF], env)
        print(f"{'API: htsr.gof(x, reps=100), n=2000, warm cache':<52} {median([py, '-c', GOF], args.repeat, env):8.3f}")


if __name__ == "__main__":
    main()
