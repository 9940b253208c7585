"""The one fixed-range fit: alpha, sigma and D of padded tails whose ends are given.

Every fit with the range known goes through :func:`fit_range`: the final
alpha of a scanned fit (its selected tail), a fit with xmin fixed, the
fixed-range refits of the bootstrap and the goodness-of-fit test, and the
range search.  The laws' own estimators do the work
(:mod:`htsr.models.powerlaw`, :mod:`htsr.models.bounded`).

Conditioning on the tail's extremes
-----------------------------------
When xmax is estimated as the tail's largest point, the continuous bounded
MLE is taken given that point (from the others), which removes the bias of
the joint MLE; when xmin is also the tail's smallest point (a scanned xmin),
given that one too.  ``given`` says how many extremes the fit conditions on
(0, 1 or 2); the MLE, its standard error and the bias correction then use
``n_tail - given`` points.  D always compares every point of the tail.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import numpy as np

from .. import _jax
from ..models import bounded as bd
from ..models import powerlaw as pl
from . import bounded_kernels as BK
from .scan import unique_rows

__all__ = ["RangeFit", "fit_range"]

_EPS = 1e-15  # the mean log-ratio of a bounded tail is kept inside (0, r)

# Compiled once per bucketed batch size: called eagerly, the loops inside the
# discrete estimators would be retraced and recompiled on every call.
_discrete_mle = jax.jit(pl.discrete_mle)
_discrete_grid_mle = jax.jit(pl.discrete_grid_mle)
_discrete_sigma = jax.jit(pl.discrete_sigma)


class RangeFit(NamedTuple):
    """Fits with both ends of the tail fixed, arrays of shape (B,).

    alpha : the estimate (``estimator``); sigma : Fisher standard error; D : KS
    distance at the MLE (``plfit.m`` convention; NaN unless asked for); n_tail :
    points in the range.
    """

    alpha: np.ndarray
    sigma: np.ndarray
    D: np.ndarray
    n_tail: np.ndarray


def _per_row(fn, *vectors):
    """``fn`` on (B,) vectors padded to a bucket length: one compilation per bucket, not per B."""
    B = len(vectors[0])
    W = _jax.bucket(B)
    return np.asarray(fn(*(_jax.pad_batch(np.asarray(v)[None, :], [B], width=W)[0] for v in vectors)))[:B]


def fit_range(tails: _jax.Padded, xmin, xmax=None, *, discrete: bool = False, estimator: str = "mle",
              given: int = 0, alpha_grid=None, with_D: bool = True) -> RangeFit:
    """Fit alpha with the range fixed, for a batch of tails given as a padded array.

    Parameters
    ----------
    tails : Padded
        Row ``b`` sorted ascending; its ``counts[b]`` real entries lie in
        ``[xmin[b], xmax[b]]`` (>= 2 of them, with two distinct values).
    xmin, xmax : (B,) or scalar
        Ends of the range.  ``xmax=None`` fits the unbounded power law.
    discrete : bool
        Discrete laws (integer data, integer ends).
    estimator : {"mle", "unbiased"}
        ``"unbiased"`` (continuous only) reports the first-order bias-corrected
        alpha: ``1 + (n-1)/sum ln(x/xmin)`` unbounded (sigma then at that
        alpha), :func:`htsr.models.bounded.continuous_bias` bounded (sigma at
        the MLE).  D is that of the MLE.
    given : {0, 1, 2}
        Continuous bounded only: how many of the tail's extremes the MLE is
        conditioned on (module docstring).
    alpha_grid : None or sequence
        Discrete unbounded only: alpha maximised over this grid (``plfit.m``).
    with_D : bool
        Compute D (the scan, which has its own, skips it).
    """
    x = np.asarray(tails.x, dtype=np.float64)
    n = np.asarray(tails.counts, dtype=np.int64)
    B, W = x.shape
    xmin = np.broadcast_to(np.asarray(xmin, dtype=np.float64), (B,)).copy()
    bounded = xmax is not None
    if bounded:
        xmax = np.broadcast_to(np.asarray(xmax, dtype=np.float64), (B,)).copy()
    pos = np.arange(W)[None, :]
    valid = pos < n[:, None]
    nt = n.astype(np.float64)
    unbiased = estimator == "unbiased" and not discrete
    with _jax.x64(), np.errstate(divide="ignore", invalid="ignore"):
        if discrete:
            mean = np.sum(np.where(valid, np.log(x), 0.0), axis=1) / nt
            if bounded:
                alpha = _per_row(bd.discrete_mle, mean, xmin, xmax)
                sigma = _per_row(bd.discrete_sigma, alpha, xmin, xmax, nt)
            else:
                alpha = _per_row(_discrete_mle, mean, xmin)
                if alpha_grid is not None:
                    grid = np.asarray(alpha_grid, dtype=np.float64)
                    alpha = _per_row(lambda a, m, lo: _discrete_grid_mle(a, m, lo, grid), alpha, mean, xmin)
                sigma = _per_row(_discrete_sigma, alpha, xmin, nt)
            mle = alpha
        else:
            use = valid & (pos >= (1 if given == 2 else 0)) & (pos < (n - (1 if given else 0))[:, None])
            ratio = np.zeros_like(x)  # ln(x / xmin) where used, 0 elsewhere: one (B, W) buffer
            np.divide(x, xmin[:, None], out=ratio, where=use)
            s = np.sum(np.log(ratio, out=ratio, where=use), axis=1)
            if bounded:
                n_eff = nt - given
                r = np.log(xmax / xmin)
                mle = _per_row(bd.continuous_mle, np.clip(s / n_eff, _EPS * r, (1.0 - _EPS) * r), r)
                sigma = _per_row(bd.continuous_sigma, mle, r, n_eff)
                alpha = mle - _per_row(bd.continuous_bias, mle, r, n_eff) if unbiased else mle
            else:
                mle = np.asarray(pl.continuous_mle(s, nt))
                alpha = np.asarray(pl.continuous_mle(s, nt, unbiased=unbiased))
                sigma = np.asarray(pl.continuous_sigma(alpha, nt))
        D = np.full(B, np.nan)
        if with_D:
            if discrete:
                u, c, nu = unique_rows(x, n, first=xmin)
                D = np.asarray(BK.discrete_range_d(u, c, nu, mle, xmin, xmax if bounded else xmin, bounded=bounded))
            else:
                lxmin = np.log(xmin)
                D = np.asarray(BK.continuous_range_d(x, n, lxmin, np.log(xmax) if bounded else lxmin, mle,
                                                     bounded=bounded))
    return RangeFit(alpha, sigma, D, n)
