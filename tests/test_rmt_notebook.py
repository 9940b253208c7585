"""The lesson notebooks/universality_classes.ipynb runs top to bottom without errors."""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbclient import NotebookClient

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "universality_classes.ipynb"


def test_universality_notebook_executes():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(nb, kernel_name="python3", timeout=120, resources={"metadata": {"path": str(NOTEBOOK.parent)}}).execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.output_type == "error"]
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert "KS distance to MP" in text and "very heavy-tailed" in text and "fitted alpha" in text
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(images) >= 4
