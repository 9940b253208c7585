"""htsr.smooth / ``htsr smooth``: WeightWatcher's SVDSmoothing on a safetensors file.

The checks are independent of htsr's writer: the output's header is parsed here with ``json``,
the values read with the ``safetensors`` package, and each smoothed matrix compared with a
truncated SVD computed here in float64 (PyTorch's layout for the convolution's slices).
"""

from __future__ import annotations

import json
import math
import os

import ml_dtypes
import numpy as np
import pytest
from safetensors import safe_open
from safetensors.numpy import save_file

import htsr
from htsr.cli.main import main
from htsr.errors import DataError, WeightsError


def _header(path):
    raw = open(path, "rb").read()
    n = int.from_bytes(raw[:8], "little")
    head = json.loads(raw[8:8 + n])
    return raw, 8 + n, head


def _tensor_bytes(path, name):
    raw, start, head = _header(path)
    b, e = head[name]["data_offsets"]
    return raw[start + b:start + e]


def _values(path):
    with safe_open(str(path), "np") as f:  # numpy cannot hold bfloat16: read the raw bits for those
        out = {}
        for k in f.keys():
            try:
                out[k] = f.get_tensor(k).astype(np.float64)
            except TypeError:
                bits = np.frombuffer(_tensor_bytes(path, k), "<u2")
                out[k] = bits.view(ml_dtypes.bfloat16).astype(np.float64).reshape(_header(path)[2][k]["shape"])
        return out


def _truncated(A, k):
    U, s, Vt = np.linalg.svd(A, full_matrices=False)
    return (U[:, :k] * s[:k]) @ Vt[:k]


def _rank(A, eps):
    """Singular values above the spectral norm that rounding each entry to ``eps`` can add
    (at most ``eps |A|_max (sqrt(N) + sqrt(M))`` for independent errors, up to a constant)."""
    s = np.linalg.svd(A, compute_uv=False)
    return int(np.sum(s > 2 * eps * np.abs(A).max() * sum(np.sqrt(A.shape))))


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    rng = np.random.default_rng(7)
    d = tmp_path_factory.mktemp("smooth")
    t = {"fc1.weight": rng.standard_t(3, size=(120, 60)).astype(np.float32),
         "fc1.bias": rng.normal(size=120).astype(np.float32),
         "fc2.weight": rng.standard_t(3, size=(80, 40)).astype(np.float16),
         "conv.weight": rng.standard_t(3, size=(16, 8, 3, 3)).astype(np.float32),
         "norm.weight": np.ones(60, np.float32)}
    path = d / "model.safetensors"
    save_file(t, str(path), metadata={"format": "pt", "note": "kept"})
    return path, {k: v.astype(np.float64) for k, v in t.items()}


@pytest.fixture(scope="module")
def tail_run(model, tmp_path_factory):
    path, _ = model
    out = tmp_path_factory.mktemp("tail") / "tail.safetensors"
    return htsr.smooth(path, out), out


def test_round_trip_keeps_header_dtypes_and_unselected_bytes(model, tmp_path):
    path, orig = model
    out = tmp_path / "k5.safetensors"
    res = htsr.smooth(path, out, keep=5)
    raw_in, start_in, head_in = _header(path)
    raw_out, start_out, head_out = _header(out)
    assert raw_out[:start_out] == raw_in[:start_in]  # names, dtypes, shapes, offsets, metadata: byte for byte
    assert head_out["__metadata__"] == {"format": "pt", "note": "kept"}
    assert {r.name for r in res.layers} == {"fc1.weight", "fc2.weight", "conv.weight"}
    for name in ("fc1.bias", "norm.weight"):
        assert _tensor_bytes(out, name) == _tensor_bytes(path, name)
    got = _values(out)
    assert _rank(got["fc1.weight"], np.finfo(np.float32).eps) == 5
    np.testing.assert_allclose(got["fc1.weight"], _truncated(orig["fc1.weight"], 5), atol=1e-5)
    # float16 stays float16: the rank-5 matrix rounded to half precision
    assert head_out["fc2.weight"]["dtype"] == "F16"
    exact = _truncated(orig["fc2.weight"], 5)
    assert np.max(np.abs(got["fc2.weight"] - exact)) <= np.max(np.abs(exact)) * 2.0 ** -11
    assert _rank(got["fc2.weight"], np.finfo(np.float16).eps) == 5
    assert os.path.getsize(out) == os.path.getsize(path)


def test_convolution_slices_as_weightwatcher(model, tmp_path):
    path, orig = model
    out = tmp_path / "conv.safetensors"
    res = htsr.smooth(path, out, keep=20, layers="conv.weight")
    (row,) = res.layers
    assert (row.n_slices, row.M, row.kept) == (9, 8, math.ceil(20 / 9))  # WeightWatcher: ceil(num_smooth / rf)
    K, K0 = _values(out)["conv.weight"], orig["conv.weight"]
    for i in range(3):
        for j in range(3):  # PyTorch's (out, in, kh, kw): slice (i, j) is K[:, :, i, j]
            np.testing.assert_allclose(K[:, :, i, j], _truncated(K0[:, :, i, j], 3), atol=1e-5)
            assert _rank(K[:, :, i, j], np.finfo(np.float32).eps) == 3
    assert _tensor_bytes(out, "fc1.weight") == _tensor_bytes(path, "fc1.weight")  # not selected


def test_fraction_keeps_floor_of_f_times_M(model, tmp_path):
    path, orig = model
    res = htsr.smooth(path, tmp_path / "f.safetensors", keep=0.25, layers=["fc1.weight"])
    (row,) = res.layers
    assert row.kept == math.floor(0.25 * 60) == 15
    s = np.linalg.svd(orig["fc1.weight"], compute_uv=False)
    assert row.energy_kept == pytest.approx(np.sum(s[:15] ** 2) / np.sum(s ** 2), rel=1e-10)


def test_bfloat16_layer_stays_bfloat16(tmp_path):
    from htsr.weights._safetensors import encode

    rng = np.random.default_rng(3)
    W = rng.standard_t(3, size=(64, 32))
    path = tmp_path / "bf.safetensors"
    header = json.dumps({"w": {"dtype": "BF16", "shape": [64, 32], "data_offsets": [0, 64 * 32 * 2]}}).encode()
    header += b" " * (-len(header) % 8)
    raw = W.astype(ml_dtypes.bfloat16).view(np.uint16).astype("<u2").tobytes()
    path.write_bytes(len(header).to_bytes(8, "little") + header + raw)
    out = tmp_path / "bf_out.safetensors"
    htsr.smooth(path, out, keep=4)
    got = _values(out)["w"]
    W0 = _values(path)["w"]
    exact = _truncated(W0, 4)
    np.testing.assert_array_equal(got, exact.astype(ml_dtypes.bfloat16).astype(np.float64))  # rounded to nearest
    assert _header(out)[2]["w"]["dtype"] == "BF16"
    assert encode(exact, "BF16") == _tensor_bytes(out, "w")


def test_tail_keeps_the_reports_n_tail(model, tail_run):
    path, orig = model
    res, out = tail_run
    rep = htsr.report(path, intervals=None, bounded=False)
    n_tail = dict(zip(rep.layers["name"], rep.layers["n_tail"]))
    got = _values(out)
    for row in res.layers:
        assert row.n_tail == n_tail[row.name]
        if row.kind == "conv2d":
            assert row.kept == math.ceil(n_tail[row.name] / 9)
        else:
            assert row.kept == n_tail[row.name]
            eps = np.finfo(np.float16 if row.dtype == "F16" else np.float32).eps
            assert _rank(got[row.name], eps) == row.kept


@pytest.mark.parametrize("keep, column", [("detX", "detX_num"), ("spikes", "num_spikes")])
def test_detX_and_spikes_keep_the_reports_counts(model, tmp_path, keep, column):
    path, _ = model
    rep = htsr.report(path, intervals=None, bounded=False, layers="fc*")
    want = [(n, c) for n, c, m in zip(rep.layers["name"], rep.layers[column], rep.layers["M"]) if 1 <= c < m]
    res = htsr.smooth(path, tmp_path / f"{keep}.safetensors", keep=keep, layers="fc*")
    assert want and [(r.name, r.kept) for r in res.layers] == want
    assert all(r.count == r.kept for r in res.layers)


def test_bad_input_is_refused_clearly(model, tmp_path):
    path, _ = model
    before = path.read_bytes()
    with pytest.raises(DataError, match="is the source file"):
        htsr.smooth(path, path, keep=3)
    link = tmp_path / "link.safetensors"
    link.symlink_to(path)
    with pytest.raises(DataError, match="is the source file"):
        htsr.smooth(path, link, keep=3)
    assert path.read_bytes() == before
    with pytest.raises(WeightsError, match="fc9.weight"):
        htsr.smooth(path, tmp_path / "x.safetensors", keep=3, layers="fc9.weight")
    for bad in (0, 1.5, "all", True, -2):
        with pytest.raises(DataError, match="keep"):
            htsr.smooth(path, tmp_path / "x.safetensors", keep=bad)
    np.savez(tmp_path / "m.npz", w=np.ones((4, 4)))
    with pytest.raises(WeightsError, match="safetensors only"):
        htsr.smooth(tmp_path / "m.npz", tmp_path / "x.safetensors", keep=3)
    with pytest.raises(WeightsError, match="not a dict"):
        htsr.smooth({"w": np.ones((4, 4))}, tmp_path / "x.safetensors", keep=3)
    save_file({"q.weight": np.ones((16, 16), np.int8), "q.weight_scale": np.ones((16, 1), np.float32)},
              str(tmp_path / "q.safetensors"))
    with pytest.raises(WeightsError, match="requantization"):
        htsr.smooth(tmp_path / "q.safetensors", tmp_path / "x.safetensors", keep=3)
    assert not (tmp_path / "x.safetensors").exists()


def test_cli_exit_codes(model, tmp_path, capsys):
    path, _ = model
    out = tmp_path / "cli.safetensors"
    assert main(["smooth", str(path), "--out", str(out), "--keep", "3", "--layers", "fc1.weight"]) == 0
    text = capsys.readouterr().out
    assert "fc1.weight" in text and f"wrote {out}: 1 of 5 tensors smoothed" in text
    assert _rank(_values(out)["fc1.weight"], np.finfo(np.float32).eps) == 3
    assert main(["smooth", str(path), "--out", str(path), "--keep", "3"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("htsr: error:") and "is the source file" in err and err.count("\n") == 1
    assert main(["smooth", str(path), "--out", str(out), "--keep", "2", "--layers", "nope.weight"]) == 2
    assert "nope.weight" in capsys.readouterr().err
    with pytest.raises(SystemExit) as e:
        main(["smooth", str(path), "--out", str(out), "--keep", "abc"])
    assert e.value.code == 2
    assert main(["smooth", str(path), "--out", str(tmp_path / "j.safetensors"), "--keep", "0.5", "--json",
                 "--layers", "fc*"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [r["kept"] for r in data["layers"]] == [30, 20]
