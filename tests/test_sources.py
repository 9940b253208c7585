"""Two more sources: a Hugging Face repo id read from the local cache, and Keras 3 models.

The cache is built in ``tmp_path`` exactly as huggingface_hub lays it out
(``models--org--name/refs/<ref>`` holding a commit hash, ``snapshots/<commit>/<file>``
symlinks to ``../../blobs/<sha256>``) and pointed at by ``HF_HUB_CACHE``, set after
huggingface_hub was imported: htsr reads the variable at the call.  Sockets are
refused throughout (:func:`no_network`), so a test that passes made no network call.
Keras runs on its JAX backend; the references are NumPy's SVDs of the kernels.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import socket
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

import htsr
import htsr.weights as hw
from htsr.cli.main import main
from htsr.errors import WeightsError

RNG = np.random.default_rng(23)


def _heavy(shape) -> np.ndarray:
    return RNG.standard_t(3, shape).astype(np.float32)


# ====================================================================== a Hugging Face cache
@pytest.fixture(scope="module")
def hub():
    return pytest.importorskip("huggingface_hub")


@pytest.fixture
def cache(tmp_path, monkeypatch, hub):
    """An empty hub cache folder named by HF_HUB_CACHE (set after huggingface_hub's import)."""
    folder = tmp_path / "hf-cache"
    folder.mkdir()
    for var in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HUGGINGFACE_HUB_CACHE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("HF_HUB_CACHE", str(folder))
    return folder


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError(f"a network connection was attempted: {args}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def cache_repo(cache: Path, repo_id: str, files: dict[str, bytes], *, refs=("main",)) -> str:
    """Put ``files`` in the cache as one commit of ``repo_id`` that ``refs`` point at; its hash."""
    repo = cache / f"models--{repo_id.replace('/', '--')}"
    digest = hashlib.sha1()
    for rel in sorted(files):
        digest.update(rel.encode() + hashlib.sha256(files[rel]).digest())
    commit = digest.hexdigest()
    (repo / "blobs").mkdir(parents=True, exist_ok=True)
    for rel, data in files.items():
        blob = repo / "blobs" / hashlib.sha256(data).hexdigest()
        blob.write_bytes(data)
        link = repo / "snapshots" / commit / rel
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(os.path.relpath(blob, link.parent))  # ../../blobs/<sha>, as huggingface_hub does
    for ref in refs:
        (repo / "refs" / ref).parent.mkdir(parents=True, exist_ok=True)
        (repo / "refs" / ref).write_text(commit)
    return commit


def sharded_model(folder: Path, scale: float = 1.0) -> dict[str, bytes]:
    """A two-shard safetensors model with its index, written to ``folder``; file name -> bytes."""
    from safetensors.numpy import save_file

    folder.mkdir(parents=True, exist_ok=True)
    shards = {"model-00001-of-00002.safetensors": {"enc.q.weight": scale * _heavy((48, 40)),
                                                   "enc.q.bias": np.zeros(48, np.float32)},
              "model-00002-of-00002.safetensors": {"enc.fc.weight": scale * _heavy((64, 40)),
                                                   "embed.weight": scale * _heavy((90, 32))}}
    weight_map = {}
    for shard, tensors in shards.items():
        save_file(tensors, str(folder / shard))
        weight_map.update(dict.fromkeys(tensors, shard))
    (folder / "model.safetensors.index.json").write_text(json.dumps({"metadata": {}, "weight_map": weight_map}))
    (folder / "config.json").write_text(json.dumps({"model_type": "toy"}))
    return {p.name: p.read_bytes() for p in folder.iterdir()}


def _rows(rep):
    return rep.layers.drop(columns=[c for c in rep.layers.columns if c == "source"])


def test_repo_id_reads_the_cached_snapshot_as_its_folder(cache, tmp_path):
    files = sharded_model(tmp_path / "plain")
    commit = cache_repo(cache, "org/toy", files)
    snapshot = cache / "models--org--toy" / "snapshots" / commit
    assert all((snapshot / f).is_symlink() for f in files)
    assert hw.resolve_source("org/toy") == str(snapshot)
    plain = {t.name: t.array for t in hw.load(tmp_path / "plain")}
    cached = {t.name: t.array for t in hw.load("org/toy")}
    assert list(cached) == list(plain) and len(plain) == 4
    for name, a in plain.items():
        np.testing.assert_array_equal(cached[name], a)
    by_id = htsr.report("org/toy", intervals=None, bounded=False)
    by_folder = htsr.report(tmp_path / "plain", intervals=None, bounded=False)
    assert by_id.source == str(snapshot)
    assert list(by_id.layers["name"]) == ["embed.weight", "enc.fc.weight", "enc.q.weight"]
    import pandas as pd

    pd.testing.assert_frame_equal(_rows(by_id), _rows(by_folder))


def test_revision_by_commit_hash_and_by_a_second_ref(cache, tmp_path):
    first = cache_repo(cache, "org/toy", sharded_model(tmp_path / "a"))
    second = cache_repo(cache, "org/toy", sharded_model(tmp_path / "b", scale=3.0), refs=("v2",))
    assert first != second
    name = "enc.q.weight"
    main_w = hw.get("org/toy", name).array
    np.testing.assert_array_equal(main_w, hw.get(tmp_path / "a", name).array)
    for rev in (second, "v2"):
        want = hw.get(tmp_path / "b", name).array
        np.testing.assert_array_equal(hw.get("org/toy", name, revision=rev).array, want)
        listed = [i.name for i in hw.list_tensors("org/toy", revision=rev)]
        assert listed == [i.name for i in hw.list_tensors(tmp_path / "b")]
    np.testing.assert_array_equal(hw.get("org/toy", name, revision=first).array, main_w)
    with pytest.raises(WeightsError, match=rf"no revision 'v3' of the Hugging Face model 'org/toy' in the local "
                                           rf"cache {re.escape(str(cache))}.*main.*v2.*hf download org/toy "
                                           r"--revision v3") as e:
        hw.load("org/toy", revision="v3")
    assert "\n" not in str(e.value)
    # the CLI: --revision picks the second commit
    out = tmp_path / "out"
    assert main(["report", "org/toy", "--revision", "v2", "--out", str(out), "--no-intervals", "--no-html",
                 "--quiet"]) == 0
    rows = json.loads((out / "report.json").read_text())
    fc = next(r for r in rows if r["name"] == "enc.fc.weight")
    w = hw.get(tmp_path / "b", "enc.fc.weight").array.astype(np.float64)
    assert fc["lambda_max"] == pytest.approx(np.linalg.svd(w, compute_uv=False)[0] ** 2, rel=1e-9)


def test_a_missing_model_names_the_cache_folder_and_how_to_fetch_it(cache, tmp_path, monkeypatch):
    with pytest.raises(WeightsError) as e:
        hw.load("org/absent")
    text = str(e.value)
    assert text.startswith("org/absent: no such file or directory, and no Hugging Face model 'org/absent' in "
                           f"the local cache {cache}")
    assert "hf download org/absent" in text and "huggingface-cli download" in text and "never downloads" in text
    # HF_HOME counts when HF_HUB_CACHE is not set, read at the call
    monkeypatch.delenv("HF_HUB_CACHE")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "home"))
    with pytest.raises(WeightsError, match=rf"in the local cache {re.escape(str(tmp_path / 'home' / 'hub'))}"):
        htsr.report("absent-model")
    # not a repo id (two slashes; a weights file's suffix) nor a path: the plain error, no word of the hub
    for typo in ("a/b/c", "model.safetensors", "org/m.onnx"):
        with pytest.raises(WeightsError, match=rf"^{typo}: no such file or directory$"):
            hw.load(typo)
    # a revision for something that is no repo id is an error, never ignored
    path = tmp_path / "w.npz"
    np.savez(path, w=np.ones((3, 3)))
    with pytest.raises(WeightsError, match=r"revision='main' applies to a Hugging Face repo id, but .* is a local "
                                           r"path"):
        hw.load(path, revision="main")
    with pytest.raises(WeightsError, match=r"revision '\.\./\.\./x' is not a branch, tag or commit hash"):
        hw.load("org/absent", revision="../../x")


def test_hub_offline_is_respected_and_named(cache, tmp_path, monkeypatch):
    cache_repo(cache, "org/toy", sharded_model(tmp_path / "a"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert len(hw.list_tensors("org/toy")) == 4  # the cache alone: offline mode changes nothing
    with pytest.raises(WeightsError, match=r"hf download org/absent.*HF_HUB_OFFLINE is set: unset it for the download"):
        hw.load("org/absent")


def test_missing_huggingface_hub_names_the_extra(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "huggingface_hub", None)  # import huggingface_hub now raises ImportError
    with pytest.raises(WeightsError, match=r"org/x: no such file or directory; read as a Hugging Face repo id "
                                           r"it needs the optional package 'huggingface_hub'.*"
                                           r"pip install \"htsr\[hub\]\""):
        hw.load("org/x")


def test_a_shard_index_follows_links_into_the_repos_blobs_only(cache, tmp_path):
    files = sharded_model(tmp_path / "a")
    commit = cache_repo(cache, "org/toy", files)
    other = cache_repo(cache, "org/other", {"x.safetensors": files["model-00001-of-00002.safetensors"]})
    snapshot = cache / "models--org--toy" / "snapshots" / commit
    shard = snapshot / "model-00001-of-00002.safetensors"
    shard.unlink()  # a link into another repo's blobs: outside this model
    shard.symlink_to(cache / "models--org--other" / "snapshots" / other / "x.safetensors")
    with pytest.raises(WeightsError, match=r"refused: shard 'model-00001-of-00002\.safetensors' is a link to .*"
                                           r"models--org--other/blobs/.*outside the index's folder"):
        hw.load("org/toy")


def test_onnx_external_data_in_the_cache(cache, tmp_path):
    onnx = pytest.importorskip("onnx")
    helper, f = onnx.helper, onnx.TensorProto.FLOAT
    w1, w2 = _heavy((32, 48)), _heavy((48, 24))
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w1"], ["h"]), helper.make_node("MatMul", ["h", "w2"], ["y"])], "g",
        [helper.make_tensor_value_info("x", f, [4, 32])], [helper.make_tensor_value_info("y", f, [4, 24])],
        [onnx.numpy_helper.from_array(w1, "w1"), onnx.numpy_helper.from_array(w2, "w2")])
    plain = tmp_path / "plain"
    plain.mkdir()
    onnx.save_model(helper.make_model(graph), str(plain / "model.onnx"), save_as_external_data=True,
                    all_tensors_to_one_file=True, location="model.onnx_data", size_threshold=0)
    files = {f"onnx/{p.name}": p.read_bytes() for p in plain.iterdir()}  # in a subfolder, as many repos have it
    commit = cache_repo(cache, "org/exported", files)
    got = {t.name: (t.array, t.kind) for t in hw.load(cache / "models--org--exported" / "snapshots" / commit / "onnx")}
    np.testing.assert_array_equal(got["w1"][0], w1)
    np.testing.assert_array_equal(got["w2"][0], w2)
    assert got["w1"][1] == "dense"
    # the external data linked out of the repo (a file beside the cache) is still refused
    data = cache / "models--org--exported" / "snapshots" / commit / "onnx" / "model.onnx_data"
    outside = tmp_path / "elsewhere.bin"
    outside.write_bytes(data.read_bytes())
    data.unlink()
    data.symlink_to(outside)
    with pytest.raises(WeightsError, match=r"refused: tensor 'w1' keeps its values in 'model\.onnx_data', a link "
                                           r"to .*elsewhere\.bin, outside the model's folder"):
        hw.load(data.parent / "model.onnx")


# ====================================================================== Keras 3
@pytest.fixture(scope="module")
def keras():
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("KERAS_BACKEND", "jax")
        keras = pytest.importorskip("keras")
    if keras.backend.backend() != "jax":
        pytest.skip(f"keras was imported earlier with the {keras.backend.backend()} backend")
    return keras


NAMES = ["emb/embeddings", "c1/kernel", "c1/bias", "d1/kernel", "d1/bias", "head/d2/kernel", "head/d2/bias"]
MATRICES = ["emb/embeddings", "c1/kernel", "d1/kernel", "head/d2/kernel"]


def toy_model(keras):
    """Embedding, Conv2D and Dense layers with given names, and a nested Sequential model ``head``."""
    L = keras.layers
    ids = keras.Input((12,), dtype="int32")
    x = L.Embedding(200, 24, name="emb")(ids)           # (200, 24)
    x = L.Reshape((12, 24, 1))(x)
    x = L.Conv2D(16, 3, name="c1")(x)                    # (3, 3, 1, 16)
    x = L.Conv2D(12, 3, name="c2", use_bias=False)(x)    # (3, 3, 16, 12)
    x = L.GlobalAveragePooling2D()(x)
    x = L.Dense(40, name="d1")(x)                        # (12, 40)
    out = keras.Sequential([L.Dense(30, name="d2")], name="head")(x)  # (40, 30)
    model = keras.Model(ids, out, name="toy")
    for v in model.weights:  # heavy-tailed values, so the fits have a tail to find
        v.assign(_heavy(tuple(v.shape)))
    return model


def _svd_evals(kernel: np.ndarray) -> np.ndarray:
    """Squared singular values of a Keras kernel, pooled over a convolution's kh x kw slices."""
    k = kernel.astype(np.float64).reshape(-1, *kernel.shape[-2:])
    return np.sort(np.concatenate([np.linalg.svd(m, compute_uv=False) ** 2 for m in k]))


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_in_memory_keras_model(keras):
    model = toy_model(keras)
    infos = hw.list_tensors(model)
    names = [i.name for i in infos]
    assert names == NAMES[:3] + ["c2/kernel"] + NAMES[3:]
    kinds = {i.name: (i.kind, i.layout) for i in infos}
    assert kinds["emb/embeddings"] == ("embedding", "keras") and kinds["c2/kernel"] == ("conv2d", "keras")
    assert kinds["d1/kernel"] == ("dense", "keras") and kinds["d1/bias"][0] == "bias"
    rep = htsr.report(model, intervals=None, bounded=False, min_evals=8)
    assert list(rep.layers["name"]) == ["emb/embeddings", "c1/kernel", "c2/kernel", "d1/kernel", "head/d2/kernel"]
    kernels = {v.path: keras.ops.convert_to_numpy(v) for v in model.weights}
    for sp in rep.spectra:
        np.testing.assert_allclose(sp.evals, _svd_evals(kernels[sp.name]), rtol=1e-9, atol=1e-12 * sp.evals[-1])
    assert rep.spectra[2].n_slices == 9
    unbuilt = keras.Sequential([keras.layers.Dense(3)])
    with pytest.raises(WeightsError, match=r"the Keras model has no weights yet: it is not built"):
        hw.load(unbuilt)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_keras_file_keeps_the_users_names(keras, tmp_path):
    model = toy_model(keras)
    path = tmp_path / "m.keras"
    model.save(path)
    mem = list(hw.load(model))
    got = list(hw.load(path))
    assert [t.name for t in got] == [t.name for t in mem]
    for a, b in zip(got, mem):
        assert (a.kind, a.layout) == (b.kind, b.layout)
        np.testing.assert_array_equal(a.array, b.array)
    stored = {t.name: t.info.stored_name for t in got}
    assert stored["head/d2/kernel"] == "layers/sequential/layers/dense/vars/0"
    assert stored["c2/kernel"] == "layers/conv2d_1/vars/0"
    # reloaded (its variables' .path may now differ), the model still gives the same names
    assert [i.name for i in hw.list_tensors(keras.saving.load_model(path))] == [t.name for t in mem]
    # without the layer names Keras writes in the weights file, config.json's layer order gives them
    plain = _without_name_attributes(path, tmp_path)
    assert [i.name for i in hw.list_tensors(plain)] == [t.name for t in mem]


def _without_name_attributes(path: Path, tmp_path: Path) -> Path:
    import h5py

    with zipfile.ZipFile(path) as z:
        members = {n: z.read(n) for n in z.namelist()}
    h5 = tmp_path / "w.h5"
    h5.write_bytes(members["model.weights.h5"])

    def strip(name, obj):
        for key in list(obj.attrs):
            del obj.attrs[key]

    with h5py.File(h5, "a") as f:
        f.visititems(strip)
    members["model.weights.h5"] = h5.read_bytes()
    out = tmp_path / "plain.keras"
    with zipfile.ZipFile(out, "w") as z:
        for n, data in members.items():
            z.writestr(n, data)
    return out


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_keras_file_ambiguous_names_keep_the_stored_path(keras, tmp_path):
    L = keras.layers

    @keras.saving.register_keras_serializable(package="htsr_test")
    class Mine(L.Layer):
        def build(self, shape):
            self.w = self.add_weight(shape=(shape[-1], 20), name="w")

        def call(self, x):
            return x @ self.w

    x = keras.Input((5, 16))
    h = L.MultiHeadAttention(2, 8, name="mha")(x, x)
    h = L.LSTM(10, name="rnn", return_sequences=True)(h)
    h = L.BatchNormalization(name="bn")(h)
    model = keras.Model(x, Mine(name="mine")(h))
    path = tmp_path / "m.keras"
    model.save(path)
    names = [i.name for i in hw.list_tensors(model)]
    infos = {i.name: i for i in hw.list_tensors(path)}
    assert names[:2] == ["mha/query/kernel", "mha/query/bias"] and "rnn/lstm_cell/recurrent_kernel" in names
    assert [n for n in infos if not n.startswith("layers/")] == names[:-1]  # all but the custom layer's
    custom = infos["layers/mine/vars/0"]
    assert custom.kind == "dense" and "a custom layer" in custom.note and names[-1] == "mine/w"
    assert infos["mha/query/bias"].kind == "bias"  # (heads, head_dim): a bias, not a matrix
    assert infos["bn/moving_variance"].kind == "norm"
    # a config that does not match the file (MultiHeadAttention without biases, two values stored per
    # projection): those keep their stored paths, and the note says why
    with zipfile.ZipFile(path) as z:
        members = {n: z.read(n) for n in z.namelist()}
    config = json.loads(members["config.json"])
    mha = next(e for e in config["config"]["layers"] if e["class_name"] == "MultiHeadAttention")
    mha["config"]["use_bias"] = False
    members["config.json"] = json.dumps(config).encode()
    bent = tmp_path / "bent.keras"
    with zipfile.ZipFile(bent, "w") as z:
        for n, data in members.items():
            z.writestr(n, data)
    bent_infos = {i.name: i for i in hw.list_tensors(bent)}
    query = bent_infos["layers/multi_head_attention/query_dense/vars/0"]
    assert "an EinsumDense layer saves 1 variables, the file holds 2" in query.note
    assert "rnn/lstm_cell/kernel" in bent_infos  # the rest as before
