"""The xmin scan: exact argmin of the KS distance, with pruning.

The host loop here drives the pure kernels of :mod:`htsr.fitting.kernels`:

1. alpha for every candidate xmin of every sample (one vectorised pass);
2. a lower bound on each candidate's D from ``m`` points of its tail;
3. exact D, chunk by chunk, for the candidates with the smallest bounds, until
   every remaining candidate's bound exceeds its sample's best exact D.

Step 3 never discards a candidate that could be the argmin, so the result is
the exhaustive scan's (ties in D go to the smallest xmin, as ``min`` does in
``plfit.m``).  ``exhaustive=True`` skips the pruning; the tests compare both.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .._jax import bucket as _bucket
from . import kernels as K

__all__ = ["ScanResult", "continuous_candidates", "discrete_candidates", "scan_continuous", "scan_discrete"]

# A candidate is pruned only if its lower bound exceeds the best D by more than
# this: guards against last-bit differences between the two kernels' exp().
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
    c = budget // max(P, 1)
    return int(min(512, max(8, 1 << max(c.bit_length() - 1, 0))))


def _run_chunks(fn, flat, P, chunk):
    """Call ``fn(bs, js)`` on the flat pair indices in fixed-size chunks."""
    out = np.empty(flat.size)
    for s in range(0, flat.size, chunk):
        part = flat[s : s + chunk]
        bs, js = np.divmod(part, P)
        take = len(part)
        if take < chunk:  # pad to the compiled chunk size
            bs = np.concatenate([bs, np.full(chunk - take, bs[-1])])
            js = np.concatenate([js, np.full(chunk - take, js[-1])])
        out[s : s + take] = np.asarray(fn(bs.astype(np.int32), js.astype(np.int32)))[:take]
    return out


def _smallest_per_row(key, mask, k):
    """Flat indices of the k smallest keys of each row among ``mask``."""
    B, P = key.shape
    kk = min(k, P)
    masked = np.where(mask, key, np.inf)
    part = np.argpartition(masked, kk - 1, axis=1)[:, :kk]
    rows = np.repeat(np.arange(B), kk)
    cols = part.ravel()
    keep = mask[rows, cols]
    return rows[keep] * P + cols[keep]


def _prune_loop(lb, cand, exact, refine, chunk, rchunk, exhaustive):
    """Exact D wherever a candidate can still be the argmin; NaN elsewhere.

    Stages: (1) exact D of a few candidates with the smallest coarse bound per
    sample, giving a best-so-far; (2) a refined bound for every candidate whose
    coarse bound does not exceed it; (3) exact D, smallest refined bound first,
    until every remaining bound exceeds the best.
    """
    B, P = lb.shape
    D_all = np.full((B, P), np.nan)
    if exhaustive:
        flat = np.flatnonzero(cand)
        D_all.ravel()[flat] = _run_chunks(exact, flat, P, chunk)
        return D_all
    key = np.where(cand, lb, np.inf).ravel()
    pending = cand.ravel().copy()
    best = np.full(B, np.inf)

    def evaluate(flat):
        d = _run_chunks(exact, flat, P, chunk)
        D_all.ravel()[flat] = d
        pending[flat] = False
        np.minimum.at(best, flat // P, d)

    evaluate(_smallest_per_row(key.reshape(B, P), cand, 4))
    rows = np.arange(B * P) // P
    alive = pending & (key <= best[rows] + _PRUNE_TOL)
    flat = np.flatnonzero(alive)
    if flat.size:
        key[flat] = np.maximum(key[flat], _run_chunks(refine, flat, P, rchunk))
    while True:
        pending &= key <= best[rows] + _PRUNE_TOL
        flat = np.flatnonzero(pending)
        if flat.size == 0:
            break
        if flat.size > chunk:
            flat = flat[np.argpartition(key[flat], chunk - 1)[:chunk]]
        evaluate(flat)
    return D_all


def _select(D_all, alpha_all, cand):
    B = D_all.shape[0]
    filled = np.where(np.isnan(D_all), np.inf, D_all)
    index = np.argmin(filled, axis=1)  # first minimum = smallest xmin
    rows = np.arange(B)
    none = ~cand.any(axis=1)
    index = np.where(none, -1, index)
    D = np.where(none, np.nan, filled[rows, np.maximum(index, 0)])
    alpha = np.where(none, np.nan, alpha_all[rows, np.maximum(index, 0)])
    n_eval = np.sum(~np.isnan(D_all), axis=1)
    return ScanResult(index, alpha, D, cand.sum(axis=1), n_eval, D_all, alpha_all)


def scan_continuous(x, n, cand, *, exhaustive: bool = False, m: int = 64) -> ScanResult:
    """Scan padded continuous samples ``x`` (B, P) with counts ``n`` over candidates ``cand``."""
    x = np.asarray(x, dtype=np.float64)
    n = np.asarray(n, dtype=np.int32)
    lx, alpha = K.continuous_alpha(x, n)
    if exhaustive:
        lb = np.full(x.shape, -np.inf)
    else:  # bounds only where there are candidates (few, for data with many ties)
        lb = np.full(x.shape, np.inf)
        per_row = cand.sum(axis=1)
        C = _bucket(int(per_row.max()))
        cidx = np.zeros((x.shape[0], C), dtype=np.int32)
        rows, cols = np.nonzero(cand)
        slot = np.arange(len(rows)) - np.repeat(np.cumsum(per_row) - per_row, per_row)
        cidx[rows, slot] = cols
        bound = np.asarray(K.continuous_lower_bound(lx, alpha, n, cidx, m=m))
        lb[rows, cols] = bound[rows, slot]

    def exact(bs, js):
        return K.continuous_exact_d(lx, alpha, n, bs, js)

    def refine(bs, js):
        return K.continuous_refined_bound(lx, alpha, n, bs, js)

    P = x.shape[1]
    D_all = _prune_loop(lb, cand, exact, refine, _chunk_size(P, 1 << 21), 512, exhaustive)
    return _select(D_all, np.asarray(alpha), cand)


def scan_discrete(u, c, nu, cand_fn, *, exhaustive: bool = False, m: int = 32,
                  alpha_grid=None) -> ScanResult:
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
    if exhaustive:
        lb = np.full(u.shape, -np.inf)
    else:
        lb = np.asarray(K.discrete_lower_bound(u, c, alpha, nt, cb, nu, m=m))

    def exact(bs, js):
        return K.discrete_exact_d(u, c, alpha, nt, cb, nu, bs, js)

    def refine(bs, js):
        return K.discrete_refined_bound(u, c, alpha, nt, cb, nu, bs, js)

    U = u.shape[1]
    D_all = _prune_loop(lb, cand, exact, refine, _chunk_size(U, 1 << 17), 128, exhaustive)
    return _select(D_all, np.asarray(alpha), cand)
