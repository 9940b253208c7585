"""The engine for any registered law: batched maximum-likelihood refits at a fixed or scanned xmin.

``refit_law(rows, spec)`` is the one path from a :class:`LawSpec` to a law's
batched MLE (``Law.mle`` on padded tails) and a distance
(:mod:`htsr.fitting.distances`), for :func:`htsr.fit_model` (one row) and for
the Monte Carlo consumers, :func:`htsr.gof` and :func:`htsr.bootstrap` with
``model=`` a law other than the power law (thousands of rows): draw rows, refit
here, reduce.

The xmin scan under a law
-------------------------
Candidates for xmin are the unique values of each sample except the largest
(Clauset et al. 2009, section 3.3), restricted as the spec says, with at least
``min_tail`` points at or above them (default :data:`MIN_TAIL`).  For every
(sample, candidate) pair the tail ``x >= xmin`` is fitted by the law's MLE and
its distance from the fitted law computed; each sample's xmin is the
candidate of smallest distance (ties: the smallest xmin).

With more than ``grid`` candidates (:data:`GRID`, 100, by default) the scan is
coarse to fine: ``grid`` candidates evenly spaced in rank first, then every
candidate between the grid neighbours of the three best of them.  That fits
about ``grid + 6 C / grid`` tails instead of ``C`` (400 instead of 5,000 for
n = 5,000); ``grid=None`` fits every candidate and returns the exact argmin.
A goodness-of-fit test refits its synthetic samples with the same rule, so its
p-value is calibrated either way.  Pairs are fitted in
chunks sorted by tail length: a chunk of R tails (a power of 4, at least 64)
is padded to a power-of-two width W with ``R W <= 2^20`` elements (2^15 for discrete laws, whose CDF sums
terms), so memory is bounded and a handful of shapes is compiled per law.
The power law's own scan (:func:`htsr.fit`) is exact and pruned; this one is
brute force over candidates, for every law.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import NamedTuple

import numpy as np

from .. import _jax
from ..data import check_bool, check_int, check_interval, check_number
from ..errors import FitError
from ..models import registry
from .distances import batch_distance, check_distance
from .scan import continuous_candidates

__all__ = ["LawSpec", "LawBatchFit", "XminScan", "refit_law", "MIN_TAIL", "scan_laws"]

#: Default smallest tail of a candidate in the scan under a law (a two-parameter MLE on fewer points is noise).
MIN_TAIL = 10
#: Default coarse grid of the scan: with more candidates than this, a grid of this many first (module docstring).
GRID = 100
_BUDGET = {False: 1 << 20, True: 1 << 15}


def scan_laws() -> tuple:
    """The registered laws on ``[xmin, inf)``: what :func:`refit_law` fits (every law but the bounded ones)."""
    return tuple(name for name, law in registry.LAWS.items() if not law.bounded)


@dataclass(frozen=True)
class LawSpec:
    """How a law is fitted to the tail of a sample: everything needed to replay the fit.

    Attributes
    ----------
    model : str
        Canonical name of a registered law on ``[xmin, inf)`` (:func:`scan_laws`).
    discrete : bool
    xmin : float or None
        A fixed start of the tail; None: chosen by the scan under the law.
    distance : {"ks", "kuiper", "ad", "reweighted_ks"}
        What the scan minimises and the goodness-of-fit test measures.
    xmin_range, xmin_candidates, min_tail
        Restrictions of the scan (``min_tail`` None: :data:`MIN_TAIL`).
    grid : int or None
        Coarse-to-fine scan when a sample has more candidates than ``grid`` (default
        :data:`GRID`); None: every candidate (the exact argmin).
    """

    model: str
    discrete: bool = False
    xmin: float | None = None
    distance: str = "ks"
    xmin_range: tuple | None = None
    xmin_candidates: tuple | None = None
    min_tail: int | None = None
    grid: int | None = GRID

    @property
    def law(self):
        return registry.get(self.model)

    @property
    def fixed_xmin(self) -> bool:
        return self.xmin is not None

    def checked(self) -> LawSpec:
        """The spec with every option validated (FitError naming the option)."""
        model = registry.canonical(self.model, among=scan_laws(), error=FitError)
        discrete = check_bool(self.discrete, "discrete", error=FitError)
        xmin = None if self.xmin is None else check_number(self.xmin, "xmin", positive=True, error=FitError)
        cands = None
        if self.xmin_candidates is not None:
            try:
                cands = tuple(float(v) for v in np.asarray(self.xmin_candidates, dtype=np.float64).ravel())
            except (TypeError, ValueError):
                raise FitError(f"xmin_candidates must be a sequence of numbers, got {self.xmin_candidates!r}") from None
            if not cands or not np.all(np.isfinite(cands)):
                raise FitError("xmin_candidates must be a non-empty sequence of finite numbers")
        return LawSpec(
            model=model, discrete=discrete, xmin=xmin, distance=check_distance(self.distance, discrete),
            xmin_range=None if self.xmin_range is None else check_interval(self.xmin_range, "xmin_range",
                                                                         error=FitError),
            xmin_candidates=cands,
            min_tail=None if self.min_tail is None else check_int(self.min_tail, "min_tail", minimum=2,
                                                                  error=FitError),
            grid=None if self.grid is None else check_int(self.grid, "grid", minimum=3, error=FitError))

    def replace(self, **changes) -> LawSpec:
        return replace(self, **changes)


class LawBatchFit(NamedTuple):
    """Fits of a batch of samples under one law (leading axis B; NaN where a row had no eligible tail).

    params, se : (B, k) in the law's ``param_names`` order; xmin, D, loglik : (B,);
    n, n_tail, n_candidates : (B,) ints; converged : (B,) bool; at_boundary : (B, k) bool.
    """

    params: np.ndarray
    se: np.ndarray
    xmin: np.ndarray
    D: np.ndarray
    loglik: np.ndarray
    n: np.ndarray
    n_tail: np.ndarray
    n_candidates: np.ndarray
    converged: np.ndarray
    at_boundary: np.ndarray


@dataclass(frozen=True, eq=False)
class XminScan:
    """The scan under a law: each candidate xmin, its tail size and distance; the chosen one."""

    xmin: np.ndarray
    n_tail: np.ndarray
    D: np.ndarray
    distance: str
    chosen: float

    def to_dict(self) -> dict:
        return dict(xmin=self.xmin.tolist(), n_tail=self.n_tail.tolist(), D=self.D.tolist(),
                    distance=self.distance, chosen=float(self.chosen))


def _pow2(n: int, minimum: int) -> int:
    return max(int(minimum), 1 << max(int(n) - 1, 0).bit_length())


def _pow4(n: int, minimum: int) -> int:
    p = _pow2(n, minimum)
    return p if p.bit_length() % 2 == minimum.bit_length() % 2 else 2 * p


def _fixed_pairs(x, n, spec: LawSpec):
    """(row, start index, length) of each row's tail ``x >= spec.xmin`` that has two distinct values."""
    B, P = x.shape
    real = np.arange(P)[None, :] < n[:, None]
    j = np.sum(real & (x < spec.xmin), axis=1)
    L = n - j
    last = x[np.arange(B), np.maximum(n - 1, 0)]
    first = x[np.arange(B), np.minimum(j, P - 1)]
    b = np.flatnonzero((L >= 2) & (first < last))
    return b, j[b], L[b]


def _eligible(x, n, spec: LawSpec):
    """The scan's eligible candidates: a (B, P) mask of start indices."""
    mt = MIN_TAIL if spec.min_tail is None else spec.min_tail
    return continuous_candidates(x, n, xmin_range=spec.xmin_range, xmin_values=spec.xmin_candidates, min_tail=mt)


def _coarse(mask, G):
    """Stage 1 of the coarse-to-fine scan: per row, ``G`` eligible candidates evenly spaced in rank."""
    out = np.zeros_like(mask)
    for r in range(mask.shape[0]):
        js = np.flatnonzero(mask[r])
        if len(js) <= G:
            out[r, js] = True
        else:
            out[r, js[np.unique(np.round(np.linspace(0, len(js) - 1, G)).astype(np.int64))]] = True
    return out


def _fine(mask, done, b, j, D, best=3):
    """Stage 2: the eligible candidates between the grid neighbours of each row's ``best`` grid points."""
    out = np.zeros_like(mask)
    Dn = np.where(np.isnan(D), np.inf, D)
    for r in np.unique(b):
        sel = np.flatnonzero(b == r)
        js = j[sel]  # increasing
        if np.all(mask[r] <= done[r]):
            continue
        for k in np.argsort(Dn[sel], kind="stable")[:best]:
            lo = js[k - 1] if k > 0 else -1
            hi = js[k + 1] if k + 1 < len(js) else mask.shape[1]
            out[r, lo + 1:hi] = mask[r, lo + 1:hi]
    return out & ~done


def _fit_pairs(x, n, b, j, L, spec: LawSpec):
    """MLE and distance of every (row, start) tail, in chunks of bounded size sorted by length.

    The tail's xmin is ``spec.xmin`` when fixed, else its first value."""
    law, N, k = spec.law, len(b), len(spec.law.param_names)
    params, se, edge = np.full((N, k), np.nan), np.full((N, k), np.nan), np.zeros((N, k), dtype=bool)
    D, ll, conv = np.full(N, np.nan), np.full(N, np.nan), np.zeros(N, dtype=bool)
    order = np.argsort(-L, kind="stable")
    budget = _BUDGET[bool(spec.discrete)]
    i = 0
    while i < N:
        W = _pow2(L[order[i]], 64)
        R = max(budget // W, 1)
        take = order[i:i + R]
        cnt = len(take)
        sel = np.concatenate([take, np.full(min(R, _pow4(cnt, 64)) - cnt, take[0])])
        cols = np.minimum(j[sel][:, None] + np.arange(W)[None, :], n[b[sel]][:, None] - 1)
        tails = x[b[sel][:, None], cols]
        xm = np.full(len(sel), spec.xmin) if spec.fixed_xmin else x[b[sel], j[sel]]
        res = law.mle(tails, L[sel], xm, discrete=spec.discrete)
        with _jax.x64():
            d = np.asarray(batch_distance(law, tails, L[sel], res.params, xm, distance=spec.distance,
                                          discrete=spec.discrete))
        params[take], se[take] = res.params[:cnt], res.se[:cnt]
        D[take], ll[take], conv[take] = d[:cnt], res.loglik[:cnt], res.converged[:cnt]
        edge[take] = res.at_boundary[:cnt]
        i += cnt
    return params, se, D, ll, conv, edge


def _scan(x, n, spec: LawSpec):
    """Every evaluated (row, start) pair of the scan, sorted by row then start; their fits; candidates per row."""
    mask = _eligible(x, n, spec)
    first = mask if spec.grid is None else _coarse(mask, spec.grid)
    b, j = np.nonzero(first)
    fits = _fit_pairs(x, n, b, j, n[b] - j, spec)
    if spec.grid is not None:
        b2, j2 = np.nonzero(_fine(mask, first, b, j, fits[2]))
        if len(b2):
            more = _fit_pairs(x, n, b2, j2, n[b2] - j2, spec)
            order = np.lexsort((np.r_[j, j2], np.r_[b, b2]))
            b, j = np.r_[b, b2][order], np.r_[j, j2][order]
            fits = tuple(np.concatenate([u, v])[order] for u, v in zip(fits, more))
    return b, j, fits, mask.sum(axis=1).astype(np.int64)


def refit_law(rows: _jax.Padded, spec: LawSpec, *, curves: bool = False):
    """Fit ``spec``'s law to every row of a padded batch of sorted samples.

    Parameters
    ----------
    rows : Padded
        Sorted positive samples.
    spec : LawSpec
        A checked spec: ``spec.xmin`` fixed for every row, or None for the scan under the law.
    curves : bool
        Also return each row's :class:`XminScan` (None for a fixed xmin or a row without candidates).

    Returns
    -------
    LawBatchFit, or (LawBatchFit, list of XminScan) when ``curves``.
    """
    x, n = np.asarray(rows.x, dtype=np.float64), np.asarray(rows.counts, dtype=np.int64)
    B = x.shape[0]
    if spec.fixed_xmin:
        b, j, L = _fixed_pairs(x, n, spec)
        params, se, D, ll, conv, edge = _fit_pairs(x, n, b, j, L, spec)
        ncand = (np.bincount(b, minlength=B) > 0).astype(np.int64)
    else:
        b, j, (params, se, D, ll, conv, edge), ncand = _scan(x, n, spec)
        L = n[b] - j
    best = np.full(B, -1)
    if len(b):
        order = np.lexsort((j, np.where(np.isnan(D), np.inf, D), b))
        first = order[np.r_[True, b[order][1:] != b[order][:-1]]]
        best[b[first]] = first
    has = best >= 0
    pick = np.maximum(best, 0)

    def take(a, fill=np.nan):
        if not len(b):
            return np.full((B,) + a.shape[1:], fill)
        return np.where(has.reshape((B,) + (1,) * (a.ndim - 1)), a[pick], fill)

    xmin = take(np.full(len(b), spec.xmin) if spec.fixed_xmin else x[b, j]) if len(b) else np.full(B, np.nan)
    out = LawBatchFit(take(params), take(se), xmin, take(D), take(ll), n, take(L, 0).astype(np.int64),
                      ncand.astype(np.int64), take(conv, False).astype(bool), take(edge, False).astype(bool))
    if not curves:
        return out
    scans = []
    for r in range(B):
        sel = np.flatnonzero(b == r)
        if spec.fixed_xmin or not has[r]:
            scans.append(None)
            continue
        scans.append(XminScan(x[r, j[sel]], L[sel].astype(np.int64), D[sel], spec.distance, float(xmin[r])))
    return out, scans

