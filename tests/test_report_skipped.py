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


def _first(rows, name):
    """A row's warning up to the first "; " (what its values are; a finger note may follow)."""
    return rows.loc[name, "warning"].split("; ")[0]


def test_every_tensor_without_a_row_is_listed_npz(tmp_path):
    path = tmp_path / "m.npz"
    np.savez(path, **{"a.weight": _heavy((60, 40)),
                      "q.weight": RNG.integers(-100, 100, (60, 40)).astype(np.int8),
                      "c.weight": _heavy((60, 40)) + 1j * _heavy((60, 40)),
                      "m.mask": np.ones((60, 40), bool),
                      "a.bias": np.zeros(60),
                      "ln.weight": np.ones(40),
                      "step": np.float64(3.0),
                      "position_ids": np.arange(16)[None]})
    rep = _report(path)
    rows = rep.layers.set_index("name")
    # an int8 matrix without scales is a row now, saying what its spectrum is of
    assert list(rows.index) == ["a.weight", "q.weight"]
    assert _first(rows, "q.weight") == "int8 weights without scales: the spectrum of the raw integer values"
    q = np.load(path)["q.weight"].astype(np.float64)
    np.testing.assert_allclose(rep.spectra[1].evals, np.linalg.eigvalsh(q.T @ q), rtol=1e-12)
    assert _skipped(rep) == {"c.weight": "complex128: complex weights are not supported",
                             "m.mask": "bool: not numeric weights",
                             "a.bias": "1-D: a bias has no spectrum",
                             "ln.weight": "1-D: a norm has no spectrum",
                             "step": "0-D: a scalar has no spectrum",
                             "position_ids": "int64: integer tensor (positions, ids, counters), not weights"}
    assert {s.name: s.group for s in rep.skipped} == {
        "c.weight": "complex tensors", "m.mask": "integer and boolean buffers", "a.bias": "biases",
        "ln.weight": "norm vectors", "step": "scalars", "position_ids": "integer and boolean buffers"}
    assert rep.skipped_line() == ("not reported: 6 tensors (2 integer and boolean buffers, 1 complex tensors, "
                                  "1 biases, 1 norm vectors, 1 scalars); see summary.json")
    # only what the user's own filters leave out is not listed
    kept = _skipped(_report(path, exclude=["q.*", "*.bias"]))
    assert "q.weight" not in kept and "a.bias" not in kept and "ln.weight" in kept


def test_kinds_not_asked_for_and_3d_attention_kernels_are_listed(tmp_path):
    from safetensors.numpy import save_file

    path = tmp_path / "m.safetensors"
    save_file({"dense.weight": _heavy((60, 40)).astype(np.float32),
               "dense.qweight": RNG.integers(-100, 100, (60, 40)).astype(np.int8),
               "gptq.qweight": RNG.integers(0, 2 ** 31, (60, 40)).astype(np.int32),
               "embed_tokens.weight": _heavy((50, 16)).astype(np.float32),
               "attn.query.kernel": _heavy((16, 2, 8)).astype(np.float32)}, str(path))
    rep = _report(path, kinds=["dense"])
    assert list(rep.layers["name"]) == ["dense.qweight", "dense.weight"]
    got = _skipped(rep)
    assert got["attn.query.kernel"].startswith("3-D kernel named like attention heads")
    assert got["embed_tokens.weight"] == "embedding, a kind not asked for (kinds dense)"
    assert got["gptq.qweight"] == "int32: low-bit weights packed into integer words (GPTQ/AWQ), not unpacked"
    assert set(got) == {"attn.query.kernel", "embed_tokens.weight", "gptq.qweight"}


@pytest.mark.filterwarnings("ignore::UserWarning")  # torch deprecates quantized tensors and TypedStorage
def test_torch_quantized_int8_tied_and_complex(tmp_path):
    torch = pytest.importorskip("torch")
    w = torch.from_numpy(_heavy((60, 40))).float()
    path = tmp_path / "m.pt"
    step = float(w.abs().max()) / 127  # no value clipped
    torch.save({"fc.weight": w, "qfc.weight": torch.quantize_per_tensor(w, step, 0, torch.qint8),
                "int.weight": torch.randint(-100, 100, (60, 40), dtype=torch.int8),
                "head.weight": w, "fc.bias": torch.zeros(60),
                "cplx.weight": torch.randn(60, 40, dtype=torch.complex64)}, path)
    rep = _report(path)
    rows = rep.layers.set_index("name")
    # a torch quantized tensor carries its scale: a row, from its dequantized values, with a note
    assert list(rows.index) == ["fc.weight", "qfc.weight", "int.weight"]
    assert rows.loc["qfc.weight", "warning"].startswith("torch.qint8 quantized tensor: the spectrum of its "
                                                       "dequantized values")
    assert _first(rows, "int.weight") == "int8 weights without scales: the spectrum of the raw integer values"
    assert np.isfinite(rows.loc["qfc.weight", "alpha"])
    assert abs(rows.loc["qfc.weight", "alpha"] - rows.loc["fc.weight", "alpha"]) < 0.5
    assert _skipped(rep) == {"head.weight": "tied to fc.weight (counted once)",
                             "fc.bias": "1-D: a bias has no spectrum",
                             "cplx.weight": "complex64: complex weights are not supported"}
    assert rep.to_dict()["skipped_counts"] == {"tied weights": 1, "biases": 1, "complex tensors": 1}


def test_nothing_to_report_names_what_was_found(tmp_path):
    path = tmp_path / "only_vectors.npz"
    np.savez(path, **{"w.bias": np.zeros(8), "ids": np.arange(40).reshape(5, 8)})
    with pytest.raises(WeightsError) as err:
        _report(path)
    msg = str(err.value)
    assert msg.startswith(f"{path}: no weight matrix to report")
    assert msg.endswith("it holds 2 tensors: ids (5x8, int64: integer tensor (positions, ids, counters), not "
                        "weights); w.bias (8, 1-D: a bias has no spectrum)")
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


def test_cli_counts_what_is_not_reported_and_html_lists_it(tmp_path, capsys):
    from htsr.cli.main import main
    from htsr.plot.report import render_html

    path = tmp_path / "m.npz"
    np.savez(path, **{"a.weight": _heavy((60, 40)), **{f"l{i}.bias": np.zeros(60) for i in range(3)},
                      **{f"l{i}.norm.weight": np.ones(60) for i in range(2)}, "<b>.bias": np.zeros(3),
                      **{f"q{i}.weight": np.full((30, 20), i + 1, np.int8) for i in range(4)}})
    out = tmp_path / "out"
    assert main(["report", str(path), "--out", str(out), "--no-intervals", "--no-html", "--workers", "1"]) == 0
    text = capsys.readouterr().out
    assert "not reported: 6 tensors (4 biases, 2 norm vectors); see summary.json" in text
    assert "l0.bias" not in text  # the names are in summary.json and the HTML, not on the terminal
    # a message on more than 3 layers is one line (rank-1 matrices: the same warning on each)
    repeated = [ln for ln in text.splitlines() if ln.startswith("  warning:") and "a.weight" not in ln]
    assert repeated == ["  warning: 4 layers (q0.weight, ...): int8 weights without scales: the spectrum of the "
                        "raw integer values; only 1 eigenvalue(s) above evals_threshold = 1e-05 (of 20); nothing "
                        "to fit"]
    summary = json.loads((out / "summary.json").read_text())
    assert len(summary["skipped"]) == 6 and summary["skipped_counts"] == {"biases": 4, "norm vectors": 2}
    page = render_html(_report(path))
    assert "<h2 id=skipped>Not reported</h2>" in page and "<summary>4 biases</summary>" in page
    assert "<code>l1.norm.weight</code>: 1-D: a norm has no spectrum" in page
    assert "<code>&lt;b&gt;.bias</code>" in page and "<b>.bias" not in page  # names are escaped


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
