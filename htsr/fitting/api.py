"""Front door of the power-law fitter: :func:`fit` and :func:`fit_many`.

These check their input and options (a :class:`FitSpec`, built once by
:func:`~htsr.fitting.spec.spec_from_options`), then call the engine,
:func:`htsr.fitting.refit.refit`.
"""

from __future__ import annotations

import warnings
from typing import Sequence

import numpy as np

from .. import _jax
from .._progress import resolve as _resolve_progress
from ..data import as_sample, check_xmin, select_tail
from ..errors import DataError, FitError, SmallSampleWarning
from .refit import power_law_fit, refit
from .result import PowerLawFit
from .spec import FitSpec, spec_from_options

__all__ = ["fit", "fit_many", "fit_spec", "FitSpec"]


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
    options = dict(xmin=xmin, xmax=xmax, discrete=discrete, method=method, xmin_range=xmin_range,
                   xmin_candidates=xmin_candidates, min_tail=min_tail, estimator=estimator, exhaustive=exhaustive,
                   alpha_grid=alpha_grid)
    spec = spec_from_options(options, spec=spec)
    progress = _resolve_progress(progress, "xmin scan")
    x = as_sample(data, discrete=spec.discrete is True)
    result = fit_spec(x, spec.for_sample(x), progress=progress)
    _warn_small(result.n_tail)
    return result


def fit_spec(x, spec: FitSpec, *, progress=None) -> PowerLawFit:
    """Fit a validated sorted sample ``x`` as the checked ``spec`` says (``discrete`` settled)."""
    if spec.xmax_rule == "search":
        from .range_search import search_range

        return search_range(x, discrete=spec.discrete, xmin=spec.xmin, estimator=spec.estimator)
    check_sample(x, spec)
    return power_law_fit(refit(_jax.pad_rows([x]), spec, progress=progress), 0, x, spec)


def check_sample(x, spec: FitSpec) -> None:
    """Refuse, with what is wrong, a sample the spec cannot fit: a fixed xmin or xmax
    that leaves fewer than two distinct values between them, or a bad xmax."""
    xmax = None
    if spec.bounded:
        xmax = float(x[-1]) if spec.xmax_rule == "max" else float(spec.xmax)
        if spec.discrete and xmax != np.round(xmax):
            raise FitError(f"a discrete bounded power law needs an integer xmax, got {xmax!r}")
        if xmax <= x[0]:
            raise FitError(f"xmax={xmax:g} is not above the smallest observation {x[0]:g}")
    if spec.fixed_xmin:
        xmin = check_xmin(spec.xmin, spec.discrete, error=FitError)
        if xmax is not None and xmin >= xmax:
            raise FitError(f"xmin={xmin:g} must be below xmax={xmax:g}")
        select_tail(x, xmin, xmax, error=FitError)
    elif xmax is not None:
        inside = x[x <= xmax]
        if inside.size < 2 or inside[0] == inside[-1]:
            raise FitError(f"xmax={xmax:g} leaves {inside.size} point(s) with fewer than two distinct values")


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
    options = dict(discrete=discrete, xmin_range=xmin_range, xmin_candidates=xmin_candidates, min_tail=min_tail,
                   estimator=estimator, method=method, xmax=xmax)
    spec = spec_from_options(options, spec=spec, allow_auto=False)
    if spec.xmax_rule == "search":
        raise FitError("fit_many cannot replay a range search (xmax='search'); use fit()")
    xs = _rows(samples, counts, spec.discrete)
    spec = spec.for_sample(xs[0])
    if spec.fixed_xmin:
        for x in xs:
            check_sample(x, spec)
    batch = refit(_jax.pad_rows(xs), spec)
    results = [power_law_fit(batch, b, x, spec) for b, x in enumerate(xs)]
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
