"""The xmin scan: exact argmin of the KS distance, with pruning.

The scans here hand the pure kernels of :mod:`htsr.fitting.kernels` (and
:mod:`~htsr.fitting.bounded_kernels`) to the host loop of
:mod:`htsr.fitting.prune` (:func:`~htsr.fitting.prune.prune_loop`):

1. alpha for every candidate xmin of every sample (one vectorised pass);
2. a coarse lower bound on each candidate's D from a few points of its tail;
3. for the candidates it cannot rule out, bounds of increasing cost: more
   points spread over the tail, then the points around the positions where
   the deviations of the candidates evaluated so far peaked (neighbouring
   candidates peak at the same data point);
4. exact D by branch and bound (:mod:`htsr.fitting.search`), smallest bound
   first, a candidate dropped as soon as it is seen to exceed its sample's
   best exact D.

No stage discards a candidate that could be the argmin, so the result is the
exhaustive scan's (ties in D go to the smallest xmin, as ``min`` does in
``plfit.m``); the reported D of the selected candidate is recomputed by the
brute-force kernel.  ``exhaustive=True`` computes every candidate's D by brute
force; the tests compare both.  Every kernel call has a fixed size, so memory
does not grow with the tail length (docs/benchmarks.md has the peak memory at
10^6 and 10^7 points, with its command).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .._jax import bucket as _bucket
from .._jax import pad_rows
from . import kernels as K
from .prune import Scan, exact_pairs, prune_loop, run_chunks
from .search import plan_levels

__all__ = ["ScanResult", "continuous_candidates", "discrete_candidates", "scan_continuous", "scan_discrete"]


class ScanResult(NamedTuple):
    """Per-sample outcome of an xmin scan (arrays of shape (B,)).

    Attributes
    ----------
    index : int array, position of the selected xmin in the padded row (-1: no candidate)
    alpha : alpha fitted on the selected tail (from the scan's suffix sums)
    D : KS distance at the selected xmin
    n_candidates : how many xmin values were eligible
    n_evaluated : how many of them needed an exact D (the rest were pruned)
    D_all : (B, P) exact D of every evaluated candidate, NaN elsewhere
    alpha_all : (B, P) alpha of every candidate
    """

    index: np.ndarray
    alpha: np.ndarray
    D: np.ndarray
    n_candidates: np.ndarray
    n_evaluated: np.ndarray
    D_all: np.ndarray
    alpha_all: np.ndarray


def unique_rows(x, n, first=None):
    """Unique values and multiplicities of each padded sorted row, padded to a bucket.

    ``first`` (B,), if given, is put at the front of each row with multiplicity 0
    when it is not observed (a user-given xmin below the data, say).
    Returns ``u`` (B, U) (padding repeats the last value), ``c`` (B, U)
    (padding has multiplicity 0) and ``nu`` (B,), the number of unique values.
    """
    values, counts = [], []
    for b in range(x.shape[0]):
        vals, cnt = np.unique(x[b, : n[b]], return_counts=True)
        if first is not None and vals[0] != first[b]:
            vals = np.concatenate([[first[b]], vals])
            cnt = np.concatenate([[0], cnt])
        values.append(vals)
        counts.append(cnt)
    u, nu = pad_rows(values)
    c, _ = pad_rows(counts, u.shape[1], fill=0.0)
    return u, c, nu.astype(np.int32)


def _restrict(values, mask, *, xmin_range, xmin_values, tail, min_tail):
    if min_tail is not None:
        mask &= tail >= min_tail
    if xmin_range is not None:
        lo, hi = xmin_range
        mask &= (values >= lo) & (values <= hi)
    if xmin_values is not None:
        mask &= np.isin(values, np.asarray(xmin_values, dtype=np.float64))
    return mask


def continuous_candidates(x, n, *, xmin_range=None, xmin_values=None, min_tail=None):
    """Eligible xmin positions of padded continuous samples: the first index of
    every unique value except the largest, optionally restricted."""
    B, P = x.shape
    idx = np.arange(P)
    first = np.ones_like(x, dtype=bool)
    first[:, 1:] = x[:, 1:] != x[:, :-1]
    last_val = x[np.arange(B), n - 1][:, None]
    mask = first & (idx < n[:, None]) & (x < last_val)
    tail = n[:, None] - idx
    return _restrict(x, mask, xmin_range=xmin_range, xmin_values=xmin_values, tail=tail, min_tail=min_tail)


def discrete_candidates(u, nt, nu, *, xmin_range=None, xmin_values=None, min_tail=None):
    """Eligible xmin positions of discrete samples stored as unique values."""
    idx = np.arange(u.shape[1])
    mask = idx < (nu[:, None] - 1)
    return _restrict(u, mask, xmin_range=xmin_range, xmin_values=xmin_values, tail=nt, min_tail=min_tail)


def select_argmin(D_all, alpha_all, cand, scan: Scan):
    """The argmin of each row; its D recomputed by the brute-force kernel, so that
    the pruned and the exhaustive scan report the same D to the bit."""
    B, P = D_all.shape
    filled = np.where(np.isnan(D_all), np.inf, D_all)
    index = np.argmin(filled, axis=1)  # first minimum = smallest xmin
    rows = np.arange(B)
    none = ~cand.any(axis=1)
    index = np.where(none, -1, index)
    some = np.flatnonzero(~none)
    if some.size:
        D_all[some, index[some]] = filled[some, index[some]] = run_chunks(
            scan.exact, some * P + index[some], P, scan.chunk)
    D = np.where(none, np.nan, filled[rows, np.maximum(index, 0)])
    alpha = np.where(none, np.nan, alpha_all[rows, np.maximum(index, 0)])
    n_eval = np.sum(~np.isnan(D_all), axis=1)
    return ScanResult(index, alpha, D, cand.sum(axis=1), n_eval, D_all, alpha_all)


def candidates(cand):
    """Row and column of every candidate of a (B, P) mask, row by row."""
    return np.nonzero(cand)


def candidate_bounds(bound_fn, cand, rows, cols):
    """Coarse bound of each candidate ``(rows, cols)`` of the mask ``cand``.

    ``bound_fn(cidx)`` maps candidate positions (B, C) to bounds (B, C); C is a
    bucket size, so rows with many ties (few candidates) cost little.
    """
    B = cand.shape[0]
    per_row = np.bincount(rows, minlength=B)
    C = _bucket(int(per_row.max(initial=1)))
    slot = np.arange(rows.size)
    if B > 1:
        slot -= np.repeat(np.cumsum(per_row) - per_row, per_row)
    cidx = np.zeros((B, C), dtype=np.int32)
    cidx[rows, slot] = cols
    return np.asarray(bound_fn(cidx))[rows, slot]


#: Coarse bound (points per candidate), cascade of spread bounds, and points per
#: bound call: continuous laws, and discrete laws (two zeta functions per point).
CONTINUOUS_BOUNDS = (16, (64,), 1 << 19)
DISCRETE_BOUNDS = (8, (32,), 1 << 15)
#: Blocks per search call for the discrete laws.
DISCRETE_ITEMS = (1 << 6, 1 << 10)


def continuous_scan_kernels(lx, alpha, n, P) -> Scan:
    """The continuous power law's kernels for :func:`prune_loop`."""
    levels = plan_levels(P)
    _, cascade, budget = CONTINUOUS_BOUNDS

    def points(bs, js, starts, step):
        return K.continuous_block_points(lx, alpha, n, bs, js, starts, step, f=levels.fanout)

    return Scan(exact=lambda bs, js: K.continuous_exact_d(lx, alpha, n, bs, js, peak=True)[0],
                peak=lambda bs, js: K.continuous_exact_d(lx, alpha, n, bs, js, peak=True), chunk=exact_pairs(P),
                spread=lambda bs, js, m: K.continuous_refined_bound(lx, alpha, n, bs, js, m=m),
                window=lambda bs, js, h: K.continuous_window_bound(lx, alpha, n, bs, js, h),
                points=points, last=np.asarray(n) - 1, levels=levels, cascade=cascade, budget=budget)


def scan_continuous(x, n, cand, *, exhaustive: bool = False, m: int = CONTINUOUS_BOUNDS[0],
                    tick=None) -> ScanResult:
    """Scan padded continuous samples ``x`` (B, P) with counts ``n`` over candidates ``cand``.

    ``m``: points per candidate of the coarse bound.  ``tick(k)``, if given, is
    called as k more candidates are settled (progress).
    """
    x = np.asarray(x, dtype=np.float64)
    n = np.asarray(n, dtype=np.int32)
    lx, alpha = K.continuous_alpha(x, n)
    rows, cols = candidates(cand)
    key = None if exhaustive else candidate_bounds(
        lambda cidx: K.continuous_lower_bound(lx, alpha, n, cidx, m=m), cand, rows, cols)
    scan = continuous_scan_kernels(lx, alpha, n, x.shape[1])
    D_all = prune_loop(key, rows, cols, x.shape, scan, tick)
    return select_argmin(D_all, np.asarray(alpha), cand, scan)


def discrete_scan_kernels(u, c, alpha, nt, cb, nu, U) -> Scan:
    """The discrete power law's kernels for :func:`prune_loop` (positions are unique indices)."""
    levels = plan_levels(U, items=DISCRETE_ITEMS)
    _, cascade, budget = DISCRETE_BOUNDS

    def points(bs, js, starts, step):
        return K.discrete_block_points(u, c, alpha, nt, cb, nu, bs, js, starts, step, f=levels.fanout)

    return Scan(exact=lambda bs, js: K.discrete_exact_d(u, c, alpha, nt, cb, nu, bs, js, peak=True)[0],
                peak=lambda bs, js: K.discrete_exact_d(u, c, alpha, nt, cb, nu, bs, js, peak=True),
                chunk=exact_pairs(U, 1 << 13),
                spread=lambda bs, js, m: K.discrete_refined_bound(u, c, alpha, nt, cb, nu, bs, js, m=m),
                window=lambda bs, js, h: K.discrete_window_bound(u, c, alpha, nt, cb, nu, bs, js, h),
                points=points, last=np.asarray(nu) - 1, levels=levels, cascade=cascade, budget=budget)


def scan_discrete(u, c, nu, cand_fn, *, exhaustive: bool = False, m: int = DISCRETE_BOUNDS[0],
                  alpha_grid=None, tick=None) -> ScanResult:
    """Scan discrete samples given as unique values ``u`` (B, U) and counts ``c``.

    ``cand_fn(nt)`` returns the candidate mask given the tail sizes (so that
    ``min_tail`` can be applied).  ``alpha_grid`` (1-D, increasing), if given,
    replaces each candidate's exact MLE by the likelihood's best grid point, as
    ``plfit.m`` does; the bounds stay valid because they hold for any alpha.
    """
    u = np.asarray(u, dtype=np.float64)
    c = np.asarray(c, dtype=np.float64)
    nu = np.asarray(nu, dtype=np.int32)
    alpha, nt, cb = K.discrete_alpha(u, c)
    if alpha_grid is not None:
        alpha = K.discrete_alpha_on_grid(u, c, alpha, nt, np.asarray(alpha_grid, dtype=np.float64))
    cand = cand_fn(np.asarray(nt))
    rows, cols = candidates(cand)
    key = None if exhaustive else candidate_bounds(
        lambda cidx: K.discrete_lower_bound(u, c, alpha, nt, cb, nu, cidx, m=m), cand, rows, cols)
    scan = discrete_scan_kernels(u, c, alpha, nt, cb, nu, u.shape[1])
    D_all = prune_loop(key, rows, cols, u.shape, scan, tick)
    return select_argmin(D_all, np.asarray(alpha), cand, scan)
