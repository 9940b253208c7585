"""Exact KS distance of many (sample, candidate) pairs by branch and bound.

D of one candidate xmin is a maximum over its whole tail (up to n points),
and a fit of 10^6 points needs it for hundreds of candidates.  The search
here visits only the parts of a tail where the maximum can be:

* it evaluates the deviation ``|fitted CDF - empirical CDF|`` on a grid;
* between two grid points both CDFs are monotone, so the deviation inside is
  at most ``max(F(q) - E(p), E(q) - F(p))``
  (:func:`htsr.fitting.kernels.block_ub`);
* only blocks whose bound exceeds the largest deviation found so far are
  refined (grids ``fanout`` times finer), down to single points.

What it returns is the maximum over the points it evaluated, with every
skipped point provably below it (up to ``_UB_EPS``, which covers the
rounding of the bound): the brute-force D, computed by the same expression
(the two kernels may round a zeta function's sum differently in the last
bit, so the scan reports the selected candidate's D from the brute-force
kernel).  A pair is dropped as soon as its deviation exceeds a cap (the best
D of its sample so far): it cannot be the argmin.

Before the grid search, the points around "hints" are evaluated: the
positions where other candidates' deviations peaked.  Neighbouring
candidates' deviations peak at the same data point, so this bounds most of
them tightly for a few points each.

The kernels are the laws' ``*_block_points`` functions, called through a
``points(bs, js, starts, step) -> (dev, ub)`` closure; memory per call is
O(items x fanout), and the number of blocks per level is capped by splitting
the pairs, so nothing here grows with the tail length.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .._jax import pad_batch

__all__ = ["Levels", "branch_and_bound", "hint_table", "plan_levels"]


def pad_call(fn, arrays, size):
    """``fn(*arrays)`` with every 1-D array padded to ``size`` by repeating its last entry."""
    take = len(arrays[0])
    if take < size:
        arrays = [pad_batch(a[None, :], [take], width=size, dtype=a.dtype)[0] for a in arrays]
    return take, fn(*arrays)


# A block is skipped only if its bound is below the best deviation by more than
# this: it covers the rounding of the bound itself.
_UB_EPS = 1e-14
_FANOUT = 8  # sub-blocks per block
_LEVEL_ITEMS = (1 << 8, 1 << 13)  # blocks per call of a block kernel (one compilation each)


class Levels(NamedTuple):
    """The branch-and-bound's plan for rows of one padded length.

    Level ``l`` evaluates ``fanout + 1`` points ``steps[l]`` apart in each of
    its blocks; the top blocks span ``steps[0] * fanout`` positions, the last
    level has step 1.  A kernel call takes the smallest of the ``items`` sizes
    that holds what is left of a level (one compiled kernel per size serves
    every level: the step is an argument).
    """

    steps: tuple
    fanout: int
    items: tuple


def plan_levels(P: int, fanout: int = _FANOUT, items: tuple = _LEVEL_ITEMS) -> Levels:
    """Branch-and-bound plan for rows of padded length ``P``: steps are powers of
    ``fanout``, the top block spans the whole row."""
    steps = [1]
    while steps[-1] * fanout < P:
        steps.append(steps[-1] * fanout)
    return Levels(tuple(reversed(steps)), fanout, tuple(sorted(items)))


def _top_blocks(js, last, span):
    """Items (pair, start) tiling each pair's tail [js, last] with blocks of ``span`` positions."""
    count = np.maximum((last - js + span - 1) // span, 1)
    pair = np.repeat(np.arange(len(js)), count)
    first = np.cumsum(count) - count
    start = js[pair] + span * (np.arange(pair.size) - first[pair])
    return pair, start


def _run_level(points, items, step, bs, js, start):
    """The block kernel over all items of one level, in fixed-size calls; (dev, ub) as NumPy."""
    devs, ubs = [], []
    step = np.int32(step)
    s = 0
    while s < start.size:
        size = next((z for z in items if z >= start.size - s), items[-1])
        sl = slice(s, s + size)
        take, (dev, ub) = pad_call(lambda b, j, t: points(b, j, t, step), [bs[sl], js[sl], start[sl]], size)
        devs.append(np.asarray(dev)[:take])
        ubs.append(np.asarray(ub)[:take])
        s += size
    return np.concatenate(devs), np.concatenate(ubs)


def _group_argmax(pair, value):
    """Index of the largest ``value`` in each run of equal ``pair`` (``pair`` sorted)."""
    edges = np.flatnonzero(np.r_[True, pair[1:] != pair[:-1]])
    top = np.maximum.reduceat(value, edges)
    hit = np.flatnonzero(value == np.repeat(top, np.diff(np.r_[edges, value.size])))
    return hit[np.r_[True, pair[hit][1:] != pair[hit][:-1]]]


class _Search(NamedTuple):
    """What every level of one branch-and-bound call shares."""

    points: object
    levels: Levels
    bs: np.ndarray
    js: np.ndarray
    last: np.ndarray
    cap: np.ndarray
    lb: np.ndarray  # (C,) largest deviation seen, updated in place
    arg: np.ndarray  # (C,) the position where it was seen


def _search(points, levels, bs, js, last, cap):
    C = len(bs)
    return _Search(points, levels, np.asarray(bs, dtype=np.int32), np.asarray(js, dtype=np.int32),
                   np.asarray(last, dtype=np.int32), np.broadcast_to(np.asarray(cap, dtype=np.float64), (C,)),
                   np.full(C, -np.inf), np.asarray(js, dtype=np.int64).copy())


def _evaluate(S: _Search, pair, start, step):
    """Deviations at the points of blocks (pair, start) ``step`` apart; updates lb and arg; returns ub."""
    dev, ub = _run_level(S.points, S.levels.items, step, S.bs[pair], S.js[pair], start.astype(np.int32))
    top = dev.max(axis=1)
    win = _group_argmax(pair, top)
    win = win[top[win] > S.lb[pair[win]]]
    p = pair[win]
    S.lb[p] = top[win]
    S.arg[p] = np.minimum(start[win] + step * dev[win].argmax(axis=1), S.last[p])
    return ub


def _visit(S: _Search, level, pair, start):
    """Evaluate one level's blocks; return the sub-blocks (pair, start) that stay live."""
    step = S.levels.steps[level]
    ub = _evaluate(S, pair, start, step)
    if step == 1:
        return pair[:0], start[:0]
    sub = start[:, None] + step * np.arange(S.levels.fanout)[None, :]  # sub-block starts
    inner = sub + 1 < np.minimum(sub + step, S.last[pair][:, None])  # unvisited points inside
    live = inner & (ub + _UB_EPS > S.lb[pair][:, None]) & (S.lb[pair] <= S.cap[pair])[:, None]
    rows, cols = np.nonzero(live)
    return pair[rows], sub[rows, cols]


def _probe_hints(S: _Search, hints):
    """Deviation of every pair around each of its ``hints`` (C, H) (absolute positions, -1: none).

    The deviation of neighbouring candidates peaks at the same data point, so
    the peaks found so far bound most candidates' D tightly for a few points each.
    """
    pair, col = np.nonzero(hints >= 0)
    h = hints[pair, col]
    f = S.levels.fanout
    for step in (1, f):
        if pair.size:
            _evaluate(S, pair, np.maximum(h - step * (f // 2), S.js[pair]), step)


def _expand(S: _Search, level, pair, start, max_items):
    """Breadth-first search from ``level``; splits the pairs when a level grows past ``max_items``."""
    while pair.size:
        if pair.size > max_items and pair[0] != pair[-1]:
            cut = np.searchsorted(pair, pair[pair.size // 2])
            cut = cut if cut > 0 else np.searchsorted(pair, pair[0], side="right")
            _expand(S, level, pair[:cut], start[:cut], max_items)
            _expand(S, level, pair[cut:], start[cut:], max_items)
            return
        pair, start = _visit(S, level, pair, start)
        level += 1


def branch_and_bound(points, levels: Levels, bs, js, last, cap, hints=None, max_items: int = 1 << 20):
    """Exact D of pairs ``(bs, js)`` whose D is at most ``cap``.

    Breadth first: at each level every live block is evaluated on a grid of
    ``fanout + 1`` points; the largest deviation seen per pair is a lower bound
    on its D; a sub-block goes on to the next level only if its upper bound
    exceeds that (and the pair's lower bound has not passed ``cap``).  Before
    the first level the points around ``hints`` are evaluated: with them most
    pairs above ``cap`` drop out at once.  Items per level are capped at ``max_items`` (the pairs are split), so memory
    does not grow with the tails' length.

    Parameters
    ----------
    points : callable ``(bs, js, starts, step) -> (dev, ub)``
        The law's block kernel (compiled for ``levels.fanout`` and ``levels.items``).
    last : (C,) int, the last tail position of each pair.
    cap : (C,) float; a pair whose deviation exceeds it is dropped (D > cap).
    hints : (C, H) int, optional; positions where the deviation is likely large (-1: none).

    Returns
    -------
    value : (C,) float, D where ``exact``, else a lower bound on D above ``cap``.
    exact : (C,) bool.
    arg : (C,) int, a position where the deviation equals ``value``.
    """
    S = _search(points, levels, bs, js, last, cap)
    todo = np.arange(len(S.bs))
    if hints is not None:
        _probe_hints(S, np.asarray(hints))
        todo = todo[S.lb <= S.cap]
    pair, start = _top_blocks(S.js[todo], S.last[todo], levels.steps[0] * levels.fanout)
    _expand(S, 0, todo[pair], start, max_items)
    return S.lb, S.lb <= S.cap, S.arg


def hint_table(rows, value, arg, B, H):
    """Per row, the positions (B, H) where the smallest deviations found peaked (-1: none).

    From the pool of results (``rows``, ``value``, ``arg``): each row's
    distinct positions, smallest value first."""
    order = np.lexsort((value, rows))
    r, a = rows[order], arg[order]
    _, first = np.unique(r.astype(np.int64) * (1 << 32) + a, return_index=True)
    keep = np.sort(first)
    r, a, v = r[keep], a[keep], value[order][keep]
    rank = np.arange(r.size) - np.searchsorted(r, r)
    sel = rank < H
    table = np.full((B, H), -1, dtype=np.int64)
    table[r[sel], rank[sel]] = a[sel]
    return table, (r[sel], v[sel], a[sel])
