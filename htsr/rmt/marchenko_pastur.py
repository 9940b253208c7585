"""The Marchenko-Pastur law, and its fit to an empirical spectral density.

For ``W`` (``N x M``, ``N >= M``) with i.i.d. entries of mean 0 and variance
``sigma2``, the ESD of ``X = W^T W / N`` tends, as ``N, M -> inf`` with
``Q = N / M >= 1`` fixed, to the Marchenko-Pastur density

    rho(x) = Q / (2 pi sigma2 x) * sqrt((lambda_+ - x)(x - lambda_-)),
    lambda_+- = sigma2 (1 +- Q**-0.5)**2,

on ``[lambda_-, lambda_+]`` (no atom at 0 since ``Q >= 1``).  Its CDF has the
closed form used by :func:`mp_cdf` (with ``a, b = lambda_-, lambda_+``,
``R = sqrt((b - x)(x - a))``):

    F(x) = Q / (2 pi sigma2) * [ R + (a + b)/2 * (arcsin((2x - a - b)/(b - a)) + pi/2)
                                 - sqrt(a b) * (arcsin(((a + b) x - 2 a b)/(x (b - a))) + pi/2) ],

which is exactly 1 at ``b``.  Quantiles invert it by bisection to machine
precision.  All functions here are NumPy (closed forms, no kernels to compile).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..data import as_array, check_interval, check_level, check_number, check_ratio
from ..errors import DataError, HtsrError
from .tracy_widom import tw1_quantile, wishart_edge

__all__ = ["mp_pdf", "mp_cdf", "mp_quantile", "mp_edges", "fit_mp", "MPFit", "soft_rank"]


def mp_edges(Q: float, sigma2: float = 1.0) -> tuple[float, float]:
    """Bulk edges ``(lambda_-, lambda_+) = sigma2 (1 -+ Q**-0.5)**2`` for ``Q >= 1``."""
    Q, sigma2 = check_ratio(Q), check_number(sigma2, "sigma2", positive=True)
    r = Q**-0.5
    return sigma2 * (1.0 - r) ** 2, sigma2 * (1.0 + r) ** 2


def mp_pdf(x, Q: float, sigma2: float = 1.0) -> np.ndarray | float:
    """Marchenko-Pastur density at ``x`` (0 outside the bulk; +inf at x = 0 when Q = 1)."""
    a, b = mp_edges(Q, sigma2)
    x = np.asarray(as_array(x, "x"), dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        inside = (x > a) & (x < b)
        xc = np.where(inside, x, (a + b) / 2.0)
        val = Q / (2.0 * np.pi * sigma2 * xc) * np.sqrt((b - xc) * (xc - a))
        out = np.where(inside, val, 0.0)
        if a == 0.0:
            out = np.where(x == 0.0, np.inf, out)
    return float(out) if out.ndim == 0 else out


def _cdf(x: np.ndarray, Q: float, sigma2: float) -> np.ndarray:
    a, b = mp_edges(Q, sigma2)
    xc = np.clip(x, a, b)
    xs = np.maximum(xc, np.finfo(np.float64).tiny)
    R = np.sqrt(np.maximum((b - xc) * (xc - a), 0.0))
    t1 = (a + b) / 2.0 * (np.arcsin(np.clip((2.0 * xc - a - b) / (b - a), -1.0, 1.0)) + np.pi / 2.0)
    t2 = np.sqrt(a * b) * (np.arcsin(np.clip(((a + b) * xs - 2.0 * a * b) / (xs * (b - a)), -1.0, 1.0)) + np.pi / 2.0)
    F = Q / (2.0 * np.pi * sigma2) * (R + t1 - t2)
    return np.clip(np.where(x >= b, 1.0, np.where(x <= a, 0.0, F)), 0.0, 1.0)


def mp_cdf(x, Q: float, sigma2: float = 1.0) -> np.ndarray | float:
    """Marchenko-Pastur distribution function (closed form, see module docstring)."""
    Q, sigma2 = check_ratio(Q), check_number(sigma2, "sigma2", positive=True)
    x = np.asarray(as_array(x, "x"), dtype=np.float64)
    out = _cdf(x, Q, sigma2)
    return float(out) if out.ndim == 0 else out


def mp_quantile(p, Q: float, sigma2: float = 1.0) -> np.ndarray | float:
    """Inverse of :func:`mp_cdf` for ``0 <= p <= 1`` (bisection to machine precision)."""
    Q, sigma2 = check_ratio(Q), check_number(sigma2, "sigma2", positive=True)
    p = np.asarray(as_array(p, "p"), dtype=np.float64)
    if np.any((p < 0) | (p > 1)):
        raise HtsrError("p must lie in [0, 1]")
    a, b = mp_edges(Q, sigma2)
    lo, hi = np.full(p.shape, a), np.full(p.shape, b)
    for _ in range(64):
        mid = (lo + hi) / 2.0
        below = _cdf(mid, Q, sigma2) < p
        lo, hi = np.where(below, mid, lo), np.where(below, hi, mid)
    out = (lo + hi) / 2.0
    return float(out) if out.ndim == 0 else out


def soft_rank(evals, Q: float, sigma2: float) -> float:
    """MP soft rank ``lambda_+ / lambda_max``: near 1 for noise, small for a strong top eigenvalue."""
    ev = as_array(evals, "evals", min_ndim=1, max_ndim=1)
    top = float(np.max(ev))
    if top <= 0:
        raise DataError("evals has no positive eigenvalue")
    return mp_edges(Q, sigma2)[1] / top


@dataclass(frozen=True, repr=False)
class MPFit:
    """A Marchenko-Pastur bulk fitted to an ESD, and what lies above it.

    Attributes
    ----------
    sigma2 : float
        Fitted (or given) element variance, in the units of the eigenvalues.
    Q : float
        Aspect ratio N/M used.
    M, N : int
        Number of eigenvalues, and ``N = round(Q M)``.
    lambda_minus, lambda_plus : float
        MP bulk edges for ``sigma2``.
    threshold : float
        ``lambda_+`` plus the Tracy-Widom margin: Johnstone's edge location plus
        ``F1^{-1}(confidence)`` times its scale (:func:`htsr.rmt.wishart_edge`).
    confidence : float
        TW level of the threshold; pure noise exceeds it with probability ``1 - confidence``.
    n_spikes : int
        Eigenvalues above ``threshold``.
    n_above_edge : int
        Eigenvalues above ``lambda_plus`` (no margin).
    soft_rank : float
        ``lambda_plus / lambda_max``.
    ks_bulk : float
        KS distance between the ESD and MP(Q, sigma2), over eigenvalues <= threshold.
    """

    sigma2: float
    Q: float
    M: int
    N: int
    lambda_minus: float
    lambda_plus: float
    threshold: float
    confidence: float
    n_spikes: int
    n_above_edge: int
    soft_rank: float
    ks_bulk: float

    def to_dict(self) -> dict:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}

    def __repr__(self) -> str:
        return (
            f"MPFit(sigma2={self.sigma2:.6g}, Q={self.Q:.4g}, M={self.M}, "
            f"edges=[{self.lambda_minus:.4g}, {self.lambda_plus:.4g}], threshold={self.threshold:.4g}, "
            f"n_spikes={self.n_spikes}, soft_rank={self.soft_rank:.4g}, ks_bulk={self.ks_bulk:.4f})"
        )


def _fit_sigma2(ev: np.ndarray, Q: float, p_range: tuple[float, float]) -> float:
    """Least squares of sorted eigenvalues on MP(Q, 1) quantiles over the quantile levels p_range.

    MP quantiles scale with sigma2, so the fit is ``sum(l q) / sum(q q)``.  Only
    the lower part of the spectrum is used: spikes and a heavy tail live at the
    top, and up to ``1 - p_range[1]`` of the eigenvalues may be contaminated.
    """
    M = ev.size
    p = (np.arange(M) + 0.5) / M
    use = (p >= p_range[0]) & (p <= p_range[1])
    if use.sum() < 2:
        raise DataError(f"too few eigenvalues ({M}) to fit sigma2 on quantiles {p_range}")
    q = mp_quantile(p[use], Q, 1.0)
    return float(np.dot(ev[use], q) / np.dot(q, q))


def fit_mp(evals, Q: float, *, sigma2: float | None = None, confidence: float = 0.99,
           p_range: tuple[float, float] = (0.05, 0.5)) -> MPFit:
    """Fit the Marchenko-Pastur bulk to an ESD and count the eigenvalues above it.

    Parameters
    ----------
    evals : array_like, 1-D
        Eigenvalues of ``X = W^T W / N`` (or WeightWatcher's unnormalised ones:
        everything here is scale-equivariant, so ``sigma2`` comes out ``N`` times larger).
    Q : float
        Aspect ratio ``N / M >= 1`` of the matrix; ``M = len(evals)``.
    sigma2 : float, optional
        Known element variance; if given nothing is fitted.
    confidence : float
        Tracy-Widom level of the spike threshold (default 0.99).
    p_range : (float, float)
        Quantile levels of the ESD used to fit sigma2 (robust to whatever lies above p_range[1]).

    Returns
    -------
    MPFit
    """
    Q = check_ratio(Q)
    ev = np.sort(np.asarray(as_array(evals, "evals", min_ndim=1, max_ndim=1), dtype=np.float64))
    if ev.size < 2:
        raise DataError(f"need at least 2 eigenvalues, got {ev.size}")
    if ev[-1] <= 0:
        raise DataError("evals has no positive eigenvalue")
    confidence = check_level(confidence, "confidence")
    lo, hi = check_interval(p_range, "p_range")
    if not 0.0 <= lo < hi <= 1.0:
        raise HtsrError(f"p_range must satisfy 0 <= low < high <= 1, got {p_range!r}")
    if sigma2 is None:
        sigma2 = _fit_sigma2(ev, Q, (lo, hi))
        if not sigma2 > 0:
            raise DataError("fitted sigma2 is not positive (are the eigenvalues mostly zero?)")
    sigma2 = check_number(sigma2, "sigma2", positive=True)
    M = ev.size
    N = max(int(round(Q * M)), M)
    a, b = mp_edges(Q, sigma2)
    edge = wishart_edge(M, max(N, 2), sigma2)
    threshold = max(edge.center + edge.scale * float(tw1_quantile(confidence)), b)
    bulk = ev[ev <= threshold]
    F = _cdf(bulk, Q, sigma2)
    i = np.arange(bulk.size)
    ks = float(max(np.max(F - i / M), np.max((i + 1) / M - F))) if bulk.size else 1.0
    return MPFit(
        sigma2=sigma2, Q=Q, M=M, N=N, lambda_minus=a, lambda_plus=b, threshold=float(threshold),
        confidence=float(confidence), n_spikes=int(np.sum(ev > threshold)),
        n_above_edge=int(np.sum(ev > b)), soft_rank=b / float(ev[-1]), ks_bulk=ks,
    )
