"""ESD of a large float32 weight matrix: htsr.rmt.esd versus numpy's SVD, side by side.

    python benchmarks/bench_esd.py                 # 4096 x 11008 (an LLaMA-7B MLP matrix)
    python benchmarks/bench_esd.py --shape 1024 2752 --repeat 3

Both compute the same M = 4096 numbers: htsr's eigenvalues of W W^T / N (Gram
route: float64 dsyrk + dsyevd) and numpy.linalg.svd(W, compute_uv=False) on the
float32 matrix (sgesdd), squared and divided by N.  Prints the best-of-`repeat`
wall time of each (runs interleaved), the ratio, and the largest difference relative to lambda_max.
"""

from __future__ import annotations

import argparse
import os
import platform
import time

import numpy as np


def interleaved_best(fns, repeat):
    """Best-of-`repeat` time of each function, runs interleaved (fair under changing load)."""
    times, outs = [[] for _ in fns], [None] * len(fns)
    for _ in range(repeat):
        for k, fn in enumerate(fns):
            t0 = time.perf_counter()
            outs[k] = fn()
            times[k].append(time.perf_counter() - t0)
    return [min(t) for t in times], outs


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--shape", type=int, nargs=2, default=(4096, 11008), metavar=("ROWS", "COLS"))
    p.add_argument("--repeat", type=int, default=1, help="runs of each method; the best is reported")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)

    from htsr import rmt

    rows, cols = args.shape
    W = np.random.default_rng(args.seed).standard_normal((rows, cols), dtype=np.float32)
    N = max(rows, cols)
    print(f"matrix {rows} x {cols} float32; repeat {args.repeat}; numpy {np.__version__}; {platform.processor() or platform.machine()}; "
          f"{os.cpu_count()} cpus; load average {os.getloadavg()[0]:.2f}")

    (t_htsr, t_np), (ev, s) = interleaved_best(
        [lambda: rmt.esd(W), lambda: np.linalg.svd(W, compute_uv=False)], args.repeat
    )
    ev_np = np.sort(s.astype(np.float64) ** 2) / N
    err = float(np.max(np.abs(ev - ev_np)) / ev_np[-1])

    print(f"{'method':<44}{'seconds':>10}")
    print(f"{'htsr.rmt.esd (float64 Gram + eigvalsh)':<44}{t_htsr:>10.2f}")
    print(f"{'numpy.linalg.svd(compute_uv=False), float32':<44}{t_np:>10.2f}")
    print(f"speed-up of htsr over numpy: {t_np / t_htsr:.2f}x")
    print(f"max |difference| / lambda_max: {err:.1e} (float32 SVD rounding)")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
