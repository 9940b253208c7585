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
``method="gram"`` (default) forms the smaller Gram matrix in float64 with one BLAS
``dsyrk`` call (half the flops of a matmul) and takes its eigenvalues with
LAPACK's divide-and-conquer ``dsyevd``.  It is several times faster than an
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
__all__ = ["esd", "layer_matrices", "conv2d_matrices", "conv1d_matrices", "layer_esd"]

_METHODS = ("gram", "svd", "auto")
_EPS = np.finfo(np.float64).eps
_SMALL = 256  # up to this M, a batch goes through one batched matmul + eigvalsh
_CHUNK_ELEMENTS = 1 << 24  # about 128 MB of float64 per batched chunk
_AUTO_RTOL = 1e-10  # target relative accuracy of the smallest eigenvalue for method="auto"


def _gram_evals(A: np.ndarray) -> np.ndarray:
    """Eigenvalues (ascending) of A^T A for a tall A (N x M, N >= M), in float64."""
    from scipy.linalg import blas  # imported here: scipy.linalg is slow to import, and `import htsr` stays cheap

    A = A.astype(np.float64, order="K", copy=False)  # keeps C or F order: no transposing copy
    if A.flags.f_contiguous:  # e.g. the transpose of a C-ordered wide matrix
        G = blas.dsyrk(1.0, A, trans=1, lower=1)
    else:  # A^T A = (A^T)(A^T)^T with A^T F-contiguous
        G = blas.dsyrk(1.0, np.ascontiguousarray(A).T, trans=0, lower=1)
    return np.linalg.eigvalsh(G, UPLO="L")


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
    """
    mats = layer_matrices(weight, kind, layout=layout)
    if min(mats.shape[-2:]) < 1:
        raise DataError(f"{kind} weight of shape {np.shape(weight)} has an empty dimension")
    ev = esd(mats, normalize=normalize, method=method)
    if kind in SINGLE_MATRIX_KINDS:
        return ev[0]
    return np.sort(ev.ravel()) if pool else ev
