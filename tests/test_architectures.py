"""Architectures: mixture-of-experts banks, fused projections split by config.json, LoRA adapters.

Every file is written here with safetensors' own writer (GGUF with gguf's); every
expected number is NumPy's eigvalsh of the matrices the file was built from.
"""

from __future__ import annotations

import importlib
import json
import os

import numpy as np
import pytest
from safetensors.numpy import save_file

import htsr
import htsr.weights as hw
from htsr.cli.main import main
from htsr.errors import HtsrError, WeightsError

RNG = np.random.default_rng(23)


def _m(*shape):
    return RNG.standard_normal(shape).astype(np.float32)


def _evals(W):
    W = np.asarray(W, dtype=np.float64)
    return np.sort(np.linalg.eigvalsh(W.T @ W if W.shape[0] >= W.shape[1] else W @ W.T))


def _write(folder, tensors, config=None):
    folder.mkdir(exist_ok=True)
    save_file(tensors, str(folder / "model.safetensors"))
    if config is not None:
        (folder / "config.json").write_text(json.dumps(config))
    return folder


def _report(source, **kw):
    return htsr.report(source, intervals=None, bounded=False, workers=1, **kw)


# ---------------------------------------------------------------- mixture of experts
@pytest.fixture(scope="module")
def moe(tmp_path_factory):
    """Both MoE layouts in one folder: a stack [E, out, in] and one tensor per expert."""
    stack = _m(3, 40, 24)
    per = {e: _m(36, 24) for e in range(3)}
    tensors = {"model.layers.0.mlp.experts.down_proj": stack, "model.layers.0.mlp.gate.weight": _m(3, 24),
               "model.layers.0.self_attn.o_proj.weight": _m(24, 24)}
    tensors.update({f"model.layers.0.block_sparse_moe.experts.{e}.w1.weight": w for e, w in per.items()})
    folder = _write(tmp_path_factory.mktemp("moe") / "m", tensors)
    return folder, stack, per, _report(folder, min_evals=2)


def test_stacked_experts_one_row_each_and_a_pooled_row(moe):
    folder, stack, _, rep = moe
    spectra = {sp.name: sp for sp in rep.spectra}
    for e in range(3):
        np.testing.assert_allclose(spectra[f"model.layers.0.mlp.experts.down_proj[{e}]"].evals, _evals(stack[e]),
                                   rtol=1e-10, atol=1e-9)
    pooled = spectra["model.layers.0.mlp.experts.down_proj[*]"]
    want = np.sort(np.concatenate([_evals(stack[e]) for e in range(3)]))
    np.testing.assert_allclose(pooled.evals, want, rtol=1e-10, atol=1e-9)
    row = rep.layers.set_index("name").loc["model.layers.0.mlp.experts.down_proj[*]"]
    assert row["kind"] == "experts" and row["n_evals"] == 72 and row["shape"] == "3x40x24"
    assert "pooled" not in row["warning"]  # the kind and the name say what it is (fingers may be noted)
    # the router is an ordinary (small) matrix, not an expert
    rows = rep.layers.set_index("name")
    assert rows.loc["model.layers.0.mlp.gate.weight", "kind"] == "dense"
    # run order: attention output, router, then the experts' second layer (a part has its tensor's role)
    depth = rows["depth"]
    assert (depth["model.layers.0.self_attn.o_proj.weight"] < depth["model.layers.0.mlp.gate.weight"]
            < depth["model.layers.0.mlp.experts.down_proj[0]"] < depth["model.layers.0.mlp.experts.down_proj[*]"])


def test_per_expert_tensors_pool_into_one_row(moe):
    _, _, per, rep = moe
    spectra = {sp.name: sp for sp in rep.spectra}
    pooled = spectra["model.layers.0.block_sparse_moe.experts.*.w1.weight"]
    np.testing.assert_allclose(pooled.evals, np.sort(np.concatenate([_evals(w) for w in per.values()])),
                               rtol=1e-10, atol=1e-9)
    assert pooled.kind == "experts" and pooled.n_slices == 3


def test_summary_counts_a_bank_once_through_its_pooled_row(moe):
    _, _, _, rep = moe
    t = rep.layers
    experts = t["name"].map(lambda n: hw.expert_group(n) is not None and not n.endswith(("[*]", "*.w1.weight")))
    counted = t[~experts & t["alpha"].notna()]
    assert rep.summary.n_fitted == len(counted) < int(t["alpha"].notna().sum())
    assert rep.summary.mean_alpha == pytest.approx(counted["alpha"].mean(), rel=1e-12)
    assert list(t["index"]) == list(range(len(t)))  # renumbered after the pooled rows were inserted


def test_an_expert_without_a_spectrum_is_left_out_of_its_bank_with_a_note(tmp_path):
    stack = _m(3, 20, 12)
    stack[1, 0, 0] = np.nan
    rep = _report(_write(tmp_path / "nan", {"layers.0.experts.down_proj": stack}))
    rows = rep.layers.set_index("name")
    assert "NaN" in rows.loc["layers.0.experts.down_proj[1]", "warning"]
    pooled = rows.loc["layers.0.experts.down_proj[*]"]
    assert pooled["warning"].startswith("pooled ESD of 2 of 3 experts: 1 have no spectrum and are left out")
    assert pooled["n_evals"] == 24
    sp = next(s for s in rep.spectra if s.name == "layers.0.experts.down_proj[*]")
    np.testing.assert_allclose(sp.evals, np.sort(np.concatenate([_evals(stack[0]), _evals(stack[2])])), rtol=1e-10)


def test_expert_slices_read_alone_equal_the_stack(tmp_path):
    stack16 = _m(4, 8, 6).astype(np.float16)
    folder = _write(tmp_path / "s", {"layers.1.experts.gate_up_proj": stack16})
    assert [i.kind for i in hw.list_tensors(folder)] == ["experts"]
    names = [i.name for i in hw.list_tensors(folder, expand=True)]
    assert names == [f"layers.1.experts.gate_up_proj[{e}]" for e in range(4)]
    for e in range(4):  # a byte range of the file, float16 widened exactly
        got = hw.get(folder, f"layers.1.experts.gate_up_proj[{e}]").array
        assert got.dtype == np.float32 and np.array_equal(got, stack16[e].astype(np.float32))
    with pytest.raises(WeightsError, match=r"no tensor named 'layers\.1\.experts\.gate_up_proj\[9\]'"):
        hw.get(folder, "layers.1.experts.gate_up_proj[9]")


def test_a_stack_is_read_one_expert_at_a_time(tmp_path, monkeypatch):
    from htsr.weights._safetensors import SafetensorsReader

    stack = _m(3, 8, 6)
    folder = _write(tmp_path / "s", {"layers.1.experts.down_proj": stack})

    def whole(self, info):
        raise AssertionError(f"the whole of {info.name} was read")

    monkeypatch.setattr(SafetensorsReader, "read", whole)
    assert np.array_equal(hw.get(folder, "layers.1.experts.down_proj[2]").array, stack[2])
    with pytest.raises(AssertionError, match="the whole of"):
        hw.get(folder, "layers.1.experts.down_proj")


def test_gguf_stacked_experts_are_sliced(tmp_path):
    try:
        gguf = importlib.import_module("gguf")
    except ImportError:
        if os.environ.get("CI"):
            pytest.fail("gguf is not installed in CI")
        pytest.skip("gguf not installed (pip install 'htsr[gguf]')")
    stack = _m(3, 16, 32)
    Q8_0 = gguf.GGMLQuantizationType.Q8_0
    quantized = gguf.quants.quantize(stack, Q8_0)
    path = tmp_path / "moe.gguf"
    w = gguf.GGUFWriter(str(path), "llama")
    w.add_tensor("blk.0.ffn_up_exps.weight", stack)
    w.add_tensor("blk.0.ffn_down_exps.weight", quantized, raw_dtype=Q8_0)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    infos = hw.list_tensors(path, expand=True)
    assert [(i.name, i.shape) for i in infos] == [(f"blk.0.ffn_{p}_exps.weight[{e}]", (16, 32))
                                                  for p in ("up", "down") for e in range(3)]  # file order
    dequantized = gguf.quants.dequantize(quantized, Q8_0).reshape(stack.shape)
    for e in range(3):  # each slice dequantized alone
        assert np.array_equal(hw.get(path, f"blk.0.ffn_up_exps.weight[{e}]").array, stack[e])
        assert np.array_equal(hw.get(path, f"blk.0.ffn_down_exps.weight[{e}]").array, dequantized[e])
    assert hw.expert_group("blk.0.ffn_up_exps.weight[2]") == "blk.0.ffn_up_exps.weight[*]"


# ---------------------------------------------------------------- fused projections
H, KV, HD = 4, 2, 6
HIDDEN = H * HD


def _parts_of(folder, name, labels):
    return {p: hw.get(folder, f"{name}[{p}]").array for p in labels}


def test_gpt2_c_attn_conv1d_split_into_q_k_v(tmp_path):
    q, k, v = _m(HIDDEN, HIDDEN), _m(HIDDEN, HIDDEN), _m(HIDDEN, HIDDEN)  # Conv1D (in, out) blocks
    folder = _write(tmp_path / "gpt2", {"h.0.attn.c_attn.weight": np.concatenate([q, k, v], axis=1)},
                    {"model_type": "gpt2", "n_head": H, "n_embd": HIDDEN})
    got = _parts_of(folder, "h.0.attn.c_attn.weight", "qkv")
    for part, want in zip("qkv", (q, k, v)):
        assert np.array_equal(got[part], want)
    names = [i.name for i in hw.list_tensors(folder, expand=True)]
    assert names == ["h.0.attn.c_attn.weight[k]", "h.0.attn.c_attn.weight[q]", "h.0.attn.c_attn.weight[v]"]
    assert [i.name for i in hw.list_tensors(folder)] == ["h.0.attn.c_attn.weight"]  # stored as stored
    # what a Dask worker runs for one row: it reads the part by its name from the path
    from htsr.report import LayerFitOptions, Selection
    from htsr.report.spectra import spectrum_of

    sp = spectrum_of(0, str(folder), "h.0.attn.c_attn.weight[v]", "pytorch", Selection(), LayerFitOptions())
    np.testing.assert_allclose(sp.evals, _evals(v), rtol=1e-10)


def test_neox_query_key_value_interleaved_per_head(tmp_path):
    q, k, v = _m(HIDDEN, HIDDEN), _m(HIDDEN, HIDDEN), _m(HIDDEN, HIDDEN)
    fused = np.stack([x.reshape(H, HD, HIDDEN) for x in (q, k, v)], axis=1).reshape(3 * HIDDEN, HIDDEN)
    for model_type in ("gpt_neox", "bloom"):
        folder = _write(tmp_path / model_type, {"gpt_neox.layers.0.attention.query_key_value.weight": fused},
                        {"model_type": model_type, "num_attention_heads": H, "hidden_size": HIDDEN})
        got = _parts_of(folder, "gpt_neox.layers.0.attention.query_key_value.weight", "qkv")
        for part, want in zip("qkv", (q, k, v)):
            assert np.array_equal(got[part], want), (model_type, part)


def test_phi3_qkv_with_grouped_query_attention_and_gate_up(tmp_path):
    q, k, v = _m(H * HD, HIDDEN), _m(KV * HD, HIDDEN), _m(KV * HD, HIDDEN)
    gate, up = _m(40, HIDDEN), _m(40, HIDDEN)
    folder = _write(tmp_path / "phi3", {"model.layers.0.self_attn.qkv_proj.weight": np.concatenate([q, k, v]),
                                        "model.layers.0.mlp.gate_up_proj.weight": np.concatenate([gate, up])},
                    {"model_type": "phi3", "num_attention_heads": H, "num_key_value_heads": KV,
                     "hidden_size": HIDDEN, "intermediate_size": 40})
    got = _parts_of(folder, "model.layers.0.self_attn.qkv_proj.weight", "qkv")
    for part, want in zip("qkv", (q, k, v)):
        assert np.array_equal(got[part], want)
    got = _parts_of(folder, "model.layers.0.mlp.gate_up_proj.weight", ("gate", "up"))
    assert np.array_equal(got["gate"], gate) and np.array_equal(got["up"], up)


def test_falcon_new_decoder_groups(tmp_path):
    q, k, v = _m(H * HD, HIDDEN), _m(KV * HD, HIDDEN), _m(KV * HD, HIDDEN)
    per = H // KV  # each group: its query heads, then its key head, then its value head
    fused = np.concatenate([np.concatenate([q[g * per * HD:(g + 1) * per * HD], k[g * HD:(g + 1) * HD],
                                            v[g * HD:(g + 1) * HD]]) for g in range(KV)])
    folder = _write(tmp_path / "falcon", {"transformer.h.0.self_attention.query_key_value.weight": fused},
                    {"model_type": "falcon", "num_attention_heads": H, "num_kv_heads": KV, "hidden_size": HIDDEN,
                     "new_decoder_architecture": True})
    got = _parts_of(folder, "transformer.h.0.self_attention.query_key_value.weight", "qkv")
    for part, want in zip("qkv", (q, k, v)):
        assert np.array_equal(got[part], want)


def test_fused_rows_split_kept_or_kept_with_a_reason(tmp_path):
    q, k, v = _m(HIDDEN, HIDDEN), _m(HIDDEN, HIDDEN), _m(HIDDEN, HIDDEN)
    fused = np.concatenate([q, k, v], axis=1)
    cfg = {"model_type": "gpt2", "n_head": H, "n_embd": HIDDEN}
    split = _report(_write(tmp_path / "a", {"h.0.attn.c_attn.weight": fused}, cfg))
    rows = split.layers.set_index("name")
    assert list(rows.index) == [f"h.0.attn.c_attn.weight[{p}]" for p in "kqv"]
    assert not any("fused" in w for w in rows["warning"])  # the names say which part
    np.testing.assert_allclose(split.spectra[1].evals, _evals(q), rtol=1e-10)
    kept = _report(tmp_path / "a", fused="keep")
    assert list(kept.layers["name"]) == ["h.0.attn.c_attn.weight"]
    assert "kept whole (fused='keep')" in kept.layers["warning"][0]
    assert kept.spec.selection.fused == "keep"
    bare = _report(_write(tmp_path / "b", {"h.0.attn.c_attn.weight": fused}))
    assert "no config.json" in bare.layers["warning"][0] and len(bare.layers) == 1
    wrong = _report(_write(tmp_path / "c", {"h.0.attn.c_attn.weight": fused}, {**cfg, "n_embd": 2 * HIDDEN}))
    assert "implies an output axis of 144, but the tensor's is 72" in wrong.layers["warning"][0]
    with pytest.raises(HtsrError, match="fused must be one of 'split', 'keep'"):
        _report(tmp_path / "a", fused="merge")
    assert main(["report", str(tmp_path / "a"), "--keep-fused", "--no-intervals", "--no-html", "--quiet",
                 "--out", str(tmp_path / "out")]) == 0
    assert [r["name"] for r in json.loads((tmp_path / "out" / "report.json").read_text())] == [
        "h.0.attn.c_attn.weight"]


# ---------------------------------------------------------------- LoRA
R, ALPHA = 4, 16


@pytest.fixture(scope="module")
def lora(tmp_path_factory):
    root = tmp_path_factory.mktemp("lora")
    base = {"model.layers.0.self_attn.q_proj.weight": _m(48, 32), "model.layers.0.self_attn.v_proj.weight": _m(48, 32),
            "model.layers.0.mlp.down_proj.weight": _m(32, 64)}
    _write(root / "base", base)
    factors = {"model.layers.0.self_attn.q_proj": (_m(R, 32), _m(48, R)),
               "model.layers.0.self_attn.v_proj": (_m(2 * R, 32), _m(48, 2 * R))}  # v_proj: rank_pattern
    tensors = {}
    for mod, (A, B) in factors.items():
        tensors[f"base_model.model.{mod}.lora_A.weight"] = A
        tensors[f"base_model.model.{mod}.lora_B.weight"] = B
    (root / "adapter").mkdir()
    save_file(tensors, str(root / "adapter" / "adapter_model.safetensors"))
    config = {"peft_type": "LORA", "r": R, "lora_alpha": ALPHA, "rank_pattern": {"v_proj": 2 * R},
              "target_modules": ["q_proj", "v_proj"]}
    (root / "adapter" / "adapter_config.json").write_text(json.dumps(config))
    scale = {"model.layers.0.self_attn.q_proj": ALPHA / R, "model.layers.0.self_attn.v_proj": ALPHA / (2 * R)}
    dW = {mod: scale[mod] * B.astype(np.float64) @ A.astype(np.float64) for mod, (A, B) in factors.items()}
    return root, base, dW


def test_lora_update_is_reported_as_a_rank_r_spectrum(lora):
    root, _, dW = lora
    rep = _report(root / "adapter")
    rows = rep.layers.set_index("name")
    for mod, r in (("model.layers.0.self_attn.q_proj", R), ("model.layers.0.self_attn.v_proj", 2 * R)):
        sp = next(s for s in rep.spectra if s.name == f"{mod}.weight[lora]")
        np.testing.assert_allclose(sp.evals, _evals(dW[mod])[-r:], rtol=1e-9)
        row = rows.loc[f"{mod}.weight[lora]"]
        assert row["n_evals"] == r and np.isnan(row["alpha"]) and row["shape"] == "48x32"
        assert f"LoRA update of rank {r}" in row["warning"] and "no power-law fit" in row["warning"]
        ev = _evals(dW[mod])
        assert row["stable_rank"] == pytest.approx(ev.sum() / ev[-1], rel=1e-9)
    assert rep.summary.n_fitted == 0


def test_lora_rslora_scale(lora, tmp_path):
    root, _, dW = lora
    import shutil

    ad = shutil.copytree(root / "adapter", tmp_path / "rs")
    cfg = json.loads((ad / "adapter_config.json").read_text())
    (ad / "adapter_config.json").write_text(json.dumps({**cfg, "use_rslora": True}))
    adapter = hw.open_adapter(ad)
    mod = next(m for m in adapter.modules if m.module.endswith("q_proj"))
    assert mod.scale == pytest.approx(ALPHA / np.sqrt(R))
    B, A = adapter.factors(mod)
    adapter.close()
    want = _evals(dW["model.layers.0.self_attn.q_proj"] * (R / np.sqrt(R)))[-R:]
    np.testing.assert_allclose(hw.update_evals(B, A, mod.scale), want, rtol=1e-9)


def test_lora_merged_with_its_base(lora, tmp_path, capsys):
    root, base, dW = lora
    rep = _report(root / "adapter", base=root / "base")
    rows = rep.layers.set_index("name")
    assert set(rows.index) == set(base)  # every base layer, fitted as an ordinary layer
    for mod in dW:
        name = f"{mod}.weight"
        sp = next(s for s in rep.spectra if s.name == name)
        np.testing.assert_allclose(sp.evals, _evals(base[name].astype(np.float64) + dW[mod]), rtol=1e-5)
        assert rows.loc[name, "warning"].startswith("merged with LoRA (rank")
        assert np.isfinite(rows.loc[name, "alpha"])
    plain = next(s for s in rep.spectra if s.name == "model.layers.0.mlp.down_proj.weight")
    np.testing.assert_allclose(plain.evals, _evals(base["model.layers.0.mlp.down_proj.weight"]), rtol=1e-10)
    assert main(["report", str(root / "adapter"), "--base", str(root / "base"), "--no-intervals", "--no-html",
                 "--quiet", "--out", str(tmp_path / "out")]) == 0
    written = json.loads((tmp_path / "out" / "report.json").read_text())
    assert {r["name"] for r in written} == set(base)


def test_lora_error_messages(lora, tmp_path):
    root, base, _ = lora
    with pytest.raises(WeightsError, match=r"base.*not a LoRA adapter"):
        _report(root / "base", base=root / "base")
    small = _write(tmp_path / "small", {"model.layers.0.self_attn.q_proj.weight": _m(40, 32)})
    with pytest.raises(WeightsError, match=r"LoRA update of 'model\.layers\.0\.self_attn\.q_proj' has shape "
                                           r"\(48, 32\).*base tensor .* has shape \(40, 32\)"):
        _report(root / "adapter", base=small)
    other = _write(tmp_path / "other", {"encoder.dense.weight": _m(48, 32)})
    with pytest.raises(WeightsError, match=r"2 adapted module\(s\) have no weight in the base model"):
        _report(root / "adapter", base=other)
    import shutil

    bad = shutil.copytree(root / "adapter", tmp_path / "bad")
    (bad / "adapter_config.json").write_text(json.dumps({"peft_type": "LORA", "r": 8, "lora_alpha": 16}))
    with pytest.raises(WeightsError, match=r"lora_A is \(4, 32\).*gives it rank r = 8"):
        _report(bad)
    (bad / "adapter_config.json").write_text(json.dumps({"peft_type": "LORA", "r": 4, "lora_alpha": 16,
                                                         "use_dora": True}))
    with pytest.raises(WeightsError, match="DoRA"):
        _report(bad)
    # settings of the wrong type are named, not read as truthy strings or raised as re.error
    for extra, message in (({"use_dora": "false"}, r"use_dora must be true or false, got 'false'"),
                           ({"use_rslora": "yes"}, r"use_rslora must be true or false, got 'yes'"),
                           ({"rank_pattern": {"q_proj(": 4}}, r"rank_pattern key 'q_proj\(' is not a regular "
                                                              r"expression"),
                           ({"alpha_pattern": {"q_proj": "16"}}, r"alpha_pattern\['q_proj'\] must be a positive "
                                                                 r"number, got '16'"),
                           ({"rank_pattern": [4]}, r"rank_pattern must be an object")):
        (bad / "adapter_config.json").write_text(json.dumps({"peft_type": "LORA", "r": 4, "lora_alpha": 16,
                                                             **extra}))
        with pytest.raises(WeightsError, match=message):
            _report(bad)


def test_lora_embedding_and_conv1d_updates_are_transposed_into_the_base_layout(tmp_path):
    emb_A, emb_B = _m(R, 50), _m(16, R)  # lora_embedding_A (r, vocab), lora_embedding_B (dim, r)
    attn_A, attn_B = _m(R, 16), _m(48, R)  # GPT-2 Conv1D c_attn stored (in, out) = (16, 48)
    base = {"transformer.wte.weight": _m(50, 16), "transformer.h.0.attn.c_attn.weight": _m(16, 48)}
    _write(tmp_path / "base", base)
    ad = tmp_path / "ad"
    ad.mkdir()
    save_file({"base_model.model.transformer.wte.lora_embedding_A": emb_A,
               "base_model.model.transformer.wte.lora_embedding_B": emb_B,
               "base_model.model.transformer.h.0.attn.c_attn.lora_A.weight": attn_A,
               "base_model.model.transformer.h.0.attn.c_attn.lora_B.weight": attn_B},
              str(ad / "adapter_model.safetensors"))
    (ad / "adapter_config.json").write_text(json.dumps({"r": R, "lora_alpha": 8, "fan_in_fan_out": True}))
    s = 8 / R
    merged = {t.name: t.array for t in hw.load(hw.merge_lora(tmp_path / "base", ad))}
    np.testing.assert_allclose(merged["transformer.wte.weight"], base["transformer.wte.weight"] + s * (emb_B @ emb_A).T,
                               rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(merged["transformer.h.0.attn.c_attn.weight"],
                               base["transformer.h.0.attn.c_attn.weight"] + s * (attn_B @ attn_A).T, rtol=1e-6,
                               atol=1e-6)
    adapter = hw.open_adapter(ad / "adapter_model.safetensors")  # the weights file names its folder too
    assert {m.name: (m.shape, m.embedding) for m in adapter.modules} == {
        "transformer.wte.weight": ((50, 16), True), "transformer.h.0.attn.c_attn.weight": ((16, 48), False)}
    adapter.close()


def test_the_hierarchical_model_sees_each_expert_once_not_the_pooled_bank_too(moe, monkeypatch):
    """A pooled bank's eigenvalues are its experts': the Bayesian model gets the experts, not the bank as well."""
    import htsr.report.bayes as rb

    seen = {}

    def fake(samples, xmins, *, level, seed, sampler=None):
        seen["sizes"] = sorted(len(s) for s in samples)
        L = len(samples)
        draws = np.tile(np.linspace(2.0, 4.0, 50), (L, 1))
        return draws.mean(1), np.full(L, 2.1), np.full(L, 3.9), draws, None

    monkeypatch.setattr(rb, "posterior_alphas", fake)
    rep = htsr.report(moe[0], intervals="bayes", bounded=False, workers=1, min_evals=2)
    t = rep.layers.set_index("name")
    pooled = t[t["kind"] == "experts"]
    fitted = t[t["alpha"].notna()]
    assert len(pooled) and pooled["alpha_bayes"].isna().all()
    assert pooled["interval_note"].str.startswith("pooled expert bank").all()
    others = fitted[fitted["kind"] != "experts"]
    assert others["alpha_bayes"].notna().all() and len(seen["sizes"]) == len(others)


def test_a_lora_merged_into_int8_weights_keeps_their_scales(tmp_path):
    """The merged weight is the dequantized base plus the update, not the raw integers plus it."""
    rng = np.random.default_rng(5)
    q = rng.integers(-100, 100, (48, 32)).astype(np.int8)
    scale = np.full((48, 1), 0.01, np.float32)
    base = tmp_path / "base"
    _write(base, {"model.layers.0.self_attn.q_proj.weight": q, "model.layers.0.self_attn.q_proj.weight_scale": scale})
    A, B = _m(4, 32), _m(48, 4)
    (tmp_path / "ad").mkdir()
    save_file({"base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight": A,
               "base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight": B},
              str(tmp_path / "ad" / "adapter_model.safetensors"))
    (tmp_path / "ad" / "adapter_config.json").write_text(
        json.dumps({"peft_type": "LORA", "r": 4, "lora_alpha": 4, "target_modules": ["q_proj"]}))
    merged = hw.merge_lora(str(base), str(tmp_path / "ad"))
    info = next(i for i in hw.list_tensors(merged) if i.name == "model.layers.0.self_attn.q_proj.weight")
    assert "scales applied" in info.values_note()
    want = q.astype(np.float64) * 0.01 + B.astype(np.float64) @ A.astype(np.float64)
    np.testing.assert_allclose(hw.get(merged, info.name).array, want, rtol=1e-5, atol=1e-6)


def test_files_linked_out_of_a_named_folder_are_refused(tmp_path):
    """Neither an adapter's config or weights nor a model folder's weight file may be a link out of the folder."""
    outside = _write(tmp_path / "outside", {"w": _m(8, 8)})
    (outside / "cfg.json").write_text(json.dumps({"peft_type": "LORA", "r": 2, "lora_alpha": 2}))
    model = tmp_path / "model"
    model.mkdir()
    (model / "model.safetensors").symlink_to(outside / "model.safetensors")
    with pytest.raises(WeightsError, match=r"model\.safetensors: refused: a link to .*outside the folder"):
        hw.list_tensors(model)
    adapter = tmp_path / "adapter"
    adapter.mkdir()
    save_file({"base_model.model.w.lora_A.weight": _m(2, 8), "base_model.model.w.lora_B.weight": _m(8, 2)},
              str(adapter / "adapter_model.safetensors"))
    (adapter / "adapter_config.json").symlink_to(outside / "cfg.json")
    with pytest.raises(WeightsError, match=r"adapter_config\.json: refused: a link to .*outside the adapter's folder"):
        htsr.report(adapter, intervals=None)
