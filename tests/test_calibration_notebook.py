"""notebooks/estimator_calibration.ipynb runs top to bottom in its fast mode and prints sane numbers.

Known answers: a pure power-law sample's exponent is recovered with a small bias in
the estimators' good range, and in the very heavy-tailed class (mu < 2) the fitted
ESD exponent follows alpha = 1 + mu/2 (slope 0.5, intercept 1; Martin & Mahoney 2021).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "estimator_calibration.ipynb"
NUM = r"[-+]?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?"


@pytest.fixture(scope="module")
def executed():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    old = os.environ.get("HTSR_NOTEBOOK_FAST")
    os.environ["HTSR_NOTEBOOK_FAST"] = "1"  # the kernel inherits it
    try:
        NotebookClient(nb, kernel_name="python3", timeout=300, allow_errors=True,
                       resources={"metadata": {"path": str(NOTEBOOK.parent)}}).execute()
    finally:
        if old is None:
            os.environ.pop("HTSR_NOTEBOOK_FAST")
        else:
            os.environ["HTSR_NOTEBOOK_FAST"] = old
    return [c for c in nb.cells if c.cell_type == "code"]


def _text(cells):
    return "".join(o.get("text", "") for c in cells for o in c.get("outputs", []) if o.output_type == "stream")


def test_runs_in_fast_mode_without_errors_and_draws_its_figures(executed):
    errors = [(o.ename, o.evalue) for c in executed for o in c.get("outputs", []) if o.output_type == "error"]
    assert not errors, errors
    assert "fast mode" in _text(executed)
    figures = [c for c in executed if any("image/png" in o.get("data", {}) for o in c.get("outputs", []))]
    assert len(figures) == 3  # fitted vs true, alpha vs mu, alpha vs Q


def test_prints_the_line_fit_near_theory(executed):
    m = re.search(rf"slope ({NUM}) \+- ({NUM}), intercept ({NUM}) \+- ({NUM})", _text(executed))
    slope, _, intercept, _ = map(float, m.groups())
    assert abs(slope - 0.5) < 0.3 and abs(intercept - 1.0) < 0.3


def test_power_law_bias_is_small_in_the_good_range(executed):
    rows = re.findall(rf"(clauset|bounded): bias at alpha=1.5 ({NUM}), at alpha=6 ({NUM})", _text(executed))
    assert {r[0] for r in rows} == {"clauset", "bounded"}
    for _, b_low, _ in rows:
        assert abs(float(b_low)) < 0.1


def test_inversion_with_the_shipped_table(executed):
    rows = dict(re.findall(rf"alpha=({NUM}): mu ({NUM}|nan)", _text(executed)))
    assert 0.5 < float(rows["1.6"]) < 2.0  # very heavy-tailed: 1 + mu/2 = 1.6 at mu = 1.2
