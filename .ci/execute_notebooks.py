"""Execute notebooks in their full mode and store the outputs the docs site shows.

    python3 .ci/execute_notebooks.py                      # every notebooks/*.ipynb
    python3 .ci/execute_notebooks.py notebooks/quickstart.ipynb ...

The test suite runs each notebook in its fast mode (``HTSR_NOTEBOOK_FAST=1``) and
discards the outputs; this script clears that variable, runs each notebook from a
clean kernel in ``notebooks/`` (so relative paths resolve as in Jupyter) and writes it
back with its outputs.  The pages under ``notebooks/`` of the site render those
stored outputs (``.ci/mkdocs_hooks.py``); nothing is executed at site build time.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str]) -> int:
    import nbformat
    from nbclient import NotebookClient

    paths = [Path(a).resolve() for a in argv] or sorted((ROOT / "notebooks").glob("*.ipynb"))
    os.environ.pop("HTSR_NOTEBOOK_FAST", None)  # the kernel inherits the environment: full mode
    # numpyro imports tqdm.auto, which warns in a kernel without ipywidgets; that is not the notebook's output
    os.environ["PYTHONWARNINGS"] = "ignore:IProgress not found"
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        t0 = time.perf_counter()
        NotebookClient(nb, timeout=3600, kernel_name="python3", record_timing=False,
                       resources={"metadata": {"path": str(path.parent)}}).execute()
        nbformat.write(nb, path)
        print(f"{path.relative_to(ROOT)}: executed in full mode in {time.perf_counter() - t0:.0f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
