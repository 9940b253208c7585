"""Eigenvector localization: WeightWatcher 0.7.7's per-vector metrics, on the top eigenvectors only.

For a unit vector ``v`` of length ``M`` (WeightWatcher's ``RMT_Util``):

=======================  ====================================================================
``localization_ratio``   ``||v||_1 / ||v||_inf`` (Martin & Mahoney 2018, arXiv:1810.01075):
                         about ``M sqrt(2/pi) / max|z_i|`` for a Gaussian (delocalized) vector, 1 for a basis vector
``participation_ratio``  ``||v||_2 / ||v||_4``: about ``(M/3)**0.25`` for a Gaussian vector, 1 for a
                         basis vector (the inverse participation ratio to the power -1/4)
``vector_entropy``       WeightWatcher's ``discrete_entropy``, the ``vec_entropy`` of its ``vectors=True``
                         columns: ``|v| - mean|v|`` in a 100-bin density histogram, ``p = (h + 1e-10)``
                         normalized, ``-sum p log p``
=======================  ====================================================================

WeightWatcher takes every eigenvector of ``W^T W`` (a full eigendecomposition) and
reports the means and variances of these over the power-law tail and over the bulk.
:func:`top_vectors` computes only the top ``k`` eigenvectors of the Gram matrix
(LAPACK ``dsyevr`` on an index range: the tridiagonal reduction, then ``k`` vectors
instead of ``M``), from a matrix read whole or block by block.
"""

from __future__ import annotations

import numpy as np

from ..data import as_array, check_int
from .esd import array_blocks, gram_matrix, is_blocked

__all__ = ["localization_ratio", "participation_ratio", "vector_entropy", "top_vectors"]

_EPSILON = 1e-10  # WeightWatcher's EPSILON, added to every histogram bin


def _columns(V) -> np.ndarray:
    V = np.asarray(as_array(V, "V", min_ndim=1, max_ndim=2), dtype=np.float64)
    return V[:, None] if V.ndim == 1 else V


def localization_ratio(V) -> np.ndarray:
    """``||v||_1 / ||v||_inf`` of each column of ``V`` (a vector gives one value)."""
    V = _columns(V)
    return np.abs(V).sum(axis=0) / np.abs(V).max(axis=0)


def participation_ratio(V) -> np.ndarray:
    """``||v||_2 / ||v||_4`` of each column of ``V``."""
    V = _columns(V)
    return np.sqrt(np.sum(V**2, axis=0)) / np.sum(V**4, axis=0) ** 0.25


def vector_entropy(V, bins: int = 100) -> np.ndarray:
    """WeightWatcher's ``discrete_entropy`` of each column of ``V`` (module docstring)."""
    V = _columns(V)
    out = np.empty(V.shape[1])
    for k in range(V.shape[1]):
        a = np.abs(V[:, k])
        h = np.histogram(a - a.mean(), density=True, bins=bins)[0]
        p = (h + _EPSILON) / np.sqrt(2 * np.pi)
        p = p / p.sum()
        out[k] = -np.sum(p * np.log(p))
    return out


def _blocks(A: np.ndarray):
    return [A if A.shape[0] >= A.shape[1] else A.T]


def top_vectors(mats, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` largest eigenvalues of ``A^T A`` (``A`` each matrix, tall) and their eigenvectors.

    Parameters
    ----------
    mats : array_like (n_slices, rows, cols) or (rows, cols), or a matrix read block by block
        (an object with ``shape`` and ``long_blocks()``, as :func:`htsr.rmt.layer_esd` takes).
    k : int
        How many (at most ``min(rows, cols)`` per slice).  With several slices the top ``k``
        over all of them are kept.

    Returns
    -------
    evals : numpy.ndarray, shape (k,)
        Squared singular values, largest first.
    vectors : numpy.ndarray, shape (min(rows, cols), k)
        Unit eigenvectors (right singular vectors of the tall matrix), in the same order.
    """
    from scipy.linalg import eigh

    k = check_int(k, "k", minimum=1)
    if is_blocked(mats):
        M = min(mats.shape)
        grams = [gram_matrix(mats.long_blocks(), M)]
    else:
        W = np.asarray(as_array(mats, "mats", min_ndim=2, max_ndim=3))
        W = W[None] if W.ndim == 2 else W
        M = min(W.shape[1:])
        grams = (gram_matrix(array_blocks(A), M) for s in range(W.shape[0])  # widened block by block:
                 for A in _blocks(W[s]))  # no float64 copy of a float32 matrix
    kk = min(k, M)
    lams, vecs = [], []
    for G in grams:
        lam, V = eigh(G, lower=True, subset_by_index=[M - kk, M - 1], driver="evr")
        lams.append(lam)
        vecs.append(V)
    lam, V = np.concatenate(lams), np.concatenate(vecs, axis=1)
    order = np.argsort(lam)[::-1][:k]
    return np.maximum(lam[order], 0.0), V[:, order]
