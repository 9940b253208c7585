"""htsr.weights on GGUF and ONNX files written by gguf's and onnx's own writers.

Each value htsr reads is compared with an independent answer: gguf's own
dequantization of the bytes written (and, for the simplest block formats, a
NumPy decoding of the block layout), NumPy's originals for ONNX.  gguf and onnx
are optional extras: without them these tests skip, except in CI (the
environment variable CI set), where ``pip install -e ".[test]"`` installs both
and a missing one fails.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import json
import os
import sys

import numpy as np
import pytest

import htsr.weights as hw
from htsr.cli.main import main
from htsr.errors import WeightsError

RNG = np.random.default_rng(7)


def _optional(name: str):
    try:
        return importlib.import_module(name)
    except ImportError:
        if os.environ.get("CI"):  # the test extra installs it: in CI a missing package is a failure
            pytest.fail(f"{name} is not installed in CI (pip install -e '.[test]' should have installed it)")
        pytest.skip(f"{name} not installed (pip install 'htsr[{name}]')")


@pytest.fixture(scope="module")
def gguf():
    return _optional("gguf")


@pytest.fixture(scope="module")
def onnx():
    return _optional("onnx")


def _heavy(shape) -> np.ndarray:
    return RNG.standard_t(3, shape).astype(np.float32)


def _report_cli(path, out, capsys) -> tuple[list[dict], dict]:
    """``htsr report`` on a file: (rows of report.json, summary.json)."""
    assert main(["report", str(path), "--out", str(out), "--no-intervals", "--no-html", "--quiet"]) == 0
    capsys.readouterr()
    return json.loads((out / "report.json").read_text()), json.loads((out / "summary.json").read_text())


# ====================================================================== GGUF
# The types named in the brief, then the others gguf 0.19 dequantizes.
GGUF_TYPES = ("F32", "F16", "BF16", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0", "Q2_K", "Q3_K", "Q4_K", "Q5_K",
              "Q6_K", "IQ2_XXS", "IQ2_XS", "IQ2_S", "IQ3_XXS", "IQ3_S", "IQ1_S", "IQ1_M", "IQ4_NL", "IQ4_XS",
              "TQ1_0", "TQ2_0", "MXFP4", "NVFP4")
SHAPE = (48, 512)  # (out, in): in is a multiple of every block size, and not square, so a transpose shows


def _write_gguf(gguf, path, arch: str, tensors) -> None:
    """A GGUF file from ``(name, data, type)``: data as gguf's quantizer returns it (bytes for block types)."""
    w = gguf.GGUFWriter(str(path), arch)
    for name, data, qtype in tensors:
        w.add_tensor(name, data, raw_dtype=qtype)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def _encode(gguf, x: np.ndarray, qtype) -> np.ndarray:
    """x in a GGML type: gguf's quantizer where it has one, else random blocks (gguf has no K/IQ quantizer)."""
    try:
        return gguf.quants.quantize(x, qtype)
    except NotImplementedError:
        # bytes below 64 keep every float16 scale in a block finite (exponent bits < 31)
        shape = gguf.quants.quant_shape_to_byte_shape(x.shape, qtype)
        return RNG.integers(0, 64, shape, dtype=np.uint8)


@pytest.fixture(scope="module")
def typed_gguf(gguf, tmp_path_factory):
    """One llama GGUF holding a SHAPE matrix in each type: {type: (path, original, encoded bytes)}."""
    path = tmp_path_factory.mktemp("gguf") / "types.gguf"
    T = gguf.GGMLQuantizationType
    rows = {name: (_heavy(SHAPE), getattr(T, name)) for name in GGUF_TYPES}
    encoded = {name: _encode(gguf, x, qtype) for name, (x, qtype) in rows.items()}
    _write_gguf(gguf, path, "llama", [(f"blk.{i}.ffn_down.weight", encoded[name], rows[name][1])
                                      for i, name in enumerate(GGUF_TYPES)])
    return path, {name: (rows[name][0], encoded[name], rows[name][1]) for name in GGUF_TYPES}


def _q8_0(raw: np.ndarray, shape) -> np.ndarray:
    """Q8_0 by its block layout: a float16 scale d, then 32 int8 q; value = d * q."""
    blocks = raw.reshape(-1, 34)
    return (blocks[:, :2].copy().view(np.float16).astype(np.float32) * blocks[:, 2:].view(np.int8)).reshape(shape)


def _q4_0(raw: np.ndarray, shape) -> np.ndarray:
    """Q4_0: a float16 scale d, then 16 bytes; values are (low nibbles, then high nibbles) - 8, times d."""
    blocks = raw.reshape(-1, 18)
    d = blocks[:, :2].copy().view(np.float16).astype(np.float32)
    q = np.concatenate([blocks[:, 2:] & 0xF, blocks[:, 2:] >> 4], axis=1).astype(np.float32) - 8
    return (d * q).reshape(shape)


@pytest.mark.parametrize("type_name", GGUF_TYPES)
def test_gguf_every_dequantizable_type_reads_as_ggufs_own_dequantization(gguf, typed_gguf, type_name):
    path, by_type = typed_gguf
    x, raw, qtype = by_type[type_name]
    i = GGUF_TYPES.index(type_name)
    t = hw.get(path, f"model.layers.{i}.mlp.down_proj.weight")
    assert t.kind == "dense" and t.shape == SHAPE and t.array.dtype == np.float32 and t.layout == "pytorch"
    assert t.info.stored_name == f"blk.{i}.ffn_down.weight" and t.info.stored_type == type_name
    np.testing.assert_array_equal(t.array, gguf.quants.dequantize(raw, qtype))
    assert np.isfinite(t.array).all() and np.unique(t.array).size > 16  # real values, not a constant
    if type_name == "F32":
        np.testing.assert_array_equal(t.array, x)
    if type_name == "F16":
        np.testing.assert_array_equal(t.array, x.astype(np.float16).astype(np.float32))
    if type_name == "BF16":
        import ml_dtypes

        np.testing.assert_array_equal(t.array, x.astype(ml_dtypes.bfloat16).astype(np.float32))
    if type_name == "Q8_0":
        np.testing.assert_array_equal(t.array, _q8_0(raw, SHAPE))
    if type_name == "Q4_0":
        np.testing.assert_array_equal(t.array, _q4_0(raw, SHAPE))
    if type_name in ("Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0"):  # quantized from x: close to it
        assert np.corrcoef(t.array.ravel(), x.ravel())[0, 1] > 0.97


def test_gguf_llama_names_become_hugging_face_names_with_hf_shapes(gguf, tmp_path):
    hidden, kv, inter, vocab = 256, 64, 512, 96
    T = gguf.GGMLQuantizationType
    arrays = {  # the Hugging Face (NumPy-order) shape of each tensor
        "token_embd.weight": _heavy((vocab, hidden)), "output_norm.weight": np.ones(hidden, np.float32),
        "output.weight": _heavy((vocab, hidden)), "blk.0.attn_norm.weight": np.ones(hidden, np.float32),
        "blk.0.attn_q.weight": _heavy((hidden, hidden)), "blk.0.attn_k.weight": _heavy((kv, hidden)),
        "blk.0.attn_v.weight": _heavy((kv, hidden)), "blk.0.attn_output.weight": _heavy((hidden, hidden)),
        "blk.0.ffn_norm.weight": np.ones(hidden, np.float32), "blk.0.ffn_gate.weight": _heavy((inter, hidden)),
        "blk.0.ffn_up.weight": _heavy((inter, hidden)), "blk.0.ffn_down.weight": _heavy((hidden, inter)),
        "rope_freqs.weight": np.ones(32, np.float32),
    }
    quantized = {"blk.0.attn_k.weight": T.Q8_0, "blk.0.ffn_up.weight": T.Q4_1}
    path = tmp_path / "tiny-llama.gguf"
    _write_gguf(gguf, path, "llama", [(n, gguf.quants.quantize(a, quantized[n]) if n in quantized else a,
                                       quantized.get(n)) for n, a in arrays.items()])
    infos = hw.list_tensors(path)
    expected = {
        "token_embd.weight": ("model.embed_tokens.weight", "embedding"),
        "output_norm.weight": ("model.norm.weight", "norm"), "output.weight": ("lm_head.weight", "dense"),
        "blk.0.attn_norm.weight": ("model.layers.0.input_layernorm.weight", "norm"),
        "blk.0.attn_q.weight": ("model.layers.0.self_attn.q_proj.weight", "dense"),
        "blk.0.attn_k.weight": ("model.layers.0.self_attn.k_proj.weight", "dense"),
        "blk.0.attn_v.weight": ("model.layers.0.self_attn.v_proj.weight", "dense"),
        "blk.0.attn_output.weight": ("model.layers.0.self_attn.o_proj.weight", "dense"),
        "blk.0.ffn_norm.weight": ("model.layers.0.post_attention_layernorm.weight", "norm"),
        "blk.0.ffn_gate.weight": ("model.layers.0.mlp.gate_proj.weight", "dense"),
        "blk.0.ffn_up.weight": ("model.layers.0.mlp.up_proj.weight", "dense"),
        "blk.0.ffn_down.weight": ("model.layers.0.mlp.down_proj.weight", "dense"),
        "rope_freqs.weight": ("rope_freqs.weight", "bias"),  # no Hugging Face name: kept
    }
    assert [i.stored_name for i in infos] == list(arrays)  # the file's order
    assert {i.stored_name: (i.name, i.kind) for i in infos} == expected
    assert {i.stored_name: i.shape for i in infos} == {n: a.shape for n, a in arrays.items()}
    assert {i.stored_name: i.dtype for i in infos if i.stored_name in quantized} == {
        "blk.0.attn_k.weight": "Q8_0", "blk.0.ffn_up.weight": "Q4_1"}
    assert infos[0].to_dict()["stored_name"] == "token_embd.weight"
    got = {t.info.stored_name: t.array for t in hw.load(path)}
    for name in ("blk.0.attn_q.weight", "blk.0.ffn_down.weight", "token_embd.weight"):
        np.testing.assert_array_equal(got[name], arrays[name])  # (out, in), not GGUF's ne order


def test_gguf_large_tensor_is_dequantized_in_row_blocks_to_the_same_values(gguf, tmp_path):
    T = gguf.GGMLQuantizationType
    shape = (4200, 512)  # 2.1M values: three blocks of rows at 1M values per step
    raw = _encode(gguf, np.zeros(shape, np.float32), T.Q5_K)
    path = tmp_path / "big.gguf"
    _write_gguf(gguf, path, "llama", [("output.weight", raw, T.Q5_K)])
    np.testing.assert_array_equal(hw.get(path, "lm_head.weight").array, gguf.quants.dequantize(raw, T.Q5_K))


def test_gguf_shard_of_a_split_model_warns(gguf, tmp_path):
    path = tmp_path / "m-00001-of-00002.gguf"
    w = gguf.GGUFWriter(str(path), "llama")
    w.add_uint16("split.no", 0)
    w.add_uint16("split.count", 2)
    w.add_tensor("blk.0.attn_q.weight", _heavy((32, 64)))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    with pytest.warns(UserWarning, match=r"shard 1 of a GGUF model split into 2 files; only this shard"):
        assert len(hw.list_tensors(path)) == 1


def test_gguf_unknown_architecture_keeps_gguf_names_and_spells_out_kinds(gguf, tmp_path):
    path = tmp_path / "other.gguf"
    _write_gguf(gguf, path, "mamba", [("token_embd.weight", _heavy((40, 64)), None),
                                      ("blk.0.ssm_in.weight", _heavy((128, 64)), None),
                                      ("blk.0.ffn_up_exps.weight", _heavy((4, 32, 64)), None)])
    kinds = {i.name: i.kind for i in hw.list_tensors(path)}
    # embd is an embedding; stacked experts are several matrices (kind "experts"), not a 1-D convolution
    assert kinds == {"token_embd.weight": "embedding", "blk.0.ssm_in.weight": "dense",
                     "blk.0.ffn_up_exps.weight": "experts"}


def test_gguf_type_gguf_cannot_dequantize_is_listed_with_its_reason(gguf, tmp_path):
    T = gguf.GGMLQuantizationType
    path = tmp_path / "q8k.gguf"
    raw = RNG.integers(0, 64, gguf.quants.quant_shape_to_byte_shape((48, 256), T.Q8_K), dtype=np.uint8)
    _write_gguf(gguf, path, "llama", [("blk.0.attn_q.weight", raw, T.Q8_K),
                                      ("blk.0.attn_k.weight", _heavy((48, 256)), None)])
    with pytest.raises(NotImplementedError):  # the premise: gguf itself cannot
        gguf.quants.dequantize(raw, T.Q8_K)
    info = {i.name: i for i in hw.list_tensors(path)}["model.layers.0.self_attn.q_proj.weight"]
    assert info.kind == "other" and info.shape == (48, 256) and info.dtype == "Q8_K"
    assert info.no_spectrum_reason().startswith("GGML type Q8_K: the gguf package")
    with pytest.raises(WeightsError, match=r"q8k\.gguf: cannot read tensor 'blk\.0\.attn_q\.weight'.*Q8_K"):
        hw.get(path, info.name)


def test_gguf_report_gives_rows(gguf, tmp_path, capsys):
    T = gguf.GGMLQuantizationType
    path = tmp_path / "m.gguf"
    _write_gguf(gguf, path, "llama", [
        ("token_embd.weight", _heavy((300, 256)), None),
        ("blk.0.attn_q.weight", gguf.quants.quantize(_heavy((256, 256)), T.Q8_0), T.Q8_0),
        ("blk.0.attn_norm.weight", np.ones(256, np.float32), None),
        ("blk.0.ffn_down.weight", _encode(gguf, _heavy((256, 512)), T.Q4_K), T.Q4_K),
        ("blk.0.attn_k.weight", _encode(gguf, _heavy((64, 256)), T.Q8_K), T.Q8_K)])  # gguf cannot dequantize
    rows, summary = _report_cli(path, tmp_path / "out", capsys)
    assert dict(summary["skipped"]) == {"model.layers.0.self_attn.k_proj.weight": "GGML type Q8_K: the gguf "
                                        f"package {importlib.metadata.version('gguf')} cannot dequantize it",
                                        "model.layers.0.input_layernorm.weight": "1-D: a norm has no spectrum"}
    by_name = {r["name"]: r for r in rows}
    assert set(by_name) == {"model.embed_tokens.weight", "model.layers.0.self_attn.q_proj.weight",
                            "model.layers.0.mlp.down_proj.weight"}
    assert by_name["model.layers.0.mlp.down_proj.weight"]["N"] == 512
    assert all(r["alpha"] is not None and r["alpha"] > 1 for r in rows)


def test_gguf_bad_files_are_one_line_errors(gguf, tmp_path, monkeypatch):
    good = tmp_path / "good.gguf"
    _write_gguf(gguf, good, "llama", [("blk.0.attn_q.weight", _heavy((64, 256)), None)])
    bare = tmp_path / "no_suffix"  # recognised by its magic
    bare.write_bytes(good.read_bytes())
    assert [i.name for i in hw.list_tensors(bare)] == ["model.layers.0.self_attn.q_proj.weight"]
    cut = tmp_path / "cut.gguf"
    cut.write_bytes(good.read_bytes()[:-1000])
    fake = tmp_path / "fake.gguf"
    fake.write_bytes(b"not a gguf file at all" * 4)
    for path in (cut, fake):
        with pytest.raises(WeightsError, match=rf"{path.name}: not a readable GGUF file") as e:
            hw.load(path)
        assert "\n" not in str(e.value)
    monkeypatch.setitem(sys.modules, "gguf", None)  # import gguf now raises ImportError
    with pytest.raises(WeightsError, match=r'good\.gguf needs the optional package .gguf.*pip install "htsr\[gguf\]"'):
        hw.load(good)


# ====================================================================== ONNX
def _model(onnx, nodes, initializers, inputs, outputs):
    """A checked model; inputs and outputs as ``(name, element type, shape)``."""
    helper = onnx.helper
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info(*v) for v in inputs],
                              [helper.make_tensor_value_info(*v) for v in outputs],
                              [onnx.numpy_helper.from_array(a, n) for n, a in initializers.items()])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    onnx.checker.check_model(model, full_check=True)  # a model onnx itself accepts, shapes included
    return model


def _initializer_model(onnx):
    """Every consumer htsr reads a kind from, with weights as initializers: (model, arrays)."""
    node = onnx.helper.make_node
    a = {
        "embed": _heavy((100, 64)),      # Gather data: embedding
        "ln.scale": np.ones(64, np.float32), "ln.bias": np.zeros(64, np.float32),
        "fc1": _heavy((64, 96)),         # MatMul B: (in, out)
        "fc1.b": np.zeros(96, np.float32),
        "gamma": np.ones((1, 96), np.float32),  # a LayerNorm scale as a (1, 96) constant used by Mul: a vector
        "fc2": _heavy((80, 96)),         # Gemm transB=1: (out, in)
        "fc2.b": np.zeros(80, np.float32),
        "fc3": _heavy((80, 48)),         # Gemm transB=0: (in, out)
        "fc4t": _heavy((32, 48)),        # Transpose then MatMul B: stored (out, in)
        "conv": _heavy((16, 3, 3, 3)), "conv1": _heavy((8, 16, 5)),
        "unused": _heavy((20, 30)),
    }
    nodes = [node("Gather", ["embed", "ids"], ["e"]), node("LayerNormalization", ["e", "ln.scale", "ln.bias"], ["n"]),
             node("MatMul", ["n", "fc1"], ["h"]), node("Add", ["h", "fc1.b"], ["h1"]),
             node("Mul", ["h1", "gamma"], ["h2"]), node("Gemm", ["h2", "fc2", "fc2.b"], ["h3"], transB=1),
             node("Gemm", ["h3", "fc3"], ["h4"]), node("Transpose", ["fc4t"], ["fc4"], perm=[1, 0]),
             node("MatMul", ["h4", "fc4"], ["y"]), node("Conv", ["img", "conv"], ["c"]),
             node("Conv", ["sig", "conv1"], ["c1"])]
    f, i64 = onnx.TensorProto.FLOAT, onnx.TensorProto.INT64
    inputs = [("ids", i64, [4]), ("img", f, [1, 3, 8, 8]), ("sig", f, [1, 16, 20])]
    outputs = [("y", f, [4, 32]), ("c", f, [1, 16, 6, 6]), ("c1", f, [1, 8, 16])]
    return _model(onnx, nodes, a, inputs, outputs), a


# name -> (kind, layout)
INITIALIZER_KINDS = {
    "embed": ("embedding", "pytorch"), "ln.scale": ("norm", "pytorch"), "ln.bias": ("norm", "pytorch"),
    "fc1": ("dense", "keras"), "fc1.b": ("bias", "pytorch"), "gamma": ("bias", "pytorch"),
    "fc2": ("dense", "pytorch"), "fc2.b": ("bias", "pytorch"), "fc3": ("dense", "keras"),
    "fc4t": ("dense", "pytorch"), "conv": ("conv2d", "pytorch"), "conv1": ("conv1d", "pytorch"),
    "unused": ("other", "pytorch"),
}


def test_onnx_initializers_get_their_kind_from_the_op_that_uses_them(onnx, tmp_path):
    model, arrays = _initializer_model(onnx)
    path = tmp_path / "m.onnx"
    onnx.save_model(model, str(path))
    infos = hw.list_tensors(path)
    assert [i.name for i in infos] == list(arrays)  # the order the graph uses them; unused last
    assert {i.name: (i.kind, i.layout) for i in infos} == INITIALIZER_KINDS
    reasons = {i.name: i.no_spectrum_reason() for i in infos}
    assert reasons["gamma"].startswith("used by Mul, not as a 2-D MatMul/Gemm/Gather weight")
    assert reasons["unused"].startswith("used by no node of the graph")
    for t in hw.load(path):
        assert t.shape == arrays[t.name].shape
        np.testing.assert_array_equal(t.array, arrays[t.name])


def test_onnx_constant_nodes_are_weights_too(onnx, tmp_path):
    node, nh = onnx.helper.make_node, onnx.numpy_helper
    w1, w2, b1 = _heavy((64, 96)), _heavy((96, 80)), _heavy((96,))
    w16 = _heavy((80, 40)).astype(np.float16)
    scale = np.full((1, 96), 0.5, np.float32)
    nodes = [node("Constant", [], ["linear_0.w_0"], value=nh.from_array(w1)),
             node("Constant", [], ["linear_0.b_0"], value=nh.from_array(b1)),
             node("Constant", [], ["scale_0"], value=nh.from_array(scale)),
             node("Constant", [], ["linear_1.w_0"], value=nh.from_array(w2)),
             node("Constant", [], ["linear_2.w_0"], value=nh.from_array(w16)),
             node("MatMul", ["x", "linear_0.w_0"], ["h"]), node("Add", ["h", "linear_0.b_0"], ["h1"]),
             node("Mul", ["h1", "scale_0"], ["h2"]), node("MatMul", ["h2", "linear_1.w_0"], ["h3"]),
             node("Cast", ["linear_2.w_0"], ["w2f"], to=onnx.TensorProto.FLOAT),
             node("MatMul", ["h3", "w2f"], ["y"])]
    f = onnx.TensorProto.FLOAT
    model = _model(onnx, nodes, {}, [("x", f, [4, 64])], [("y", f, [4, 40])])
    path = tmp_path / "paddle.onnx"
    onnx.save_model(model, str(path))
    kinds = {i.name: (i.kind, i.dtype, i.stored_type) for i in hw.list_tensors(path)}
    assert kinds == {"linear_0.w_0": ("dense", "float32", "MatMul"), "linear_0.b_0": ("bias", "float32", "Add"),
                     "scale_0": ("bias", "float32", "Mul"), "linear_1.w_0": ("dense", "float32", "MatMul"),
                     "linear_2.w_0": ("dense", "float16", "MatMul")}  # through Cast
    got = {t.name: t.array for t in hw.load(path)}
    np.testing.assert_array_equal(got["linear_0.w_0"], w1)
    np.testing.assert_array_equal(got["linear_2.w_0"], w16.astype(np.float32))
    assert got["linear_2.w_0"].dtype == np.float32


def test_onnx_sparse_initializer_is_read_dense(onnx, tmp_path):
    helper, nh = onnx.helper, onnx.numpy_helper
    dense = np.zeros((40, 30), np.float32)
    flat = RNG.choice(dense.size, 100, replace=False)
    dense.flat[flat] = _heavy(100)
    sparse = helper.make_sparse_tensor(nh.from_array(dense.flat[flat], "sw"), nh.from_array(flat.astype(np.int64)),
                                       dense.shape)
    f = onnx.TensorProto.FLOAT
    graph = helper.make_graph([helper.make_node("MatMul", ["x", "sw"], ["y"])], "g",
                              [helper.make_tensor_value_info("x", f, [2, 40])],
                              [helper.make_tensor_value_info("y", f, [2, 30])], sparse_initializer=[sparse])
    path = tmp_path / "sparse.onnx"
    onnx.save_model(helper.make_model(graph), str(path))
    t = hw.get(path, "sw")
    assert (t.kind, t.layout) == ("dense", "keras")
    np.testing.assert_array_equal(t.array, dense)


def _external(onnx, folder, location="weights.bin"):
    model, arrays = _initializer_model(onnx)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "model.onnx"
    onnx.save_model(model, str(path), save_as_external_data=True, all_tensors_to_one_file=True,
                    location=location, size_threshold=0)
    return path, arrays


def test_onnx_external_data_is_read_from_the_models_folder(onnx, tmp_path):
    path, arrays = _external(onnx, tmp_path / "m")
    assert (tmp_path / "m" / "weights.bin").stat().st_size > 0
    # the file holds no values itself: they all come from weights.bin
    assert all(t.data_location == onnx.TensorProto.EXTERNAL
               for t in onnx.load(str(path), load_external_data=False).graph.initializer)
    for source in (path, tmp_path / "m"):  # the file, or its folder
        got = {t.name: t.array for t in hw.load(source)}
        assert set(got) == set(arrays)
        for name, a in arrays.items():
            np.testing.assert_array_equal(got[name], a)
    ref = onnx.load(str(path))  # onnx's own loader agrees
    for t in ref.graph.initializer:
        np.testing.assert_array_equal(hw.get(path, t.name).array, onnx.numpy_helper.to_array(t))


def _relocate(onnx, path, location):
    model = onnx.load(str(path), load_external_data=False)
    for t in model.graph.initializer:
        for e in t.external_data:
            if e.key == "location":
                e.value = location
    onnx.save_model(model, str(path))


@pytest.mark.parametrize("where", ["dotdot", "absolute", "symlink"])
def test_onnx_external_data_outside_the_folder_is_refused(onnx, tmp_path, where):
    path, _ = _external(onnx, tmp_path / "m")
    outside = tmp_path / "secret.bin"
    outside.write_bytes((tmp_path / "m" / "weights.bin").read_bytes())  # values that would read fine
    if where == "dotdot":
        _relocate(onnx, path, "../secret.bin")
    elif where == "absolute":
        _relocate(onnx, path, str(outside))
    else:
        (tmp_path / "m" / "weights.bin").unlink()
        (tmp_path / "m" / "weights.bin").symlink_to(outside)
    why = "outside the model's folder" if where == "symlink" else "not a file inside the model's folder"
    with pytest.raises(WeightsError, match=rf"model\.onnx: refused: tensor 'embed' keeps its values .*{why}") as e:
        hw.list_tensors(path)
    assert "\n" not in str(e.value)


def test_onnx_external_data_missing_or_short_is_an_error(onnx, tmp_path):
    path, _ = _external(onnx, tmp_path / "m")
    data = tmp_path / "m" / "weights.bin"
    data.write_bytes(data.read_bytes()[:-10])
    with pytest.raises(WeightsError, match=r"model\.onnx: tensor '\w+' needs \d+ bytes from byte \d+"):
        hw.load(path)
    data.unlink()
    with pytest.raises(WeightsError, match=r"keeps its values in 'weights\.bin', which is missing"):
        hw.load(path)


def test_onnx_report_gives_rows_and_lists_the_non_matrices(onnx, tmp_path, capsys):
    model, _ = _initializer_model(onnx)
    path = tmp_path / "m.onnx"
    onnx.save_model(model, str(path))
    rows, summary = _report_cli(path, tmp_path / "out", capsys)
    assert {r["name"] for r in rows} == {"embed", "fc1", "fc2", "fc3", "fc4t", "conv", "conv1"}
    assert all(r["alpha"] is not None for r in rows if r["name"] != "conv")  # conv: 27 x 16, few eigenvalues
    skipped = dict(summary["skipped"])
    assert skipped["gamma"].startswith("used by Mul") and skipped["unused"].startswith("used by no node")


def test_onnx_bad_files_are_one_line_errors(onnx, tmp_path, monkeypatch):
    fake = tmp_path / "fake.onnx"
    fake.write_bytes(b"\xff\xff\xff not protobuf \x00" * 8)
    with pytest.raises(WeightsError, match=r"fake\.onnx: not (a readable ONNX model|an ONNX model)") as e:
        hw.load(fake)
    assert "\n" not in str(e.value)
    monkeypatch.setitem(sys.modules, "onnx", None)
    with pytest.raises(WeightsError, match=r'fake\.onnx needs the optional package .onnx.*pip install "htsr\[onnx\]"'):
        hw.load(fake)
