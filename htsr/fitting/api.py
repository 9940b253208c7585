"""Front door of the power-law fitter: :func:`fit` and :func:`fit_many`.

These validate their input and options, then call the array-level machinery
of :mod:`htsr.fitting.batch` (:func:`~htsr.fitting.batch.fit_padded`).
"""

from __future__ import annotations

import warnings
from typing import Sequence

import numpy as np

from .. import _jax
from .._progress import resolve as _resolve_progress
from ..data import (as_sample, check_bool, check_choice, check_int, check_interval, check_number, check_tail,
                    check_xmin)
from ..errors import DataError, FitError, SmallSampleWarning
from .batch import BatchFit, final_alpha_unbounded, fit_padded, tail_d
from .bounded_scan import fit_range_padded
from .result import FitSpec, PowerLawFit

__all__ = ["fit", "fit_many", "fit_spec", "FitSpec"]

_METHODS = ("clauset", "bounded")
_ESTIMATORS = ("mle", "unbiased")


# ------------------------------------------------------------------ options
def _check_options(method, estimator, discrete, xmax, min_tail, xmin_range):
    check_choice(method, "method", _METHODS, error=FitError)
    check_choice(estimator, "estimator", _ESTIMATORS, error=FitError)
    if estimator == "unbiased" and discrete:
        raise FitError("estimator='unbiased' is defined for the continuous power law only")
    if method == "clauset" and xmax is not None:
        raise FitError(
            "method='clauset' fits the unbounded power law and has no xmax; "
            "an xmax-aware fit is method='bounded'"
        )
    if method == "bounded":
        if isinstance(xmax, str):
            if xmax != "search":
                raise FitError(f"xmax must be a number, None or 'search', got {xmax!r}")
        elif xmax is not None:
            check_number(xmax, "xmax", positive=True, error=FitError)
    if min_tail is not None:
        check_int(min_tail, "min_tail", minimum=2, error=FitError)
    if xmin_range is not None:
        check_interval(xmin_range, "xmin_range", error=FitError)


def _check_candidates(xmin_candidates):
    if xmin_candidates is None:
        return None
    try:
        v = np.asarray(xmin_candidates, dtype=np.float64).ravel()
    except (TypeError, ValueError):
        raise FitError(f"xmin_candidates must be a sequence of numbers, got {xmin_candidates!r}") from None
    if v.size == 0 or not np.all(np.isfinite(v)):
        raise FitError("xmin_candidates must be a non-empty sequence of finite numbers")
    return v


# Below these sizes a fit still runs, with a SmallSampleWarning (docs/fitting.md,
# "How small is too small"): the MLE's relative bias (alpha-1)/(n_tail-1) passes
# 10% and its standard error 30% of (alpha-1) below ten tail points.
MIN_TAIL = 10


def _warn_small(n_tail, label: str = "the fitted tail", stacklevel: int = 3) -> None:
    n_tail = np.atleast_1d(np.asarray(n_tail))
    small = n_tail < MIN_TAIL
    if not small.any():
        return
    if n_tail.size == 1:
        what = f"{label} has {int(n_tail[0])} point(s)"
    else:
        what = f"{int(small.sum())} of {n_tail.size} samples have fewer than {MIN_TAIL} tail points"
    warnings.warn(
        f"{what}: below {MIN_TAIL} tail points alpha and its standard error mean little "
        "(an interval from htsr.bootstrap says how little)",
        SmallSampleWarning,
        stacklevel=stacklevel + 1,
    )


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


# ------------------------------------------------------------------ the spec
_DEFAULTS = dict(xmin=None, xmax=None, discrete=False, method="clauset", xmin_range=None, xmin_candidates=None,
                 min_tail=None, estimator="mle", exhaustive=False, alpha_grid=None)


def _from_spec(spec, given: dict) -> dict:
    """Options of :func:`fit` taken from ``spec`` (the others must be at their defaults)."""
    if not isinstance(spec, FitSpec):
        raise FitError(f"spec must be a FitSpec (the .spec of a PowerLawFit), got {spec!r:.80}")
    clash = [k for k, v in given.items() if not _is_default(v, _DEFAULTS[k])]
    if clash:
        raise FitError(f"pass either spec or fit options, not both (got spec and {', '.join(clash)})")
    xmax = spec.xmax if spec.xmax_rule == "fixed" else ("search" if spec.xmax_rule == "search" else None)
    return dict(xmin=spec.xmin, xmax=xmax, discrete=spec.discrete, method=spec.method,
                xmin_range=spec.xmin_range, xmin_candidates=spec.xmin_candidates, min_tail=spec.min_tail,
                estimator=spec.estimator, exhaustive=spec.exhaustive, alpha_grid=spec.alpha_grid)


def _is_default(value, default) -> bool:
    return value is default or (isinstance(value, (bool, str)) and value == default)


def _make_spec(o: dict, discrete: bool) -> FitSpec:
    """A validated option set as a FitSpec (``discrete`` resolved)."""
    xmax = o["xmax"]
    rule = None
    if o["method"] == "bounded":
        rule = "search" if isinstance(xmax, str) else ("max" if xmax is None else "fixed")
    cands = o["xmin_candidates"]
    return FitSpec(
        method=o["method"], discrete=bool(discrete), estimator=o["estimator"], xmin=o["xmin"],
        xmax=float(xmax) if rule == "fixed" else None, xmax_rule=rule,
        xmin_range=None if o["xmin_range"] is None else tuple(float(v) for v in o["xmin_range"]),
        xmin_candidates=None if cands is None else tuple(float(v) for v in cands),
        min_tail=None if o["min_tail"] is None else int(o["min_tail"]),
        alpha_grid=o["alpha_grid"], exhaustive=bool(o["exhaustive"]),
    )


def _validate(o: dict, *, allow_auto: bool = True) -> dict:
    """Check every option of :func:`fit`; returns them normalised."""
    o = dict(o)
    o["discrete"] = _check_discrete(o["discrete"], allow_auto=allow_auto)
    _check_options(o["method"], o["estimator"], o["discrete"] is True, o["xmax"], o["min_tail"], o["xmin_range"])
    o["alpha_grid"] = _check_alpha_grid(o["alpha_grid"])
    o["xmin"] = check_number(o["xmin"], "xmin", positive=True, allow_none=True, error=FitError)
    o["xmin_candidates"] = _check_candidates(o["xmin_candidates"])
    check_bool(o["exhaustive"], "exhaustive", error=FitError)
    return o


def _spec_for(o: dict, x) -> FitSpec:
    is_discrete = _resolve_discrete(o["discrete"], x)
    if o["estimator"] == "unbiased" and is_discrete:
        raise FitError("estimator='unbiased' is defined for the continuous power law only")
    if o["alpha_grid"] is not None and (o["method"] != "clauset" or not is_discrete):
        raise FitError("alpha_grid applies to the discrete power law with method='clauset' only "
                       f"(got method={o['method']!r}, discrete={is_discrete})")
    return _make_spec(o, is_discrete)


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
    spec: FitSpec | None = None,
    progress=None,
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
    spec : FitSpec, optional
        Replay a fit: the :attr:`PowerLawFit.spec` of an earlier fit (or a
        :class:`FitSpec` made by hand) instead of the options above, which must
        then be left at their defaults.
    progress : bool or callable, optional
        ``True`` draws a progress bar of the xmin scan on stderr (only when it is
        a terminal); a callable is called as ``progress(done, total)``.

    Returns
    -------
    PowerLawFit

    Warns
    -----
    SmallSampleWarning
        When the fitted tail has fewer than 10 points (docs/fitting.md).

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
    o = dict(xmin=xmin, xmax=xmax, discrete=discrete, method=method, xmin_range=xmin_range,
             xmin_candidates=xmin_candidates, min_tail=min_tail, estimator=estimator, exhaustive=exhaustive,
             alpha_grid=alpha_grid)
    if spec is not None:
        o = _from_spec(spec, o)
    o = _validate(o)
    progress = _resolve_progress(progress, "xmin scan")
    x = as_sample(data, discrete=o["discrete"] is True)
    result = fit_spec(x, _spec_for(o, x), progress=progress)
    _warn_small(result.n_tail)
    return result


def fit_spec(x, spec: FitSpec, *, progress=None) -> PowerLawFit:
    """Fit a validated sorted sample ``x`` as ``spec`` says: the one path of every fit."""
    if spec.method == "bounded":
        return _fit_bounded(x, spec)
    if spec.xmin is not None:
        return _fit_fixed(x, spec)
    batch = fit_padded(x[None, :], np.array([len(x)]), discrete=spec.discrete, estimator=spec.estimator,
                       exhaustive=spec.exhaustive, **spec.scan_kwargs(),
                       **({} if progress is None else {"progress": progress}))
    return _to_result(batch, 0, x, spec)


def _to_result(batch: BatchFit, b, x, spec: FitSpec, xmax=None) -> PowerLawFit:
    if batch.n_candidates[b] == 0:
        given = [f"{k}={v!r}" for k, v in (("xmin_range", spec.xmin_range), ("xmin_candidates", spec.xmin_candidates
                 and list(spec.xmin_candidates)), ("min_tail", spec.min_tail)) if v is not None]
        why = (f"the restriction(s) {', '.join(given)} leave" if given else "it has")
        raise FitError(
            f"no eligible xmin: the sample has {len(x)} points and {len(np.unique(x))} unique "
            f"values, and {why} no candidate with at least two distinct values in its tail"
            + ("" if xmax is None else f" below xmax={xmax:g}")
        )
    return PowerLawFit(
        alpha=float(batch.alpha[b]), xmin=float(batch.xmin[b]),
        xmax=float(x[-1]) if xmax is None else float(xmax),
        n=int(batch.n[b]), n_tail=int(batch.n_tail[b]), D=float(batch.D[b]),
        sigma=float(batch.sigma[b]), discrete=spec.discrete, method=spec.method, estimator=spec.estimator,
        n_candidates=int(batch.n_candidates[b]), n_evaluated=int(batch.n_evaluated[b]),
        data=x, spec=spec,
    )


def _bounded_xmax(x, spec: FitSpec) -> float:
    xmax = float(x[-1]) if spec.xmax_rule == "max" else float(spec.xmax)
    if spec.discrete and xmax != np.round(xmax):
        raise FitError(f"a discrete bounded power law needs an integer xmax, got {xmax!r}")
    if xmax <= x[0]:
        raise FitError(f"xmax={xmax:g} is not above the smallest observation {x[0]:g}")
    return xmax


def _fit_bounded(x, spec: FitSpec) -> PowerLawFit:
    """``fit(method="bounded")``: fixed or scanned xmin, fixed or searched xmax."""
    if spec.xmax_rule == "search":
        from .range_search import search_range

        return search_range(x, discrete=spec.discrete, xmin=spec.xmin, estimator=spec.estimator)
    xmax = _bounded_xmax(x, spec)
    if spec.xmin is not None:
        xmin = check_xmin(spec.xmin, spec.discrete, error=FitError)
        if xmin >= xmax:
            raise FitError(f"xmin={xmin:g} must be below xmax={xmax:g}")
        tail = x[(x >= xmin) & (x <= xmax)]
        check_tail(tail, f"xmin={xmin:g}, xmax={xmax:g}", error=FitError)
        X, n = _jax.pad_rows([tail])
        res = fit_range_padded(X, n, np.array([xmin]), np.array([xmax]), discrete=spec.discrete,
                               conditional=spec.xmax_rule == "max" and not spec.discrete, estimator=spec.estimator)
        return PowerLawFit(
            alpha=float(res.alpha[0]), xmin=xmin, xmax=xmax, n=len(x), n_tail=len(tail),
            D=float(res.D[0]), sigma=float(res.sigma[0]), discrete=spec.discrete, method="bounded",
            estimator=spec.estimator, n_candidates=1, n_evaluated=1, data=x, spec=spec,
        )
    inside = x[x <= xmax]
    if inside.size < 2 or inside[0] == inside[-1]:
        raise FitError(f"xmax={xmax:g} leaves {inside.size} point(s) with fewer than two distinct values")
    scan = {k: v for k, v in spec.scan_kwargs().items() if k != "alpha_grid"}
    batch = fit_padded(x[None, :], np.array([len(x)]), discrete=spec.discrete, exhaustive=spec.exhaustive,
                       method="bounded", xmax=None if spec.xmax_rule == "max" else np.array([xmax]),
                       estimator=spec.estimator, **scan)
    return _to_result(batch, 0, x, spec, xmax=xmax)


def _fit_fixed(x, spec: FitSpec) -> PowerLawFit:
    xmin = check_xmin(spec.xmin, spec.discrete, error=FitError)
    tail = x[x >= xmin]
    check_tail(tail, f"xmin={xmin:g}", error=FitError)
    with _jax.x64():
        alpha, sigma = final_alpha_unbounded([tail], np.array([xmin]), spec.discrete, spec.estimator, spec.alpha_grid)
        mle = alpha if spec.estimator == "mle" else final_alpha_unbounded([tail], np.array([xmin]), spec.discrete, "mle")[0]
        D = tail_d(tail, float(mle[0]), xmin, spec.discrete)
    return PowerLawFit(
        alpha=float(alpha[0]), xmin=xmin, xmax=float(x[-1]), n=len(x), n_tail=len(tail), D=D,
        sigma=float(sigma[0]), discrete=spec.discrete, method=spec.method, estimator=spec.estimator,
        n_candidates=1, n_evaluated=1, data=x, spec=spec,
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
    spec: FitSpec | None = None,
) -> list[PowerLawFit]:
    """Fit many samples at once, with one compiled kernel per padded size.

    Parameters
    ----------
    samples : sequence of array_like, or 2-D array
        A list of samples, or a (B, P) array whose rows are samples; with a 2-D
        array, ``counts`` (B,) says how many leading entries of each row are real
        (default: all).
    Other parameters as in :func:`fit` (``xmax`` is a number or None, the same for every sample;
    ``spec`` replays a fit's :class:`FitSpec` on every sample, its xmin and xmax included).

    Returns
    -------
    list of PowerLawFit
    """
    if isinstance(xmax, str):
        raise FitError("fit_many takes a numeric xmax (or None); xmax='search' is for fit()")
    o = dict(_DEFAULTS, discrete=discrete, xmin_range=xmin_range, xmin_candidates=xmin_candidates,
             min_tail=min_tail, estimator=estimator, method=method, xmax=xmax)
    if spec is not None:
        o = _from_spec(spec, o)
        if o["xmax"] == "search":
            raise FitError("fit_many cannot replay a range search (xmax='search'); use fit()")
    o = _validate(o, allow_auto=False)
    xs = _rows(samples, counts, o["discrete"])
    spec = _spec_for(o, xs[0])
    if spec.xmin is not None:
        results = [fit_spec(x, spec) for x in xs]  # fixed xmin: direct sums per sample
    else:
        results = _fit_scanned(xs, spec)
    _warn_small([r.n_tail for r in results])
    return results


def _rows(samples, counts, discrete) -> list:
    if isinstance(samples, np.ndarray) and samples.ndim == 2:
        counts = np.full(samples.shape[0], samples.shape[1]) if counts is None else np.asarray(counts)
        if counts.shape != (samples.shape[0],):
            raise DataError(f"counts must have shape ({samples.shape[0]},), got {counts.shape}")
        rows = [samples[b, : int(counts[b])] for b in range(samples.shape[0])]
    else:
        if counts is not None:
            raise DataError("counts is only meaningful with a 2-D array of samples")
        if samples is None or isinstance(samples, (str, bytes)) or not hasattr(samples, "__iter__"):
            raise DataError(f"samples must be a sequence of samples or a 2-D array, got {samples!r:.60}")
        rows = list(samples)
    if not rows:
        raise DataError("samples is empty")
    return [as_sample(r, discrete=discrete, name=f"sample {k}") for k, r in enumerate(rows)]


def _fit_scanned(xs, spec: FitSpec) -> list[PowerLawFit]:
    X, n = _jax.pad_rows(xs)
    if spec.bounded:
        xmaxs = np.array([x[-1] if spec.xmax_rule == "max" else spec.xmax for x in xs])
        scan = {k: v for k, v in spec.scan_kwargs().items() if k != "alpha_grid"}
        batch = fit_padded(X, n, discrete=spec.discrete, method="bounded", exhaustive=spec.exhaustive,
                           xmax=None if spec.xmax_rule == "max" else xmaxs, estimator=spec.estimator, **scan)
        return [_to_result(batch, b, xs[b], spec, xmax=float(xmaxs[b])) for b in range(len(xs))]
    batch = fit_padded(X, n, discrete=spec.discrete, estimator=spec.estimator, exhaustive=spec.exhaustive,
                       **spec.scan_kwargs())
    return [_to_result(batch, b, xs[b], spec) for b in range(len(xs))]
