"""The lesson notebooks/universality_classes.ipynb runs top to bottom and prints the right numbers.

The numbers it prints are checked against closed forms computed here, not against
the package: the Marchenko-Pastur edges (1 -+ 1/sqrt(Q))^2, the BBP outlier
location (1 + s^2)(1 + 1/(Q s^2)) of a rank-one signal of norm s (Baik, Ben Arous &
Peche 2005), and alpha = 1 + mu/2 in the very heavy-tailed class 0 < mu < 2
(Martin & Mahoney 2021, Table 1).
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import numpy as np
import pytest
from nbclient import NotebookClient

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "universality_classes.ipynb"
NUM = r"[-+]?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?"


@pytest.fixture(scope="module")
def executed():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    # allow_errors: a failing cell is reported below with its traceback instead of
    # stopping the run, so every cell's output can be inspected
    NotebookClient(nb, kernel_name="python3", timeout=120, allow_errors=True,
                   resources={"metadata": {"path": str(NOTEBOOK.parent)}}).execute()
    return [c for c in nb.cells if c.cell_type == "code"]


def _text(cell):
    return "".join(o.get("text", "") for o in cell.get("outputs", []) if o.output_type == "stream")


def _cell(cells, marker):
    (cell,) = [c for c in cells if marker in c.source]
    return cell, _text(cell)


def test_notebook_runs_without_errors_and_draws_its_figures(executed):
    errors = [(o.ename, o.evalue) for c in executed for o in c.get("outputs", []) if o.output_type == "error"]
    assert not errors, errors
    figures = [c for c in executed if any("image/png" in o.get("data", {}) for o in c.get("outputs", []))]
    assert len(figures) == 4  # gaussian ESDs, spikes, heavy-tailed ESDs, alpha vs mu


def test_gaussian_esds_follow_marchenko_pastur(executed):
    _, text = _cell(executed, "KS distance to MP")
    rows = re.findall(rf"Q=(\d+): edges \(({NUM}), ({NUM})\), largest eigenvalue ({NUM}), "
                      rf"KS distance to MP ({NUM})", text)
    assert [int(r[0]) for r in rows] == [1, 2, 4]
    for Q, lo, hi, top, D in ((int(q), *map(float, rest)) for q, *rest in rows):
        assert (lo, hi) == pytest.approx(((1 - Q**-0.5) ** 2, (1 + Q**-0.5) ** 2), abs=1e-12)
        assert abs(top - hi) < 0.15  # the largest eigenvalue sits at the upper edge (M = 300)
        assert D < 0.03  # eigenvalues are rigid: far below the iid KS scale 1.36/sqrt(300) = 0.079


def test_spikes_land_at_the_bbp_locations(executed):
    _, text = _cell(executed, "predicted spike locations")
    pred = re.search(rf"predicted spike locations: \[\s*({NUM})\s+({NUM})\s*\]", text)
    obs = re.search(rf"observed: \[\s*({NUM})\s+({NUM})\s*\]", text)
    s, Q = np.array([2.0, 3.0]), 2.0
    bbp = (1 + s**2) * (1 + 1 / (Q * s**2))
    np.testing.assert_allclose([float(v) for v in pred.groups()], bbp, rtol=1e-6)
    np.testing.assert_allclose([float(v) for v in obs.groups()], bbp, rtol=0.1)
    assert "n_spikes=2" in text
    false = int(re.search(r"false spike: (\d+) of 20", text).group(1))
    assert false <= 2


def test_heavy_tailed_classes_and_fitted_alpha(executed):
    _, text = _cell(executed, "asymptotic exponent")
    assert re.search(r"mu=1\.0: very heavy-tailed \(VHT\); asymptotic exponent 1\.5;", text)
    assert re.search(r"mu=2\.5: moderately heavy-tailed \(MHT\)", text)
    assert re.search(r"mu=5\.0: weakly heavy-tailed \(WHT\); asymptotic exponent nan", text)
    _, text = _cell(executed, "fitted alpha")
    fitted = {float(m): float(a) for m, a in re.findall(rf"mu=({NUM}): fitted alpha ({NUM})", text)}
    assert sorted(fitted) == [0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 5.0]
    for mu in (0.5, 1.0, 1.5):  # VHT: the fit recovers 1 + mu/2 even at M = 200
        assert fitted[mu] == pytest.approx(1 + mu / 2, abs=0.15)
