"""Quantized weights (htsr.weights._quant): fp8 and int8 matrices read with their scales applied.

Every file here is written by the safetensors library (numpy API, float8 from
ml_dtypes) or by torch.save; the reference dequantization is NumPy's own,
entry by entry, so the values htsr reads must equal it bit for bit.
"""

from __future__ import annotations

import json

import ml_dtypes
import numpy as np
import pytest
from safetensors.numpy import save_file

import htsr
import htsr.weights as hw
from htsr.errors import WeightsError

RNG = np.random.default_rng(23)
E4M3, E5M2 = ml_dtypes.float8_e4m3fn, ml_dtypes.float8_e5m2


def _heavy(shape, scale=0.05):
    return (RNG.standard_t(3, shape) * scale).astype(np.float32)


def _spread(s, b0, b1, shape):
    """Scale entries repeated over their b0 x b1 blocks and cut to the weight's shape."""
    return np.repeat(np.repeat(s, b0, axis=0), b1, axis=1)[: shape[0], : shape[1]]


def _fp8_blocks(W, b0, b1, dtype=E4M3):
    """W quantized to fp8 with one scale per b0 x b1 block (scale = block max / fp8 max)."""
    top = float(ml_dtypes.finfo(dtype).max)
    s0, s1 = -(-W.shape[0] // b0), -(-W.shape[1] // b1)
    S = np.array([[np.abs(W[i * b0:(i + 1) * b0, j * b1:(j + 1) * b1]).max() / top for j in range(s1)]
                  for i in range(s0)], dtype=np.float32)
    return (W / _spread(S, b0, b1, W.shape)).astype(dtype), S


def _report(path, **kw):
    return htsr.report(path, intervals=None, bounded=False, workers=1, **kw)


def _note(rows, name):
    """The first part of a row's warning: what its values are (a finger note may follow)."""
    w = rows.loc[name, "warning"]
    return "" if "finger(s)" in w.split("; ")[0] else w.split("; ")[0]


def _eig(a):
    a = np.asarray(a, dtype=np.float64)
    return np.linalg.eigvalsh(a.T @ a if a.shape[0] >= a.shape[1] else a @ a.T)


# ---------------------------------------------------------------- fp8 with block scales
def test_fp8_block_scales_applied_exactly_and_reported(tmp_path):
    W = _heavy((300, 200))  # neither side a multiple of 128: ragged last blocks
    q, S = _fp8_blocks(W, 128, 128)
    path = tmp_path / "model.safetensors"
    save_file({"l.weight": q, "l.weight_scale_inv": S, "l.bias": np.zeros(300, np.float32),
               "raw.weight": _fp8_blocks(_heavy((64, 48)), 64, 48)[0]}, str(path))
    ref = q.astype(np.float32) * _spread(S, 128, 128, q.shape)
    t = hw.get(path, "l.weight")
    assert t.array.dtype == np.float32 and t.info.dtype == "float8_e4m3fn"
    np.testing.assert_array_equal(t.array, ref)  # bit for bit
    rel = np.abs(t.array - W) / np.abs(W).max()
    assert rel.max() < 2 ** -4 and rel.max() > 0  # fp8 e4m3: 3 mantissa bits, relative to each block's max
    assert t.info.dequant.block == (128, 128)

    rep = _report(path)
    rows = rep.layers.set_index("name")
    assert list(rows.index) == ["l.weight", "raw.weight"]
    assert _note(rows, "l.weight") == "fp8 e4m3, 128x128 block scales applied"
    assert _note(rows, "raw.weight").startswith("fp8 e4m3 without scales (no raw.weight_scale_inv or "
                                                        "raw.weight_scale in the source): the spectrum of "
                                                        "unscaled values")
    np.testing.assert_allclose(rep.spectra[0].evals, _eig(ref), rtol=1e-10, atol=0)
    skipped = dict(rep.skipped)
    assert skipped == {"l.bias": "1-D: a bias has no spectrum",
                       "l.weight_scale_inv": "128x128 block scales of l.weight (applied)"}
    assert rep.skipped_line() == "not reported: 2 tensors (1 biases, 1 scales); see summary.json"


def test_fp8_block_size_from_config_json(tmp_path):
    """64x64 blocks of a 300x200 matrix make a 5x4 grid, which the shapes alone read as 60x50."""
    W = _heavy((300, 200))
    q, S = _fp8_blocks(W, 64, 64, E5M2)
    ref = q.astype(np.float32) * _spread(S, 64, 64, q.shape)
    save_file({"a.weight": q, "a.weight_scale_inv": S}, str(tmp_path / "model.safetensors"))
    guessed = hw.get(tmp_path / "model.safetensors", "a.weight")
    assert guessed.info.dequant.block == (60, 50)  # inferred: ceil(300 / 5), ceil(200 / 4), and said so
    assert guessed.info.dequant.note == ("fp8 e5m2, 60x50 block scales applied (block size read from the shapes: "
                                         "no weight_block_size in a config.json beside the weights)")
    (tmp_path / "config.json").write_text(json.dumps(
        {"quantization_config": {"quant_method": "fp8", "weight_block_size": [64, 64]}}))
    t = hw.get(tmp_path / "model.safetensors", "a.weight")
    assert t.info.dequant.note == "fp8 e5m2, 64x64 block scales applied"
    np.testing.assert_array_equal(t.array, ref)
    assert not np.array_equal(guessed.array, ref)
    # a block size the scales do not fit: not applied, and the row says so
    (tmp_path / "config.json").write_text(json.dumps({"quantization_config": {"weight_block_size": [128, 128]}}))
    bad = hw.get(tmp_path / "model.safetensors", "a.weight")
    assert bad.info.dequant.note.startswith("fp8 e5m2: scales of shape (5, 4) fit no block size of its "
                                            "(300, 200) (config.json's weight_block_size is [128, 128])")
    np.testing.assert_array_equal(bad.array, q.astype(np.float32))
    listed = {i.name: i.no_spectrum_reason() for i in hw.list_tensors(tmp_path / "model.safetensors")}
    assert listed["a.weight_scale_inv"].startswith("scales of a.weight (not applied: scales of shape (5, 4)")


@pytest.mark.parametrize("scale_shape, what", [((40, 1), "per-channel scales"), ((40,), "per-channel scales"),
                                               ((), "per-tensor scale"), ((1,), "per-tensor scale"),
                                               ((40, 3), "group scales (groups of 8)")])
def test_fp8_channel_tensor_and_group_scales(tmp_path, scale_shape, what):
    W = _heavy((40, 24))
    s = np.asarray(RNG.uniform(0.5, 2.0, scale_shape) / 100, dtype=np.float32)
    q = (W / 0.01).astype(E4M3)
    save_file({"fc.weight": q, "fc.weight_scale": s}, str(tmp_path / "m.safetensors"))
    grid = s.reshape(-1, 1) if s.ndim == 1 else s.reshape(1, 1) if s.size == 1 else s
    ref = q.astype(np.float32) * (grid if grid.shape[1] == 1 else _spread(grid, 1, 8, q.shape))
    t = hw.get(tmp_path / "m.safetensors", "fc.weight")
    np.testing.assert_array_equal(t.array, ref)
    assert t.info.dequant.note == f"fp8 e4m3, {what} applied"


# ---------------------------------------------------------------- int8
def test_int8_scales_zero_points_and_unscaled_integers(tmp_path):
    W = _heavy((64, 40))
    scale = (np.abs(W).max(axis=1, keepdims=True) / 100).astype(np.float32)
    zp = RNG.integers(-5, 5, (64, 1)).astype(np.int8)
    q = np.clip(np.round(W / scale) + zp, -128, 127).astype(np.int8)
    raw = RNG.integers(-100, 100, (48, 32)).astype(np.int8)
    path = tmp_path / "m.safetensors"
    save_file({"q.weight": q, "q.weight_scale": scale, "q.weight_zero_point": zp,
               "raw.weight": raw, "u.weight": raw.astype(np.uint8),
               "position_ids": np.arange(64)[None], "counts": np.arange(5, dtype=np.int32),
               "mask": np.ones((4, 4), bool)}, str(path))
    ref = (q.astype(np.float32) - zp.astype(np.float32)) * scale
    t = hw.get(path, "q.weight")
    np.testing.assert_array_equal(t.array, ref)
    assert np.abs(t.array - W).max() <= scale.max() / 2 * 1.0001  # rounding to the nearest step
    r = hw.get(path, "raw.weight")
    assert r.array.dtype == np.float32 and r.kind == "dense"
    np.testing.assert_array_equal(r.array, raw)

    rep = _report(path)
    rows = rep.layers.set_index("name")
    assert list(rows.index) == ["q.weight", "raw.weight", "u.weight"]
    assert _note(rows, "q.weight") == "int8, per-channel scales and zero points applied"
    assert _note(rows, "raw.weight") == "int8 weights without scales: the spectrum of the raw integer values"
    assert _note(rows, "u.weight").startswith("uint8 weights without scales")
    np.testing.assert_allclose(rep.spectra[0].evals, _eig(ref), rtol=1e-10)
    np.testing.assert_allclose(rep.spectra[1].evals, _eig(raw), rtol=1e-12)
    assert dict(rep.skipped) == {
        "counts": "1-D int32: an integer vector, not a weight matrix",
        "mask": "bool: not numeric weights",
        "position_ids": "int64: integer tensor (positions, ids, counters), not weights",
        "q.weight_scale": "per-channel scales of q.weight (applied)",
        "q.weight_zero_point": "zero points of q.weight (applied)"}
    assert rep.to_dict()["skipped_counts"] == {"integer and boolean buffers": 3, "scales": 2}


def test_gptq_packed_int32_is_not_a_row():
    info = hw.TensorInfo("l.qweight", (64, 256), "int32", hw.classify("l.qweight", (64, 256), "int32"),
                         "pytorch", "src")
    assert info.kind == "other"
    assert info.no_spectrum_reason() == "int32: low-bit weights packed into integer words (GPTQ/AWQ), not unpacked"
    assert hw.classify("l.weight", (64, 256), "int32") == "dense"
    assert hw.classify("embeddings.position_ids", (1, 512), "int32") == "other"


def test_torch_checkpoint_int8_f16_bf16_f32_and_fp8_scales(tmp_path):
    torch = pytest.importorskip("torch")
    W = _heavy((60, 40))
    q, S = _fp8_blocks(W, 32, 32)
    state = {"i8.weight": torch.from_numpy(RNG.integers(-100, 100, (60, 40)).astype(np.int8)),
             "f16.weight": torch.from_numpy(W).half(), "bf16.weight": torch.from_numpy(W).bfloat16(),
             "f32.weight": torch.from_numpy(W),
             "f8.weight": torch.from_numpy(q.view(np.uint8)).view(torch.float8_e4m3fn),
             "f8.weight_scale_inv": torch.from_numpy(S)}
    torch.save(state, tmp_path / "m.pt")  # 32x32 blocks: the 2x2 grid alone would read as 30x20
    (tmp_path / "config.json").write_text(json.dumps({"quantization_config": {"weight_block_size": [32, 32]}}))
    got = hw.get(tmp_path / "m.pt", "f8.weight")
    np.testing.assert_array_equal(got.array, q.astype(np.float32) * _spread(S, 32, 32, q.shape))
    rep = _report(tmp_path / "m.pt", layers="*.weight")
    assert list(rep.layers["name"]) == ["i8.weight", "f16.weight", "bf16.weight", "f32.weight", "f8.weight"]
    assert np.isfinite(rep.layers["alpha"]).all()
    rows = rep.layers.set_index("name")
    assert _note(rows, "f32.weight") == "" and _note(rows, "f8.weight") == (
        "fp8 e4m3, 32x32 block scales applied")


# ---------------------------------------------------------------- shards
def test_sharded_index_scales_across_shards_and_a_tensor_left_out(tmp_path):
    W = _heavy((256, 128))
    q, S = _fp8_blocks(W, 128, 128)
    save_file({"a.weight": q, "extra.weight": _heavy((32, 16))}, str(tmp_path / "model-00001-of-00002.safetensors"))
    save_file({"a.weight_scale_inv": S, "b.weight": _heavy((64, 32))},
              str(tmp_path / "model-00002-of-00002.safetensors"))
    index = {"metadata": {}, "weight_map": {"a.weight": "model-00001-of-00002.safetensors",
                                            "a.weight_scale_inv": "model-00002-of-00002.safetensors",
                                            "b.weight": "model-00002-of-00002.safetensors"}}
    (tmp_path / "model.safetensors.index.json").write_text(json.dumps(index))
    t = hw.get(tmp_path, "a.weight")
    np.testing.assert_array_equal(t.array, q.astype(np.float32) * _spread(S, 128, 128, q.shape))
    reason = "in shard model-00001-of-00002.safetensors but not in the index: not read"
    info = {i.name: i for i in hw.list_tensors(tmp_path)}["extra.weight"]
    assert info.kind == "other" and info.no_spectrum_reason() == reason
    with pytest.raises(WeightsError, match="'extra.weight' is in shard model-00001-of-00002.safetensors but not "
                                           "in the index: not read"):
        next(hw.load(tmp_path, names=["extra.weight"]))
    rep = _report(tmp_path)
    assert list(rep.layers["name"]) == ["a.weight", "b.weight"]
    assert dict(rep.skipped) == {"a.weight_scale_inv": "128x128 block scales of a.weight (applied)",
                                 "extra.weight": reason}


# ---------------------------------------------------------------- nothing to report
def test_only_vectors_and_scales_still_errors_naming_each(tmp_path):
    path = tmp_path / "v.safetensors"
    save_file({"ln.weight": np.ones(8, np.float32), "fc.bias": np.zeros(8, np.float32),
               "x.weight_scale": np.ones((8, 1), np.float32)}, str(path))
    with pytest.raises(WeightsError) as err:
        _report(path)
    msg = str(err.value)
    assert msg.startswith(f"{path}: no weight matrix to report")
    assert "x.weight_scale (8x1, scales of x.weight, which the source does not hold)" in msg
    assert "fc.bias (8, 1-D: a bias has no spectrum)" in msg and "ln.weight (8, 1-D: a norm has no spectrum)" in msg


def test_dequantized_a_few_rows_at_a_time_is_the_same(tmp_path, monkeypatch):
    """Blocks of 3 x 16 entries per step (many steps, ragged ends) give the one-shot reference."""
    import htsr.weights._quant as quant

    monkeypatch.setattr(quant, "_ROWS_ELEMENTS", 48)
    W = _heavy((70, 45))
    q, S = _fp8_blocks(W, 16, 16)
    scale = (np.abs(W).max(axis=1) / 100).astype(np.float32)  # (out,): per channel
    zp = RNG.integers(-3, 3, 70).astype(np.int8)
    q8 = np.clip(np.round(W / scale[:, None]) + zp[:, None], -128, 127).astype(np.int8)
    save_file({"b.weight": q, "b.weight_scale_inv": S, "c.weight": q8, "c.weight_scale": scale,
               "c.weight_zero_point": zp}, str(tmp_path / "m.safetensors"))
    (tmp_path / "config.json").write_text(json.dumps({"quantization_config": {"weight_block_size": [16, 16]}}))
    b, c = hw.get(tmp_path / "m.safetensors", "b.weight"), hw.get(tmp_path / "m.safetensors", "c.weight")
    np.testing.assert_array_equal(b.array, q.astype(np.float32) * _spread(S, 16, 16, q.shape))
    np.testing.assert_array_equal(c.array, (q8.astype(np.float32) - zp[:, None].astype(np.float32))
                                  * scale[:, None])


def test_npz_int8_with_scales(tmp_path):
    q = RNG.integers(-127, 127, (30, 20)).astype(np.int8)
    scale = RNG.uniform(0.01, 0.02, 30).astype(np.float32)
    np.savez(tmp_path / "m.npz", **{"x.weight": q, "x.weight_scale": scale})
    t = hw.get(tmp_path / "m.npz", "x.weight")
    np.testing.assert_array_equal(t.array, q.astype(np.float32) * scale[:, None])
    kinds = {i.name: (i.kind, i.no_spectrum_reason()) for i in hw.list_tensors(tmp_path / "m.npz")}
    assert kinds == {"x.weight": ("dense", None),
                     "x.weight_scale": ("other", "per-channel scales of x.weight (applied)")}


# ---------------------------------------------------------------- stacked experts with scales
def test_stacked_fp8_and_int8_experts_each_dequantized_with_their_own_scales(tmp_path):
    """A stack ``[E, out, in]`` with scales ``[E, s0, s1]`` (fp8 blocks) or ``[E, out]`` (int8
    channels): expert e's row is the spectrum of expert e's matrix times expert e's scales, not of
    the raw codes; in one file and across the shards of an index alike."""
    E, out, inn = 3, 96, 80
    W = np.stack([_heavy((out, inn), scale=0.05 * (e + 1)) for e in range(E)])  # scales differ by expert
    fp8 = [_fp8_blocks(W[e], 64, 64) for e in range(E)]
    q8, S8 = np.stack([q for q, _ in fp8]), np.stack([s for _, s in fp8])  # [3, 96, 80], [3, 2, 2]
    ch = (np.abs(W).max(axis=2) / 100).astype(np.float32)  # [3, 96]: per expert, per output channel
    qi = np.clip(np.round(W / ch[:, :, None]), -128, 127).astype(np.int8)
    tensors = {"model.layers.0.mlp.experts.down_proj": q8, "model.layers.0.mlp.experts.down_proj_scale_inv": S8,
               "model.layers.1.mlp.experts.down_proj": qi, "model.layers.1.mlp.experts.down_proj_scale": ch}
    (tmp_path / "one").mkdir()
    save_file(tensors, str(tmp_path / "one" / "model.safetensors"))
    (tmp_path / "config.json").write_text(json.dumps({"quantization_config": {"weight_block_size": [64, 64]}}))
    (tmp_path / "one" / "config.json").write_text((tmp_path / "config.json").read_text())
    sharded = tmp_path / "sharded"
    sharded.mkdir()
    (sharded / "config.json").write_text((tmp_path / "config.json").read_text())
    names = sorted(tensors)
    save_file({n: tensors[n] for n in names if "scale" in n}, str(sharded / "a.safetensors"))
    save_file({n: tensors[n] for n in names if "scale" not in n}, str(sharded / "b.safetensors"))
    (sharded / "model.safetensors.index.json").write_text(json.dumps(
        {"weight_map": {n: ("a" if "scale" in n else "b") + ".safetensors" for n in names}}))
    for source in (tmp_path / "one", sharded / "model.safetensors.index.json"):
        rep = _report(source)
        rows = rep.layers.set_index("name")
        spectra = {s.name: s for s in rep.spectra}
        for e in range(E):
            ref8 = q8[e].astype(np.float32) * _spread(S8[e], 64, 64, (out, inn))
            refi = qi[e].astype(np.float32) * ch[e][:, None]
            n8, ni = f"model.layers.0.mlp.experts.down_proj[{e}]", f"model.layers.1.mlp.experts.down_proj[{e}]"
            np.testing.assert_allclose(spectra[n8].evals, _eig(ref8), rtol=1e-10)
            np.testing.assert_allclose(spectra[ni].evals, _eig(refi), rtol=1e-10)
            assert _note(rows, n8) == "fp8 e4m3, 64x64 block scales per expert applied"
            assert _note(rows, ni) == "int8, per-channel scales per expert applied"
        # the whole stack read at once (a reader without slices) is the same expert by expert
        whole = hw.get(source, "model.layers.1.mlp.experts.down_proj").array
        np.testing.assert_array_equal(whole, qi.astype(np.float32) * ch[:, :, None])
        assert dict(rep.skipped)["model.layers.0.mlp.experts.down_proj_scale_inv"].endswith("(applied)")
