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
  at ``jackknife_groups`` refits instead of ``n``.  Where BCa is undefined (all
  draws on one side of the estimate) it falls back to the percentile interval.
  Where BCa is defined but excludes the full-sample estimate (the bootstrap
  distribution sits far off the estimate: a strong median bias, typical of a
  lattice-valued xmin or a tail too short to resample), :func:`bca_or_percentile`
  uses the percentile interval instead and says so (an :class:`~htsr.errors.IntervalWarning`
  from :func:`bootstrap`, a note in the layer report's ``warning`` column).

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

from ..errors import FitError, IntervalWarning
from ..fitting.api import fit as _fit
from ..fitting.result import PowerLawFit
from .._progress import resolve as resolve_progress
from ..data import check_int, check_level
from . import _resample as R

__all__ = ["bootstrap", "BootstrapResult", "bca_interval", "bca_or_percentile", "percentile_interval"]

_PARAMS = ("alpha", "xmin", "n_tail")


def percentile_interval(draws, level):
    """``(1-level)/2`` and ``(1+level)/2`` quantiles of the finite draws."""
    d = np.asarray(draws, dtype=np.float64)
    d = d[np.isfinite(d)]
    lo, hi = (1 - level) / 2, (1 + level) / 2
    return float(np.quantile(d, lo)), float(np.quantile(d, hi))


def bca_interval(draws, estimate, jack, level):
    """BCa interval from bootstrap draws, the full-sample estimate and jackknife estimates."""
    d = np.asarray(draws, dtype=np.float64)
    d = d[np.isfinite(d)]
    jack = np.asarray(jack, dtype=np.float64)
    jack = jack[np.isfinite(jack)]
    frac = (np.sum(d < estimate) + 0.5 * np.sum(d == estimate)) / len(d)
    if not 0 < frac < 1:
        return percentile_interval(d, level)
    z0 = ndtri(frac)
    dev = jack.mean() - jack
    denom = 6.0 * np.sum(dev**2) ** 1.5
    a = float(np.sum(dev**3) / denom) if denom > 0 else 0.0
    out = []
    for q in ((1 - level) / 2, (1 + level) / 2):
        z = ndtri(q)
        adj = ndtr(z0 + (z0 + z) / (1.0 - a * (z0 + z)))
        out.append(float(np.quantile(d, np.clip(adj, 0.0, 1.0))))
    return tuple(out)


def bca_or_percentile(draws, estimate, jack, level, name="alpha"):
    """The BCa interval, or the percentile interval where BCa excludes ``estimate``.

    Returns ``(interval, note)``: ``note`` is ``None`` when the BCa interval holds the
    estimate, otherwise a sentence naming ``name``, both intervals and the fallback.
    """
    bca = bca_interval(draws, estimate, jack, level)
    if not np.isfinite(estimate) or not all(np.isfinite(bca)) or bca[0] <= estimate <= bca[1]:
        return bca, None
    pct = percentile_interval(draws, level)
    note = (f"the BCa interval of {name} [{bca[0]:.4g}, {bca[1]:.4g}] excludes the estimate {estimate:.4g} "
            f"(the bootstrap draws sit far off it); the percentile interval [{pct[0]:.4g}, {pct[1]:.4g}] "
            f"is used instead")
    if pct[0] <= estimate <= pct[1]:
        note += ", read it with care"
    else:
        note += (", but it excludes the estimate too: the bootstrap does not capture the sampling "
                 f"distribution of {name} here (typical of a short tail with a KS-scanned xmin)")
    return pct, note


@dataclass(frozen=True, repr=False, eq=False)
class BootstrapResult:
    """Outcome of :func:`bootstrap`.

    Attributes
    ----------
    fit : PowerLawFit
        The fit of the original data (the point estimates).
    draws : dict of str -> numpy.ndarray
        ``alpha``, ``xmin`` and ``n_tail`` of every replicate, shape (reps,)
        (NaN where a replicate had no eligible xmin).
    intervals : dict of str -> dict
        For each parameter, ``{"percentile": (low, high), "bca": (low, high)}``.
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

    def to_dict(self) -> dict:
        """Plain values: per parameter the estimate, standard error and both intervals."""
        out = dict(level=float(self.level), reps=int(self.reps), seed=int(self.seed))
        for k in _PARAMS:
            out[k] = dict(
                estimate=float(getattr(self.fit, k)),
                se=float(self.standard_error[k]),
                percentile=[float(v) for v in self.intervals[k]["percentile"]],
                bca=[float(v) for v in self.intervals[k]["bca"]],
            )
        return out

    def table(self):
        """The intervals as a pandas DataFrame indexed by parameter."""
        import pandas as pd

        rows = []
        for k in _PARAMS:
            iv = self.intervals[k]
            rows.append(dict(parameter=k, estimate=getattr(self.fit, k), se=self.standard_error[k],
                             percentile_low=iv["percentile"][0], percentile_high=iv["percentile"][1],
                             bca_low=iv["bca"][0], bca_high=iv["bca"][1]))
        return pd.DataFrame(rows).set_index("parameter")

    def __repr__(self) -> str:
        lines = [f"BootstrapResult(reps={self.reps}, seed={self.seed}, level={self.level:g}, model={self.fit.method!r})"]

        def span(k, lo, hi):  # n_tail counts points: whole numbers, rounded outwards
            if k == "n_tail" and np.isfinite(lo) and np.isfinite(hi):
                return f"[{int(np.floor(lo))}, {int(np.ceil(hi))}]"
            return f"[{lo:.6g}, {hi:.6g}]"

        for k in _PARAMS:
            iv = self.intervals[k]
            lines.append(
                f"  {k:<7} {getattr(self.fit, k):<10.6g} se {self.standard_error[k]:<10.4g} "
                f"percentile {span(k, *iv['percentile'])}  BCa {span(k, *iv['bca'])}"
            )
        return "\n".join(lines)


#: Second seed word of the jackknife's stream ('JACK'), apart from the bootstrap's.
JACK_TAG = 0x4A41434B


def jackknife_rows(x, groups: int, rng) -> list:
    """The grouped jackknife's leave-one-group-out samples of ``x``: points are assigned to
    ``min(groups, n)`` groups at random by ``rng`` (a NumPy Generator)."""
    g = int(min(groups, len(x)))
    label = rng.permutation(len(x)) % g
    return [x[label != k] for k in range(g)]


def _jackknife(fit: PowerLawFit, groups: int, seed: int):
    """Leave-one-group-out estimates of alpha, xmin, n_tail (groups assigned at random)."""
    rows = jackknife_rows(fit.data, groups, np.random.default_rng([seed, JACK_TAG]))
    counts = np.array([len(r) for r in rows])
    out = {k: np.empty(len(rows)) for k in ("alpha", "xmin", "n_tail")}
    # rows of unequal length: refit each length group separately (at most two lengths)
    for length in np.unique(counts):
        sel = np.flatnonzero(counts == length)
        res = R.refit_rows(np.stack([rows[k] for k in sel]), fit)
        for k in out:
            out[k][sel] = res[k]
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
) -> BootstrapResult:
    """Nonparametric bootstrap distributions and confidence intervals of a power-law fit.

    Parameters
    ----------
    data : array_like or PowerLawFit
        The sample, or a fit made by :func:`htsr.fit` (its options are reused).
    reps : int
        Bootstrap replicates (>= 1000 recommended for 95% BCa intervals).
    seed : int
        Seed of the PRNG; replicate ``r`` uses ``fold_in(fold_in(PRNGKey(seed), 1), r)``
        (stream tag 1; the GoF test uses tag 0).
    level : float
        Confidence level of the intervals, in (0, 1).
    discrete, method, xmin, xmax, xmin_range, xmin_candidates, min_tail, alpha_grid, spec
        As in :func:`htsr.fit` (``spec`` replays an earlier fit's :class:`~htsr.fitting.FitSpec`).
    jackknife_groups : int
        Groups of the grouped jackknife that estimates the BCa acceleration.
    progress : bool or callable, optional
        ``True``: a progress bar on stderr (when it is a terminal); a callable is
        called as ``progress(done, total)`` after each batch.

    Returns
    -------
    BootstrapResult
    """
    reps = R.check_reps(reps)
    seed = R.check_seed(seed)
    progress = resolve_progress(progress, "bootstrap")
    level = check_level(level, error=FitError)
    check_int(jackknife_groups, "jackknife_groups", minimum=2, error=FitError)
    if isinstance(data, PowerLawFit):
        fit = data
    else:
        fit = _fit(data, discrete=discrete, method=method, xmin=xmin, xmax=xmax, xmin_range=xmin_range,
                   xmin_candidates=xmin_candidates, min_tail=min_tail, alpha_grid=alpha_grid, spec=spec)
    x = fit.data
    n = len(x)

    def make_rows(start, stop):
        return R.resample_rows(R.replicate_keys(seed, start, stop, tag=1), x, n=n)

    draws = R.run_batches(reps, make_rows, lambda rows: R.refit_rows(rows, fit), progress)
    draws = {k: draws[k].astype(np.float64) for k in _PARAMS}
    jack = _jackknife(fit, jackknife_groups, seed)
    intervals, se, notes = {}, {}, []
    for k in _PARAMS:
        est = float(getattr(fit, k))
        bca, note = bca_or_percentile(draws[k], est, jack[k], level, name=k)
        if note is not None:
            notes.append(note)
        intervals[k] = dict(percentile=percentile_interval(draws[k], level), bca=bca)
        se[k] = float(np.nanstd(draws[k], ddof=1)) if reps > 1 else float("nan")
    if notes:  # one warning per call
        warnings.warn("; ".join(notes), IntervalWarning, stacklevel=2)
    return BootstrapResult(fit=fit, draws=draws, intervals=intervals, standard_error=se,
                           level=float(level), reps=reps, seed=seed)
