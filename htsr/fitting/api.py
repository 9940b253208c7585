"""Front door of the power-law fitter: :func:`fit` and :func:`fit_many`.

These validate their input and options, then call the array-level machinery
of :mod:`htsr.fitting.batch` (:func:`~htsr.fitting.batch.fit_padded`).
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from .. import _jax
from ..data import as_sample
from ..errors import DataError, FitError
from .batch import BatchFit, _final_alpha, fit_padded, tail_d
from .bounded_scan import fit_range_padded
from .result import PowerLawFit

__all__ = ["fit", "fit_many"]

_METHODS = ("clauset", "bounded")
_ESTIMATORS = ("mle", "unbiased")


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


def _check_alpha_grid(alpha_grid):
    """Normalise ``alpha_grid``: None, "plfit", or an increasing 1-D sequence of values > 1."""
    if alpha_grid is None:
        return None
    if isinstance(alpha_grid, str):
        if alpha_grid == "plfit":
            from ..models.powerlaw import PLFIT_ALPHA_GRID

            return PLFIT_ALPHA_GRID
        raise FitError(f"alpha_grid must be None, 'plfit' or an increasing sequence of values > 1, "
                       f"got {alpha_grid!r}")
    try:
        g = np.asarray(alpha_grid, dtype=np.float64)
    except (TypeError, ValueError):
        raise FitError(f"alpha_grid must be None, 'plfit' or an increasing sequence of values > 1, "
                       f"got {alpha_grid!r}") from None
    if g.ndim != 1 or g.size == 0:
        raise FitError(f"alpha_grid must be a non-empty 1-D sequence, got shape {g.shape}")
    if not np.all(np.isfinite(g)) or np.any(g <= 1):
        raise FitError("alpha_grid values must be finite and > 1 (the discrete power law needs alpha > 1)")
    if np.any(np.diff(g) <= 0):
        raise FitError("alpha_grid must be strictly increasing")
    return tuple(float(v) for v in g)


def _check_discrete(discrete, *, allow_auto: bool = True):
    """Normalise the ``discrete`` option: a bool, or "auto" where allowed."""
    if isinstance(discrete, (bool, np.bool_)):
        return bool(discrete)
    if allow_auto and isinstance(discrete, str) and discrete == "auto":
        return "auto"
    allowed = "True, False or 'auto'" if allow_auto else "True or False"
    raise FitError(f"discrete must be {allowed}, got {discrete!r}")


def _resolve_discrete(discrete, x) -> bool:
    if discrete == "auto":
        return bool(np.all(x == np.round(x)))
    return discrete


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
    alpha_grid=None,
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
    alpha_grid : None, "plfit" or sequence of float
        Discrete ``method="clauset"`` only, for reproducing published numbers:
        maximise the likelihood over this grid of alpha values instead of exactly.
        ``"plfit"`` is the grid 1.50:0.01:3.50 of Clauset's ``plfit.m`` and
        ``plpva.m``, which made the integer-data fits and p-values of Clauset et
        al. (2009).  The default (None) is the exact MLE; see docs/uncertainty.md
        for how much the grid moves D and the p-value on real data.

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
    discrete = _check_discrete(discrete)
    _check_options(method, estimator, discrete is True, xmax, min_tail, xmin_range)
    alpha_grid = _check_alpha_grid(alpha_grid)
    x = as_sample(data, discrete=discrete is True)
    is_discrete = _resolve_discrete(discrete, x)
    if estimator == "unbiased" and is_discrete:
        raise FitError("estimator='unbiased' is defined for the continuous power law only")
    if alpha_grid is not None and (method != "clauset" or not is_discrete):
        raise FitError("alpha_grid applies to the discrete power law with method='clauset' only "
                       f"(got method={method!r}, discrete={is_discrete})")
    if method == "bounded":
        return _fit_bounded(x, xmin, xmax, is_discrete, dict(
            xmin_range=xmin_range, xmin_values=xmin_candidates, min_tail=min_tail), exhaustive, estimator)
    if xmin is not None:
        return _fit_fixed(x, float(xmin), is_discrete, method, estimator, alpha_grid)
    batch = fit_padded(
        x[None, :], np.array([len(x)]), discrete=is_discrete, xmin_range=xmin_range,
        xmin_values=xmin_candidates, min_tail=min_tail, estimator=estimator, exhaustive=exhaustive,
        alpha_grid=alpha_grid,
    )
    opts = dict(xmin_range=xmin_range, xmin_values=xmin_candidates, min_tail=min_tail)
    if alpha_grid is not None:
        opts["alpha_grid"] = alpha_grid
    return _to_result(batch, 0, x, is_discrete, method, estimator, opts)


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

        return search_range(x, discrete=discrete, xmin=xmin, estimator=estimator)
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
                               conditional=rule == "max" and not discrete, estimator=estimator)
        return PowerLawFit(
            alpha=float(res.alpha[0]), xmin=xmin, xmax=xmax, n=len(x), n_tail=len(tail),
            D=float(res.D[0]), sigma=float(res.sigma[0]), discrete=discrete, method="bounded",
            estimator=estimator, n_candidates=1, n_evaluated=1, data=x,
            scan_options=dict(xmin=xmin, xmax=xmax, xmax_rule=rule),
        )
    inside = x[x <= xmax]
    if inside.size < 2 or inside[0] == inside[-1]:
        raise FitError(f"xmax={xmax:g} leaves {inside.size} point(s) with fewer than two distinct values")
    batch = fit_padded(x[None, :], np.array([len(x)]), discrete=discrete, exhaustive=exhaustive,
                       method="bounded", xmax=None if rule == "max" else np.array([xmax]), estimator=estimator,
                       **{k: v for k, v in options.items() if k not in ("xmax", "xmax_rule")})
    return _to_result(batch, 0, x, discrete, "bounded", estimator, options, xmax=xmax)


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


def _fit_fixed(x, xmin, discrete, method, estimator, alpha_grid=None) -> PowerLawFit:
    _check_xmin(xmin, discrete)
    tail = x[x >= xmin]
    _check_tail(tail, f"xmin={xmin:g}")
    with _jax.x64():
        alpha, sigma = _final_alpha([tail], np.array([xmin]), discrete, estimator, alpha_grid)
        mle = alpha if estimator == "mle" else _final_alpha([tail], np.array([xmin]), discrete, "mle")[0]
        D = tail_d(tail, float(mle[0]), xmin, discrete)
    return PowerLawFit(
        alpha=float(alpha[0]), xmin=xmin, xmax=float(x[-1]), n=len(x), n_tail=len(tail), D=D,
        sigma=float(sigma[0]), discrete=discrete, method=method, estimator=estimator,
        n_candidates=1, n_evaluated=1, data=x,
        scan_options=dict(xmin=xmin) if alpha_grid is None else dict(xmin=xmin, alpha_grid=alpha_grid),
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
    discrete = _check_discrete(discrete, allow_auto=False)
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
                           min_tail=min_tail, method="bounded", xmax=None if xmax is None else xmaxs,
                           estimator=estimator)
        return [
            _to_result(batch, b, xs[b], discrete, "bounded", estimator,
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


