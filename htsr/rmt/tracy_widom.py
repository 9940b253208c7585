"""The Tracy-Widom distribution for beta = 1 (real matrices), and the Wishart edge.

CDF by Bornemann's method
-------------------------
``F1(s) = det(I - K_s)`` on ``L^2(s, inf)`` with the kernel
``K_s(x, y) = Ai((x + y) / 2) / 2`` (Ferrari & Spohn 2005; Bornemann 2010,
"On the numerical evaluation of distributions in random matrix theory",
Markov Process. Related Fields 16).  The operator is discretised with an
``m``-point Gauss-Legendre rule on ``[s, max(s, 0) + 16]`` (``Ai`` is below
``1e-17`` beyond the cut) and the determinant of the ``m x m`` matrix
``I - sqrt(w_i) K(x_i, x_j) sqrt(w_j)`` is taken with LAPACK.  The
convergence is exponential in ``m``: with the default ``m = 96`` the CDF agrees
with ``m = 192`` to 3e-14 (absolute) on ``[-9, 12]``, and the moments integrated
from it reproduce the published mean -1.2065335745820 to 2e-12 and variance
1.607781034581 to 2e-11 (Bornemann 2010, Table 4).  The accuracy is absolute:
``1 - F1(s)`` is resolved down to about 1e-13.  Below
``s = -9`` the CDF is under 1e-13 and is returned as computed; quantiles are
solved to ``1e-12`` in ``s`` by bracketing (Brent).

Largest eigenvalue of a white Wishart matrix (Johnstone 2001)
--------------------------------------------------------------
For ``W`` with ``N x M`` i.i.d. ``Normal(0, sigma**2)`` entries, the largest
eigenvalue ``l1`` of ``W^T W`` satisfies ``(l1 / sigma**2 - mu_NM) / s_NM -> TW1``
with ``mu_NM = (sqrt(N - 1) + sqrt(M))**2`` and
``s_NM = (sqrt(N - 1) + sqrt(M)) (1/sqrt(N - 1) + 1/sqrt(M))**(1/3)``
(I. M. Johnstone, Ann. Statist. 29, 2001, Theorem 1.1).  For ``X = W^T W / N``
both are divided by ``N``: :func:`wishart_edge`.
"""

from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple

import numpy as np
from scipy.special import airy

from ..data import as_array, check_int, check_number
from ..errors import HtsrError

__all__ = ["tw1_cdf", "tw1_sf", "tw1_quantile", "wishart_edge", "WishartEdge"]

_M_DEFAULT = 96
_CUT = 16.0
_LOW, _HIGH = -12.0, 14.0  # bracket for quantiles: F1(-12) ~ 1e-31, 1 - F1(14) ~ 1e-16
_CHUNK = 64


@lru_cache(maxsize=4)
def _legendre(m: int):
    return np.polynomial.legendre.leggauss(m)


def _det(s: np.ndarray, m: int, complement: bool) -> np.ndarray:
    """det(I - K_s) for each s (or 1 - det for complement=True)."""
    u, w = _legendre(m)
    out = np.empty(s.shape, dtype=np.float64)
    flat_s, flat_out = s.ravel(), out.ravel()
    eye = np.eye(m)
    for start in range(0, flat_s.size, _CHUNK):
        a = flat_s[start : start + _CHUNK, None]
        b = np.maximum(a, 0.0) + _CUT
        half = (b - a) / 2.0
        x = half * u + (a + b) / 2.0  # (c, m) nodes
        sw = np.sqrt(half * w)  # (c, m) square roots of weights
        K = 0.5 * airy((x[:, :, None] + x[:, None, :]) / 2.0)[0]
        K *= sw[:, :, None] * sw[:, None, :]
        d = np.linalg.det(eye - K)
        flat_out[start : start + _CHUNK] = d
    if complement:
        out = 1.0 - out
    return np.clip(out, 0.0, 1.0)


def tw1_cdf(s, *, m: int = _M_DEFAULT) -> np.ndarray | float:
    """Tracy-Widom (beta = 1) distribution function ``F1(s)``.

    Parameters
    ----------
    s : array_like
        Points at which to evaluate.
    m : int
        Quadrature nodes (absolute accuracy ~3e-14 at the default 96; see module docstring).
    """
    arr = as_array(s, "s")
    out = _det(np.asarray(arr, dtype=np.float64), int(m), complement=False)
    return float(out) if out.ndim == 0 else out


def tw1_sf(s, *, m: int = _M_DEFAULT) -> np.ndarray | float:
    """Survival function ``1 - F1(s)`` (absolute accuracy ~3e-14)."""
    arr = as_array(s, "s")
    out = _det(np.asarray(arr, dtype=np.float64), int(m), complement=True)
    return float(out) if out.ndim == 0 else out


def tw1_quantile(p, *, m: int = _M_DEFAULT) -> np.ndarray | float:
    """Quantile ``F1^{-1}(p)`` for ``0 < p < 1`` (solved to 1e-12).

    Reference values: p = 0.90, 0.95, 0.99 give 0.4501, 0.9793, 2.0234
    (Johnstone 2001, Table 1: 0.45, 0.98, 2.02).
    """
    arr = np.asarray(as_array(p, "p"), dtype=np.float64)
    if np.any((arr <= 0) | (arr >= 1)):
        raise HtsrError("p must lie strictly between 0 and 1")
    out = np.vectorize(lambda q: _quantile(float(q), int(m)), otypes=[np.float64])(arr)
    return float(out) if out.ndim == 0 else out


@lru_cache(maxsize=256)
def _quantile(q: float, m: int) -> float:
    from scipy.optimize import brentq  # scipy.optimize loads scipy.linalg: keep it out of `import htsr`

    if q > 0.5:  # solve on the survival function for accuracy in the right tail
        return brentq(lambda t: float(_det(np.array([t]), m, True)[0]) - (1.0 - q), _LOW, _HIGH, xtol=1e-12)
    return brentq(lambda t: float(_det(np.array([t]), m, False)[0]) - q, _LOW, _HIGH, xtol=1e-12)


class WishartEdge(NamedTuple):
    """Location and scale of the largest eigenvalue of ``X = W^T W / N`` (Johnstone 2001).

    Attributes
    ----------
    center : ``sigma2 * (sqrt(N - 1) + sqrt(M))**2 / N``
    scale : ``sigma2 * (sqrt(N - 1) + sqrt(M)) * (1/sqrt(N - 1) + 1/sqrt(M))**(1/3) / N``
    """

    center: float
    scale: float

    def threshold(self, confidence: float = 0.99) -> float:
        """``center + scale * F1^{-1}(confidence)``: exceeded by pure noise with probability ``1 - confidence``."""
        return self.center + self.scale * tw1_quantile(confidence)


def wishart_edge(M: int, N: int, sigma2: float = 1.0) -> WishartEdge:
    """Johnstone's centering and scaling of the top eigenvalue of ``X = W^T W / N``.

    ``W`` is ``N x M`` with i.i.d. ``Normal(0, sigma2)`` entries and ``N >= M``.
    """
    M, N = check_int(M, "M", minimum=1), check_int(N, "N", minimum=2)
    if N < M:
        raise HtsrError(f"N must be >= M, got N={N}, M={M}")
    sigma2 = check_number(sigma2, "sigma2", positive=True)
    a, b = np.sqrt(N - 1.0), np.sqrt(float(M))
    center = (a + b) ** 2
    scale = (a + b) * (1.0 / a + 1.0 / b) ** (1.0 / 3.0)
    return WishartEdge(sigma2 * center / N, sigma2 * scale / N)
