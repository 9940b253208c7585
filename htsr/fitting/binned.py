"""Power laws fitted to binned data (Virkar & Clauset, Ann. Appl. Stat. 8:89, 2014).

Data: bin edges ``b_0 < b_1 < ... < b_k`` (``b_0 > 0``; the last may be ``inf``)
and counts ``h_i`` of observations in ``[b_i, b_{i+1})``.  Above a lower bin
edge ``bmin = b_j`` the model is the continuous power law ``p(x) ~ x^-alpha``
restricted to the recorded range ``[bmin, b_k)`` (the plain power law when
``b_k = inf``, the case of Virkar & Clauset), so bin ``i >= j`` has probability

    p_i = (b_i^(1-alpha) - b_{i+1}^(1-alpha)) / (bmin^(1-alpha) - b_k^(1-alpha))

and the log-likelihood of the tail is ``sum_{i >= j} h_i log p_i`` (their eq. 3.2),
written with ``expm1`` so it stays exact for narrow bins and ``alpha -> 1``.

* alpha: maximised numerically (a grid of 200 values of ``alpha - 1`` in
  ``[1e-3, 20]``, log-spaced, then 60 golden-section steps in the bracket of the
  best grid point); standard error from the observed information
  ``(-d^2 l / d alpha^2)^(-1/2)`` (autodiff).
* bmin: every lower bin edge leaving at least ``min_tail`` observations in at least
  two non-empty bins is a candidate; the scan picks the one minimising the binned
  KS distance ``D = max_{i >= j} |S(b_{i+1}) - P(b_{i+1})|`` between the empirical
  and fitted CDFs at the tail's bin edges (Virkar & Clauset section 3.2).

The kernel :func:`refit_binned` fits a batch of histograms (rows of counts on one
set of edges) with every candidate ``bmin`` in one ``vmap``: :func:`fit_binned`
calls it with one row, :func:`htsr.gof_binned` with the synthetic histograms.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from .. import _jax
from ..data import check_int, check_number
from ..errors import DataError, FitError

__all__ = ["BinnedFit", "as_histogram", "bin_probabilities", "fit_binned", "refit_binned"]

_GRID = 200
_GOLDEN = 60
_G_LO, _G_HI = 1e-3, 20.0


def as_histogram(edges, counts) -> tuple[np.ndarray, np.ndarray]:
    """Validated ``(edges, counts)``: float64 edges, positive, strictly increasing (last may be inf);
    non-negative integer counts, one fewer than the edges."""
    e = np.asarray(edges, dtype=np.float64)
    c = np.asarray(counts, dtype=np.float64)
    if e.ndim != 1 or c.ndim != 1 or e.size != c.size + 1:
        raise DataError(f"edges and counts must be 1-D with len(edges) == len(counts) + 1, got "
                        f"{e.shape} and {c.shape}")
    if c.size < 2:
        raise DataError(f"binned data need at least 2 bins, got {c.size}")
    if not np.all(np.isfinite(e[:-1])) or np.isnan(e[-1]) or e[0] <= 0:
        raise DataError("bin edges must be finite and positive (the last may be inf)")
    if np.any(np.diff(e) <= 0):
        raise DataError(f"bin edges must increase strictly; {int(np.sum(np.diff(e) <= 0))} do not")
    if not np.all(np.isfinite(c)) or np.any(c < 0) or np.any(c != np.round(c)):
        raise DataError("counts must be non-negative integers")
    return e, c


def _log_probs(g, logb, j):
    """log p_i for every bin (meaningful for i >= j) at alpha = 1 + g, bmin = b_j."""
    umin = logb[j]
    d = logb[1:] - logb[:-1]
    open_top = jnp.isinf(logb[-1])  # an open top bin: b_k^(1-alpha) = 0, no truncation
    d = jnp.where(jnp.isinf(d), 1.0, d)  # finite stand-ins keep the derivatives finite
    span = jnp.where(open_top, 1.0, logb[-1] - umin)
    top = jnp.where(open_top, 0.0, -jnp.log(-jnp.expm1(-g * span)))
    width = jnp.where(open_top & (jnp.arange(d.shape[0]) == d.shape[0] - 1), 0.0, jnp.log(-jnp.expm1(-g * d)))
    return -g * (logb[:-1] - umin) + width + top


def bin_probabilities(alpha: float, edges, bmin: float) -> np.ndarray:
    """The fitted law's probability of each bin at and above ``bmin`` (0 below): ``p_i`` of the module doc."""
    e = np.asarray(edges, dtype=np.float64)
    j = int(np.flatnonzero(e[:-1] == bmin)[0])
    with _jax.x64():
        lp = np.asarray(_log_probs(jnp.asarray(alpha - 1.0), jnp.log(jnp.asarray(e)), j))
    return np.where(np.arange(e.size - 1) >= j, np.exp(lp), 0.0)


def _loglik(g, logb, h, tail, j):
    return jnp.sum(jnp.where(tail, h * _log_probs(g, logb, j), 0.0))


def _fit_at(logb, h, j, allowed, min_tail):
    """MLE, SE, KS distance and validity of bmin = b_j for one histogram."""
    k = h.shape[0]
    tail = jnp.arange(k) >= j
    n_tail = jnp.sum(jnp.where(tail, h, 0.0))
    nonempty = jnp.sum(tail & (h > 0))
    ok = allowed & (n_tail >= min_tail) & (nonempty >= 2)
    grid = jnp.geomspace(_G_LO, _G_HI, _GRID)
    ll = jax.vmap(lambda g: _loglik(g, logb, h, tail, j))(grid)
    m = jnp.argmax(jnp.where(jnp.isfinite(ll), ll, -jnp.inf))
    lo, hi = grid[jnp.maximum(m - 1, 0)], grid[jnp.minimum(m + 1, _GRID - 1)]
    r = (jnp.sqrt(5.0) - 1.0) / 2.0

    def step(_, ab):
        a, b = ab
        c, d = b - r * (b - a), a + r * (b - a)
        left = _loglik(c, logb, h, tail, j) >= _loglik(d, logb, h, tail, j)
        return jnp.where(left, a, c), jnp.where(left, d, b)

    a, b = jax.lax.fori_loop(0, _GOLDEN, step, (lo, hi))
    g = 0.5 * (a + b)
    loglik = _loglik(g, logb, h, tail, j)
    info = -jax.grad(jax.grad(_loglik))(g, logb, h, tail, j)
    se = jnp.where(info > 0, 1.0 / jnp.sqrt(jnp.abs(info)), jnp.nan)
    p = jnp.where(tail, jnp.exp(_log_probs(g, logb, j)), 0.0)
    emp = jnp.cumsum(jnp.where(tail, h, 0.0)) / jnp.maximum(n_tail, 1.0)
    D = jnp.max(jnp.where(tail, jnp.abs(emp - jnp.cumsum(p)), 0.0))
    return 1.0 + g, se, jnp.where(ok, D, jnp.inf), loglik, n_tail


@functools.cache
def _kernel():
    def one(logb, h, allowed, min_tail):
        js = jnp.arange(h.shape[0])
        alpha, se, D, ll, nt = jax.vmap(lambda j, a: _fit_at(logb, h, j, a, min_tail))(js, allowed)
        best = jnp.argmin(D)
        return alpha[best], se[best], D[best], ll[best], nt[best], best, D

    return jax.jit(jax.vmap(one, in_axes=(None, 0, None, None)))


def refit_binned(edges, H, allowed, min_tail: int = 10):
    """Fit every histogram row of ``H`` (R, k) on ``edges``: the binned engine's one refit path.

    ``allowed`` (k,) bool marks the lower edges that may be bmin (one ``True`` for a fixed
    bmin).  Returns NumPy arrays ``(alpha, se, D, loglik, n_tail, j, D_curve)``: per row the
    best candidate's values, its bin index ``j`` (``bmin = edges[j]``) and the (R, k) KS
    distance of every candidate (``inf`` where not a candidate).
    """
    with _jax.x64():
        logb = jnp.log(jnp.asarray(edges, dtype=jnp.float64))
        out = _kernel()(logb, jnp.asarray(H, dtype=jnp.float64), jnp.asarray(allowed, dtype=bool),
                        jnp.asarray(float(min_tail)))
        return tuple(np.asarray(a) for a in out)


@dataclass(frozen=True)
class BinnedFit:
    """A power law fitted to binned data (Virkar & Clauset 2014).

    Attributes
    ----------
    alpha, se : exponent and its standard error (observed information)
    bmin : the lower bin edge where the tail starts
    D : binned KS distance of the fit
    n_tail, n : observations at and above bmin; in all bins
    loglik : log-likelihood of the tail's counts
    edges, counts : the data
    D_curve : KS distance of every lower edge (``inf``: not a candidate)
    scanned : bmin was chosen by the scan
    min_tail : the fewest tail observations a candidate needed
    """

    alpha: float
    se: float
    bmin: float
    D: float
    n_tail: int
    n: int
    loglik: float
    edges: np.ndarray
    counts: np.ndarray
    D_curve: np.ndarray
    scanned: bool
    min_tail: int

    def to_dict(self) -> dict:
        return {"alpha": self.alpha, "se": self.se, "bmin": self.bmin, "D": self.D, "n_tail": self.n_tail,
                "n": self.n, "loglik": self.loglik, "scanned": self.scanned, "min_tail": self.min_tail,
                "edges": self.edges.tolist(), "counts": self.counts.astype(int).tolist(),
                "D_curve": [None if not np.isfinite(d) else float(d) for d in self.D_curve]}

    def __repr__(self) -> str:
        return (f"BinnedFit(alpha={self.alpha:.4g} ± {self.se:.2g}, bmin={self.bmin:.4g}, D={self.D:.4g}, "
                f"n_tail={self.n_tail}/{self.n}, {'scanned' if self.scanned else 'fixed bmin'})")


def _allowed(edges, bmin) -> np.ndarray:
    k = edges.size - 1
    if isinstance(bmin, str):
        if bmin != "scan":
            raise FitError(f"bmin must be 'scan' or a lower bin edge, got {bmin!r}")
        return np.ones(k, dtype=bool)
    b = check_number(bmin, "bmin", positive=True, error=FitError)
    hit = np.flatnonzero(edges[:-1] == b)
    if hit.size == 0:
        raise FitError(f"bmin={b:g} is not a lower bin edge (edges {edges[0]:g} .. {edges[-2]:g})")
    return np.arange(k) == hit[0]


def fit_binned(edges, counts, *, bmin="scan", min_tail: int = 10) -> BinnedFit:
    """Fit a power law to a histogram: binned MLE of alpha and the bin-edge bmin scan.

    Parameters
    ----------
    edges : array_like, (k + 1,)
        Bin edges, positive and increasing; the last may be ``inf`` (an open top bin).
    counts : array_like, (k,)
        Observations per bin ``[edges[i], edges[i+1])``.
    bmin : ``"scan"`` or float
        ``"scan"``: the lower edge minimising the binned KS distance; a number: that
        lower edge (it must be one).
    min_tail : int
        Fewest observations a candidate tail must hold (default 10).

    Returns
    -------
    BinnedFit

    References
    ----------
    Virkar, Y. & Clauset, A. (2014). Power-law distributions in binned empirical data.
    Ann. Appl. Stat. 8(1), 89-119.
    """
    e, c = as_histogram(edges, counts)
    min_tail = check_int(min_tail, "min_tail", minimum=1, error=FitError)
    allowed = _allowed(e, bmin)
    alpha, se, D, ll, nt, j, curve = refit_binned(e, c[None, :], allowed, min_tail)
    if not np.isfinite(D[0]):
        raise FitError(f"no bmin leaves {min_tail} observations in two non-empty bins"
                       + ("" if isinstance(bmin, str) else f" at bmin={float(bmin):g}"))
    return BinnedFit(float(alpha[0]), float(se[0]), float(e[int(j[0])]), float(D[0]), int(nt[0]),
                     int(c.sum()), float(ll[0]), e, c, curve[0], isinstance(bmin, str), min_tail)
