"""htsr.report: every tensor that gets no row says why, and odd layers do not lose the report."""

from __future__ import annotations

import json

import numpy as np
import pytest

import htsr
from htsr.errors import WeightsError

RNG = np.random.default_rng(3)


def _heavy(shape):
    return RNG.standard_t(3, shape)


def _report(path, **kw):
    return htsr.report(path, intervals=None, workers=1, **kw)


def _skipped(rep) -> dict:
    """Report.skipped as a dict, checked to match summary.json's (Report.to_dict)."""
    from_json = json.loads(json.dumps(rep.to_dict()))["skipped"]
    assert from_json == [list(s) for s in rep.skipped]
    return dict(rep.skipped)


def test_int8_and_complex_npz_tensors_are_listed_as_skipped(tmp_path):
    path = tmp_path / "m.npz"
    np.savez(path, **{"a.weight": _heavy((60, 40)),
                      "q.weight": RNG.integers(-100, 100, (60, 40)).astype(np.int8),
                      "c.weight": _heavy((60, 40)) + 1j * _heavy((60, 40)),
                      "m.mask": np.ones((60, 40), bool),
                      "a.bias": np.zeros(60),
                      "position_ids": np.arange(16)[None]})
    rep = _report(path)
    assert list(rep.layers["name"]) == ["a.weight"]
    assert _skipped(rep) == {"q.weight": "int8 without scales: integer tensor, not dequantized",
                             "c.weight": "complex128: complex weights are not supported",
                             "m.mask": "bool: not numeric weights",
                             "position_ids": "int64: integer tensor (positions, ids, counters), not weights"}
    # what the options leave out is not listed: an excluded name, a vector (a.bias)
    assert "q.weight" not in _skipped(_report(path, exclude="q.*"))


def test_int8_safetensors_and_3d_attention_kernels_are_listed(tmp_path):
    from safetensors.numpy import save_file

    path = tmp_path / "m.safetensors"
    save_file({"dense.weight": _heavy((60, 40)).astype(np.float32),
               "dense.qweight": RNG.integers(-100, 100, (60, 40)).astype(np.int8),
               "attn.query.kernel": _heavy((16, 2, 8)).astype(np.float32)}, str(path))
    got = _skipped(_report(path))
    assert got["dense.qweight"] == "int8 without scales: integer tensor, not dequantized"
    assert got["attn.query.kernel"].startswith("3-D kernel named like attention heads")
    assert set(got) == {"dense.qweight", "attn.query.kernel"}


@pytest.mark.filterwarnings("ignore::UserWarning")  # torch deprecates quantized tensors and TypedStorage
def test_torch_quantized_int8_and_complex(tmp_path):
    torch = pytest.importorskip("torch")
    w = torch.from_numpy(_heavy((60, 40))).float()
    path = tmp_path / "m.pt"
    torch.save({"fc.weight": w, "qfc.weight": torch.quantize_per_tensor(w, 0.02, 0, torch.qint8),
                "int.weight": torch.randint(-100, 100, (60, 40), dtype=torch.int8),
                "cplx.weight": torch.randn(60, 40, dtype=torch.complex64)}, path)
    rep = _report(path)
    rows = rep.layers.set_index("name")
    # a torch quantized tensor carries its scale: a row, from its dequantized values, with a note
    assert list(rows.index) == ["fc.weight", "qfc.weight"]
    assert rows.loc["qfc.weight", "warning"].startswith("torch.qint8 quantized tensor: the spectrum of its "
                                                       "dequantized values")
    assert np.isfinite(rows.loc["qfc.weight", "alpha"])
    assert abs(rows.loc["qfc.weight", "alpha"] - rows.loc["fc.weight", "alpha"]) < 0.5
    assert _skipped(rep) == {"int.weight": "int8 without scales: integer tensor, not dequantized",
                             "cplx.weight": "complex64: complex weights are not supported"}


def test_nothing_to_report_names_what_was_found(tmp_path):
    path = tmp_path / "only_int8.npz"
    np.savez(path, w=RNG.integers(-100, 100, (40, 8)).astype(np.int8))
    with pytest.raises(WeightsError) as err:
        _report(path)
    msg = str(err.value)
    assert msg.startswith(f"{path}: no weight matrix to report")
    assert "it holds 1 tensor: w (40x8, int8 without scales: integer tensor, not dequantized)" in msg
    assert "\n" not in msg
    many = tmp_path / "many.npz"  # would-be matrices come before the vectors, the rest counted
    np.savez(many, **{f"b{i}.bias": np.zeros(4) for i in range(8)},
             c=np.ones((6, 4), np.complex64))
    with pytest.raises(WeightsError, match=r"it holds 9 tensors: c \(6x4, complex64: complex weights are not "
                                           r"supported\); b0\.bias \(4, 1-D: a bias has no spectrum\);.*"
                                           r"; and 3 more$"):
        _report(many)
    with pytest.raises(WeightsError, match=r"no weight matrix matching \['z\*'\] to report .*it holds 9 "
                                           r"tensors, none matching: c \(6x4"):
        _report(many, layers="z*")


def test_overflowing_gram_is_a_warning_row(tmp_path):
    path = tmp_path / "huge.npz"
    np.savez(path, **{"a.weight": _heavy((60, 40)), "huge.weight": _heavy((60, 40)) * 1e180,
                      "big.weight": _heavy((60, 40)) * 1e160, "z.weight": _heavy((50, 30))})
    rep = _report(path)
    rows = rep.layers.set_index("name")
    assert list(rows.index) == ["a.weight", "huge.weight", "big.weight", "z.weight"]  # npz order
    for name in ("big.weight", "huge.weight"):
        warning = rows.loc[name, "warning"]
        assert warning.startswith("its Gram matrix W^T W overflows float64: the largest |entry| is ")
        assert warning.endswith("; no spectrum") and rows.loc[name, "label"] == "no fit"
        assert rows.loc[name, "n_evals"] == 0 and np.isnan(rows.loc[name, "alpha"])
    assert np.isfinite(rows.loc[["a.weight", "z.weight"], "alpha"]).all()
    assert rep.summary.to_dict()  # the summary is there


def test_nonfinite_warning_says_no_spectrum_once(tmp_path):
    path = tmp_path / "nan.npz"
    bad = _heavy((60, 40))
    bad[1, 2] = np.nan
    np.savez(path, **{"a.weight": _heavy((60, 40)), "bad.weight": bad})
    warning = _report(path).layers.set_index("name").loc["bad.weight", "warning"]
    assert warning.endswith("has 1 NaN and 0 inf values out of 2400; no spectrum")
    assert warning.count("spectrum") == 1


def test_cli_refuses_h5_external_storage_in_one_line(tmp_path, capsys):
    h5py = pytest.importorskip("h5py")
    from htsr.cli.main import main

    path = tmp_path / "evil.h5"
    with h5py.File(path, "w") as f:
        f.create_dataset("w", shape=(40, 8), dtype="f8", external=[("/etc/passwd", 0, h5py.h5f.UNLIMITED)])
    assert main(["report", str(path), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "refuses HDF5 external storage: dataset 'w'" in err
    assert "/bin/" not in err and "root:x" not in err  # nothing of /etc/passwd shows
