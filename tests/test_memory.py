"""Bounded memory: Gram matrices by blocks of a lazily read safetensors matrix (htsr.weights._lazy).

The numbers are those of the whole-matrix path (htsr.rmt.layer_esd on the float32
array), and a child process that takes the ESD of a 32 MB bf16 matrix grows its peak
memory by less than half of what a float64 copy of the whole matrix needs
(the whole-matrix path needs that copy, a float32 one and the Gram matrix).
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import htsr.weights as hw
from htsr import rmt
from htsr.errors import DataError
from htsr.rmt.esd import gram_matrix
from htsr.report import report
from htsr.weights._lazy import MappedTensor

safetensors_numpy = pytest.importorskip("safetensors.numpy")


def _bf16_bits(a: np.ndarray) -> np.ndarray:
    """float32 -> bf16 bit patterns (round to nearest even), as make_llm.py writes them."""
    u = np.ascontiguousarray(a, dtype=np.float32).view(np.uint32)
    return ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype(np.uint16)


def _write_bf16(path, tensors: dict) -> None:
    """A safetensors file of bf16 tensors, written by hand (the numpy API has no bfloat16)."""
    header, blobs, offset = {}, [], 0
    for name, a in tensors.items():
        raw = _bf16_bits(a).tobytes()
        header[name] = {"dtype": "BF16", "shape": list(a.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    head = json.dumps(header).encode()
    head += b" " * (-len(head) % 8)
    with open(path, "wb") as f:
        f.write(len(head).to_bytes(8, "little") + head)
        for b in blobs:
            f.write(b)


@pytest.fixture(scope="module")
def weights(tmp_path_factory):
    rng = np.random.default_rng(7)
    arrays = {"tall.weight": rng.standard_t(3, (700, 90)).astype(np.float32),
              "wide.weight": rng.standard_t(3, (60, 500)).astype(np.float32)}
    folder = tmp_path_factory.mktemp("lazy")
    safetensors_numpy.save_file(arrays, str(folder / "f32.safetensors"))
    _write_bf16(folder / "bf16.safetensors", arrays)
    return folder, arrays


@pytest.mark.parametrize("file", ["f32.safetensors", "bf16.safetensors"])
@pytest.mark.parametrize("name", ["tall.weight", "wide.weight"])
def test_blocked_esd_equals_whole_matrix_esd(weights, file, name):
    folder, _ = weights
    lazy = hw.get(folder / file, name, lazy=True).array
    whole = hw.get(folder / file, name).array
    assert isinstance(lazy, MappedTensor) and isinstance(whole, np.ndarray)
    np.testing.assert_array_equal(np.asarray(lazy), whole)  # same values as the eager read
    for normalize in (True, False):
        new = rmt.layer_esd(lazy, "dense", normalize=normalize)
        old = rmt.esd(whole.astype(np.float64), normalize=normalize)  # one dsyrk over the whole matrix
        assert new.shape == (min(whole.shape),)
        np.testing.assert_allclose(new, old, rtol=0, atol=1e-12 * old[-1])
        np.testing.assert_allclose(new[-5:], old[-5:], rtol=1e-12)
    sv = np.linalg.svd(whole.astype(np.float64), compute_uv=False)  # an independent route
    np.testing.assert_allclose(rmt.layer_esd(lazy, "dense", normalize=False)[::-1][:10], (sv * sv)[:10],
                               rtol=1e-10)


def test_small_blocks_give_the_same_gram(weights):
    folder, arrays = weights
    for name, a in arrays.items():
        lazy = hw.get(folder / "f32.safetensors", name, lazy=True).array
        m = min(a.shape)
        blocks = list(lazy.long_blocks(block_bytes=8 * 3 * max(a.shape)))  # a few rows/columns per block
        assert len(blocks) > 10 and all(b.dtype == np.float64 and b.shape[1] == m for b in blocks)
        G = gram_matrix(iter(blocks), m)
        A = a.astype(np.float64)
        ref = A.T @ A if a.shape[0] >= a.shape[1] else A @ A.T
        np.testing.assert_allclose(np.tril(G), np.tril(ref), rtol=1e-12, atol=1e-12 * np.abs(ref).max())


def test_nonfinite_lazy_matrix_is_a_warning_row(tmp_path):
    a = np.random.default_rng(1).standard_normal((64, 40)).astype(np.float32)
    a[3, 5], a[7, 1], a[9, 9] = np.nan, np.inf, -np.inf
    path = tmp_path / "bad.safetensors"
    safetensors_numpy.save_file({"layer.weight": a}, str(path))
    t = hw.get(path, "layer.weight", lazy=True)
    assert t.count_nonfinite() == (1, 2) and not t.is_finite
    with pytest.raises(DataError, match="3 NaN or infinite"):
        rmt.layer_esd(t.array, "dense")
    row = report(path, intervals=None, bounded=False).layers.iloc[0]
    assert "1 NaN and 2 inf" in row["warning"] and row["n_evals"] == 0


def test_lazy_matrix_whose_gram_overflows_is_a_warning_row(tmp_path):
    rng = np.random.default_rng(2)
    path = tmp_path / "huge.safetensors"
    safetensors_numpy.save_file({"a.weight": rng.standard_normal((60, 40)),
                                 "huge.weight": rng.standard_normal((60, 40)) * 1e180}, str(path))
    rows = report(path, intervals=None, bounded=False).layers.set_index("name")
    assert rows.loc["huge.weight", "warning"].startswith("its Gram matrix W^T W overflows float64")
    assert rows.loc["huge.weight", "n_evals"] == 0 and rows.loc["a.weight", "n_evals"] == 40


_CHILD = textwrap.dedent("""
    import json, sys
    import numpy as np
    import htsr.weights as hw
    from htsr import rmt

    def status(key):  # kB, from the kernel's accounting of this process
        for line in open("/proc/self/status"):
            if line.startswith(key + ":"):
                return int(line.split()[1])

    rmt.esd(np.ones((300, 200)))  # imports and a first call out of the way
    base = status("VmRSS")
    with open("/proc/self/clear_refs", "w") as f:  # reset the peak (VmHWM) to the current RSS
        f.write("5")
    t = hw.get(sys.argv[1], "big.weight", lazy=True)
    ev = rmt.layer_esd(t.array, t.kind, normalize=False)
    print(json.dumps(dict(base_kb=base, peak_kb=status("VmHWM"), top=float(ev[-1]), n=int(ev.size))))
""")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads the peak RSS from /proc")
def test_child_process_stays_below_a_float64_copy(tmp_path):
    """16384 x 1024 bf16 (32 MB on disk): float32 is 64 MB, float64 128 MB; the blocked Gram
    needs its 1024 x 1024 float64 Gram (8 MB), LAPACK's copy of it and a block or two (8 MB).

    The peak is the child's ``VmHWM``, reset after its imports (``/proc/self/clear_refs``):
    ``getrusage``'s ``ru_maxrss`` would not do, Linux carries it over ``exec`` from the
    forked copy of the test process.
    """
    rows, cols = 16384, 1024
    path = tmp_path / "big.safetensors"
    rng = np.random.default_rng(3)
    bits = rng.integers(0x3C00, 0x3F80, size=(rows, cols), dtype=np.uint16)  # bf16 in [2^-7, 1)
    bits |= (rng.random((rows, cols)) < 0.5).astype(np.uint16) << 15  # random signs
    head = json.dumps({"big.weight": {"dtype": "BF16", "shape": [rows, cols],
                                      "data_offsets": [0, rows * cols * 2]}}).encode()
    head += b" " * (-len(head) % 8)
    with open(path, "wb") as f:
        f.write(len(head).to_bytes(8, "little") + head)
        f.write(bits.tobytes())
    del bits
    out = subprocess.run([sys.executable, "-c", _CHILD, str(path)], capture_output=True, text=True,
                         timeout=120, check=True)
    r = json.loads(out.stdout.strip().splitlines()[-1])
    assert r["n"] == cols and r["top"] > 0
    grown_mb = (r["peak_kb"] - r["base_kb"]) / 1024
    float64_copy_mb = rows * cols * 8 / 2**20  # 128 MB: what the whole-matrix path allocates, and more
    assert 0 < grown_mb < 0.5 * float64_copy_mb, (
        f"the ESD grew the peak RSS by {grown_mb:.0f} MB (baseline {r['base_kb'] / 1024:.0f} MB)")
