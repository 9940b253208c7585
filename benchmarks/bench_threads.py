"""What two worker threads gain on a calibration study's stages (the numbers in docs/benchmarks.md,
"calibrate against its floor").

    python3 benchmarks/bench_threads.py

Each stage runs on 8 matrices of 2000 x 1000 (float64), first in one thread, then in two
(BLAS held to one thread each, as htsr's workers run): a stage whose two-thread time is not
about half its one-thread time is serialised (the GIL, or a library's own lock).  Then an
``esd`` loop is timed alone, beside a thread drawing Pareto matrices with JAX, and beside a
thread running NumPy's ``exp``: how much a neighbour's work slows the Grams.
"""

from __future__ import annotations

import importlib
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from scipy.linalg import blas
from threadpoolctl import threadpool_limits

from htsr import _jax, rmt
from htsr.rmt import generators

esd_module = importlib.import_module("htsr.rmt.esd")


def pool_time(f, items, workers):
    t = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(f, items))
    return time.perf_counter() - t


def main():
    mats = [np.random.default_rng(i).standard_normal((2000, 1000)) for i in range(8)]
    stages = {
        "scipy blas.dsyrk (W^T W)": lambda W: blas.dsyrk(1.0, W.T, trans=0, lower=1),
        "numpy W.T @ W (dsyrk inside matmul)": lambda W: W.T @ W,
        "htsr.rmt.esd": esd_module.esd,
        "numpy eigvalsh of a 1000 x 1000 block": lambda W: np.linalg.eigvalsh(W[:1000]),
        "htsr.rmt.pareto (JAX)": lambda W: rmt.pareto(1000, 2.0, 1.5, seed=1),
        "numpy Generator.pareto": lambda W: np.random.default_rng(1).pareto(1.5, (2000, 1000)),
        "htsr.rmt.pareto then esd": lambda W: esd_module.esd(rmt.pareto(1000, 2.0, 1.5, seed=1)),
    }
    with threadpool_limits(1, user_api="blas"):
        print("| stage, 8 matrices | 1 thread (s) | 2 threads (s) | speed-up |\n|---|---:|---:|---:|")
        for name, f in stages.items():
            pool_time(f, mats[:2], 1)  # warm (compilation, first touches)
            one, two = pool_time(f, mats, 1), pool_time(f, mats, 2)
            print(f"| {name} | {one:.3f} | {two:.3f} | {one / two:.2f}x |")

        W = mats[0]
        key = generators._key(1)
        stop = threading.Event()

        def jax_loop():
            with _jax.x64():
                while not stop.is_set():
                    np.asarray(generators._pareto_kernel(key, (2000, 1000), 1.5, 1.0, True))

        def numpy_loop():
            x = np.random.default_rng(0).random((2000, 1000))
            while not stop.is_set():
                np.exp(x)

        def esd_loop(n=12):
            t = time.perf_counter()
            for _ in range(n):
                esd_module.esd(W)
            return time.perf_counter() - t

        print(f"\n12 esd calls in one thread, alone: {esd_loop():.2f} s")
        for name, loop in (("a JAX Pareto sampling loop", jax_loop), ("a NumPy exp loop", numpy_loop)):
            stop.clear()
            th = threading.Thread(target=loop)
            th.start()
            time.sleep(0.2)
            print(f"12 esd calls beside {name}: {esd_loop():.2f} s")
            stop.set()
            th.join()
    with _jax.x64():
        k = generators._key(1)
        f = lambda: np.asarray(generators._pareto_kernel(k, (2000, 1000), 1.5, 1.0, True))  # noqa: E731
        f()
        c0, t0 = time.process_time(), time.perf_counter()
        for _ in range(20):
            f()
        print(f"\n20 JAX Pareto draws: {time.perf_counter() - t0:.2f} s wall, {time.process_time() - c0:.2f} s CPU")


if __name__ == "__main__":
    main()
