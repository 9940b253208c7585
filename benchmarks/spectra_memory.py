"""Peak resident memory of the report's spectra stage alone, in one process.

    python3 benchmarks/spectra_memory.py /tmp/tinyllama6
    python3 benchmarks/spectra_memory.py /tmp/tinyllama

Runs ``htsr.report.execute.run_spectra`` (lazy safetensors reads, blocked Gram
matrices, 2 worker threads) over every reported matrix of a folder and prints the
wall time, the resident memory after the imports, and the peak during the stage
(``VmHWM`` of /proc/self/status, reset after the imports through
/proc/self/clear_refs; Linux only).  docs/benchmarks.md, "Speed and memory at LLM
scale", has its numbers: the peak does not grow with the number of layers.
"""

import sys
import time

import htsr.weights as hw
from htsr.report.core import select
from htsr.report.execute import run_spectra
from htsr.report.options import LayerFitOptions, Selection


def status(key: str) -> int:
    """MB, from the kernel's accounting of this process."""
    for line in open("/proc/self/status"):
        if line.startswith(key + ":"):
            return int(line.split()[1]) // 1024
    raise KeyError(key)


def main(src: str) -> None:
    sel, fit = Selection(), LayerFitOptions()
    infos, _ = select(src, sel, None)
    base = status("VmRSS")
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    t = time.perf_counter()
    out = run_spectra(list(enumerate(infos)), lambda names: hw.load(src, names=names, lazy=True), sel, fit,
                      workers=2)
    print(f"{src}: {len(out)} layers, {time.perf_counter() - t:.1f} s; after imports {base} MB, "
          f"spectra peak {status('VmHWM')} MB")


if __name__ == "__main__":
    main(sys.argv[1])
