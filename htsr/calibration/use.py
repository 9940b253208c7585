"""Using a calibration study: the alpha-mu line, inverting a fitted alpha, bias correction.

:func:`invert` is a Neyman construction.  For each value ``theta`` of the
generator's parameter the study gives the distribution of the fitted exponent;
its central ``level`` quantiles ``[q_lo(theta), q_hi(theta)]`` form a confidence
belt.  A fitted ``alpha`` is inverted to the set ``{theta : q_lo(theta) <= alpha <=
q_hi(theta)}`` (its hull is the interval; exact coverage ``level`` if the study's
quantiles were exact and the data came from the generator) and to the point
where the median ``m(theta)`` equals ``alpha``.  Between grid values the quantiles
are interpolated linearly.  An interval reaching an end of the grid is censored
there (flagged): the study does not say what lies beyond.
"""

from __future__ import annotations

import math
import numbers
from typing import NamedTuple

import numpy as np

from ..data import check_level, check_number
from ..errors import HtsrError
from ..rmt import esd_exponent

__all__ = ["belt", "read_belt", "LineFit", "Inversion", "Correction", "line_fit", "invert", "correct"]

_MIN_REPS = 5


class LineFit(NamedTuple):
    """Least-squares line ``alpha_hat = intercept + slope * theta`` over replicates.

    ``slope_se`` and ``intercept_se`` are the usual OLS standard errors; ``n`` the
    number of (theta, alpha_hat) pairs; ``lo < theta < hi`` the range fitted.
    """

    slope: float
    intercept: float
    slope_se: float
    intercept_se: float
    n: int
    lo: float
    hi: float
    estimator: str
    at: dict


class Inversion(NamedTuple):
    """A fitted alpha mapped back to the generator's parameter.

    Attributes
    ----------
    value : float
        Where the median fitted alpha equals the observed one (NaN if the observed
        alpha is outside the belt everywhere).
    lo, hi : float
        The hull of the parameter values whose central ``level`` range of fitted
        alphas contains the observed alpha.
    param : str
        ``"mu"`` or ``"alpha"``.
    level : float
    estimator : str
    at : dict
        The study cell used (nearest size to the one asked).
    lo_censored, hi_censored : bool
        The interval reaches the low / high end of the study's grid.
    """

    value: float
    lo: float
    hi: float
    param: str
    level: float
    estimator: str
    at: dict
    lo_censored: bool
    hi_censored: bool


class Correction(NamedTuple):
    """A bias-corrected exponent: the ``target`` of the inverted parameter.

    For a ``power_law`` study the target is the parameter itself (``alpha``); for a
    heavy-tailed matrix study, ``1 + mu/2`` (NaN for ``mu >= 4``).
    """

    alpha: float
    lo: float
    hi: float
    alpha_fitted: float
    inversion: Inversion


def _cell(ds, estimator: str, at: dict, keep: str | None):
    """Select the estimator and the size cell nearest to ``at`` (log scale); return (DataArray, used)."""
    if "alpha_hat" not in ds:
        raise HtsrError("expected a calibration study (an xarray.Dataset from htsr.calibrate)")
    ests = [str(e) for e in ds["estimator"].values]
    if estimator not in ests:
        raise HtsrError(f"estimator {estimator!r} is not in this study (it has {', '.join(ests)})")
    a = ds["alpha_hat"].sel(estimator=estimator)
    dims = [d for d in a.dims if d not in ("rep", keep)]
    unknown = set(at) - set(dims)
    if unknown:
        raise HtsrError(f"this study has no dimension {', '.join(sorted(unknown))} (it has {', '.join(dims)})")
    used = {}
    for d in dims:
        vals = a[d].values.astype(np.float64)
        if d in at:
            v = check_number(at[d], d)
            if v <= 0:
                raise HtsrError(f"{d} must be > 0, got {v:g}")
            i = int(np.argmin(np.abs(np.log(vals) - math.log(v))))
        elif vals.size == 1:
            i = 0
        else:
            raise HtsrError(f"give {d}: the study has {d} = {', '.join(f'{x:g}' for x in vals)}")
        a = a.isel({d: i})
        used[d] = vals[i].item()
    return a, used


def line_fit(ds, lo: float, hi: float, *, estimator: str = "clauset", **at) -> LineFit:
    """Fit ``alpha_hat`` against the generator's parameter on ``lo < theta < hi`` (all replicates).

    ``at`` selects the size cell (e.g. ``M=1000, Q=2``; nearest in the study).
    For the seeds' study, compare the slope and intercept on ``0 < mu < 2`` with
    the theory's ``0.5`` and ``1`` (``alpha = 1 + mu/2``).
    """
    param = _param(ds)
    lo, hi = check_number(lo, "lo"), check_number(hi, "hi")
    a, used = _cell(ds, estimator, at, param)
    theta = np.broadcast_to(a[param].values[:, None], a.transpose(param, "rep").shape)
    y = a.transpose(param, "rep").values
    keep = np.isfinite(y) & (theta > lo) & (theta < hi)
    t, y = theta[keep], y[keep]
    if np.unique(t).size < 2:
        raise HtsrError(f"fewer than two {param} values with fits in ({lo:g}, {hi:g})")
    X = np.column_stack([np.ones_like(t), t])
    coef, *_ = np.linalg.lstsq(X, y, rcond=None)
    resid = y - X @ coef
    dof = max(t.size - 2, 1)
    cov = np.linalg.inv(X.T @ X) * float(resid @ resid) / dof
    return LineFit(float(coef[1]), float(coef[0]), float(np.sqrt(cov[1, 1])), float(np.sqrt(cov[0, 0])),
                   int(t.size), lo, hi, estimator, used)


def _param(ds) -> str:
    for p in ("mu", "alpha"):
        if p in ds["alpha_hat"].dims:
            return p
    raise HtsrError("this study has no generator parameter (a Gaussian study): nothing to invert")


def invert(ds, alpha: float, *, estimator: str = "clauset", level: float = 0.95, **at) -> Inversion:
    """Map a fitted alpha back to the generator's parameter (mu, or the true alpha), with an interval.

    Parameters
    ----------
    ds : xarray.Dataset
        A study from :func:`htsr.calibrate` (or :func:`load_table`).
    alpha : float
        The fitted exponent, made by ``estimator`` on data of the size given in ``at``.
    estimator : str
        Which of the study's estimators made ``alpha``.
    level : float
        Coverage of the belt (central quantiles of the fitted alphas at each value).
    **at
        The size: ``M=..., Q=...`` (matrix studies) or ``n=...`` (power-law samples);
        the nearest cell of the study (on a log scale) is used and reported.
    """
    alpha = check_number(alpha, "alpha")
    level = check_level(level)
    param = _param(ds)
    a, used = _cell(ds, estimator, at, param)
    found = read_belt(belt(a[param].values.astype(np.float64), a.transpose(param, "rep").values, level, used,
                           param), alpha)
    if found is None:
        nan = float("nan")
        return Inversion(nan, nan, nan, param, float(level), estimator, used, False, False)
    value, lo, hi, open_lo, open_hi = found
    return Inversion(value, lo, hi, param, float(level), estimator, used, open_lo, open_hi)


def belt(theta: np.ndarray, y: np.ndarray, level: float, where, param: str = "mu") -> tuple:
    """The Neyman belt of one cell: ``(theta on 4001 points, lower quantile, median, upper quantile)``.

    ``theta``: the generator's parameter values; ``y``: ``(len(theta), reps)`` fitted alphas (NaN
    where no fit); ``level``: the central coverage.  Values with fewer than ``_MIN_REPS`` fits are
    left out; ``where`` names the cell in the error when fewer than two remain.
    """
    enough = np.sum(np.isfinite(y), axis=1) >= _MIN_REPS
    if enough.sum() < 2:
        raise HtsrError(f"the study has fewer than two {param} values with {_MIN_REPS} or more fits at {where}")
    theta, y = theta[enough], y[enough]
    order = np.argsort(theta)
    theta, y = theta[order], y[order]
    q = (1 - level) / 2
    quantiles = np.nanquantile(y, (q, 0.5, 1 - q), axis=1)  # (3, n_theta), one call
    dense = np.linspace(theta[0], theta[-1], 4001)
    return (dense, *(np.interp(dense, theta, v) for v in quantiles))


def read_belt(belt_: tuple, alpha: float):
    """``(value, lo, hi, lo_is_the_grid_end, hi_is_the_grid_end)`` for a fitted ``alpha``; None outside the belt."""
    dense, qlo, med, qhi = belt_
    inside = (qlo <= alpha) & (alpha <= qhi)
    if not inside.any():
        return None
    cand = np.flatnonzero(inside)
    value = dense[cand[np.argmin(np.abs(med[cand] - alpha))]]
    return float(value), float(dense[cand[0]]), float(dense[cand[-1]]), bool(inside[0]), bool(inside[-1])


def _target(param: str, theta):
    if param == "alpha":
        return float(theta)
    if not np.isfinite(theta):
        return float("nan")
    return float(esd_exponent(max(float(theta), 1e-12)))


def correct(fit, ds, *, estimator: str | None = None, level: float = 0.95, **at) -> Correction:
    """Bias-correct a fitted exponent with a calibration study.

    Parameters
    ----------
    fit : PowerLawFit or float
        An :func:`htsr.fit` result (its estimator and, for power-law studies, its
        ``n_tail`` choose the study's cell) or a fitted alpha.
    ds : xarray.Dataset
        The study.  ``power_law`` studies correct toward the true alpha of a pure
        power-law sample of the same size; heavy-tailed matrix studies toward
        ``1 + mu/2``, the asymptotic ESD exponent (NaN for ``mu >= 4``).
    estimator : str, optional
        Default: ``bounded`` for a bounded fit, ``unbiased`` for the unbiased
        estimator, else ``clauset``.
    **at
        The size (``n=...`` or ``M=..., Q=...``); for a fit and a ``power_law``
        study ``n`` defaults to the fit's ``n_tail``.
    """
    if isinstance(fit, numbers.Real) and not isinstance(fit, bool):
        alpha = check_number(fit, "fit")
    elif hasattr(fit, "alpha") and hasattr(fit, "spec"):
        alpha = check_number(fit.alpha, "fit.alpha")
        if estimator is None:
            spec = fit.spec
            estimator = ("bounded" if spec.method == "bounded"
                         else "unbiased" if spec.estimator == "unbiased" else "clauset")
        if "n" in ds["alpha_hat"].dims and "n" not in at:
            at = {**at, "n": int(fit.n_tail)}
    else:
        raise HtsrError(f"fit must be an htsr.fit result or a number, got {type(fit).__name__}")
    inv = invert(ds, alpha, estimator=estimator or "clauset", level=level, **at)
    return Correction(_target(inv.param, inv.value), _target(inv.param, inv.lo), _target(inv.param, inv.hi),
                      alpha, inv)
