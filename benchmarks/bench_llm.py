"""htsr report on an LLM-shaped sharded bf16 folder, side by side with its floor and WeightWatcher.

    python3 benchmarks/make_llm.py tinyllama6 --out /tmp/tinyllama6
    python3 benchmarks/bench_llm.py /tmp/tinyllama6
    python3 benchmarks/bench_llm.py /tmp/llama7b --skip ww --skip intervals
    python3 benchmarks/bench_llm.py --preset tinyllama6 --layers 1   # makes a small folder in a temp dir first

Four runs, each in a fresh process, measured with its wall time and its peak
resident memory (``/usr/bin/time -v`` when present, else ``os.wait4``'s rusage:
the largest resident set of the process or any child it waited for):

* ``floor``: a plain NumPy loop over the matrices htsr reports (the 2-D weights
  of kinds dense and embedding; norms are not reported): read the bf16 bytes from
  the shard, widen to float32, then float64, form the Gram matrix of the smaller
  side and ``np.linalg.eigvalsh`` it, with BLAS as the user has it (its own
  threads).  No fits: what any spectral tool must at least do.  ``floor1`` is the
  same loop with BLAS held to one thread (threadpoolctl): on a busy machine
  OpenBLAS's own threads can make the loop several times slower (0.35 GB folder,
  load average 4 on 2 cores: 63 s against 22 s), so the ratios are to the faster
  of the two, as benchmarks/bench_report.py takes WeightWatcher's faster run.
  With ``--floor-per-shape`` the floor runs on one matrix of each distinct shape
  and its time is that matrix's seconds times the number of matrices of its shape
  (a Llama-2-7B-shaped folder has three shapes; its full floor is about half an
  hour on 2 cores); the table says so.
* ``htsr``: ``htsr report DIR --intervals none --out ...`` (the table, the fits,
  the HTML page unless ``--no-html``).
* ``intervals``: ``htsr report DIR --out ...``: the same with bootstrap intervals
  (1,000 resamples per layer unless ``--reps``).
* ``before`` (only with ``--before DIR``): ``htsr report --intervals none`` run from
  another checkout's ``htsr`` package (``PYTHONPATH=DIR``), e.g. the last commit
  (``git archive HEAD htsr | tar -x -C /tmp/base``): a change and its baseline in one run.
* ``ww``: WeightWatcher 0.7.7 ``WeightWatcher(model=state_dict).analyze()`` with its
  defaults, the state dict read with ``safetensors.torch.load_file`` shard by shard
  (as benchmarks/bench_report.py hands it MiniLM), loading included; skipped with a
  note when weightwatcher or torch is not installed.

``--skip floor|floor1|before|htsr|intervals|ww`` (repeatable) leaves a run out;
``--empty-cache`` runs htsr with an empty JAX compilation cache.  The table gives
seconds, the ratio to the floor, CPU seconds (user + system) and their ratio to
``floor1``'s (on a machine shared with other jobs, wall times swing with the load;
the CPU time of a run whose threads never wait on each other swings much less),
and peak RSS in GB; then checks that the runs
computed the same thing: the floor's largest eigenvalue of every matrix against
htsr's ``lambda_max``, and WeightWatcher's alphas against htsr's.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
RUNS = ("floor", "floor1", "before", "htsr", "intervals", "ww")


# ------------------------------------------------------------------ the child processes
def _headers(folder: Path) -> dict:
    """tensor name -> (shard path, shape, dtype code, absolute byte offset), from the index and shard headers."""
    index = folder / "model.safetensors.index.json"
    shards = sorted(set(json.loads(index.read_text())["weight_map"].values())) if index.exists() \
        else sorted(p.name for p in folder.glob("*.safetensors"))
    out = {}
    for shard in shards:
        path = folder / shard
        with open(path, "rb") as f:
            n = int.from_bytes(f.read(8), "little")
            meta = json.loads(f.read(n))
        for name, e in meta.items():
            if name != "__metadata__":
                out[name] = (path, tuple(e["shape"]), e["dtype"], 8 + n + e["data_offsets"][0])
    return out


def floor_child(folder: str, names_file: str, out_file: str, blas_threads: str = "") -> int:
    """The floor: read, widen, float64 Gram of the smaller side, eigvalsh; one matrix at a time."""
    import numpy as np

    if blas_threads:
        from threadpoolctl import threadpool_limits

        threadpool_limits(limits=int(blas_threads), user_api="blas")
    t0 = time.perf_counter()
    where = _headers(Path(folder))
    top, each = {}, {}
    for name in json.loads(Path(names_file).read_text()):
        t1 = time.perf_counter()
        path, shape, code, offset = where[name]
        n = int(np.prod(shape))
        if code == "BF16":
            bits = np.fromfile(path, dtype="<u2", count=n, offset=offset)
            w = (bits.astype(np.uint32) << 16).view(np.float32).reshape(shape)
        else:
            dtype = {"F32": "<f4", "F16": "<f2", "F64": "<f8"}[code]
            w = np.fromfile(path, dtype=dtype, count=n, offset=offset).reshape(shape)
        w = w.astype(np.float64)
        g = w.T @ w if shape[0] >= shape[1] else w @ w.T
        evals = np.linalg.eigvalsh(g)
        top[name] = float(evals[-1])
        each[name] = time.perf_counter() - t1
    Path(out_file).write_text(json.dumps(dict(lambda_max=top, seconds=time.perf_counter() - t0, each=each)))
    return 0


def ww_child(folder: str, out_file: str) -> int:
    """WeightWatcher 0.7.7 analyze() on the folder's state dict, its prints silenced (bench_report's way)."""
    import io
    from contextlib import redirect_stdout

    from safetensors.torch import load_file

    sys.path.insert(0, str(HERE))
    from bench_report import _ww

    ww = _ww()
    with redirect_stdout(io.StringIO()):
        sd = {}
        for path in sorted({v[0] for v in _headers(Path(folder)).values()}):
            sd.update(load_file(path))  # bf16 torch tensors, as a user's state dict holds them
        df = ww.WeightWatcher(model=sd).analyze()
    df[[c for c in ("name", "alpha", "xmin", "lambda_max") if c in df]].to_csv(out_file, index=False)
    return 0


# ------------------------------------------------------------------ measuring
def measured(argv: list[str], log: Path, env: dict | None = None, cwd: Path | None = None) -> dict:
    """Run ``argv`` in a fresh process: wall seconds, peak RSS (GB), exit status; its output goes to ``log``."""
    timer = "/usr/bin/time" if Path("/usr/bin/time").exists() else None
    stats = log.with_suffix(".time")
    cmd = [timer, "-v", "-o", str(stats), *argv] if timer else argv
    with open(log, "wb") as out:
        t = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=cwd)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - t
    proc.returncode = os.waitstatus_to_exitcode(status)
    if timer:
        text = stats.read_text(errors="replace")
        m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", text)
        rss_kb, how = (int(m.group(1)) if m else float("nan")), "/usr/bin/time -v"
    else:
        rss_kb, how = usage.ru_maxrss, "os.wait4 rusage"  # Linux: kilobytes
    cpu = usage.ru_utime + usage.ru_stime  # the process and the children it waited for
    return dict(seconds=seconds, cpu=cpu, rss_gb=rss_kb * 1024 / 1e9, rc=proc.returncode, how=how, log=log)


def _tail(path: Path, n: int = 15) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-n:])


def _reported(folder: Path) -> list[str]:
    """The names htsr reports: tensors of its matrix kinds (dense, embedding, conv), in the source's order."""
    import htsr.weights as hw

    return [i.name for i in hw.list_tensors(str(folder)) if i.kind in hw.MATRIX_KINDS]


def _htsr() -> list[str]:
    here = Path(sys.executable).parent / "htsr"
    return [str(here)] if here.exists() else [sys.executable, "-m", "htsr"]


def _ww_available() -> str | None:
    import importlib.util

    missing = [m for m in ("weightwatcher", "torch") if importlib.util.find_spec(m) is None]
    return f"not installed: {', '.join(missing)} (pip install \"htsr[bench]\")" if missing else None


# ------------------------------------------------------------------ the benchmark
def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "_floor":
        return floor_child(*argv[1:])
    if argv and argv[0] == "_ww":
        return ww_child(*argv[1:])
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("folder", nargs="?", type=Path, help="a folder written by benchmarks/make_llm.py")
    ap.add_argument("--preset", help="no folder: make this make_llm.py preset in a temporary folder first")
    ap.add_argument("--layers", type=int, help="with --preset: decoder layers")
    ap.add_argument("--skip", action="append", choices=RUNS, default=[], help="leave this run out (repeatable)")
    ap.add_argument("--reps", type=int, help="bootstrap resamples per layer for 'intervals' (default: htsr's, 1000)")
    ap.add_argument("--no-html", action="store_true", help="pass --no-html to htsr report")
    ap.add_argument("--empty-cache", action="store_true",
                    help="run htsr with an empty JAX compilation cache (HTSR_CACHE_DIR), as on first use")
    ap.add_argument("--before", type=Path,
                    help="also run htsr report --intervals none from this checkout (PYTHONPATH=DIR)")
    ap.add_argument("--floor-per-shape", action="store_true",
                    help="time the floors on one matrix per distinct shape, times each shape's count")
    ap.add_argument("--keep", type=Path, help="write the runs' outputs and logs here (default: a temporary folder)")
    args = ap.parse_args(argv)
    if (args.folder is None) == (args.preset is None):
        ap.error("give a folder made by make_llm.py, or --preset NAME")

    work = args.keep or Path(tempfile.mkdtemp(prefix="bench_llm-"))
    work.mkdir(parents=True, exist_ok=True)
    folder = args.folder
    if folder is None:
        folder = work / f"{args.preset}{'' if args.layers is None else f'-{args.layers}'}"
        make = [sys.executable, str(HERE / "make_llm.py"), args.preset, "--out", str(folder), "--force", "--quiet"]
        subprocess.run(make + ([] if args.layers is None else ["--layers", str(args.layers)]), check=True)
    folder = folder.resolve()
    if not any(folder.glob("*.safetensors")):
        ap.error(f"{folder} holds no .safetensors file")
    names = _reported(folder)
    names_file = work / "reported.json"
    names_file.write_text(json.dumps(names))
    floor_names, counts = names_file, None
    if args.floor_per_shape:  # one matrix per shape; its time counts for every matrix of that shape
        headers = _headers(folder)
        shapes = {n: headers[n][1] for n in names}
        first = {}
        for n in names:
            first.setdefault(shapes[n], n)
        counts = {first[sh]: sum(1 for n in names if shapes[n] == sh) for sh in first}
        floor_names = work / "floor-names.json"
        floor_names.write_text(json.dumps(list(counts)))
    size = sum(p.stat().st_size for p in folder.glob("*.safetensors"))

    from threadpoolctl import threadpool_info

    blas = ", ".join(f"{i.get('internal_api')} {i.get('version')} ({i.get('num_threads')} threads)"
                     for i in threadpool_info() if i.get("user_api") == "blas") or "unknown"
    print(f"{folder}: {len(names)} reported matrices, {size / 1e9:.2f} GB in "
          f"{len(list(folder.glob('*.safetensors')))} shard(s)")
    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}; BLAS: {blas}; "
          f"Python {sys.version.split()[0]}")

    plain, boot = work / "htsr-plain", work / "htsr-intervals"
    html = ["--no-html"] if args.no_html else []
    reps = [] if args.reps is None else ["--reps", str(args.reps)]
    commands = {
        "floor": ("NumPy floor: float64 Gram + eigvalsh per matrix, BLAS's threads",
                  [sys.executable, str(HERE / "bench_llm.py"), "_floor", str(folder), str(floor_names),
                   str(work / "floor.json")]),
        "floor1": ("NumPy floor, 1 BLAS thread",
                   [sys.executable, str(HERE / "bench_llm.py"), "_floor", str(folder), str(floor_names),
                    str(work / "floor1.json"), "1"]),
        "before": (f"htsr report --intervals none, from {args.before}",
                   [sys.executable, "-m", "htsr", "report", str(folder), "--intervals", "none", "--out",
                    str(work / "htsr-before"), *html]),
        "htsr": ("htsr report --intervals none",
                 [*_htsr(), "report", str(folder), "--intervals", "none", "--out", str(plain), *html]),
        "intervals": (f"htsr report (bootstrap, {args.reps or 1000} resamples)",
                      [*_htsr(), "report", str(folder), "--out", str(boot), *reps, *html]),
        "ww": ("WeightWatcher 0.7.7 analyze()",
               [sys.executable, str(HERE / "bench_llm.py"), "_ww", str(folder), str(work / "ww.csv")]),
    }
    results = {}
    for key in RUNS:
        label, cmd = commands[key]
        if key in args.skip or (key == "before" and args.before is None):
            continue
        if key == "ww" and (why := _ww_available()):
            print(f"{label}: skipped, {why}")
            continue
        env = None
        if key == "before":
            env = {**os.environ, "PYTHONPATH": str(args.before.resolve())}
        if args.empty_cache and key in ("htsr", "intervals"):
            env = {**(env or os.environ), "HTSR_CACHE_DIR": tempfile.mkdtemp(prefix=f"jax-cache-{key}-", dir=work)}
        print(f"running {key}: {' '.join(cmd)}", flush=True)
        # "before" runs in its checkout: `python -m` puts the working directory first on sys.path
        r = measured(cmd, work / f"{key}.log", env, cwd=args.before.resolve() if key == "before" else None)
        if r["rc"] != 0:
            print(f"  {key} failed (exit status {r['rc']}):\n{_tail(r['log'])}")
            continue
        if counts is not None and key in ("floor", "floor1"):
            each = json.loads((work / f"{key}.json").read_text())["each"]
            total = sum(each[n] * c for n, c in counts.items())
            r["cpu"] *= total / r["seconds"]
            r["seconds"] = total
            label += (f" (one matrix of each of {len(counts)} shapes timed, times its count: "
                      f"{', '.join(str(c) for c in counts.values())})")
        results[key] = (label, r)

    floor = min((results[k][1]["seconds"] for k in ("floor", "floor1") if k in results), default=None)
    floor_cpu = results["floor1"][1]["cpu"] if "floor1" in results else None
    print(f"\n| run | seconds | x floor (the faster) | CPU seconds | x floor1's CPU | peak RSS (GB) |\n"
          f"|---|---:|---:|---:|---:|---:|")
    for key, (label, r) in results.items():
        ratio = f"{r['seconds'] / floor:.2f}x" if floor else ""
        cratio = f"{r['cpu'] / floor_cpu:.2f}x" if floor_cpu else ""
        print(f"| {label} | {r['seconds']:.1f} | {ratio} | {r['cpu']:.1f} | {cratio} | {r['rss_gb']:.2f} |")
    if results:
        print(f"(wall time of each fresh process, and its CPU time (user + system, children included): on a "
              f"busy machine the CPU time of the 1-thread floor is the steadier yardstick; peak RSS by "
              f"{next(iter(results.values()))[1]['how']}; load average now {os.getloadavg()[0]:.1f})")
    _checks(results, work, plain, boot, names)
    print(f"outputs and logs: {work}")
    return 0 if all(k in results or k in args.skip for k in ("floor", "floor1", "htsr", "intervals")) else 1


def _checks(results, work: Path, plain: Path, boot: Path, names: list[str]) -> None:
    """Did the runs compute the same spectra and fits?"""
    import numpy as np
    import pandas as pd

    table = None
    for key, out in (("htsr", plain), ("intervals", boot)):
        if key in results and (out / "report.csv").exists():
            table = pd.read_csv(out / "report.csv").set_index("name")
            break
    if table is None:
        return
    missing = sorted(set(names) - set(table.index))
    if missing or len(table) != len(names):
        print(f"htsr's report has {len(table)} rows for {len(names)} matrices; missing: {missing[:5]}")
    for key in ("floor", "floor1"):
        if key not in results:
            continue
        top = json.loads((work / f"{key}.json").read_text())["lambda_max"]
        rel = max(abs(table.loc[n, "lambda_max"] - v) / v for n, v in top.items() if n in table.index)
        print(f"largest eigenvalue, htsr against {key}: max relative difference {rel:.1e} "
              f"over {len(top)} matrices")
    before = work / "htsr-before" / "report.csv"
    if "before" in results and before.exists():
        old = pd.read_csv(before).set_index("name")
        both = table.index.intersection(old.index)
        rel = np.max(np.abs(table.loc[both, "lambda_max"] - old.loc[both, "lambda_max"]) / old.loc[both, "lambda_max"])
        da = np.nanmax(np.abs(table.loc[both, "alpha"] - old.loc[both, "alpha"]))
        print(f"htsr against the --before checkout: {len(both)} matrices, lambda_max max relative difference "
              f"{rel:.1e}, alpha max |difference| {da:.1e}")
    if "ww" in results:
        ww = pd.read_csv(work / "ww.csv")
        ww["name"] = ww["name"].astype(str) + ".weight"
        both = ww[ww["name"].isin(table.index)]
        d = np.abs(table.loc[both["name"], "alpha"].to_numpy() - both["alpha"].to_numpy())
        print(f"alpha, htsr against WeightWatcher: {len(both)} matrices in both "
              f"(WeightWatcher {len(ww)}, htsr {len(table)}), max |difference| {np.nanmax(d):.1e}, "
              f"{int(np.sum(d < 1e-6))} within 1e-6")


if __name__ == "__main__":
    sys.exit(main())
