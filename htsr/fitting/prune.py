"""The pruning loop of the xmin scan, shared by every law (:mod:`htsr.fitting.scan`,
:mod:`htsr.fitting.bounded_scan`).

A law hands over its kernels as a :class:`Scan` (closures over its arrays)
and the candidates with their coarse lower bounds; :func:`prune_loop` returns
the exact D of every candidate that could be the argmin (NaN elsewhere):

* bounds of increasing cost, each only for the candidates the previous ones
  could not rule out: more points spread over the tail, then the points
  around the positions where the deviations of the candidates evaluated so
  far peaked (neighbouring candidates peak at the same data point);
* before each, exact D for the few candidates with the smallest bound per
  sample (a better best-so-far, and the peaks);
* then exact D, smallest bound first, each candidate dropped as soon as it is
  seen to exceed its sample's best: by branch and bound
  (:mod:`htsr.fitting.search`) for rows longer than ``SEARCH_MIN_P``, by brute
  force for shorter ones.

Every kernel call has a fixed size; host work and memory scale with the
candidates still alive.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from . import kernels as K
from .search import Levels, branch_and_bound, hint_table, pad_call

# A candidate is pruned only if its lower bound exceeds the best D by more than
# this: guards against last-bit differences between the kernels (bounds, search,
# brute force) that evaluate the same deviation.
_PRUNE_TOL = 1e-12

#: Rows up to this padded length get exact D by brute force (a few kernel calls),
#: longer ones by branch and bound (:mod:`htsr.fitting.search`).
SEARCH_MIN_P = 1 << 14


def exact_pairs(P: int, budget: int = 1 << 16) -> int:
    """Pairs per call of a brute-force kernel on rows of padded length ``P``.

    One size per P, so the exhaustive scan and the final D of the pruned scan
    run the same compiled kernel and agree to the bit: about ``budget`` points
    per block of the tail loop, and few pairs for long rows (a call costs
    pairs x the longest tail, padding included).
    """
    per_block = budget // min(P, K.EXACT_WIDTH)
    per_row = (1 << 22) // P
    return int(max(1, min(256, per_block, per_row)))


def chunk_size(P: int, budget: int) -> int:
    """Pairs per call of a brute-force exact-D kernel that reads tails in blocks
    of ``min(P, EXACT_WIDTH)`` points: the (pairs, block) arrays stay under ``budget``."""
    c = budget // max(min(P, K.EXACT_WIDTH), 1)
    return int(min(512, max(8, 1 << max(c.bit_length() - 1, 0))))


def run_chunks(fn, flat, P, chunk, tick=None):
    """Call ``fn(bs, js)`` on the flat pair indices in fixed-size chunks."""
    out = np.empty(flat.size)
    for s in range(0, flat.size, chunk):
        bs, js = np.divmod(flat[s : s + chunk], P)
        take, res = pad_call(fn, [bs.astype(np.int32), js.astype(np.int32)], chunk)
        out[s : s + take] = np.asarray(res)[:take]
        if tick is not None:
            tick(take)
    return out


def _smallest_per_row(key, rows, B, k, cols=None, P=None):
    """Indices (into ``key``) of the k smallest keys of each row (``key`` is overwritten).

    Ties go to the earlier entry, and the result is ordered by row, then key:
    what a stable ``lexsort((key, rows))`` keeps.  With ``cols`` and the row
    width ``P`` (entries of a row in increasing ``cols``, all keys finite), k
    passes of ``argmin`` over a dense (B, P) table give the same indices without
    sorting all the keys.
    """
    if B == 1:  # k passes of argmin: much faster than a partition for k << n
        out = []
        for _ in range(min(k, key.size)):
            i = int(np.argmin(key))
            if i in out:  # only infinite keys are left
                break
            out.append(i)
            key[i] = np.inf
        return np.array(out, dtype=np.int64)
    if cols is not None and key.size and np.all(np.isfinite(key)) and np.all(np.diff(rows * P + cols) > 0):
        table = np.full((B, P), np.inf)
        where = np.full((B, P), -1, dtype=np.int64)
        table[rows, cols] = key
        where[rows, cols] = np.arange(key.size)
        picks = np.empty((B, min(k, P)), dtype=np.int64)
        at = np.arange(B)
        for j in range(picks.shape[1]):
            c = np.argmin(table, axis=1)
            picks[:, j] = where[at, c]
            where[at, c] = -1
            table[at, c] = np.inf
        picks = picks.ravel()
        return picks[picks >= 0]
    order = np.lexsort((key, rows))
    first = np.searchsorted(rows[order], np.arange(B))
    rank = np.arange(order.size) - first[rows[order]]
    return order[rank < k]


class Scan(NamedTuple):
    """A law's kernels, as the pruning loop calls them (closures over the law's arrays).

    Attributes
    ----------
    exact : ``(bs, js) -> D``, brute force over every tail point (``chunk`` pairs per call); the
        laws give ``peak``'s kernel here, so one compiled kernel serves both (the same D)
    peak : ``(bs, js) -> (D, offset)``, the same and where in the tail the deviation peaks
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
    peak: object
    chunk: int
    spread: object
    window: object
    points: object
    last: np.ndarray
    levels: Levels
    cascade: tuple
    budget: int


#: Peak positions kept per row (the window bound's hints).
HINTS = 4
_FIRST = 4  # candidates per row evaluated first, by smallest coarse bound
_PER_CALL = 256  # pairs per branch-and-bound call


def pairs_per_call(per_pair: int, budget: int) -> int:
    """Pairs per call of a bound kernel that evaluates ``per_pair`` points per pair:
    a power of two (>= 8) with about ``budget`` points per call."""
    return 1 << max(3, (budget // per_pair).bit_length() - 1)


def _pairs_call(fn, rows, cols, chunk):
    """``fn(bs, js)`` over pairs in calls of ``chunk`` pairs; its output (an array or
    a tuple of arrays, one entry per pair) concatenated as a tuple of NumPy arrays."""
    parts = []
    for s in range(0, rows.size, chunk):
        take, res = pad_call(fn, [rows[s : s + chunk].astype(np.int32), cols[s : s + chunk].astype(np.int32)],
                              chunk)
        parts.append([np.asarray(a)[:take] for a in (res if isinstance(res, tuple) else (res,))])
    return tuple(np.concatenate(p) for p in zip(*parts))


def _bound(fn, rows, cols, per_pair, budget):
    """``fn(bs, js)`` over pairs in fixed-size calls of about ``budget`` points."""
    return _pairs_call(fn, rows, cols, pairs_per_call(per_pair, budget))[0]


class _Pruner:
    """State of one pruned scan: candidates, their lower bounds, the best D per row,
    and the positions where the deviations seen so far peaked (the hints)."""

    def __init__(self, key, rows, cols, shape, scan: Scan, tick):
        self.key, self.rows, self.cols, self.scan, self.tick = key, rows, cols, scan, tick
        self.B = shape[0]
        self.D_all = np.full(shape, np.nan)
        self.best = np.full(self.B, np.inf)
        self.pool = (np.zeros(0, np.int64), np.zeros(0), np.zeros(0, np.int64))
        self.hints = np.full((self.B, HINTS), -1, dtype=np.int64)
        self.probed = np.zeros(0, np.int64)  # (row, position) codes already used as windows

    def evaluate(self, idx):
        """Exact D (or proof that D exceeds the row's best) of candidates ``idx``: by brute
        force for short rows, else by branch and bound (which also finds the hints)."""
        search = self.D_all.shape[1] > SEARCH_MIN_P
        step = _PER_CALL if search else max(idx.size, 1)
        for s in range(0, idx.size, step):
            part = idx[s : s + step]
            r, c = self.rows[part], self.cols[part]
            if search:
                value, exact, arg = branch_and_bound(self.scan.points, self.scan.levels, r, c, self.scan.last[r],
                                                     self.best[r] + _PRUNE_TOL, self.hints[r])
            else:
                value, off = _pairs_call(self.scan.peak, r, c, self.scan.chunk)
                exact, arg = np.ones(part.size, dtype=bool), c + off
            self.record(r, c, value, exact, arg)
            self.tick(part.size)

    def record(self, r, c, value, exact, arg):
        """Store exact D, update the best per row and the peak positions (hints)."""
        self.D_all[r[exact], c[exact]] = value[exact]
        np.minimum.at(self.best, r[exact], value[exact])
        pool = tuple(np.concatenate(pair) for pair in zip(self.pool, (r, value, arg)))
        self.hints, self.pool = hint_table(*pool, self.B, HINTS)

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
        first = _smallest_per_row(self.key[idx], self.rows[idx], self.B, _FIRST, self.cols[idx],
                                  self.D_all.shape[1])
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
        return self.bound(idx, lambda bs, js: self.scan.window(bs, js, table[bs]), HINTS * 9)


def _spread_bound(scan: Scan, m: int):
    return lambda bs, js: scan.spread(bs, js, m)


def prune_loop(key, rows, cols, shape, scan: Scan, tick=None):
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
        D_all[rows, cols] = run_chunks(scan.exact, rows.astype(np.int64) * shape[1] + cols, shape[1],
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
    # growing calls to the search (the best improves early, before most pairs are
    # tried); brute force one kernel call at a time
    search = shape[1] > SEARCH_MIN_P
    size = _FIRST if search else scan.chunk
    while idx.size:
        run.evaluate(idx[:size])
        idx = run.settle(idx[size:])
        size = min(4 * size, _PER_CALL) if search else size
        before = idx.size
        idx = run.windows(idx)
        if idx.size < before:
            idx = idx[np.argsort(run.key[idx], kind="stable")]
    return run.D_all
