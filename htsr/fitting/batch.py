"""Array-level fitting machinery: batches of padded samples in, arrays out.

:func:`fit_padded` is the entry point for bootstraps and calibration grids
(no validation beyond shapes, no warnings).  The validating front door
(:func:`htsr.fit`, :func:`htsr.fit_many`) lives in :mod:`htsr.fitting.api`.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import numpy as np

from .. import _jax, _progress
from ..errors import DataError, FitError
from ..models import bounded as bd
from ..models import powerlaw as pl
from . import kernels as K
from .bounded_scan import final_alpha as _bounded_final_alpha
from .bounded_scan import scan_bounded_continuous, scan_bounded_discrete
from .prune import chunk_size, run_chunks
from .result import KSCurve, PowerLawFit
from .scan import (
    continuous_candidates,
    discrete_candidates,
    scan_continuous,
    scan_discrete,
    unique_rows,
)

__all__ = ["BatchFit", "fit_padded", "tail_d", "ks_curve"]


class BatchFit(NamedTuple):
    """Power-law fits of a batch of samples, as arrays of shape (B,).

    Attributes
    ----------
    xmin, alpha, D, sigma : float arrays (NaN where a sample had no eligible xmin)
    n : number of points in each sample
    n_tail : number of points >= xmin
    n_candidates, n_evaluated : eligible xmin values, and those evaluated exactly
    """

    xmin: np.ndarray
    alpha: np.ndarray
    D: np.ndarray
    sigma: np.ndarray
    n: np.ndarray
    n_tail: np.ndarray
    n_candidates: np.ndarray
    n_evaluated: np.ndarray


_ROW_BUDGET = 1 << 24  # elements of the (rows, P, m) lower-bound array per group


def _check_counts(x, n):
    if n.shape != (x.shape[0],) or np.any(n < 2) or np.any(n > x.shape[1]):
        raise DataError("counts must give, for each row, between 2 and the row length real entries")


def _pad_to_bucket(x, n, n_use):
    """Pad rows to a bucket length; entries past ``n_use`` repeat the last used value."""
    _check_counts(x, n)
    P = _jax.bucket(x.shape[1])
    if P != x.shape[1]:  # pad to a bucket so the kernels are reused
        x = np.concatenate([x, np.repeat(x[:, -1:], P - x.shape[1], axis=1)], axis=1)
    rows = np.arange(x.shape[0])
    x = np.where(np.arange(P)[None, :] < n_use[:, None], x, x[rows, n_use - 1][:, None])
    return x, n


class _Ticker:
    """Counts settled xmin candidates over row groups for a ``progress(done, total)`` callback.

    ``group(count)`` opens the next group (``count`` real candidates) and settles
    the previous one in full; ticks never run past the open group, so padded
    rows of a group count for nothing.
    """

    def __init__(self, report, total: int):
        self.report, self.total, self.done, self.cap = report, int(total), 0, 0

    def group(self, count: int) -> None:
        self.done = self.cap
        self.cap += int(count)
        self.report(self.done, self.total)

    def __call__(self, k: int) -> None:
        new = min(self.done + int(k), self.cap)
        if new != self.done:
            self.done = new
            self.report(new, self.total)

    def finish(self) -> None:
        if self.done < self.total:
            self.done = self.cap = self.total
            self.report(self.total, self.total)


def _ticker(progress, x, n, options):
    """A :class:`_Ticker` for ``progress`` over the candidates of (B, P) rows, or None.

    Candidates are counted as the continuous scan counts them (first index of
    each distinct value but the largest, restricted by the options); for
    discrete rows these are exactly the distinct values the discrete scan tries.
    """
    report = _progress.resolve(progress, "xmin scan")
    if report is None:
        return None, None
    restrict = {k: options.get(k) for k in ("xmin_range", "xmin_values", "min_tail")}
    per_row = continuous_candidates(x, n, **restrict).sum(axis=1)
    ticker = _Ticker(report, per_row.sum())
    return ticker, lambda start, stop: ticker.group(per_row[start:stop].sum())


def _map_row_groups(fn, x, *per_row, before=None):
    """Apply ``fn(x_group, *per_row_groups)`` to groups of a fixed number of rows.

    The group size R is a power of two with R x P x 64 under ``_ROW_BUDGET``
    (the kernels themselves work in fixed-size blocks; this bounds the host's
    (R, P) arrays and the work per group): memory is bounded and every
    group reuses the same compiled kernels (the last group is padded by
    repeating its first row).  ``fn`` returns a tuple of (R,) arrays; the
    result is the tuple of their concatenations over all rows.
    ``before(start, stop)``, if given, is called before each group.
    """
    B, P = x.shape
    R = 1 << max(0, (_ROW_BUDGET // (P * 64)).bit_length() - 1)
    R = min(R, 1 << max(0, (B - 1).bit_length()))
    parts = []
    for start in range(0, B, R):
        stop = min(start + R, B)
        if before is not None:
            before(start, stop)
        group = [a[start:stop] for a in (x, *per_row)]
        if stop - start < R:
            group = [np.concatenate([g, np.repeat(g[:1], R - (stop - start), axis=0)]) for g in group]
        parts.append([col[: stop - start] for col in fn(*group)])
    return tuple(np.concatenate(c) for c in zip(*parts))


def _scan(x, n, discrete, *, xmin_range, xmin_values, min_tail, exhaustive, xmax=None, conditional=False,
          alpha_grid=None, tick=None):
    """Run the scan; return (ScanResult, xmin array, n_tail array).

    ``xmax`` (B,), if given, selects the bounded law on [xmin, xmax] (every real
    entry of ``x`` must be <= xmax).  ``alpha_grid``: discrete unbounded only,
    alpha maximised over this grid (``plfit.m`` compatibility).
    """
    B = x.shape[0]
    rows = np.arange(B)
    if discrete:
        u, c, nu = unique_rows(x, n)

        def cand_fn(nt):
            return discrete_candidates(
                u, nt, nu, xmin_range=xmin_range, xmin_values=xmin_values, min_tail=min_tail
            )

        if xmax is None:
            res = scan_discrete(u, c, nu, cand_fn, exhaustive=exhaustive, alpha_grid=alpha_grid, tick=tick)
        else:
            res = scan_bounded_discrete(u, c, nu, xmax, cand_fn, exhaustive=exhaustive, tick=tick)
        j = np.maximum(res.index, 0)
        xmin = u[rows, j]
        n_tail = n - (np.cumsum(c, 1) - c)[rows, j].astype(np.int64)
    else:
        cand = continuous_candidates(x, n, xmin_range=xmin_range, xmin_values=xmin_values, min_tail=min_tail)
        if xmax is None:
            res = scan_continuous(x, n, cand, exhaustive=exhaustive, tick=tick)
        else:
            res = scan_bounded_continuous(x, n, xmax, cand, exhaustive=exhaustive, conditional=conditional,
                                          tick=tick)
        j = np.maximum(res.index, 0)
        xmin = x[rows, j]
        n_tail = n - j
    none = res.index < 0
    return res, np.where(none, np.nan, xmin), np.where(none, 0, n_tail)


# Compiled once per bucketed length: called eagerly, the loops inside the
# discrete MLE would be retraced and recompiled on every call.
_discrete_mle = jax.jit(pl.discrete_mle)
_discrete_grid_mle = jax.jit(pl.discrete_grid_mle)


def _padded_call(fn, *arrays):
    """``fn`` on 1-D arrays padded (repeating the last entry) to a bucket length."""
    arrays = [np.asarray(a, dtype=np.float64) for a in arrays]
    k = len(arrays[0])
    size = _jax.bucket(k)
    padded = [np.concatenate([a, np.repeat(a[-1:], size - k)]) for a in arrays]
    return np.asarray(fn(*padded))[:k]


def final_alpha_unbounded(tails, xmins, discrete, estimator, alpha_grid=None):
    """alpha and sigma from direct sums over each selected tail."""
    if discrete:
        mean = np.array([np.mean(np.log(t)) for t in tails])
        nt = np.array([len(t) for t in tails], dtype=np.float64)
        alpha = _padded_call(_discrete_mle, mean, xmins)
        if alpha_grid is not None:  # padded like the MLE: one compilation per bucket, not per tail count
            grid = np.asarray(alpha_grid, dtype=np.float64)
            alpha = _padded_call(lambda a, m, xm: _discrete_grid_mle(a, m, xm, grid), alpha, mean, xmins)
        sigma = np.asarray(pl.discrete_sigma(alpha, xmins, nt))
        return alpha, sigma
    s = np.array([np.sum(np.log(t / xm)) for t, xm in zip(tails, xmins)])
    nt = np.array([len(t) for t in tails], dtype=np.float64)
    alpha = np.asarray(pl.continuous_mle(s, nt, unbiased=estimator == "unbiased"))
    return alpha, np.asarray(pl.continuous_sigma(alpha, nt))


def fit_padded(
    x,
    counts,
    *,
    discrete: bool = False,
    xmin_range=None,
    xmin_values=None,
    min_tail: int | None = None,
    estimator: str = "mle",
    exhaustive: bool = False,
    method: str = "clauset",
    xmax=None,
    alpha_grid=None,
    progress=None,
) -> BatchFit:
    """Fit a batch of already validated samples given as a padded array.

    This is the kernel-level entry point for bootstraps and calibration grids:
    no validation, no warnings, arrays in and arrays out.

    Parameters
    ----------
    x : (B, P) array
        Each row sorted ascending, positive, padded at the end (any values).
    counts : (B,) int array
        Number of real entries per row (>= 2).
    method : {"clauset", "bounded"}
        ``"bounded"`` fits the bounded power law on ``[xmin, xmax]`` (xmin by the KS scan).
    xmax : None, float or (B,) array
        Upper end for ``method="bounded"``: each row's largest entry by default.
        Entries above it are outside the model; ``n`` still counts them,
        ``n_tail`` counts the points in ``[xmin, xmax]``.
    alpha_grid : None or 1-D array
        Discrete ``method="clauset"`` only: maximise the likelihood over this
        increasing grid of alpha values instead of exactly, as ``plfit.m`` does
        (:data:`htsr.models.powerlaw.PLFIT_ALPHA_GRID`).
    progress : None, bool or callable
        Progress of the xmin scan, in candidates settled (pruned or evaluated):
        None/False for none, True for a bar on stderr (only on a terminal), or a
        callable ``progress(done, total)`` (:func:`htsr._progress.resolve`).
    """
    x = np.asarray(x, dtype=np.float64)
    n = np.asarray(counts, dtype=np.int64)
    if alpha_grid is not None and (method != "clauset" or not discrete):
        raise FitError("alpha_grid applies to the discrete power law with method='clauset' only")
    if method == "bounded":
        if estimator not in ("mle", "unbiased") or (estimator == "unbiased" and discrete):
            raise FitError(f"estimator={estimator!r}: the bounded fit takes 'mle', or 'unbiased' for continuous data")
        return _fit_padded_bounded(x, n, discrete=discrete, xmin_range=xmin_range,
                                   xmin_values=xmin_values, min_tail=min_tail,
                                   exhaustive=exhaustive, xmax=xmax, estimator=estimator, progress=progress)
    if method != "clauset":
        raise FitError(f"method must be 'clauset' or 'bounded', got {method!r}")
    x, n = _pad_to_bucket(x, n, n)
    opts = dict(xmin_range=xmin_range, xmin_values=xmin_values, min_tail=min_tail, alpha_grid=alpha_grid)
    tick, before = _ticker(progress, x, n, opts)
    xmin, alpha, D, sigma, n_tail, n_cand, n_eval = _map_row_groups(
        lambda xs, ns: _fit_group(xs, ns, discrete, estimator, exhaustive, opts, tick=tick), x, n, before=before
    )
    if tick is not None:
        tick.finish()
    return BatchFit(xmin, alpha, D, sigma, n, n_tail, n_cand, n_eval)


def _fit_group(x, n, discrete, estimator, exhaustive, options, xmax=None, conditional=False, tick=None):
    with _jax.x64():
        res, xmin, n_tail = _scan(x, n, discrete, exhaustive=exhaustive, xmax=xmax,
                                  conditional=conditional, tick=tick, **options)
        ok = res.index >= 0
        alpha = np.full(len(n), np.nan)
        sigma = np.full(len(n), np.nan)
        if ok.any():
            tails = [x[b, n[b] - n_tail[b] : n[b]] for b in np.flatnonzero(ok)]
            if xmax is None:
                alpha[ok], sigma[ok] = final_alpha_unbounded(tails, xmin[ok], discrete, estimator,
                                                    options.get("alpha_grid"))
            else:
                alpha[ok], sigma[ok] = _bounded_final_alpha(tails, xmin[ok], xmax[ok], discrete, conditional)
    return xmin, alpha, res.D, sigma, n_tail, res.n_candidates, res.n_evaluated


def _fit_padded_bounded(x, n, *, discrete, xmin_range, xmin_values, min_tail, exhaustive, xmax, estimator="mle",
                        progress=None):
    """fit_padded for the bounded law: cut each row at its xmax, then scan in row groups."""
    B = x.shape[0]
    rows = np.arange(B)
    _check_counts(x, n)
    # xmax estimated as each row's maximum: alpha is the MLE conditional on the
    # tail's extremes (unbiased to O(1/n); the plain joint MLE is biased low
    # when the maximum falls well short of the true upper end)
    conditional = xmax is None and not discrete
    if xmax is None:
        xmax = x[rows, n - 1]
    xmax = np.broadcast_to(np.asarray(xmax, dtype=np.float64), (B,)).copy()
    # points in range: the leading entries <= xmax
    idx = np.arange(x.shape[1])[None, :]
    n_in = np.sum((idx < n[:, None]) & (x <= xmax[:, None]), axis=1)
    usable = n_in >= 2
    n_use = np.maximum(n_in, 2)
    x, _ = _pad_to_bucket(x, n, n_use)
    opts = dict(xmin_range=xmin_range, xmin_values=xmin_values, min_tail=min_tail)
    tick, before = _ticker(progress, x, n_use, opts)
    xmin, alpha, D, sigma, n_tail, n_cand, n_eval = _map_row_groups(
        lambda xs, ns, bs: _fit_group(xs, ns, discrete, "mle", exhaustive, opts, xmax=bs,
                                      conditional=conditional, tick=tick),
        x, n_use, xmax, before=before,
    )
    if tick is not None:
        tick.finish()
    if estimator == "unbiased":
        # first-order correction with the number of points the MLE used: the
        # conditional fit leaves out the tail's smallest and largest points
        good = usable & np.isfinite(alpha)
        if good.any():
            n_eff = n_tail[good] - (2.0 if conditional else 0.0)
            with _jax.x64():
                alpha[good] = alpha[good] - np.asarray(bd.continuous_bias(
                    alpha[good], np.log(xmax[good] / xmin[good]), n_eff))
    bad = ~usable
    if bad.any():
        for arr in (xmin, alpha, D, sigma):
            arr[bad] = np.nan
        n_tail[bad], n_cand[bad], n_eval[bad] = 0, 0, 0
    return BatchFit(xmin, alpha, D, sigma, n, n_tail, n_cand, n_eval)


def tail_d(tail, alpha, xmin, discrete):
    """KS distance of one sorted tail (all >= xmin) from the power law (alpha, xmin).

    Uses the scan's own kernels, so a fixed-xmin fit and the scan agree on D.
    """
    with _jax.x64():
        x, n = _jax.pad_rows([tail])
        if discrete:
            u, c, nu = unique_rows(x, n, first=[xmin])  # an unobserved xmin enters with count 0
            _, nt, cb = K.discrete_alpha(u, c)
            a = np.full(u.shape, alpha)

            def exact(bs, js):
                return K.discrete_exact_d(u, c, a, nt, cb, nu, bs, js)

            P, budget = u.shape[1], 1 << 17
        else:
            lx = np.log(x)
            a = np.full(x.shape, alpha)
            P, budget = x.shape[1], 1 << 21

            def exact(bs, js):
                return K.continuous_exact_d(lx, a, n, bs, js, np.full(len(bs), np.log(xmin)))

        return float(run_chunks(exact, np.array([0]), P, chunk_size(P, budget))[0])


def ks_curve(result: PowerLawFit) -> KSCurve:
    """Exhaustive scan of one fit's data (all candidates, exact D)."""
    x = result.data
    spec = result.spec
    xmax = None
    conditional = False
    if result.method == "bounded":
        xmax = np.array([result.xmax])
        x = x[x <= result.xmax]
        conditional = spec.xmax_rule == "max" and not result.discrete
    X, n = _jax.pad_rows([x])
    with _jax.x64():
        res, _, _ = _scan(X, n, result.discrete, exhaustive=True, xmax=xmax, conditional=conditional,
                          **spec.scan_kwargs())
    D = res.D_all[0]
    keep = ~np.isnan(D)
    idx = np.flatnonzero(keep)
    if result.discrete:
        u, c, _ = unique_rows(X, n)
        xm = u[0, idx]
        nt = len(x) - (np.cumsum(c[0]) - c[0])[idx]
    else:
        xm = X[0, idx]
        nt = len(x) - idx
    return KSCurve(xm, D[idx], res.alpha_all[0, idx], nt.astype(np.int64))
