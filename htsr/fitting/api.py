"""Front door of the power-law fitter: :func:`fit`, :func:`fit_many`, :func:`fit_padded`."""

from __future__ import annotations

from typing import NamedTuple, Sequence

import jax
import numpy as np

from .. import _jax
from ..data import as_sample
from ..errors import DataError, FitError
from ..models import powerlaw as pl
from . import kernels as K
from .bounded_scan import final_alpha as _bounded_final_alpha
from .bounded_scan import fit_range_padded, scan_bounded_continuous, scan_bounded_discrete
from .result import KSCurve, PowerLawFit
from .scan import (
    ScanResult,
    _chunk_size,
    _run_chunks,
    continuous_candidates,
    discrete_candidates,
    scan_continuous,
    scan_discrete,
)

__all__ = ["fit", "fit_many", "fit_padded", "BatchFit"]

_METHODS = ("clauset", "bounded")
_ESTIMATORS = ("mle", "unbiased")


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


# ------------------------------------------------------------------ options
def _check_options(method, estimator, discrete, xmax, min_tail, xmin_range):
    if method not in _METHODS:
        raise FitError(f"method must be one of {_METHODS}, got {method!r}")
    if estimator not in _ESTIMATORS:
        raise FitError(f"estimator must be one of {_ESTIMATORS}, got {estimator!r}")
    if estimator == "unbiased" and discrete:
        raise FitError("estimator='unbiased' is defined for the continuous power law only")
    if method == "clauset" and xmax is not None:
        raise FitError(
            "method='clauset' fits the unbounded power law and has no xmax; "
            "an xmax-aware fit is method='bounded'"
        )
    if method == "bounded":
        if estimator == "unbiased" and discrete:
            raise FitError("estimator='unbiased' is defined for the continuous laws only")
        if isinstance(xmax, str):
            if xmax != "search":
                raise FitError(f"xmax must be a number, None or 'search', got {xmax!r}")
        elif xmax is not None and not (np.ndim(xmax) == 0 and np.isfinite(xmax) and xmax > 0):
            raise FitError(f"xmax must be a positive finite number, None or 'search', got {xmax!r}")
    if min_tail is not None and (int(min_tail) != min_tail or min_tail < 2):
        raise FitError(f"min_tail must be an integer >= 2, got {min_tail!r}")
    if xmin_range is not None:
        lo, hi = xmin_range
        if not lo <= hi:
            raise FitError(f"xmin_range must be (low, high) with low <= high, got {xmin_range!r}")


def _resolve_discrete(discrete, x) -> bool:
    if discrete == "auto":
        return bool(np.all(x == np.round(x)))
    if not isinstance(discrete, (bool, np.bool_)):
        raise FitError(f"discrete must be True, False or 'auto', got {discrete!r}")
    return bool(discrete)


# ------------------------------------------------------------------ batch core
def _unique_rows(x, n):
    rows = [np.unique(x[b, : n[b]], return_counts=True) for b in range(x.shape[0])]
    nu = np.array([len(r[0]) for r in rows], dtype=np.int32)
    U = _jax.bucket(int(nu.max()))
    u = np.empty((len(rows), U))
    c = np.zeros((len(rows), U))
    for b, (vals, cnt) in enumerate(rows):
        u[b, : len(vals)] = vals
        u[b, len(vals) :] = vals[-1]
        c[b, : len(vals)] = cnt
    return u, c, nu


def _scan(x, n, discrete, *, xmin_range, xmin_values, min_tail, exhaustive, xmax=None, conditional=False):
    """Run the scan; return (ScanResult, xmin array, n_tail array).

    ``xmax`` (B,), if given, selects the bounded law on [xmin, xmax] (every real
    entry of ``x`` must be <= xmax).
    """
    B = x.shape[0]
    rows = np.arange(B)
    if discrete:
        u, c, nu = _unique_rows(x, n)

        def cand_fn(nt):
            return discrete_candidates(
                u, nt, nu, xmin_range=xmin_range, xmin_values=xmin_values, min_tail=min_tail
            )

        if xmax is None:
            res = scan_discrete(u, c, nu, cand_fn, exhaustive=exhaustive)
        else:
            res = scan_bounded_discrete(u, c, nu, xmax, cand_fn, exhaustive=exhaustive)
        j = np.maximum(res.index, 0)
        xmin = u[rows, j]
        n_tail = n - (np.cumsum(c, 1) - c)[rows, j].astype(np.int64)
    else:
        cand = continuous_candidates(x, n, xmin_range=xmin_range, xmin_values=xmin_values, min_tail=min_tail)
        if xmax is None:
            res = scan_continuous(x, n, cand, exhaustive=exhaustive)
        else:
            res = scan_bounded_continuous(x, n, xmax, cand, exhaustive=exhaustive, conditional=conditional)
        j = np.maximum(res.index, 0)
        xmin = x[rows, j]
        n_tail = n - j
    none = res.index < 0
    return res, np.where(none, np.nan, xmin), np.where(none, 0, n_tail)


# Compiled once per bucketed length: called eagerly, the loops inside the
# discrete MLE would be retraced and recompiled on every call.
_discrete_mle = jax.jit(pl.discrete_mle)


def _padded_call(fn, *arrays):
    """``fn`` on 1-D arrays padded (repeating the last entry) to a bucket length."""
    arrays = [np.asarray(a, dtype=np.float64) for a in arrays]
    k = len(arrays[0])
    size = _jax.bucket(k)
    padded = [np.concatenate([a, np.repeat(a[-1:], size - k)]) for a in arrays]
    return np.asarray(fn(*padded))[:k]


def _final_alpha(tails, xmins, discrete, estimator):
    """alpha and sigma from direct sums over each selected tail."""
    if discrete:
        mean = np.array([np.mean(np.log(t)) for t in tails])
        nt = np.array([len(t) for t in tails], dtype=np.float64)
        alpha = _padded_call(_discrete_mle, mean, xmins)
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
    """
    x = np.asarray(x, dtype=np.float64)
    n = np.asarray(counts, dtype=np.int64)
    if method == "bounded":
        return _fit_padded_bounded(x, n, discrete=discrete, xmin_range=xmin_range,
                                   xmin_values=xmin_values, min_tail=min_tail,
                                   exhaustive=exhaustive, xmax=xmax)
    if method != "clauset":
        raise FitError(f"method must be one of {_METHODS}, got {method!r}")
    P = _jax.bucket(x.shape[1])
    if P != x.shape[1]:  # pad to a bucket so the kernels are reused
        x = np.concatenate([x, np.repeat(x[:, -1:], P - x.shape[1], axis=1)], axis=1)
    if n.shape != (x.shape[0],) or np.any(n < 2) or np.any(n > x.shape[1]):
        raise DataError("counts must give, for each row, between 2 and the row length real entries")
    B = x.shape[0]
    rows = np.arange(B)
    x = np.where(np.arange(P)[None, :] < n[:, None], x, x[rows, n - 1][:, None])
    # Rows go through the kernels in groups of a fixed size R (a power of two):
    # memory stays bounded and every group reuses the same compiled kernels.
    R = 1 << max(0, (_ROW_BUDGET // (P * 64)).bit_length() - 1)
    R = min(R, 1 << max(0, (B - 1).bit_length()))
    parts = []
    for start in range(0, B, R):
        sl = slice(start, min(start + R, B))
        xs, ns = x[sl], n[sl]
        if len(ns) < R:  # pad the last group by repeating its first row
            xs = np.concatenate([xs, np.repeat(xs[:1], R - len(ns), axis=0)])
            ns = np.concatenate([ns, np.repeat(ns[:1], R - len(ns))])
        group = _fit_group(xs, ns, discrete, estimator, exhaustive,
                           dict(xmin_range=xmin_range, xmin_values=xmin_values, min_tail=min_tail))
        parts.append([col[: sl.stop - sl.start] for col in group])
    cols = list(zip(*parts))
    xmin, alpha, D, sigma, n_tail, n_cand, n_eval = (np.concatenate(c) for c in cols)
    return BatchFit(xmin, alpha, D, sigma, n, n_tail, n_cand, n_eval)


_ROW_BUDGET = 1 << 24  # elements of the (rows, P, m) lower-bound array per group


def _fit_group(x, n, discrete, estimator, exhaustive, options, xmax=None, conditional=False):
    with _jax.x64():
        res, xmin, n_tail = _scan(x, n, discrete, exhaustive=exhaustive, xmax=xmax,
                                  conditional=conditional, **options)
        ok = res.index >= 0
        alpha = np.full(len(n), np.nan)
        sigma = np.full(len(n), np.nan)
        if ok.any():
            tails = [x[b, n[b] - n_tail[b] : n[b]] for b in np.flatnonzero(ok)]
            if xmax is None:
                alpha[ok], sigma[ok] = _final_alpha(tails, xmin[ok], discrete, estimator)
            else:
                alpha[ok], sigma[ok] = _bounded_final_alpha(tails, xmin[ok], xmax[ok], discrete, conditional)
    return xmin, alpha, res.D, sigma, n_tail, res.n_candidates, res.n_evaluated


def _fit_padded_bounded(x, n, *, discrete, xmin_range, xmin_values, min_tail, exhaustive, xmax):
    """fit_padded for the bounded law: cut each row at its xmax, then scan in row groups."""
    B = x.shape[0]
    rows = np.arange(B)
    if n.shape != (B,) or np.any(n < 2) or np.any(n > x.shape[1]):
        raise DataError("counts must give, for each row, between 2 and the row length real entries")
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
    P = _jax.bucket(x.shape[1])
    if P != x.shape[1]:
        x = np.concatenate([x, np.repeat(x[:, -1:], P - x.shape[1], axis=1)], axis=1)
    x = np.where(np.arange(P)[None, :] < n_use[:, None], x, x[rows, n_use - 1][:, None])
    R = 1 << max(0, (_ROW_BUDGET // (P * 64)).bit_length() - 1)
    R = min(R, 1 << max(0, (B - 1).bit_length()))
    opts = dict(xmin_range=xmin_range, xmin_values=xmin_values, min_tail=min_tail)
    parts = []
    for start in range(0, B, R):
        sl = slice(start, min(start + R, B))
        xs, ns, bs = x[sl], n_use[sl], xmax[sl]
        if len(ns) < R:
            pad = R - len(ns)
            xs = np.concatenate([xs, np.repeat(xs[:1], pad, axis=0)])
            ns = np.concatenate([ns, np.repeat(ns[:1], pad)])
            bs = np.concatenate([bs, np.repeat(bs[:1], pad)])
        group = _fit_group(xs, ns, discrete, "mle", exhaustive, opts, xmax=bs, conditional=conditional)
        parts.append([col[: sl.stop - sl.start] for col in group])
    xmin, alpha, D, sigma, n_tail, n_cand, n_eval = (np.concatenate(c) for c in zip(*parts))
    bad = ~usable
    if bad.any():
        for arr in (xmin, alpha, D, sigma):
            arr[bad] = np.nan
        n_tail[bad], n_cand[bad], n_eval[bad] = 0, 0, 0
    return BatchFit(xmin, alpha, D, sigma, n, n_tail, n_cand, n_eval)


# ------------------------------------------------------------------ single D
def _tail_d(tail, alpha, xmin, discrete):
    """KS distance of one sorted tail (all >= xmin) from the power law (alpha, xmin).

    Uses the scan's own kernels, so a fixed-xmin fit and the scan agree on D.
    """
    with _jax.x64():
        x, n = _jax.pad_rows([tail])
        if discrete:
            u, c, nu = _unique_rows(x, n)
            if u[0, 0] != xmin:  # xmin is not observed: it enters with count 0
                u = np.concatenate([[[xmin]], u[:, :-1]], axis=1)
                c = np.concatenate([[[0.0]], c[:, :-1]], axis=1)
                nu = nu + 1
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

        return float(_run_chunks(exact, np.array([0]), P, _chunk_size(P, budget))[0])


# ------------------------------------------------------------------ public
def fit(
    data,
    *,
    xmin: float | None = None,
    xmax: float | None = None,
    discrete: bool | str = False,
    method: str = "clauset",
    xmin_range: tuple[float, float] | None = None,
    xmin_candidates: Sequence[float] | None = None,
    min_tail: int | None = None,
    estimator: str = "mle",
    exhaustive: bool = False,
) -> PowerLawFit:
    """Fit a power law to the tail of ``data`` (Clauset, Shalizi & Newman 2009).

    Parameters
    ----------
    data : array_like
        One-dimensional sample.  Non-positive values are dropped with a
        :class:`~htsr.errors.DataAlteredWarning`; NaN/inf raise :class:`~htsr.errors.DataError`.
    xmin : float, optional
        Fix the start of the tail instead of scanning for it.
    xmax : float, None or "search"
        Only for ``method="bounded"``: the upper end of the support.  ``None``
        (the default) takes the largest observation, which is the maximum-likelihood
        estimate of the upper truncation point; a number fixes it (points above it
        are outside the model and ignored); ``"search"`` chooses both ends by the
        Deluca & Corral (2013) procedure, the widest range whose goodness-of-fit
        p-value is at least 0.1 (see :func:`htsr.fitting.range_search.search_range`
        for the options).  The unbounded Clauset fit rejects ``xmax``.
    discrete : bool or "auto"
        Fit the discrete power law (integer data).  ``"auto"`` chooses discrete
        when every value is an integer; it is never chosen silently.
    method : {"clauset", "bounded"}
        ``"clauset"``: continuous or discrete MLE with xmin chosen by the KS scan.
        ``"bounded"``: the power law truncated to ``[xmin, xmax]``
        (:mod:`htsr.models.bounded`), exact MLE for any real alpha, xmin chosen
        by the KS scan under the bounded law with xmax held fixed.
    xmin_range : (low, high), optional
        Only consider candidate xmin values in ``[low, high]``.
    xmin_candidates : sequence of float, optional
        Only consider these xmin values (those present in the data).
    min_tail : int, optional
        Only consider xmin values leaving at least this many points in the tail.
    estimator : {"mle", "unbiased"}
        ``"unbiased"`` reports ``1 + (n_tail - 1) / sum(ln(x/xmin))`` (continuous only);
        xmin is still selected with the MLE, as ``plfit.m``'s ``finite`` option does.
    exhaustive : bool
        Evaluate D exactly at every candidate (no pruning).  Same answer, slower;
        for verification.

    Returns
    -------
    PowerLawFit

    Notes
    -----
    Candidates are the unique values except the largest; D follows ``plfit.m``
    (see :mod:`htsr.fitting.kernels` for how ties enter).  The result equals the
    exhaustive scan's: candidates are pruned only when a lower bound on their D
    exceeds the best exact D.

    References
    ----------
    A. Clauset, C. R. Shalizi, M. E. J. Newman, "Power-law distributions in
    empirical data", SIAM Review 51, 661-703 (2009).
    """
    _check_options(method, estimator, discrete is True, xmax, min_tail, xmin_range)
    x = as_sample(data, discrete=discrete is True)
    is_discrete = _resolve_discrete(discrete, x)
    if estimator == "unbiased" and is_discrete:
        raise FitError("estimator='unbiased' is defined for the continuous power law only")
    if method == "bounded":
        return _fit_bounded(x, xmin, xmax, is_discrete, dict(
            xmin_range=xmin_range, xmin_values=xmin_candidates, min_tail=min_tail), exhaustive, estimator)
    if xmin is not None:
        return _fit_fixed(x, float(xmin), is_discrete, method, estimator)
    batch = fit_padded(
        x[None, :], np.array([len(x)]), discrete=is_discrete, xmin_range=xmin_range,
        xmin_values=xmin_candidates, min_tail=min_tail, estimator=estimator, exhaustive=exhaustive,
    )
    return _to_result(batch, 0, x, is_discrete, method, estimator,
                      dict(xmin_range=xmin_range, xmin_values=xmin_candidates, min_tail=min_tail))


def _to_result(batch: BatchFit, b, x, discrete, method, estimator, options, xmax=None) -> PowerLawFit:
    if batch.n_candidates[b] == 0:
        raise FitError(
            f"no eligible xmin: the sample has {len(x)} points and {len(np.unique(x))} unique "
            "values, and the restrictions (xmin_range, xmin_candidates, min_tail) leave no candidate "
            "with at least two distinct values in its tail"
            + ("" if xmax is None else f" below xmax={xmax:g}")
        )
    return PowerLawFit(
        alpha=float(batch.alpha[b]), xmin=float(batch.xmin[b]),
        xmax=float(x[-1]) if xmax is None else float(xmax),
        n=int(batch.n[b]), n_tail=int(batch.n_tail[b]), D=float(batch.D[b]),
        sigma=float(batch.sigma[b]), discrete=discrete, method=method, estimator=estimator,
        n_candidates=int(batch.n_candidates[b]), n_evaluated=int(batch.n_evaluated[b]),
        data=x, scan_options=options,
    )


def _fit_bounded(x, xmin, xmax, discrete, options, exhaustive, estimator="mle") -> PowerLawFit:
    """``fit(method="bounded")``: fixed or scanned xmin, fixed or searched xmax."""
    if isinstance(xmax, str):  # "search"
        from .range_search import search_range

        return _unbias(search_range(x, discrete=discrete, xmin=xmin), estimator)
    rule = "max" if xmax is None else "fixed"
    xmax = float(x[-1]) if xmax is None else float(xmax)
    if discrete and xmax != np.round(xmax):
        raise FitError(f"a discrete bounded power law needs an integer xmax, got {xmax!r}")
    if xmax <= x[0]:
        raise FitError(f"xmax={xmax:g} is not above the smallest observation {x[0]:g}")
    options = dict(options, xmax=xmax, xmax_rule=rule)
    if xmin is not None:
        xmin = float(xmin)
        _check_xmin(xmin, discrete)
        if xmin >= xmax:
            raise FitError(f"xmin={xmin:g} must be below xmax={xmax:g}")
        tail = x[(x >= xmin) & (x <= xmax)]
        _check_tail(tail, f"xmin={xmin:g}, xmax={xmax:g}")
        X, n = _jax.pad_rows([tail])
        res = fit_range_padded(X, n, np.array([xmin]), np.array([xmax]), discrete=discrete,
                               conditional=rule == "max" and not discrete)
        return _unbias(PowerLawFit(
            alpha=float(res.alpha[0]), xmin=xmin, xmax=xmax, n=len(x), n_tail=len(tail),
            D=float(res.D[0]), sigma=float(res.sigma[0]), discrete=discrete, method="bounded",
            estimator="mle", n_candidates=1, n_evaluated=1, data=x,
            scan_options=dict(xmin=xmin, xmax=xmax, xmax_rule=rule),
        ), estimator)
    inside = x[x <= xmax]
    if inside.size < 2 or inside[0] == inside[-1]:
        raise FitError(f"xmax={xmax:g} leaves {inside.size} point(s) with fewer than two distinct values")
    batch = fit_padded(x[None, :], np.array([len(x)]), discrete=discrete, exhaustive=exhaustive,
                       method="bounded", xmax=None if rule == "max" else np.array([xmax]),
                       **{k: v for k, v in options.items() if k not in ("xmax", "xmax_rule")})
    return _unbias(_to_result(batch, 0, x, discrete, "bounded", "mle", options, xmax=xmax), estimator)


def _unbias(result: PowerLawFit, estimator: str) -> PowerLawFit:
    """Bounded fit with the first-order bias correction applied to alpha (xmin stays the MLE's)."""
    if estimator == "mle":
        return result
    import dataclasses

    from ..models import bounded as bd

    with _jax.x64():
        r = np.log(result.xmax / result.xmin)
        alpha = result.alpha - float(bd.continuous_bias(result.alpha, r, result.n_tail))
    return dataclasses.replace(result, alpha=alpha, estimator=estimator)


def _check_xmin(xmin, discrete):
    if not np.isfinite(xmin) or xmin <= 0:
        raise FitError(f"xmin must be a positive finite number, got {xmin!r}")
    if discrete and (xmin != np.round(xmin) or xmin < 1):
        raise FitError(f"a discrete power law needs an integer xmin >= 1, got {xmin!r}")


def _check_tail(tail, what):
    if tail.size < 2 or tail[0] == tail[-1]:
        raise FitError(
            f"{what} leaves {tail.size} point(s) with {len(np.unique(tail))} distinct value(s) "
            "in the tail; at least two distinct values are needed to fit alpha"
        )


def _fit_fixed(x, xmin, discrete, method, estimator) -> PowerLawFit:
    if not np.isfinite(xmin) or xmin <= 0:
        raise FitError(f"xmin must be a positive finite number, got {xmin!r}")
    if discrete and (xmin != np.round(xmin) or xmin < 1):
        raise FitError(f"a discrete power law needs an integer xmin >= 1, got {xmin!r}")
    tail = x[x >= xmin]
    if tail.size < 2 or tail[0] == tail[-1]:
        raise FitError(
            f"xmin={xmin:g} leaves {tail.size} point(s) with {len(np.unique(tail))} distinct value(s) "
            "in the tail; at least two distinct values are needed to fit alpha"
        )
    with _jax.x64():
        alpha, sigma = _final_alpha([tail], np.array([xmin]), discrete, estimator)
        mle = alpha if estimator == "mle" else _final_alpha([tail], np.array([xmin]), discrete, "mle")[0]
        D = _tail_d(tail, float(mle[0]), xmin, discrete)
    return PowerLawFit(
        alpha=float(alpha[0]), xmin=xmin, xmax=float(x[-1]), n=len(x), n_tail=len(tail), D=D,
        sigma=float(sigma[0]), discrete=discrete, method=method, estimator=estimator,
        n_candidates=1, n_evaluated=1, data=x, scan_options=dict(xmin=xmin),
    )


def fit_many(
    samples,
    *,
    counts=None,
    discrete: bool = False,
    xmin_range=None,
    xmin_candidates=None,
    min_tail: int | None = None,
    estimator: str = "mle",
    method: str = "clauset",
    xmax: float | None = None,
) -> list[PowerLawFit]:
    """Fit many samples at once, with one compiled kernel per padded size.

    Parameters
    ----------
    samples : sequence of array_like, or 2-D array
        A list of samples, or a (B, P) array whose rows are samples; with a 2-D
        array, ``counts`` (B,) says how many leading entries of each row are real
        (default: all).
    Other parameters as in :func:`fit` (``xmax`` is a number or None, the same for every sample).

    Returns
    -------
    list of PowerLawFit
    """
    if isinstance(xmax, str):
        raise FitError("fit_many takes a numeric xmax (or None); xmax='search' is for fit()")
    _check_options(method, estimator, discrete, xmax, min_tail, xmin_range)
    if isinstance(samples, np.ndarray) and samples.ndim == 2:
        counts = np.full(samples.shape[0], samples.shape[1]) if counts is None else np.asarray(counts)
        if counts.shape != (samples.shape[0],):
            raise DataError(f"counts must have shape ({samples.shape[0]},), got {counts.shape}")
        rows = [samples[b, : int(counts[b])] for b in range(samples.shape[0])]
    else:
        if counts is not None:
            raise DataError("counts is only meaningful with a 2-D array of samples")
        rows = list(samples)
    if not rows:
        raise DataError("samples is empty")
    xs = [as_sample(r, discrete=discrete, name=f"sample {k}") for k, r in enumerate(rows)]
    X, n = _jax.pad_rows(xs)
    if method == "bounded":
        xmaxs = np.array([x[-1] if xmax is None else float(xmax) for x in xs])
        batch = fit_padded(X, n, discrete=discrete, xmin_range=xmin_range, xmin_values=xmin_candidates,
                           min_tail=min_tail, method="bounded", xmax=None if xmax is None else xmaxs)
        return [
            _to_result(batch, b, xs[b], discrete, "bounded", "mle",
                       dict(xmin_range=xmin_range, xmin_values=xmin_candidates, min_tail=min_tail,
                            xmax=float(xmaxs[b]), xmax_rule="max" if xmax is None else "fixed"),
                       xmax=float(xmaxs[b]))
            for b in range(len(xs))
        ]
    batch = fit_padded(
        X, n, discrete=discrete, xmin_range=xmin_range, xmin_values=xmin_candidates,
        min_tail=min_tail, estimator=estimator,
    )
    opts = dict(xmin_range=xmin_range, xmin_values=xmin_candidates, min_tail=min_tail)
    return [_to_result(batch, b, xs[b], discrete, "clauset", estimator, opts) for b in range(len(xs))]


def _ks_curve(result: PowerLawFit) -> KSCurve:
    """Exhaustive scan of one fit's data (all candidates, exact D)."""
    x = result.data
    opts = {k: v for k, v in result.scan_options.items() if k != "xmin"}
    xmax = None
    conditional = False
    if result.method == "bounded":
        xmax = np.array([result.xmax])
        x = x[x <= result.xmax]
        conditional = opts.get("xmax_rule") == "max" and not result.discrete
    X, n = _jax.pad_rows([x])
    with _jax.x64():
        res, _, _ = _scan(X, n, result.discrete, exhaustive=True, xmax=xmax, conditional=conditional,
                          xmin_range=opts.get("xmin_range"), xmin_values=opts.get("xmin_values"),
                          min_tail=opts.get("min_tail"))
    D = res.D_all[0]
    keep = ~np.isnan(D)
    idx = np.flatnonzero(keep)
    if result.discrete:
        u, c, _ = _unique_rows(X, n)
        xm = u[0, idx]
        nt = len(x) - (np.cumsum(c[0]) - c[0])[idx]
    else:
        xm = X[0, idx]
        nt = len(x) - idx
    return KSCurve(xm, D[idx], res.alpha_all[0, idx], nt.astype(np.int64))
