"""ESDs of htsr.rmt: agreement with numpy's SVD, conventions, layer slicing."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from htsr import rmt
from htsr.errors import DataError, HtsrError


def _svd_esd(W):
    s = np.linalg.svd(np.asarray(W, dtype=np.float64), compute_uv=False)
    return np.sort(s**2, axis=-1) / max(W.shape[-2:])


@pytest.mark.parametrize("method", ["gram", "svd", "auto"])
def test_esd_equals_squared_singular_values_over_N(method):
    W = np.random.default_rng(0).standard_normal((300, 150))
    np.testing.assert_allclose(rmt.esd(W, method=method), _svd_esd(W), rtol=1e-10, atol=0)


def test_batched_and_wide_and_float32():
    rng = np.random.default_rng(1)
    W = rng.standard_normal((4, 90, 60))
    ref = _svd_esd(W)
    np.testing.assert_allclose(rmt.esd(W), ref, rtol=1e-10)  # batched (small-matrix path)
    np.testing.assert_allclose(rmt.esd(np.swapaxes(W, 1, 2)), ref, rtol=1e-10)  # wide: transposed
    W2 = rng.standard_normal((2, 3, 300, 280))  # extra batch dims, large-matrix path
    np.testing.assert_allclose(rmt.esd(W2), _svd_esd(W2), rtol=1e-10)
    wide = np.ascontiguousarray(W2[0, 0].T).astype(np.float32)  # (280, 300): the F-ordered dsyrk route
    np.testing.assert_allclose(rmt.esd(wide), _svd_esd(wide), rtol=1e-10)
    W32 = W[0].astype(np.float32)
    np.testing.assert_allclose(rmt.esd(W32), _svd_esd(W32), rtol=1e-10)


def test_weightwatcher_convention_drops_1_over_N():
    W = np.random.default_rng(2).standard_normal((50, 20))
    np.testing.assert_allclose(rmt.esd(W, normalize=False), 50 * rmt.esd(W), rtol=1e-12)
    s = np.linalg.svd(W, compute_uv=False)
    np.testing.assert_allclose(rmt.esd(W, normalize=False), np.sort(s**2), rtol=1e-10)


def test_auto_and_svd_keep_tiny_eigenvalues_of_very_heavy_tails():
    W = rmt.pareto(150, 1.5, 0.7, seed=3)
    ref = _svd_esd(W)
    np.testing.assert_allclose(rmt.esd(W, method="auto"), ref, rtol=1e-9)
    np.testing.assert_allclose(rmt.esd(W, method="svd"), ref, rtol=1e-9)
    # the Gram route is accurate relative to the largest eigenvalue
    assert np.max(np.abs(rmt.esd(W) - ref)) < 1e-12 * ref[-1]


def test_esd_rejects_bad_input():
    with pytest.raises(DataError, match="2"):
        rmt.esd(np.ones(5))
    with pytest.raises(DataError, match="NaN"):
        rmt.esd(np.array([[1.0, np.nan], [0.0, 1.0]]))
    with pytest.raises(DataError, match="empty"):
        rmt.esd(np.ones((0, 3)))
    with pytest.raises(HtsrError, match="method"):
        rmt.esd(np.eye(3), method="eig")


@settings(max_examples=25, deadline=None, derandomize=True)
@given(
    n=st.integers(1, 12), m=st.integers(1, 12), c=st.floats(0.1, 10.0), seed=st.integers(0, 2**16)
)
def test_esd_invariances(n, m, c, seed):
    rng = np.random.default_rng(seed)
    W = rng.standard_normal((n, m))
    ev = rmt.esd(W)
    assert ev.shape == (min(n, m),) and np.all(np.diff(ev) >= 0) and np.all(ev >= 0)
    np.testing.assert_allclose(rmt.esd(W.T), ev, rtol=1e-9, atol=1e-12 * (ev[-1] + 1))
    np.testing.assert_allclose(rmt.esd(c * W), c * c * ev, rtol=1e-9, atol=1e-12 * c * c * (ev[-1] + 1))
    O, _ = np.linalg.qr(rng.standard_normal((n, n)))  # left rotation leaves W^T W unchanged
    np.testing.assert_allclose(rmt.esd(O @ W), ev, rtol=1e-8, atol=1e-10 * (ev[-1] + 1))


# ------------------------------------------------------------------ layers
# PyTorch Conv2D weight (out=3, in=2, kh=2, kw=2) with entry o*8 + i*4 + h*2 + w
TORCH_K = np.arange(24, dtype=np.float64).reshape(3, 2, 2, 2)
# its (out, in) matrices at kernel positions (h, w) = (0,0), (0,1), (1,0), (1,1), written out by hand
HAND_SLICES = [
    np.array([[0, 4], [8, 12], [16, 20]], dtype=np.float64),
    np.array([[1, 5], [9, 13], [17, 21]], dtype=np.float64),
    np.array([[2, 6], [10, 14], [18, 22]], dtype=np.float64),
    np.array([[3, 7], [11, 15], [19, 23]], dtype=np.float64),
]


def test_conv2d_slices_pytorch_and_keras_layouts():
    np.testing.assert_array_equal(rmt.conv2d_matrices(TORCH_K, layout="pytorch"), np.stack(HAND_SLICES))
    keras = TORCH_K.transpose(2, 3, 1, 0)  # (kh, kw, in, out)
    assert keras.shape == (2, 2, 2, 3)
    np.testing.assert_array_equal(rmt.conv2d_matrices(keras, layout="keras"), np.stack(HAND_SLICES))


def test_conv2d_esd_pooled_and_per_slice():
    # slice (0,0): W^T W = [[320, 416], [416, 560]], N = 3
    lam = np.linalg.eigvalsh(np.array([[320.0, 416.0], [416.0, 560.0]])) / 3
    per = rmt.layer_esd(TORCH_K, "conv2d", pool=False)
    assert per.shape == (4, 2)
    np.testing.assert_allclose(per[0], lam, rtol=1e-10)
    expected = np.sort(np.concatenate([rmt.esd(S) for S in HAND_SLICES]))
    np.testing.assert_allclose(rmt.layer_esd(TORCH_K, "conv2d"), expected, rtol=1e-10)
    keras = TORCH_K.transpose(2, 3, 1, 0)
    np.testing.assert_allclose(rmt.layer_esd(keras, "conv2d", layout="keras"), expected, rtol=1e-10)


def test_conv1d_and_embedding_and_dense():
    K = np.arange(30, dtype=np.float64).reshape(5, 2, 3)  # PyTorch (out, in, k)
    mats = rmt.conv1d_matrices(K)
    np.testing.assert_array_equal(mats[1], K[:, :, 1])
    np.testing.assert_array_equal(rmt.conv1d_matrices(K.transpose(2, 1, 0), layout="keras"), mats)
    E = np.random.default_rng(4).standard_normal((100, 16))
    np.testing.assert_allclose(rmt.layer_esd(E, "embedding"), rmt.esd(E))
    np.testing.assert_allclose(rmt.layer_esd(E.T, "dense"), rmt.esd(E))
    with pytest.raises(HtsrError, match="kind"):
        rmt.layer_esd(E, "lstm")
    with pytest.raises(HtsrError, match="layout"):
        rmt.conv2d_matrices(TORCH_K, layout="jax")
    with pytest.raises(DataError, match="4 dimensions"):
        rmt.conv2d_matrices(E)
