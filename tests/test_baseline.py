"""Two checkpoints: htsr.report(new, baseline=base), its delta intervals, --delta, bad input and the CLI."""

from __future__ import annotations

import json
import math
import warnings

import numpy as np
import pytest
from scipy.stats import norm

import htsr
import htsr.weights as hw
from htsr.errors import BaselineWarning, HtsrError
from htsr.report import COLUMNS
from htsr.report.baseline import DELTA_COLUMNS, delta_interval, difference_draws

UPDATED = ["encoder.layer.0.attention.output.dense.weight", "encoder.layer.1.output.dense.weight",
           "encoder.layer.2.attention.output.dense.weight"]
KEPT = ["encoder.layer.0.attention.self.key.weight", "encoder.layer.1.attention.self.query.weight",
        "encoder.layer.2.intermediate.dense.weight"]
RANK = 3


def _fine_tune(path, out):
    """MiniLM with a rank-3 update (singular values 8, 16, 32 x the weight's norm) added to UPDATED;
    every other tensor written back byte for byte."""
    from safetensors.numpy import load_file, save_file
    from threadpoolctl import threadpool_limits

    t = load_file(path)
    with threadpool_limits(1):  # a busy machine: BLAS threads would only fight each other
        _update(t)
    save_file(t, str(out))
    return str(out)


def _update(t):
    for k, name in enumerate(UPDATED):
        W = t[name].astype(np.float64)
        rng = np.random.default_rng(k)
        q1, _ = np.linalg.qr(rng.standard_normal((W.shape[0], RANK)))
        q2, _ = np.linalg.qr(rng.standard_normal((W.shape[1], RANK)))
        t[name] = (W + (q1 * (np.linalg.norm(W, 2) * np.array([8.0, 16.0, 32.0]))) @ q2.T).astype(np.float32)


@pytest.fixture(scope="module")
def minilm_pair(tmp_path_factory):
    base = str(hw.example_path("minilm"))
    return base, _fine_tune(base, tmp_path_factory.mktemp("ft") / "model.safetensors")


@pytest.fixture(scope="module")
def compared(minilm_pair):
    """The comparison (with --delta), counting the ESDs and bootstrap chunks the reports compute."""
    import htsr.report.execute as ex
    import htsr.report.intervals as iv

    base, ft = minilm_pair
    esd_names, boot_names = [], []
    real_spectrum, real_chunk = ex.layer_spectrum, iv.bootstrap_chunk

    def spectrum(i, tensor, *a, **k):
        esd_names.append(tensor.name)
        return real_spectrum(i, tensor, *a, **k)

    def chunk(samples, names, spec):
        boot_names.extend(names)
        return real_chunk(samples, names, spec)

    import htsr.report.updates as up

    opened = OPENED_IN_DELTA

    class Counted:  # the delta pass's reads of the two checkpoints
        def __getattr__(self, name):
            return getattr(hw, name)

        def load(self, source, **kw):
            opened.append(("load", str(source)))
            return hw.load(source, **kw)

        def get(self, source, name, **kw):
            opened.append(("get", name))
            return hw.get(source, name, **kw)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(ex, "layer_spectrum", spectrum)
        mp.setattr(iv, "bootstrap_chunk", chunk)
        mp.setattr(up, "hw", Counted())
        rep = htsr.report(ft, baseline=base, layers=UPDATED + KEPT, reps=200, delta=True)
    return rep, esd_names, boot_names


def test_the_updated_layers_are_flagged_and_nothing_else(compared):
    rep, _, _ = compared
    t = rep.layers.set_index("name")
    assert sorted(rep.comparison.changed()) == sorted(UPDATED)
    assert sorted(rep.comparison.identical) == sorted(KEPT)
    for name in UPDATED:
        r = t.loc[name]
        assert r["delta_alpha"] == pytest.approx(r["alpha"] - r["alpha_base"])
        assert r["delta_alpha_hi"] < 0 and abs(r["delta_alpha"]) >= 0.1 and r["changed"]
    for name in KEPT:  # identical bytes: delta 0 with no spread, the baseline's alpha
        r = t.loc[name]
        assert (r["delta_alpha"], r["delta_alpha_lo"], r["delta_alpha_hi"]) == (0.0, 0.0, 0.0)
        assert r["alpha"] == r["alpha_base"] and not r["changed"]
    assert list(rep.layers.columns) == list(COLUMNS) + list(DELTA_COLUMNS)
    assert rep.comparison.unmatched_new == () and rep.comparison.unmatched_base == ()


OPENED_IN_DELTA: list = []  # what the compared fixture's delta pass opened


def test_delta_opens_each_checkpoint_once(compared):
    assert [kind for kind, _ in OPENED_IN_DELTA] == ["load", "load"]
    assert OPENED_IN_DELTA[0][1] != OPENED_IN_DELTA[1][1]  # the new checkpoint and the baseline, each opened once for all updated layers, none by name


def test_identical_tensors_are_not_recomputed(compared):
    rep, esd_names, boot_names = compared
    # the baseline's report computes every layer once; the new one only the updated layers
    assert sorted(esd_names) == sorted(UPDATED + KEPT + UPDATED)
    assert sorted(boot_names) == sorted(UPDATED + KEPT + UPDATED)
    base = rep.comparison.base
    for name in KEPT:  # the very draws and fit of the baseline
        assert rep.draws[name] is base.draws[name] and rep.fits[name] is base.fits[name]


def test_the_update_of_a_low_rank_fine_tune_is_low_rank(compared, minilm_pair):
    rep, _, _ = compared
    ut = rep.comparison.update_table().set_index("name")
    for name in KEPT:
        assert ut.loc[name, "rank"] == 0
    for name in UPDATED:
        assert ut.loc[name, "rank"] == RANK and ut.loc[name, "low_rank"]
        assert math.isnan(ut.loc[name, "alpha"])  # low-rank: no power-law fit
    # its eigenvalues are the squared singular values of W - W_base, computed here by an SVD
    name = UPDATED[1]
    W = np.asarray(hw.get(minilm_pair[1], name).array, dtype=np.float64)
    W -= np.asarray(hw.get(minilm_pair[0], name).array, dtype=np.float64)
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        s = np.linalg.svd(W, compute_uv=False)[:RANK]
    sp = next(sp for sp in rep.comparison.updates.spectra if sp.name == name)
    np.testing.assert_allclose(np.sort(sp.evals), np.sort(s**2), rtol=1e-8)


def test_summary_gives_the_change_of_mean_alpha(compared, tmp_path):
    rep, _, _ = compared
    c = rep.summary.change
    d = rep.layers["delta_alpha"].to_numpy(dtype=float)
    lo, hi = rep.layers["delta_alpha_lo"].to_numpy(dtype=float), rep.layers["delta_alpha_hi"].to_numpy(dtype=float)
    assert c["mean_delta_alpha"] == pytest.approx(d.mean())
    assert c["mean_delta_alpha_lo"] == pytest.approx(d.mean() - np.sqrt(np.sum((d - lo) ** 2)) / d.size)
    assert c["mean_delta_alpha_hi"] == pytest.approx(d.mean() + np.sqrt(np.sum((hi - d) ** 2)) / d.size)
    assert c["n_changed"] == len(UPDATED) and c["n_compared"] == len(UPDATED + KEPT)
    assert any(k == "change of mean alpha vs baseline" for k, _ in rep.summary.lines())
    meta = json.loads(rep.write(tmp_path)["summary"].read_text())
    assert sorted(meta["comparison"]["changed"]) == sorted(UPDATED) and meta["comparison"]["unmatched_base"] == []


def test_the_page_section_shows_delta_by_depth(compared):
    from htsr.plot.compare import compare_html

    section = compare_html(rep := compared[0])
    assert "id=baseline" in section and "delta alpha by depth" in section and "Updates W - W_base" in section
    assert all(name in section for name in rep.comparison.changed())


def test_difference_draws_are_every_pair_of_independent_resamples():
    rng = np.random.default_rng(3)
    a, b = rng.normal(size=40), rng.normal(size=40)
    every = np.subtract.outer(a, b)[~np.eye(40, dtype=bool)]  # r != s: the resamples r == s share indices
    np.testing.assert_allclose(np.sort(difference_draws(a, b, max_pairs=10**6)), np.sort(every))
    assert difference_draws(a, b, max_pairs=200).size == 200  # 5 shifts of 40


def test_bias_corrected_interval_matches_a_direct_computation():
    rng = np.random.default_rng(4)
    a, b = 3.0 + rng.gamma(2.0, 0.2, size=60), 2.0 + rng.gamma(3.0, 0.1, size=60)
    delta = 1.1
    every = np.subtract.outer(a, b)[~np.eye(60, dtype=bool)]
    z0 = norm.ppf(np.mean(every < delta))
    want = np.quantile(every, norm.cdf(2 * z0 + np.array([-1, 1]) * norm.ppf(0.95)))
    lo, hi, note = delta_interval(a, b, delta, 0.90, "bca")
    np.testing.assert_allclose([lo, hi], want, rtol=1e-12)
    lo, hi, _ = delta_interval(a, b, delta, 0.90, "percentile")
    np.testing.assert_allclose([lo, hi], np.quantile(every, [0.05, 0.95]), rtol=1e-12)
    assert delta_interval(a, b, 5.0, 0.9, "percentile")[2].startswith("no interval")  # misses its estimate


def test_interval_of_a_difference_of_normals_is_the_known_one():
    rng = np.random.default_rng(5)
    a, b = rng.normal(3.0, 0.2, size=4000), rng.normal(2.5, 0.15, size=4000)
    half = norm.ppf(0.975) * math.hypot(0.2, 0.15)
    lo, hi, _ = delta_interval(a, b, 0.5, 0.95, "bca")
    assert lo == pytest.approx(0.5 - half, abs=0.03) and hi == pytest.approx(0.5 + half, abs=0.03)


def _npz(path, **mats):
    np.savez(path, **{k: v.astype(np.float32) for k, v in mats.items()})
    return str(path)


def _mat(seed, shape=(64, 48)):
    return np.random.default_rng(seed).standard_t(3, size=shape)


def test_no_layer_in_common_is_an_error_naming_both(tmp_path):
    new = _npz(tmp_path / "new.npz", **{"a.weight": _mat(0)})
    old = _npz(tmp_path / "old.npz", **{"b.weight": _mat(1)})
    with pytest.raises(HtsrError, match=r"new\.npz and the baseline .*old\.npz have no layer in common"):
        htsr.report(new, baseline=old, intervals=None)
    with pytest.raises(HtsrError, match="change_threshold"):
        htsr.report(new, baseline=old, change_threshold=-1)


def test_a_name_with_another_shape_gets_a_row_and_a_warning(tmp_path):
    new = _npz(tmp_path / "new.npz", **{"a.weight": _mat(0), "b.weight": _mat(1), "c.weight": _mat(2)})
    old = _npz(tmp_path / "old.npz", **{"a.weight": _mat(0), "b.weight": _mat(1, (48, 48)), "d.weight": _mat(3)})
    with pytest.warns(BaselineWarning, match="b.weight 64x48 here, 48x48 there"):
        rep = htsr.report(new, baseline=old, intervals=None)
    t = rep.layers.set_index("name")
    assert math.isnan(t.loc["b.weight", "delta_alpha"]) and "no delta" in t.loc["b.weight", "delta_note"]
    assert t.loc["a.weight", "delta_alpha"] == 0.0  # identical bytes
    assert t.loc["c.weight", "delta_note"] == "not in the baseline"
    assert rep.comparison.unmatched_new == ("c.weight",) and rep.comparison.unmatched_base == ("d.weight",)
    assert list(rep.comparison.base.layers.columns) == list(COLUMNS)  # a report without a baseline: unchanged
    assert rep.comparison.base.comparison is None


def test_the_same_file_gives_zero_deltas_said_once(tmp_path):
    path = _npz(tmp_path / "m.npz", **{"a.weight": _mat(0), "b.weight": _mat(1)})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        rep = htsr.report(path, baseline=path, intervals=None)
    said = [w for w in caught if issubclass(w.category, BaselineWarning)]
    assert len(said) == 1 and "every delta is 0" in str(said[0].message)
    assert (rep.layers["delta_alpha"] == 0).all() and not rep.layers["changed"].any()
    assert "every delta is 0" in rep.summary.change["note"]


def test_in_memory_sources_are_hashed_by_their_values():
    A, B = _mat(0), _mat(1)
    U = np.outer(np.linspace(1, 2, 64), np.linspace(-1, 1, 48)) * 40
    rep = htsr.report({"a.weight": A, "b.weight": B + U}, baseline={"a.weight": A.copy(), "b.weight": B},
                      intervals=None, delta=True)
    assert rep.comparison.identical == ("a.weight",)
    assert rep.comparison.update_ranks == {"a.weight": (0, 48), "b.weight": (1, 48)}


def test_cli_baseline_flags(tmp_path, capsys):
    from htsr.cli.main import main

    new = _npz(tmp_path / "new.npz", **{"a.weight": _mat(0), "b.weight": _mat(1) * 3})
    old = _npz(tmp_path / "old.npz", **{"a.weight": _mat(0), "b.weight": _mat(1)})
    out = tmp_path / "rep"
    code = main(["report", new, "--baseline", old, "--change-threshold", "0.5", "--delta", "--no-intervals",
                 "--out", str(out), "--no-progress"])
    assert code == 0
    meta = json.loads((out / "summary.json").read_text())
    assert meta["comparison"]["change_threshold"] == 0.5 and meta["comparison"]["identical"] == ["a.weight"]
    updates = {u["name"]: u for u in meta["comparison"]["updates"]}
    assert updates["a.weight"]["rank"] == 0
    b = updates["b.weight"]  # 2 x a random matrix: full rank, so its ESD gets the report's power-law fit
    assert b["rank"] == 48 and not b["low_rank"] and b["alpha"] is not None and b["alpha"] > 1
    header = (out / "report.csv").read_text().splitlines()[0].split(",")
    assert header[-len(DELTA_COLUMNS):] == list(DELTA_COLUMNS)
    assert "changed:" in capsys.readouterr().out
    assert "Change from the baseline" in (out / "report.html").read_text()  # the page's section
    assert main(["report", new, "--delta", "--out", str(tmp_path / "x")]) == 2
    assert "--delta needs --baseline" in capsys.readouterr().err


def test_a_merged_lora_update_is_recognised_as_low_rank(tmp_path):
    from safetensors.numpy import save_file

    r, lora_alpha, q = 4, 8.0, "model.layers.0.self_attn.q_proj"
    base = tmp_path / "base.safetensors"
    save_file({f"{q}.weight": _mat(0).astype(np.float32), "model.layers.0.mlp.up_proj.weight":
               _mat(1).astype(np.float32)}, str(base))
    A, B = _mat(2, (r, 48)).astype(np.float32), _mat(3, (64, r)).astype(np.float32)
    (tmp_path / "adapter").mkdir()
    save_file({f"base_model.model.{q}.lora_A.weight": A, f"base_model.model.{q}.lora_B.weight": B},
              str(tmp_path / "adapter" / "adapter_model.safetensors"))
    (tmp_path / "adapter" / "adapter_config.json").write_text(json.dumps({"peft_type": "LORA", "r": r,
                                                                           "lora_alpha": lora_alpha}))
    rep = htsr.report(str(tmp_path / "adapter"), base=str(base), baseline=str(base), delta=True, intervals=None)
    assert rep.comparison.identical == ("model.layers.0.mlp.up_proj.weight",)
    ut = rep.comparison.update_table().set_index("name")
    assert ut.loc[f"{q}.weight", "rank"] == r and ut.loc[f"{q}.weight", "low_rank"]
    sp = next(sp for sp in rep.comparison.updates.spectra if sp.name == f"{q}.weight")
    # the adapter's own r x r route (htsr.weights.update_evals), up to W + dW's float32 rounding
    np.testing.assert_allclose(sp.evals, hw.update_evals(B, A, lora_alpha / r), rtol=1e-5)
