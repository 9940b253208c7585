"""Empirical spectral densities: eigenvalues of ``X = W^T W / N``.

Convention
----------
For an ``N x M`` matrix with ``N >= M`` the ESD is the ``M`` eigenvalues of
``X = W^T W / N``, i.e. the squared singular values of ``W`` divided by the
larger dimension.  A wide matrix (``N < M``) is transposed first, so the ESD
always has ``min(N, M)`` eigenvalues and the aspect ratio is
``Q = max / min >= 1``.  With ``normalize=False`` the ``1/N`` is dropped, which
is WeightWatcher's convention (its eigenvalues are the squared singular values).

Computation
-----------
``method="gram"`` (default) forms the smaller Gram matrix in float64 with BLAS
``dsyrk`` (half the flops of a matmul; through NumPy's ``matmul``, which releases
the GIL), accumulated over blocks of about 8 MB of the long side, each block
widened to float64 on its own (so a float32 or bf16 matrix never has a float64
copy of the whole of it), and takes its eigenvalues
with LAPACK's divide-and-conquer ``dsyevd``.  :func:`layer_esd` also takes a
matrix read from its file block by block: any object with a 2-D ``shape`` and a
``long_blocks()`` method yielding float64 blocks ``B_b`` of the long side
(``sum_b B_b^T B_b`` is the smaller Gram matrix), such as ``htsr.weights``'
memory-light safetensors tensors (``load(..., lazy=True)``); memory is then the
Gram matrix and a block or two, whatever the matrix's size.  The Gram route is
several times faster than an
SVD (see docs/benchmarks.md) and its error is about ``eps * lambda_max`` in
absolute terms.  ``method="svd"`` (LAPACK ``dgesdd``, no vectors) has error
about ``eps * sqrt(lambda * lambda_max)``, which matters only for eigenvalues
many orders of magnitude below the largest (very heavy tails, ``Q`` close to 1,
rank-deficient matrices): ask for it then.  ``method="auto"`` uses the Gram
route and redoes a matrix by SVD when its spread ``lambda_max / lambda_min`` is
so large that the Gram route could lose more than about ``1e-10`` relative
accuracy on the smallest eigenvalue.

This is NumPy/SciPy (LAPACK) rather than JAX: on CPU, LAPACK's ``dsyevd`` is the
faster eigensolver (docs/benchmarks.md has the comparison and its command).
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from ..data import as_array, check_choice
from ..errors import DataError
from ..kinds import SINGLE_MATRIX_KINDS, Layout, conv1d_matrices, conv2d_matrices, layer_matrices

# the conv splits live with the kinds and layouts (htsr.kinds); re-exported as htsr.rmt's
__all__ = ["esd", "layer_matrices", "conv2d_matrices", "conv1d_matrices", "layer_esd", "gram_matrix",
           "blocked_esd", "is_blocked", "array_blocks"]

_METHODS = ("gram", "svd", "auto")
_EPS = np.finfo(np.float64).eps
_SMALL = 256  # up to this M, a batch goes through one batched matmul + eigvalsh
_CHUNK_ELEMENTS = 1 << 24  # about 128 MB of float64 per batched chunk
_AUTO_RTOL = 1e-10  # target relative accuracy of the smallest eigenvalue for method="auto"
_BLOCK_BYTES = 1 << 23  # about 8 MB of float64 per block of the Gram route's accumulation


def array_blocks(A: np.ndarray, block_bytes: int = _BLOCK_BYTES):
    """Row blocks of a tall A (N x M), each widened to float64 on its own (C or F order kept).

    A float64 array is one block, itself: there is nothing to widen, and one product
    needs no accumulation."""
    if A.dtype == np.float64:
        yield A
        return
    step = max(1, block_bytes // (8 * A.shape[1]))
    for r in range(0, A.shape[0], step):
        yield A[r:r + step].astype(np.float64, order="K", copy=False)


def gram_matrix(blocks, m: int) -> np.ndarray:
    """``sum_b B_b^T B_b`` (float64, symmetric: both triangles) of blocks ``B_b`` of shape ``(b, m)``.

    Each product is NumPy's ``matmul`` of a block with its own transpose, which calls
    BLAS ``dsyrk`` (half the flops of a general product) and releases the GIL, so the
    report's worker threads form their Grams at the same time (SciPy's ``blas.dsyrk``
    holds the GIL: two threads took as long as one).  Blocks after the first are
    accumulated through one ``m x m`` scratch matrix.
    """
    G = scratch = None
    for B in blocks:
        if not B.size:
            continue
        if G is None:
            G = np.matmul(B.T, B)
            continue
        if scratch is None:
            scratch = np.empty((m, m), dtype=np.float64)
        np.matmul(B.T, B, out=scratch)
        G += scratch
    return np.zeros((m, m), dtype=np.float64) if G is None else G


def _gram_evals(A: np.ndarray) -> np.ndarray:
    """Eigenvalues (ascending) of A^T A for a tall A (N x M, N >= M), in float64."""
    return np.linalg.eigvalsh(gram_matrix(array_blocks(A), A.shape[1]), UPLO="L")


def _svd_evals(A: np.ndarray) -> np.ndarray:
    s = np.linalg.svd(np.asarray(A, dtype=np.float64), compute_uv=False)
    return np.sort(s * s)


def _needs_svd(ev: np.ndarray) -> bool:
    """Whether the Gram route may miss ``_AUTO_RTOL`` on the smallest eigenvalue.

    Its absolute error is a few ``eps * lambda_max`` (about ``10 eps`` measured on
    Gaussian matrices); ``16 eps lambda_max / lambda_min`` bounds the relative one.
    """
    top, low = ev[-1], ev[0]
    if top <= 0:
        return False  # the zero matrix: exact either way
    return low <= 0 or 16.0 * _EPS * top > _AUTO_RTOL * low


def _one(A: np.ndarray, method: str) -> np.ndarray:
    if method == "svd":
        return _svd_evals(A)
    ev = _gram_evals(A)
    if method == "auto" and _needs_svd(ev):
        return _svd_evals(A)
    return np.maximum(ev, 0.0)


def esd(W, *, normalize: bool = True, method: Literal["gram", "svd", "auto"] = "gram") -> np.ndarray:
    """Eigenvalues of ``X = W^T W / N`` (ascending), for one matrix or a batch.

    Parameters
    ----------
    W : array_like, shape (N, M) or (..., N, M)
        Real matrix or stack of matrices (any float dtype; computed in float64).
        If ``N < M`` each matrix is transposed, so the result has
        ``min(N, M)`` eigenvalues per matrix and ``N`` means the larger side.
    normalize : bool
        Divide by ``N`` (default).  ``False`` gives WeightWatcher's convention,
        the squared singular values.
    method : {"gram", "svd", "auto"}
        "gram" (default, fastest), "svd" (accurate for tiny eigenvalues) or
        "auto" (Gram, redone by SVD when needed for ~1e-10 relative accuracy on
        every eigenvalue).  See the module docstring.

    Returns
    -------
    numpy.ndarray
        float64, shape ``(min(N, M),)`` or ``(..., min(N, M))``, ascending.

    Raises
    ------
    DataError
        Not at least 2-D, empty, complex, NaN or inf.
    """
    check_choice(method, "method", _METHODS)
    W = as_array(W, "W", min_ndim=2)
    N, M = W.shape[-2:]
    if N < M:
        W = np.swapaxes(W, -1, -2)
        N, M = M, N
    lead = W.shape[:-2]
    flat = W.reshape((-1, N, M))
    B = flat.shape[0]
    out = np.empty((B, M), dtype=np.float64)
    if method != "svd" and M <= _SMALL and B > 1:
        # many small matrices: one batched matmul + batched eigvalsh per chunk
        step = max(1, _CHUNK_ELEMENTS // (N * M))
        for start in range(0, B, step):
            A = np.asarray(flat[start : start + step], dtype=np.float64)
            out[start : start + step] = np.linalg.eigvalsh(np.matmul(np.swapaxes(A, 1, 2), A))
        if method == "auto":
            for b in range(B):
                if _needs_svd(out[b]):
                    out[b] = _svd_evals(np.asarray(flat[b], dtype=np.float64))
        np.maximum(out, 0.0, out=out)
    else:
        for b in range(B):
            out[b] = _one(flat[b], method)
    if normalize:
        out /= N
    return out.reshape((*lead, M))


# ------------------------------------------------------------------ layers
def layer_esd(weight, kind: str, *, layout: Layout = "pytorch",
              pool: bool = True, normalize: bool = True,
              method: Literal["gram", "svd", "auto"] = "gram") -> np.ndarray:
    """ESD of a layer's weight tensor.

    Each slice from :func:`layer_matrices` gets its own ESD (normalised by its own
    larger side).  With ``pool=True`` (default) they are concatenated and sorted
    into one sample of ``n_slices * min(out, in)`` eigenvalues (WeightWatcher's
    treatment of Conv2D); with ``pool=False`` the result has shape
    ``(n_slices, min(out, in))``, one ESD per slice.

    ``weight`` may also be a matrix read block by block (an object with ``shape`` and
    ``long_blocks()``, see the module docstring): a dense or embedding matrix with the
    Gram route then goes through :func:`blocked_esd`, anything else is read whole
    (``numpy.asarray``).
    """
    check_choice(method, "method", _METHODS)
    if is_blocked(weight) and kind in SINGLE_MATRIX_KINDS and method == "gram" and min(weight.shape) >= 1:
        return blocked_esd(weight, normalize=normalize)
    mats = layer_matrices(weight, kind, layout=layout)
    if min(mats.shape[-2:]) < 1:
        raise DataError(f"{kind} weight of shape {np.shape(weight)} has an empty dimension")
    ev = esd(mats, normalize=normalize, method=method)
    if kind in SINGLE_MATRIX_KINDS:
        return ev[0]
    return np.sort(ev.ravel()) if pool else ev


def is_blocked(weight) -> bool:
    """Whether ``weight`` is a matrix read block by block (``shape`` and ``long_blocks()``, not an array)."""
    return hasattr(weight, "long_blocks") and not isinstance(weight, np.ndarray)


def blocked_esd(matrix, *, normalize: bool = True) -> np.ndarray:
    """ESD of a 2-D matrix read block by block, by the Gram route (same numbers as :func:`esd`).

    Parameters
    ----------
    matrix : object
        Has ``shape`` (2-D) and ``long_blocks()``, yielding float64 blocks ``B_b`` of the
        long side whose ``sum_b B_b^T B_b`` is the smaller Gram matrix (rows of a tall
        matrix; columns of a wide one, transposed), and ``count_nonfinite()`` returning
        ``(n_nan, n_inf)``.  Peak memory: the ``M x M`` Gram matrix and a block or two.
    normalize : bool
        Divide by the larger side ``N`` (default), as :func:`esd`.

    Returns
    -------
    numpy.ndarray
        ``min(shape)`` eigenvalues, float64, ascending, clipped at 0 as :func:`esd`'s.

    Raises
    ------
    DataError
        The matrix holds NaN or inf (counted only when the Gram matrix is not finite).
    numpy.linalg.LinAlgError
        LAPACK did not converge (entries so large that the Gram matrix overflows).
    """
    if len(matrix.shape) != 2 or min(matrix.shape) < 1:
        raise DataError(f"matrix must be 2-D and not empty, got shape {tuple(matrix.shape)}")
    N, M = max(matrix.shape), min(matrix.shape)
    G = gram_matrix(matrix.long_blocks(), M)
    if not np.isfinite(G).all():
        n_nan, n_inf = matrix.count_nonfinite()
        if n_nan or n_inf:
            raise DataError(f"weight contains {n_nan + n_inf} NaN or infinite value(s) out of {N * M}")
    ev = np.maximum(np.linalg.eigvalsh(G, UPLO="L"), 0.0)
    if normalize:
        ev /= N
    return ev
