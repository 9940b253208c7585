"""ESDs on a JAX device (a GPU): the Gram matrix and its eigenvalues where the device is.

The same ESD as :func:`htsr.rmt.esd` (``X = W^T W / N`` of the smaller side, ascending,
``normalize=False`` for WeightWatcher's squared singular values), computed by JAX on
``device`` (:func:`htsr._device.resolve`: ``"cpu"``, ``"gpu"``, ``"auto"`` or a
``jax.Device``) instead of NumPy/LAPACK:

* ``gram_dtype="float32"`` (default): the matrix goes to the device as it is when it is
  bf16, f16 or f32 (else in float32) and is widened there to float32 (exactly); the Gram
  matrix is accumulated by blocks of ``block`` rows of the long side: each block's
  ``A_b^T A_b`` in float32 at full precision (``lax.Precision.HIGHEST``: no TF32 on
  Ampere and later GPUs), the blocks summed in float64.  The product of two bf16
  numbers is exact in float32, so for bf16 weights the only rounding is in the sums
  of at most ``block`` terms.
* ``gram_dtype="float64"``: the matrix is widened to float64 on the device and its Gram
  matrix formed in float64 (what the NumPy path does; slow on GPUs with little
  float64 throughput).

Either way the eigensolver is float64 (``jnp.linalg.eigvalsh``: cuSOLVER's ``syevd``
on CUDA, LAPACK on JAX's CPU backend) and a non-finite float32 result (entries so
large that float32 sums overflow) is redone in float64.

Accuracy against the NumPy float64 path (docs/scale.md, "GPU", has the measurements
and their command): with a float64 Gram about ``1e-13`` relative; with the float32
Gram the error is a few ``eps32 * lambda_max`` in absolute terms, so the top
eigenvalues agree to ``1e-9``-``3e-6`` relative (heavy-tailed bf16 2048 x 5632 matrices,
MiniLM, LLM-shaped embeddings) and the error grows as ``lambda_max / lambda`` down the
spectrum; the alphas fitted on them moved by ``1e-9``-``1e-5`` relative.

On CPU, LAPACK through NumPy is the faster route (docs/rmt.md): the report uses this
module only when its device is a GPU.  The tests run it on JAX's CPU backend.
"""

from __future__ import annotations

import math
from functools import partial
from typing import Literal

import jax
import numpy as np

from .. import _jax
from .._device import resolve
from ..data import as_array, check_choice, check_int
from ..errors import DataError
from ..kinds import SINGLE_MATRIX_KINDS, Layout, layer_matrices

__all__ = ["GRAM_DTYPES", "device_esd", "device_layer_esd", "checked_device_layer_esd"]

GRAM_DTYPES = ("float32", "float64")
_BLOCK = 1024  # rows of the long side per float32 block (its sums round over at most this many terms)


@partial(jax.jit, static_argnames=("long_axis", "block", "gram_dtype"))
def _evals(A, long_axis: int, block: int, gram_dtype: str):
    """Ascending float64 eigenvalues of the Gram matrix of ``A`` over its ``long_axis``."""
    import jax.numpy as jnp
    from jax import lax

    dims = (((long_axis,), (long_axis,)), ((), ()))
    m = A.shape[1 - long_axis]
    if gram_dtype == "float64":
        A = A.astype(jnp.float64)
        G = lax.dot_general(A, A, dims, precision=lax.Precision.HIGHEST)
    else:
        A = A.astype(jnp.float32)
        L = A.shape[long_axis]
        n_blocks = -(-L // block)
        pad = [(0, 0), (0, 0)]
        pad[long_axis] = (0, n_blocks * block - L)  # zero rows add nothing to the Gram matrix
        A = jnp.pad(A, pad)

        def add_block(i, acc):
            Ab = lax.dynamic_slice_in_dim(A, i * block, block, axis=long_axis)
            g = lax.dot_general(Ab, Ab, dims, precision=lax.Precision.HIGHEST, preferred_element_type=jnp.float32)
            return acc + g.astype(jnp.float64)

        G = lax.fori_loop(0, n_blocks, add_block, jnp.zeros((m, m), jnp.float64))
    return jnp.linalg.eigvalsh(G)


def _block_size(L: int, block: int) -> int:
    """Rows per block: at most ``block``, as even as possible (a multiple of 8), so padding is small."""
    if L <= block:
        return L
    n = -(-L // block)
    return min(block, 8 * -(-L // (8 * n)))


def _send(A: np.ndarray, dev, gram_dtype: str):
    """``A`` on the device in a dtype that keeps its values for that Gram: float32 (or narrower) as it is."""
    keep = A.dtype.name in ("bfloat16", "float16", "float32") or (gram_dtype == "float64" and A.dtype == np.float64)
    if not keep:
        A = A.astype(np.float64 if gram_dtype == "float64" else np.float32)
    return jax.device_put(A, dev)


def _one(A: np.ndarray, dev, gram_dtype: str, block: int) -> np.ndarray:
    """Eigenvalues (ascending, float64) of the Gram matrix of the smaller side of one matrix."""
    long_axis = 0 if A.shape[0] >= A.shape[1] else 1
    L = A.shape[long_axis]
    with _jax.x64():
        on_device = _send(A, dev, gram_dtype)
        ev = np.asarray(_evals(on_device, long_axis, _block_size(L, block), gram_dtype))
        if gram_dtype == "float32" and not np.isfinite(ev).all():  # float32 sums overflowed: redo in float64
            ev = np.asarray(_evals(_send(A, dev, "float64"), long_axis, L, "float64"))
    return ev


def _as_matrices(W) -> np.ndarray:
    """``W`` checked as :func:`htsr.data.as_array` checks it; a bfloat16 array (ml_dtypes, which NumPy
    does not count as a number) is checked on its bits and kept as it is, to go to the device in 2 bytes."""
    arr = np.asarray(W) if not isinstance(W, (str, bytes)) else None
    if arr is None or arr.dtype.name != "bfloat16":
        return as_array(W, "W", min_ndim=2)
    if arr.ndim < 2 or arr.size == 0:
        raise DataError(f"W must have at least 2 dimensions and entries, got shape {arr.shape}")
    bad = int(np.count_nonzero((arr.view(np.uint16) & 0x7F80) == 0x7F80))  # exponent all ones: inf or NaN
    if bad:
        raise DataError(f"W contains {bad} NaN or infinite value(s) out of {arr.size}")
    return arr


def device_esd(W, *, device="auto", normalize: bool = True,
               gram_dtype: Literal["float32", "float64"] = "float32", block: int = _BLOCK) -> np.ndarray:
    """Eigenvalues of ``X = W^T W / N`` (ascending) computed on a JAX device.

    Parameters
    ----------
    W : array_like, shape (N, M) or (..., N, M)
        Real matrix or stack of matrices; a wide matrix is transposed (on the device),
        so each has ``min(N, M)`` eigenvalues and ``N`` is the larger side.
    device : {"auto", "gpu", "cpu"} or jax.Device
        Where to compute (:func:`htsr._device.resolve`); a ``jax.Device`` is used as it is.
    normalize : bool
        Divide by ``N`` (default); ``False``: the squared singular values.
    gram_dtype : {"float32", "float64"}
        Precision of the Gram matrix (see the module docstring); the eigensolver is float64.
    block : int
        Rows of the long side per float32 block (ignored for float64).

    Returns
    -------
    numpy.ndarray
        float64, shape ``(min(N, M),)`` or ``(..., min(N, M))``, ascending, non-negative;
        NaN where the eigensolver failed (the caller checks, as :func:`checked_device_layer_esd` does).

    Raises
    ------
    DataError
        Not at least 2-D, empty, complex, NaN or inf.
    HtsrError
        ``device="gpu"`` and JAX sees no GPU.
    """
    check_choice(gram_dtype, "gram_dtype", GRAM_DTYPES)
    check_int(block, "block", minimum=1)
    W = _as_matrices(W)
    dev = resolve(device)
    N, M = max(W.shape[-2:]), min(W.shape[-2:])
    lead = W.shape[:-2]
    flat = W.reshape((-1, *W.shape[-2:]))
    out = np.empty((flat.shape[0], M), dtype=np.float64)
    for b in range(flat.shape[0]):
        out[b] = _one(flat[b], dev, gram_dtype, int(block))
    np.maximum(out, 0.0, out=out)  # NaN stays NaN
    if normalize:
        out /= N
    return out.reshape((*lead, M))


def device_layer_esd(weight, kind: str, *, layout: Layout = "pytorch", pool: bool = True, normalize: bool = True,
                     device="auto", gram_dtype: Literal["float32", "float64"] = "float32") -> np.ndarray:
    """:func:`htsr.rmt.layer_esd` computed on a JAX device (:func:`device_esd` of each slice)."""
    mats = layer_matrices(weight, kind, layout=layout)
    if min(mats.shape[-2:]) < 1:
        raise DataError(f"{kind} weight of shape {np.shape(weight)} has an empty dimension")
    ev = device_esd(mats, device=device, normalize=normalize, gram_dtype=gram_dtype)
    if kind in SINGLE_MATRIX_KINDS:
        return ev[0]
    return np.sort(ev.ravel()) if pool else ev


def checked_device_layer_esd(weight, kind: str, *, layout: Layout = "pytorch", normalize: bool = True,
                             device="auto") -> tuple[np.ndarray | None, str]:
    """``(evals, "")`` of :func:`device_layer_esd`, or ``(None, why)`` when they are not all finite.

    What the report's ESD stage calls for a layer when its device is a GPU.
    """
    evals = device_layer_esd(weight, kind, layout=layout, normalize=normalize, device=device)
    if np.isfinite(evals).all():
        return evals, ""
    amax = float(np.max(np.abs(weight)))
    where = resolve(device)
    return None, (f"the eigenvalues of its Gram matrix could not be computed on {where.platform} "
                  f"(non-finite eigenvalues in float64; largest |entry| {amax:.3g}"
                  f"{', which overflows float64 in the Gram matrix' if math.log10(max(amax, 1e-300)) > 150 else ''})")
