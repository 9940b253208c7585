"""htsr.smooth against WeightWatcher 0.7.7's SVDSmoothing on all-MiniLM-L6-v2, side by side.

    python3 benchmarks/compare_smoothing_ww.py [--method alpha_min|detX]

WeightWatcher smooths the state dict in memory (``SVDSmoothing(method=...)``: ``alpha_min`` keeps each
layer's ``num_pl_spikes``, ``detX`` its ``detX_num``, with scikit-learn's randomized TruncatedSVD);
htsr writes a new safetensors file (``htsr.smooth(keep="tail" | "detX")``, exact SVD in float64).
Prints, per layer, the components each kept, the largest difference between the two smoothed
matrices relative to the layer's largest entry, and ``||W - W_ww||_F / ||W - W_htsr||_F``: by the
Eckart-Young theorem the exact rank-k truncation is the closest rank-k matrix to W, so this ratio is
at least 1, and how far above 1 it is says how far WeightWatcher's randomized SVD is from the optimum.
Then the time of each in this one run.
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--method", choices=("alpha_min", "detX"), default="alpha_min")
    args = ap.parse_args()
    warnings.filterwarnings("ignore")
    logging.disable(logging.WARNING)
    import weightwatcher as ww
    from safetensors.numpy import load_file as load_np
    from safetensors.torch import load_file

    import htsr
    import htsr.weights as hw

    path = hw.example_path("minilm")
    keep = {"alpha_min": "tail", "detX": "detX"}[args.method]
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "smoothed.safetensors"
        t = time.perf_counter()
        res = htsr.smooth(path, out, keep=keep)
        t_htsr = time.perf_counter() - t
        ours = load_np(str(out))
        sd = load_file(path)
        t = time.perf_counter()
        theirs = ww.WeightWatcher(model=sd).SVDSmoothing(method=args.method)
        t_ww = time.perf_counter() - t
    orig = load_np(str(path))
    worst, same_k, ratios = 0.0, 0, []
    for row in res.layers:
        A, B = ours[row.name].astype(np.float64), theirs[row.name].float().numpy().astype(np.float64)
        rel = float(np.max(np.abs(A - B)) / np.max(np.abs(orig[row.name])))
        s = np.linalg.svd(B, compute_uv=False)
        k_ww = int(np.sum(s > s[0] * 1e-5))  # the rank WeightWatcher's matrix has (float32)
        same_k += k_ww == row.kept
        worst = max(worst, rel)
        W = orig[row.name].astype(np.float64)
        ratios.append(np.linalg.norm(W - B) / np.linalg.norm(W - A))
        print(f"{row.name}: kept htsr={row.kept} ww={k_ww} max|diff|/max|W|={rel:.2e} "
              f"residual ratio ww/htsr={ratios[-1]:.4f}")
    untouched = [n for n in orig if n not in {r.name for r in res.layers}
                 and not np.array_equal(orig[n], theirs[n].float().numpy() if hasattr(theirs[n], "float") else theirs[n])]
    print(f"layers smoothed: {len(res.layers)}; same number of components: {same_k}; "
          f"largest relative difference: {worst:.2e}; other tensors WeightWatcher changed: {untouched}")
    print(f"residual ratio ww/htsr: min {min(ratios):.4f} median {np.median(ratios):.4f} max {max(ratios):.4f}")
    print(f"time: htsr.smooth {t_htsr:.1f} s, WeightWatcher SVDSmoothing {t_ww:.1f} s (ratio {t_ww / t_htsr:.2f})")


if __name__ == "__main__":
    main()
