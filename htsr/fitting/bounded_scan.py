"""Host side of the bounded fits: the pruned xmin scan, and fits with a fixed range.

:func:`scan_bounded_continuous` and :func:`scan_bounded_discrete` drive the
kernels of :mod:`htsr.fitting.bounded_kernels` through the same pruning loop
as the unbounded scan (:func:`htsr.fitting.prune.prune_loop`), so the selected
xmin is the exhaustive scan's.

:func:`fit_range_padded` fits alpha (and D) to a batch of tails whose ends are
both given: the refit of the Deluca-Corral goodness-of-fit test, the
fixed-xmin refits of the bootstrap, and the range search.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .. import _jax
from ..models import bounded as bd
from ..models import powerlaw as pl
from . import bounded_kernels as BK
from .prune import Scan, exact_pairs, prune_loop
from .scan import (
    CONTINUOUS_BOUNDS,
    DISCRETE_BOUNDS,
    DISCRETE_ITEMS,
    ScanResult,
    candidate_bounds,
    candidates,
    select_argmin,
    unique_rows,
)
from .search import plan_levels

__all__ = ["scan_bounded_continuous", "scan_bounded_discrete", "RangeFit", "fit_range_padded"]


def scan_bounded_continuous(x, n, xmax, cand, *, exhaustive: bool = False, m: int = CONTINUOUS_BOUNDS[0],
                            conditional: bool = False, tick=None) -> ScanResult:
    """Scan padded continuous samples (all points <= xmax) under the bounded law.

    ``conditional``: alpha is the MLE given the tail's extremes (xmax = the largest value).
    ``tick(k)``: progress, called as k more candidates are settled.
    """
    x = np.asarray(x, dtype=np.float64)
    n = np.asarray(n, dtype=np.int32)
    lx, alpha, r = BK.continuous_alpha(x, n, np.log(np.asarray(xmax, dtype=np.float64)), conditional=conditional)
    if conditional:
        small = cand & (n[:, None] - np.arange(x.shape[1])[None, :] < 3)
        cand = cand & ~small
        if tick is not None:
            tick(int(small.sum()))
    rows, cols = candidates(cand)
    key = None if exhaustive else candidate_bounds(
        lambda cidx: BK.continuous_lower_bound(lx, alpha, r, n, cidx, m=m), cand, rows, cols)
    levels = plan_levels(x.shape[1])

    def points(bs, js, starts, step):
        return BK.continuous_block_points(lx, alpha, r, n, bs, js, starts, step, f=levels.fanout)

    scan = Scan(exact=lambda bs, js: BK.continuous_exact_d(lx, alpha, r, n, bs, js),
                peak=lambda bs, js: BK.continuous_exact_d(lx, alpha, r, n, bs, js, peak=True),
                chunk=exact_pairs(x.shape[1]),
                spread=lambda bs, js, m: BK.continuous_refined_bound(lx, alpha, r, n, bs, js, m=m),
                window=lambda bs, js, h: BK.continuous_window_bound(lx, alpha, r, n, bs, js, h),
                points=points, last=n - 1, levels=levels, cascade=CONTINUOUS_BOUNDS[1], budget=CONTINUOUS_BOUNDS[2])
    D_all = prune_loop(key, rows, cols, cand.shape, scan, tick)
    return select_argmin(D_all, np.asarray(alpha), cand, scan)


def scan_bounded_discrete(u, c, nu, xmax, cand_fn, *, exhaustive: bool = False, m: int = DISCRETE_BOUNDS[0],
                          tick=None) -> ScanResult:
    """Scan discrete samples (unique values ``u``, counts ``c``, all <= xmax) under the bounded law."""
    u = np.asarray(u, dtype=np.float64)
    c = np.asarray(c, dtype=np.float64)
    nu = np.asarray(nu, dtype=np.int32)
    xmax = np.asarray(xmax, dtype=np.float64)
    alpha, nt, cb = BK.discrete_alpha(u, c, nu, xmax)
    # A range of two integers is fitted exactly by any two-point sample (D = 0):
    # a candidate needs at least three integers in [xmin, xmax].
    eligible = cand_fn(np.asarray(nt))
    cand = eligible & (xmax[:, None] - u >= 2)
    if tick is not None:
        tick(int(eligible.sum() - cand.sum()))
    rows, cols = candidates(cand)
    key = None if exhaustive else candidate_bounds(
        lambda cidx: BK.discrete_lower_bound(u, c, alpha, nt, cb, nu, xmax, cidx, m=m), cand, rows, cols)
    levels = plan_levels(u.shape[1], items=DISCRETE_ITEMS)

    def points(bs, js, starts, step):
        return BK.discrete_block_points(u, c, alpha, nt, cb, nu, xmax, bs, js, starts, step, f=levels.fanout)

    scan = Scan(exact=lambda bs, js: BK.discrete_exact_d(u, c, alpha, nt, cb, nu, xmax, bs, js),
                peak=lambda bs, js: BK.discrete_exact_d(u, c, alpha, nt, cb, nu, xmax, bs, js, peak=True),
                chunk=exact_pairs(u.shape[1], 1 << 13),
                spread=lambda bs, js, m: BK.discrete_refined_bound(u, c, alpha, nt, cb, nu, xmax, bs, js, m=m),
                window=lambda bs, js, h: BK.discrete_window_bound(u, c, alpha, nt, cb, nu, xmax, bs, js, h),
                points=points, last=nu - 1, levels=levels, cascade=DISCRETE_BOUNDS[1], budget=DISCRETE_BOUNDS[2])
    D_all = prune_loop(key, rows, cols, cand.shape, scan, tick)
    return select_argmin(D_all, np.asarray(alpha), cand, scan)


def final_alpha(tails, xmins, xmaxs, discrete, conditional=False):
    """Bounded alpha and sigma from direct sums over each selected tail (host arrays).

    ``conditional`` (continuous, xmax = the tail's largest value): the MLE given the
    tail's smallest and largest points, from the points strictly between them.
    """
    if conditional and not discrete:
        tails = [t[1:-1] for t in tails]
    nt = np.array([len(t) for t in tails], dtype=np.float64)
    xmins = np.asarray(xmins, dtype=np.float64)
    xmaxs = np.asarray(xmaxs, dtype=np.float64)
    with _jax.x64():
        if discrete:
            mean = np.array([np.mean(np.log(t)) for t in tails])
            alpha = np.asarray(bd.discrete_mle(mean, xmins, xmaxs))
            sigma = np.asarray(bd.discrete_sigma(alpha, xmins, xmaxs, nt))
        else:
            mlr = np.array([np.mean(np.log(t / xm)) for t, xm in zip(tails, xmins)])
            r = np.log(xmaxs / xmins)
            alpha = np.asarray(bd.continuous_mle(np.clip(mlr, 1e-300, r * (1 - 1e-15)), r))
            sigma = np.asarray(bd.continuous_sigma(alpha, r, nt))
    return alpha, sigma


class RangeFit(NamedTuple):
    """Fits with both ends of the tail fixed, arrays of shape (B,).

    alpha : MLE; sigma : Fisher standard error; D : KS distance (``plfit.m`` convention);
    n_tail : points in the range.
    """

    alpha: np.ndarray
    sigma: np.ndarray
    D: np.ndarray
    n_tail: np.ndarray


def fit_range_padded(x, counts, xmin, xmax=None, *, discrete: bool = False, estimator: str = "mle",
                     conditional: bool = False, alpha_grid=None) -> RangeFit:
    """Fit alpha with the range fixed, for a batch of tails given as a padded array.

    Parameters
    ----------
    x : (B, P) array
        Each row sorted ascending; its first ``counts[b]`` entries lie in
        ``[xmin[b], xmax[b]]`` (the caller selects the tail).
    counts : (B,) int
        Real entries per row (>= 2, with two distinct values).
    xmin, xmax : (B,) or scalar
        Ends of the range.  ``xmax=None`` fits the unbounded power law.
    discrete : bool
        Discrete laws (integer data, integer ends).
    conditional : bool
        Continuous bounded only, for ``xmax`` = each row's largest value: alpha is
        the MLE given that maximum (from the other points).
    alpha_grid : None or 1-D array
        Discrete unbounded only: alpha maximised over this grid (``plfit.m``).
    estimator : {"mle", "unbiased"}
        ``"unbiased"`` (continuous only) reports the first-order bias-corrected
        alpha (:func:`htsr.models.bounded.continuous_bias`, or ``1 + (n-1)/sum``
        when unbounded); D and sigma are those of the MLE.
    """
    x = np.asarray(x, dtype=np.float64)
    n = np.asarray(counts, dtype=np.int64)
    B = x.shape[0]
    P = _jax.bucket(x.shape[1])
    if P != x.shape[1]:
        x = np.concatenate([x, np.repeat(x[:, -1:], P - x.shape[1], axis=1)], axis=1)
    rows = np.arange(B)
    x = np.where(np.arange(P)[None, :] < n[:, None], x, x[rows, n - 1][:, None])
    xmin = np.broadcast_to(np.asarray(xmin, dtype=np.float64), (B,)).copy()
    bounded = xmax is not None
    xmax_a = np.broadcast_to(np.asarray(np.inf if xmax is None else xmax, dtype=np.float64), (B,)).copy()
    nt = n.astype(np.float64)
    with _jax.x64():
        if not discrete:
            alpha, D = BK.continuous_range_fit(
                x, n.astype(np.int32), np.log(xmin), np.log(xmax_a if bounded else xmin + 1.0), bounded=bounded,
                drop_max=bool(conditional and bounded),
            )
            alpha = np.asarray(alpha)
            if bounded:
                n_eff = nt - 1.0 if conditional else nt
                sigma = np.asarray(bd.continuous_sigma(alpha, np.log(xmax_a / xmin), n_eff))
            else:
                sigma = np.asarray(pl.continuous_sigma(alpha, nt))
        else:
            valid = np.arange(P)[None, :] < n[:, None]
            mean = np.sum(np.where(valid, np.log(x), 0.0), axis=1) / nt
            if bounded:
                alpha = np.asarray(bd.discrete_mle(mean, xmin, xmax_a))
                sigma = np.asarray(bd.discrete_sigma(alpha, xmin, xmax_a, nt))
            else:
                alpha = np.asarray(pl.discrete_mle(mean, xmin))
                if alpha_grid is not None:
                    alpha = np.asarray(pl.discrete_grid_mle(alpha, mean, xmin,
                                                            np.asarray(alpha_grid, dtype=np.float64)))
                sigma = np.asarray(pl.discrete_sigma(alpha, xmin, nt))
            u, c, nu = unique_rows(x, n, first=xmin)
            D = BK.discrete_range_d(u, c, nu, alpha, xmin, xmax_a if bounded else xmin, bounded=bounded)
    if estimator == "unbiased" and not discrete:
        with _jax.x64():
            if bounded:
                n_eff = nt - 1.0 if conditional else nt
                alpha = alpha - np.asarray(bd.continuous_bias(alpha, np.log(xmax_a / xmin), n_eff))
            else:
                alpha = 1.0 + (alpha - 1.0) * (nt - 1.0) / nt
    return RangeFit(alpha, sigma, np.asarray(D), n)
