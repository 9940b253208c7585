"""Host side of the bounded xmin scan.

:func:`scan_bounded_continuous` and :func:`scan_bounded_discrete` drive the
kernels of :mod:`htsr.fitting.bounded_kernels` through the same pruning loop
as the unbounded scan (:func:`htsr.fitting.prune.prune_loop`), so the selected
xmin is the exhaustive scan's.  Fits with both ends given are
:func:`htsr.fitting.fixed_range.fit_range`.
"""

from __future__ import annotations

import numpy as np

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
)
from .search import plan_levels

__all__ = ["scan_bounded_continuous", "scan_bounded_discrete"]


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

    scan = Scan(exact=lambda bs, js: BK.continuous_exact_d(lx, alpha, r, n, bs, js, peak=True)[0],
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

    scan = Scan(exact=lambda bs, js: BK.discrete_exact_d(u, c, alpha, nt, cb, nu, xmax, bs, js, peak=True)[0],
                peak=lambda bs, js: BK.discrete_exact_d(u, c, alpha, nt, cb, nu, xmax, bs, js, peak=True),
                chunk=exact_pairs(u.shape[1], 1 << 13),
                spread=lambda bs, js, m: BK.discrete_refined_bound(u, c, alpha, nt, cb, nu, xmax, bs, js, m=m),
                window=lambda bs, js, h: BK.discrete_window_bound(u, c, alpha, nt, cb, nu, xmax, bs, js, h),
                points=points, last=nu - 1, levels=levels, cascade=DISCRETE_BOUNDS[1], budget=DISCRETE_BOUNDS[2])
    D_all = prune_loop(key, rows, cols, cand.shape, scan, tick)
    return select_argmin(D_all, np.asarray(alpha), cand, scan)
