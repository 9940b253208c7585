"""Nonparametric bootstrap of the whole power-law fit: alpha, xmin and n_tail.

Each replicate resamples the ``n`` observations with replacement and redoes
the fit exactly as it was made (xmin rescanned with the same restrictions, or
held fixed if the caller fixed it; a bounded fit keeps its xmax rule), in
batches through :func:`htsr.fitting.fit_padded`.  This is the procedure behind
the ``±`` columns of Clauset et al. (2009) Table 6.1 and R poweRlaw's
``bootstrap()``.

Intervals
---------
* **percentile**: the ``(1-level)/2`` and ``(1+level)/2`` quantiles of the draws.
* **BCa** (bias-corrected and accelerated, Efron 1987), second-order accurate:
  ``z0 = Phi^-1(#{theta* < theta} + #{theta* = theta}/2) / reps)`` corrects for
  median bias (ties counted half, for the lattice-valued xmin and n_tail), and
  the acceleration ``a = sum d^3 / (6 (sum d^2)^1.5)`` comes from a grouped
  jackknife: the sample is split at random into ``jackknife_groups`` groups,
  each left out in turn and the fit redone (``d`` = mean minus leave-one-out
  estimates).  Grouping (Efron & Tibshirani 1993, section 11.5) keeps the cost
  at ``jackknife_groups`` refits instead of ``n``.

Every :class:`Interval` says which method made it.  Each parameter gets both
(:class:`ParamIntervals`) and a ``chosen`` one: BCa, unless BCa is undefined
(all draws on one side of the estimate: ``bca`` is None) or excludes the
full-sample estimate (the bootstrap distribution sits far off it: a strong
median bias, typical of a lattice-valued xmin or a tail too short to resample);
then the percentile interval, and :func:`param_intervals` says why (an
:class:`~htsr.errors.IntervalWarning` from :func:`bootstrap`; in a layer report
the ``interval_note`` column).

References
----------
B. Efron, "Better bootstrap confidence intervals", JASA 82, 171 (1987).
B. Efron, R. Tibshirani, An Introduction to the Bootstrap (1993), ch. 14.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
from scipy.special import ndtr, ndtri

from .. import _jax, streams
from ..data import check_int, check_level, check_seed
from ..errors import FitError, IntervalWarning
from ..fitting.api import fit as _fit
from ..fitting.distances import check_distance
from ..fitting.law_fit import GRID, refit_law
from ..fitting.result import PowerLawFit
from ..models import registry
from .._progress import resolve as resolve_progress
from . import _resample as R
from .gof import law_fit_for
from .results import TailFit

__all__ = ["bootstrap", "BootstrapResult", "Interval", "ParamIntervals", "param_intervals", "bca_interval",
           "percentile_interval", "bootstrap_rows", "jackknife_rows"]

_PARAMS = ("alpha", "xmin", "n_tail")


def _estimate(fit, k) -> float:
    """The full-sample estimate of ``k`` (a law parameter, ``xmin`` or ``n_tail``) of a PowerLawFit or TailFit."""
    if isinstance(fit, TailFit) and k in fit.params:
        return float(fit.params[k])
    return float(getattr(fit, k))


@dataclass(frozen=True)
class Interval:
    """A confidence interval and the method that made it (``"percentile"`` or ``"bca"``).

    Unpacks as ``low, high = interval``.
    """

    low: float
    high: float
    method: str
    level: float

    def __iter__(self):
        yield self.low
        yield self.high

    def __contains__(self, value) -> bool:
        return bool(self.low <= value <= self.high)

    def to_list(self) -> list:
        return [float(self.low), float(self.high)]


@dataclass(frozen=True)
class ParamIntervals:
    """The intervals of one parameter.

    Attributes
    ----------
    percentile : Interval
    bca : Interval or None
        The BCa interval; None where it is undefined (every draw on one side of the estimate).
    chosen : Interval
        The one to report: ``bca`` when it holds the estimate, else ``percentile`` (``note`` says why).
    note : str or None
        Why ``chosen`` is not the BCa interval.
    """

    percentile: Interval
    bca: Interval | None
    chosen: Interval
    note: str | None = None


def percentile_interval(draws, level) -> Interval:
    """The ``(1-level)/2`` and ``(1+level)/2`` quantiles of the finite draws."""
    d = np.asarray(draws, dtype=np.float64)
    d = d[np.isfinite(d)]
    lo, hi = (1 - level) / 2, (1 + level) / 2
    return Interval(float(np.quantile(d, lo)), float(np.quantile(d, hi)), "percentile", float(level))


def bca_interval(draws, estimate, jack, level) -> Interval | None:
    """BCa interval from bootstrap draws, the full-sample estimate and jackknife estimates.

    None where BCa is undefined: every finite draw on one side of ``estimate`` (no median-bias correction exists).
    """
    d = np.asarray(draws, dtype=np.float64)
    d = d[np.isfinite(d)]
    jack = np.asarray(jack, dtype=np.float64)
    jack = jack[np.isfinite(jack)]
    frac = (np.sum(d < estimate) + 0.5 * np.sum(d == estimate)) / len(d)
    if not 0 < frac < 1:
        return None
    z0 = ndtri(frac)
    dev = jack.mean() - jack
    denom = 6.0 * np.sum(dev**2) ** 1.5
    a = float(np.sum(dev**3) / denom) if denom > 0 else 0.0
    out = []
    for q in ((1 - level) / 2, (1 + level) / 2):
        z = ndtri(q)
        adj = ndtr(z0 + (z0 + z) / (1.0 - a * (z0 + z)))
        out.append(float(np.quantile(d, np.clip(adj, 0.0, 1.0))))
    return Interval(out[0], out[1], "bca", float(level))


def param_intervals(draws, estimate, jack, level, name="alpha") -> ParamIntervals:
    """Percentile and BCa intervals of one parameter, and the one to report.

    ``chosen`` is the BCa interval when it is defined and holds ``estimate``; otherwise the
    percentile interval, with a ``note`` naming ``name``, both intervals and the fallback.
    """
    pct = percentile_interval(draws, level)
    bca = bca_interval(draws, estimate, jack, level)
    if bca is not None and (not np.isfinite(estimate) or estimate in bca):
        return ParamIntervals(pct, bca, bca)
    if bca is None:
        d = np.asarray(draws, dtype=np.float64)
        side = "below" if np.all(d[np.isfinite(d)] <= estimate) else "above"
        note = (f"the BCa interval of {name} is undefined (every bootstrap draw lies {side} the estimate "
                f"{estimate:.4g}); the percentile interval [{pct.low:.4g}, {pct.high:.4g}] is used instead")
    else:
        note = (f"the BCa interval of {name} [{bca.low:.4g}, {bca.high:.4g}] excludes the estimate {estimate:.4g} "
                f"(the bootstrap draws sit far off it); the percentile interval [{pct.low:.4g}, {pct.high:.4g}] "
                f"is used instead")
    if estimate in pct:
        note += ", read it with care"
    else:
        note += (", but it excludes the estimate too: the bootstrap does not capture the sampling "
                 f"distribution of {name} here (typical of a short tail with a KS-scanned xmin)")
    return ParamIntervals(pct, bca, pct, note)


@dataclass(frozen=True, repr=False, eq=False)
class BootstrapResult:
    """Outcome of :func:`bootstrap`.

    Attributes
    ----------
    fit : PowerLawFit or TailFit
        The fit of the original data (the point estimates).
    draws : dict of str -> numpy.ndarray
        The law's parameters (``alpha`` for the power law; ``mu``, ``sigma`` for the
        lognormal, ...), then ``xmin`` and ``n_tail``, of every replicate, shape (reps,)
        (NaN where a replicate had no eligible xmin).
    intervals : dict of str -> ParamIntervals
        For each parameter its percentile and BCa :class:`Interval` and the ``chosen`` one.
    standard_error : dict of str -> float
        Standard deviation of each parameter's draws.
    level : float
        Confidence level of the intervals.
    reps, seed : int
    """

    fit: PowerLawFit = field(repr=False)
    draws: dict = field(repr=False)
    intervals: dict
    standard_error: dict
    level: float
    reps: int
    seed: int

    @property
    def params(self) -> tuple:
        """The parameters bootstrapped, in order (``("alpha", "xmin", "n_tail")`` for the power law)."""
        return tuple(self.draws)

    @property
    def model(self) -> str:
        """The law: its registry name, or the power-law fit's method."""
        return self.fit.name if isinstance(self.fit, TailFit) else self.fit.method

    def to_dict(self) -> dict:
        """Plain values: per parameter the estimate, standard error, both intervals and the chosen one."""
        out = dict(level=float(self.level), reps=int(self.reps), seed=int(self.seed))
        if isinstance(self.fit, TailFit):
            out["model"] = self.model
        for k in self.params:
            iv = self.intervals[k]
            out[k] = dict(
                estimate=_estimate(self.fit, k),
                se=float(self.standard_error[k]),
                percentile=iv.percentile.to_list(),
                bca=None if iv.bca is None else iv.bca.to_list(),
                interval=iv.chosen.to_list(),
                interval_method=iv.chosen.method,
            )
        return out

    def table(self):
        """The intervals as a pandas DataFrame indexed by parameter."""
        import pandas as pd

        nan = float("nan")
        rows = []
        for k in self.params:
            iv = self.intervals[k]
            bca = (nan, nan) if iv.bca is None else tuple(iv.bca)
            rows.append(dict(parameter=k, estimate=_estimate(self.fit, k), se=self.standard_error[k],
                             percentile_low=iv.percentile.low, percentile_high=iv.percentile.high,
                             bca_low=bca[0], bca_high=bca[1], interval_low=iv.chosen.low,
                             interval_high=iv.chosen.high, interval_method=iv.chosen.method))
        return pd.DataFrame(rows).set_index("parameter")

    def __repr__(self) -> str:
        lines = [f"BootstrapResult(reps={self.reps}, seed={self.seed}, level={self.level:g}, model={self.model!r})"]

        def span(k, iv):  # n_tail counts points: whole numbers, rounded outwards
            if iv is None:
                return "undefined"
            lo, hi = iv
            if k == "n_tail" and np.isfinite(lo) and np.isfinite(hi):
                return f"[{int(np.floor(lo))}, {int(np.ceil(hi))}]"
            return f"[{lo:.6g}, {hi:.6g}]"

        for k in self.params:
            iv = self.intervals[k]
            lines.append(
                f"  {k:<7} {_estimate(self.fit, k):<10.6g} se {self.standard_error[k]:<10.4g} "
                f"percentile {span(k, iv.percentile)}  BCa {span(k, iv.bca)}"
            )
        return "\n".join(lines)


def bootstrap_rows(x, seed: int, start: int, stop: int) -> np.ndarray:
    """Resamples ``start .. stop-1`` of the sorted sample ``x`` under ``seed`` (the ``bootstrap``
    stream of :mod:`htsr.streams`), each sorted: shape (stop - start, len(x))."""
    with _jax.x64():
        return R.resample_rows(streams.keys(seed, "bootstrap", start, stop), x, n=len(x))


def jackknife_rows(x, groups: int, seed: int) -> list:
    """The grouped jackknife's leave-one-group-out samples of ``x``: points are assigned to
    ``min(groups, n)`` groups at random (the ``jackknife`` stream of :mod:`htsr.streams` under ``seed``)."""
    g = int(min(groups, len(x)))
    label = streams.generator(seed, "jackknife").permutation(len(x)) % g
    return [x[label != k] for k in range(g)]


def _jackknife(fit: PowerLawFit, groups: int, seed: int):
    """Leave-one-group-out estimates of alpha, xmin, n_tail (groups assigned at random)."""
    rows = jackknife_rows(fit.data, groups, seed)
    counts = np.array([len(r) for r in rows])
    out = {k: np.empty(len(rows)) for k in ("alpha", "xmin", "n_tail")}
    # rows of unequal length: refit each length group separately (at most two lengths)
    for length in np.unique(counts):
        sel = np.flatnonzero(counts == length)
        res = R.refit_rows(np.stack([rows[k] for k in sel]), fit)
        for k in out:
            out[k][sel] = getattr(res, k)
    return out


def bootstrap(
    data,
    *,
    reps: int = 1000,
    seed: int = 0,
    level: float = 0.95,
    discrete: bool | str = False,
    method: str = "clauset",
    xmin: float | None = None,
    xmax=None,
    xmin_range=None,
    xmin_candidates=None,
    min_tail: int | None = None,
    alpha_grid=None,
    spec=None,
    jackknife_groups: int = 100,
    progress=None,
    model: str = "power_law",
    distance: str = "ks",
    grid: int | None = GRID,
) -> BootstrapResult:
    """Nonparametric bootstrap distributions and confidence intervals of a power-law fit, or any law's.

    Parameters
    ----------
    data : array_like, PowerLawFit or TailFit
        The sample, or a fit made by :func:`htsr.fit` or :func:`htsr.fit_model` (its options are reused).
    reps : int
        Bootstrap replicates (>= 1000 recommended for 95% BCa intervals).
    seed : int
        Seed of the ``bootstrap`` and ``jackknife`` streams (:mod:`htsr.streams`): replicate ``r``
        uses ``fold_in(fold_in(PRNGKey(seed), 1), r)``; same seed, same draws.
    level : float
        Confidence level of the intervals, in (0, 1).
    discrete, method, xmin, xmax, xmin_range, xmin_candidates, min_tail, alpha_grid, spec
        As in :func:`htsr.fit` (``spec`` replays an earlier fit's :class:`~htsr.fitting.FitSpec`).
    jackknife_groups : int
        Groups of the grouped jackknife that estimates the BCa acceleration.
    progress : bool or callable, optional
        ``True``: a progress bar on stderr (when it is a terminal); a callable is
        called as ``progress(done, total)`` after each batch.
    model, distance, grid
        As in :func:`htsr.gof`: ``model="power_law"`` with ``distance="ks"`` is the
        bootstrap above, unchanged; another law is fitted by :func:`htsr.fit_model`
        (xmin None or ``"scan"``: rescanned under the law on every resample with
        ``distance``; a number: held) and every resample refitted the same way.  The
        draws are the law's parameters, ``xmin`` and ``n_tail``.

    Returns
    -------
    BootstrapResult
    """
    reps = R.check_reps(reps)
    seed = check_seed(seed)
    progress = resolve_progress(progress, "bootstrap")
    level = check_level(level, error=FitError)
    check_int(jackknife_groups, "jackknife_groups", minimum=2, error=FitError)
    name = registry.canonical(model, error=FitError)
    check_distance(distance)
    if isinstance(data, TailFit) or name not in ("power_law", "bounded_power_law") or distance != "ks":
        fit = law_fit_for(data, name, discrete=discrete, method=method, xmin=xmin, xmax=xmax, xmin_range=xmin_range,
                          xmin_candidates=xmin_candidates, min_tail=min_tail, alpha_grid=alpha_grid, spec=spec,
                          distance=distance, grid=grid)
        return _reduce(fit, _law_draws(fit, reps, seed, progress), _law_jackknife(fit, jackknife_groups, seed),
                       level, reps, seed)
    if name == "bounded_power_law":
        method = "bounded"
    if isinstance(data, PowerLawFit):
        fit = data
    else:
        fit = _fit(data, discrete=discrete, method=method, xmin=xmin, xmax=xmax, xmin_range=xmin_range,
                   xmin_candidates=xmin_candidates, min_tail=min_tail, alpha_grid=alpha_grid, spec=spec)
    x = fit.data

    def make_rows(start, stop):
        return bootstrap_rows(x, seed, start, stop)

    draws = R.run_batches(reps, make_rows, lambda rows: R.refit_rows(rows, fit), progress)
    draws = {k: np.asarray(getattr(draws, k), dtype=np.float64) for k in _PARAMS}
    return _reduce(fit, draws, _jackknife(fit, jackknife_groups, seed), level, reps, seed)


def _reduce(fit, draws: dict, jack: dict, level: float, reps: int, seed: int) -> BootstrapResult:
    """Intervals and standard errors of every parameter's draws (one IntervalWarning per call)."""
    intervals, se, notes = {}, {}, []
    for k in draws:
        intervals[k] = param_intervals(draws[k], _estimate(fit, k), jack[k], level, name=k)
        if intervals[k].note is not None:
            notes.append(intervals[k].note)
        se[k] = float(np.nanstd(draws[k], ddof=1)) if reps > 1 else float("nan")
    if notes:  # one warning per call
        warnings.warn("; ".join(notes), IntervalWarning, stacklevel=3)
    return BootstrapResult(fit=fit, draws=draws, intervals=intervals, standard_error=se,
                           level=float(level), reps=reps, seed=seed)


def _law_columns(fit: TailFit, res) -> dict:
    names = registry.get(fit.name).param_names
    out = {k: np.asarray(res.params[:, i], dtype=np.float64) for i, k in enumerate(names)}
    out.update(xmin=np.asarray(res.xmin, dtype=np.float64), n_tail=np.asarray(res.n_tail, dtype=np.float64))
    out["n_tail"][~np.isfinite(out["xmin"])] = np.nan
    return out


def _law_sample(fit: TailFit):
    """What a law's fit resamples: the whole sample (the tail alone for a fit made by compare())."""
    return fit.data if fit.data is not None else np.sort(np.asarray(fit.tail, dtype=np.float64))


def _law_draws(fit: TailFit, reps: int, seed: int, progress) -> dict:
    """Resamples from the ``bootstrap`` stream, refitted by the law engine as ``fit`` was made."""
    x = _law_sample(fit)

    def refit_rows(rows):
        return refit_law(_jax.padded(rows, np.full(len(rows), len(x))), fit.spec)

    res = R.run_batches(reps, lambda start, stop: bootstrap_rows(x, seed, start, stop), refit_rows, progress)
    return _law_columns(fit, res)


def _law_jackknife(fit: TailFit, groups: int, seed: int) -> dict:
    """Leave-one-group-out refits of a law's fit (for the BCa acceleration)."""
    rows = jackknife_rows(_law_sample(fit), groups, seed)
    counts = np.array([len(r) for r in rows])
    out = None
    for length in np.unique(counts):
        sel = np.flatnonzero(counts == length)
        cols = _law_columns(fit, refit_law(_jax.padded(np.stack([rows[k] for k in sel]), np.full(len(sel), length)),
                                           fit.spec))
        if out is None:
            out = {k: np.empty(len(rows)) for k in cols}
        for k in cols:
            out[k][sel] = cols[k]
    return out
