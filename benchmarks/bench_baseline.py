"""Cost of a baseline comparison against one report, on all-MiniLM-L6-v2, side by side in one run.

    python benchmarks/bench_baseline.py [--reps 1000] [--repeat 2]

Times, in one process after one untimed warm-up report (JAX compilation):

1. ``htsr.report(minilm)``                              -- one report;
2. ``htsr.report(finetuned, baseline=minilm)``          -- a fine-tuned copy: a rank-3 update
   added to 3 of its 39 matrices, every other tensor byte-identical (hashed, not recomputed);
3. ``htsr.report(minilm, baseline=minilm)``             -- the model against itself;
4. as 2, with ``delta=True`` (the spectra of the updates W - W_base).

and prints each time and its ratio to (1).  The goal (issue 24): a comparison costs at most
2x one report.  Each timing is the best of ``--repeat`` runs (the machine may be shared).
"""

from __future__ import annotations

import argparse
import tempfile
import warnings
from pathlib import Path

import numpy as np
from bench_report import best  # best of n runs: the same timer as the report benchmark (same folder)

UPDATED = ["encoder.layer.0.attention.output.dense.weight", "encoder.layer.1.output.dense.weight",
           "encoder.layer.2.attention.output.dense.weight"]


def fine_tuned(base: str, out: Path) -> str:
    """MiniLM with a rank-3 update on UPDATED (tests/test_baseline.py's construction)."""
    from safetensors.numpy import load_file, save_file
    from threadpoolctl import threadpool_limits

    t = load_file(base)
    with threadpool_limits(1):
        for k, name in enumerate(UPDATED):
            W = t[name].astype(np.float64)
            rng = np.random.default_rng(k)
            q1, _ = np.linalg.qr(rng.standard_normal((W.shape[0], 3)))
            q2, _ = np.linalg.qr(rng.standard_normal((W.shape[1], 3)))
            t[name] = (W + (q1 * (np.linalg.norm(W, 2) * np.array([8.0, 16.0, 32.0]))) @ q2.T).astype(np.float32)
    save_file(t, str(out))
    return str(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reps", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=2)
    args = ap.parse_args()
    import htsr
    import htsr.weights as hw

    base = str(hw.example_path("minilm"))
    ft = fine_tuned(base, Path(tempfile.mkdtemp(prefix="htsr-bench-")) / "model.safetensors")
    htsr.report(base, reps=args.reps)  # warm-up: compilation, untimed
    runs = {
        "one report": lambda: htsr.report(base, reps=args.reps),
        "vs fine-tuned copy": lambda: htsr.report(ft, baseline=base, reps=args.reps),
        "vs itself": lambda: htsr.report(base, baseline=base, reps=args.reps),
        "vs fine-tuned, --delta": lambda: htsr.report(ft, baseline=base, reps=args.reps, delta=True),
    }
    times = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, fn in runs.items():
            times[name], rep = best(fn, args.repeat)
            if rep.comparison is not None:
                print(f"  {name}: changed {rep.comparison.changed()}, {len(rep.comparison.identical)} identical")
    one = times["one report"]
    print(f"\nall-MiniLM-L6-v2, {args.reps} bootstrap resamples, best of {args.repeat}")
    print(f"{'run':28s} {'seconds':>8s} {'x one report':>13s}")
    for name, t in times.items():
        print(f"{name:28s} {t:8.2f} {t / one:13.2f}")


if __name__ == "__main__":
    main()
