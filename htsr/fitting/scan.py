"""The xmin scan: exact argmin of the KS distance, with pruning.

The host loop here (:func:`_prune_loop`) drives the pure kernels of
:mod:`htsr.fitting.kernels` (and :mod:`~htsr.fitting.bounded_kernels`):

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
does not grow with the tail length: 10^7 points fit in under 2 GB.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .._jax import bucket as _bucket
from . import kernels as K
from .search import Levels, _pad_call, branch_and_bound, hint_table, plan_levels

__all__ = ["ScanResult", "continuous_candidates", "discrete_candidates", "scan_continuous", "scan_discrete"]

# A candidate is pruned only if its lower bound exceeds the best D by more than
# this: guards against last-bit differences between the kernels (bounds, search,
# brute force) that evaluate the same deviation.
_PRUNE_TOL = 1e-12


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
    rows = []
    for b in range(x.shape[0]):
        vals, cnt = np.unique(x[b, : n[b]], return_counts=True)
        if first is not None and vals[0] != first[b]:
            vals = np.concatenate([[first[b]], vals])
            cnt = np.concatenate([[0], cnt])
        rows.append((vals, cnt))
    nu = np.array([len(v) for v, _ in rows], dtype=np.int32)
    U = _bucket(int(nu.max()))
    u = np.empty((len(rows), U))
    c = np.zeros((len(rows), U))
    for b, (vals, cnt) in enumerate(rows):
        u[b, : len(vals)] = vals
        u[b, len(vals) :] = vals[-1]
        c[b, : len(vals)] = cnt
    return u, c, nu


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


def _chunk_size(P: int, budget: int) -> int:
    """Pairs per call of a brute-force exact-D kernel that reads tails in blocks
    of ``min(P, EXACT_WIDTH)`` points: the (pairs, block) arrays stay under ``budget``."""
    c = budget // max(min(P, K.EXACT_WIDTH), 1)
    return int(min(512, max(8, 1 << max(c.bit_length() - 1, 0))))


def _run_chunks(fn, flat, P, chunk, tick=None):
    """Call ``fn(bs, js)`` on the flat pair indices in fixed-size chunks."""
    out = np.empty(flat.size)
    for s in range(0, flat.size, chunk):
        bs, js = np.divmod(flat[s : s + chunk], P)
        take, res = _pad_call(fn, [bs.astype(np.int32), js.astype(np.int32)], chunk)
        out[s : s + take] = np.asarray(res)[:take]
        if tick is not None:
            tick(take)
    return out


def _smallest_per_row(key, rows, B, k):
    """Indices (into ``key``) of the k smallest keys of each row (``key`` is overwritten)."""
    if B == 1:  # k passes of argmin: much faster than a partition for k << n
        out = []
        for _ in range(min(k, key.size)):
            i = int(np.argmin(key))
            if i in out:  # only infinite keys are left
                break
            out.append(i)
            key[i] = np.inf
        return np.array(out, dtype=np.int64)
    order = np.lexsort((key, rows))
    first = np.searchsorted(rows[order], np.arange(B))
    rank = np.arange(order.size) - first[rows[order]]
    return order[rank < k]


class Scan(NamedTuple):
    """A law's kernels, as the pruning loop calls them (closures over the law's arrays).

    Attributes
    ----------
    exact : ``(bs, js) -> D``, brute force over every tail point (``chunk`` pairs per call)
    spread : ``(bs, js, m) -> bound``, lower bound on D from ``m`` points spread over the tail
    window : ``(bs, js, hints) -> bound``, lower bound from the points around ``hints`` (C, H)
    points : ``(bs, js, starts, step) -> (dev, ub)``, the block kernel of
        :func:`htsr.fitting.search.branch_and_bound`
    last : (B,) last tail position of each row
    levels : the search plan for the rows' padded length
    cascade : spread sizes applied in turn after the window bound
    budget : points per call of a bound kernel
    """

    exact: object
    chunk: int
    spread: object
    window: object
    points: object
    last: np.ndarray
    levels: Levels
    cascade: tuple
    budget: int


_HINTS = 4  # peak positions kept per row
_FIRST = 4  # candidates per row evaluated first, by smallest coarse bound
_PER_CALL = 256  # pairs per branch-and-bound call


def pairs_per_call(per_pair: int, budget: int) -> int:
    """Pairs per call of a bound kernel that evaluates ``per_pair`` points per pair:
    a power of two (>= 8) with about ``budget`` points per call."""
    return 1 << max(3, (budget // per_pair).bit_length() - 1)


def _bound(fn, rows, cols, per_pair, budget):
    """``fn(bs, js)`` over pairs in fixed-size calls of about ``budget`` points."""
    chunk = pairs_per_call(per_pair, budget)
    out = np.empty(rows.size)
    for s in range(0, rows.size, chunk):
        take, res = _pad_call(fn, [rows[s : s + chunk].astype(np.int32), cols[s : s + chunk].astype(np.int32)],
                              chunk)
        out[s : s + take] = np.asarray(res)[:take]
    return out


class _Pruner:
    """State of one pruned scan: candidates, their lower bounds, the best D per row,
    and the positions where the deviations seen so far peaked (the hints)."""

    def __init__(self, key, rows, cols, shape, scan: Scan, tick):
        self.key, self.rows, self.cols, self.scan, self.tick = key, rows, cols, scan, tick
        self.B = shape[0]
        self.D_all = np.full(shape, np.nan)
        self.best = np.full(self.B, np.inf)
        self.pool = (np.zeros(0, np.int64), np.zeros(0), np.zeros(0, np.int64))
        self.hints = np.full((self.B, _HINTS), -1, dtype=np.int64)
        self.probed = np.zeros(0, np.int64)  # (row, position) codes already used as windows

    def evaluate(self, idx):
        """Exact D (or proof that D exceeds the row's best) of candidates ``idx``: by brute
        force for short rows, else by branch and bound (which also finds the hints)."""
        if self.D_all.shape[1] <= SEARCH_MIN_P:
            r, c = self.rows[idx], self.cols[idx]
            value = _run_chunks(self.scan.exact, r * self.D_all.shape[1] + c, self.D_all.shape[1], self.scan.chunk)
            self.D_all[r, c] = value
            np.minimum.at(self.best, r, value)
            self.tick(idx.size)
            return
        for s in range(0, idx.size, _PER_CALL):
            part = idx[s : s + _PER_CALL]
            r, c = self.rows[part], self.cols[part]
            value, exact, arg = branch_and_bound(self.scan.points, self.scan.levels, r, c, self.scan.last[r],
                                                 self.best[r] + _PRUNE_TOL, self.hints[r])
            self.D_all[r[exact], c[exact]] = value[exact]
            np.minimum.at(self.best, r[exact], value[exact])
            pool = tuple(np.concatenate(pair) for pair in zip(self.pool, (r, value, arg)))
            self.hints, self.pool = hint_table(*pool, self.B, _HINTS)
            self.tick(part.size)

    def settle(self, idx, bound=None):
        """Raise the keys of ``idx`` to ``bound``; drop (and count) those above their row's best."""
        if bound is not None:
            self.key[idx] = np.maximum(self.key[idx], bound)
        best = self.best[0] if self.B == 1 else self.best[self.rows[idx]]
        keep = self.key[idx] <= best + _PRUNE_TOL
        self.tick(idx.size - int(keep.sum()))
        return idx[keep]

    def bound(self, idx, fn, per_pair):
        return self.settle(idx, _bound(fn, self.rows[idx], self.cols[idx], per_pair, self.scan.budget))

    def first(self, idx):
        """Evaluate the few candidates of ``idx`` with the smallest keys per row; return the rest."""
        first = _smallest_per_row(self.key[idx], self.rows[idx], self.B, _FIRST)
        self.evaluate(idx[first])
        return self.settle(np.delete(idx, first))

    def windows(self, idx):
        """Window bound of ``idx`` around the hints not tried before (if any)."""
        code = np.arange(self.B)[:, None] * (1 << 32) + self.hints
        new = (self.hints >= 0) & ~np.isin(code, self.probed)
        if not new.any() or not idx.size:
            return idx
        self.probed = np.concatenate([self.probed, code[new]])
        table = np.where(new, self.hints, -1)
        return self.bound(idx, lambda bs, js: self.scan.window(bs, js, table[bs]), _HINTS * 9)


def _spread_bound(scan: Scan, m: int):
    return lambda bs, js: scan.spread(bs, js, m)


def _prune_loop(key, rows, cols, shape, scan: Scan, tick=None):
    """Exact D wherever a candidate can still be the argmin; NaN elsewhere; (B, P).

    ``rows``, ``cols``: the candidates; ``key``: their coarse lower bounds, or
    None for the exhaustive scan (brute-force D of every candidate).

    Lower bounds of increasing cost (the coarse one, more points spread over
    the tail, the points around the positions where the deviations of the
    candidates evaluated so far peaked) are computed each only for the
    candidates the previous ones could not rule out; before each, the few
    candidates with the smallest bound per sample get an exact D (a better
    best-so-far, and new peaks).  Then exact D by branch and bound, smallest
    bound first, each pair dropped as soon as it is seen to exceed its
    sample's best; whenever a new peak turns up, the window bound around it
    is applied to all remaining candidates.  Work and memory scale with the
    candidates still alive, not with B x P.  ``tick(k)``, if given, is told
    each time k more candidates are settled.
    """
    tick = tick or (lambda k: None)
    if key is None:
        D_all = np.full(shape, np.nan)
        D_all[rows, cols] = _run_chunks(scan.exact, rows.astype(np.int64) * shape[1] + cols, shape[1],
                                        scan.chunk, tick)
        return D_all
    run = _Pruner(np.array(key, dtype=np.float64), rows, cols, shape, scan, tick)
    idx = np.arange(rows.size)
    for m in scan.cascade:
        idx = run.first(idx)
        if idx.size:
            idx = run.bound(idx, _spread_bound(scan, m), m)
    idx = run.windows(run.first(idx))
    idx = idx[np.argsort(run.key[idx], kind="stable")]  # smallest bound first
    # growing calls (the best improves early, before most pairs are tried); brute
    # force takes a full kernel call's worth of pairs each time
    size = _FIRST if shape[1] > SEARCH_MIN_P else scan.chunk
    while idx.size:
        run.evaluate(idx[:size])
        idx = run.settle(idx[size:])
        size = max(min(4 * size, _PER_CALL), size)
        before = idx.size
        idx = run.windows(idx)
        if idx.size < before:
            idx = idx[np.argsort(run.key[idx], kind="stable")]
    return run.D_all


def _select(D_all, alpha_all, cand, scan: Scan):
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
        D_all[some, index[some]] = filled[some, index[some]] = _run_chunks(
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
#: Rows up to this padded length get exact D by brute force (a few kernel calls),
#: longer ones by branch and bound (:mod:`htsr.fitting.search`).
SEARCH_MIN_P = 1 << 14


def exact_pairs(P: int, budget: int = 1 << 16) -> int:
    """Pairs per call of a brute-force kernel on rows of padded length ``P``.

    One size per P, so the exhaustive scan and the final D of the pruned scan
    run the same compiled kernel and agree to the bit; few pairs for long rows
    (a call costs pairs x the longest tail).
    """
    return int(min(256, max(4, budget // min(P, K.EXACT_WIDTH))))


#: Blocks per search call for the discrete laws.
DISCRETE_ITEMS = (1 << 6, 1 << 10)


def continuous_scan_kernels(lx, alpha, n, P) -> Scan:
    """The continuous power law's kernels for :func:`_prune_loop`."""
    levels = plan_levels(P)
    _, cascade, budget = CONTINUOUS_BOUNDS

    def points(bs, js, starts, step):
        return K.continuous_block_points(lx, alpha, n, bs, js, starts, step, f=levels.fanout)

    return Scan(exact=lambda bs, js: K.continuous_exact_d(lx, alpha, n, bs, js), chunk=exact_pairs(P),
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
    D_all = _prune_loop(key, rows, cols, x.shape, scan, tick)
    return _select(D_all, np.asarray(alpha), cand, scan)


def discrete_scan_kernels(u, c, alpha, nt, cb, nu, U) -> Scan:
    """The discrete power law's kernels for :func:`_prune_loop` (positions are unique indices)."""
    levels = plan_levels(U, items=DISCRETE_ITEMS)
    _, cascade, budget = DISCRETE_BOUNDS

    def points(bs, js, starts, step):
        return K.discrete_block_points(u, c, alpha, nt, cb, nu, bs, js, starts, step, f=levels.fanout)

    return Scan(exact=lambda bs, js: K.discrete_exact_d(u, c, alpha, nt, cb, nu, bs, js), chunk=exact_pairs(U, 1 << 13),
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
    D_all = _prune_loop(key, rows, cols, u.shape, scan, tick)
    return _select(D_all, np.asarray(alpha), cand, scan)
