"""The network summary: mean alpha and mean weighted alpha, with intervals propagated from the layers.

Layers are fitted (and resampled) independently, so the variance of a mean over
``L`` layers is ``sum_l var_l / L**2``.  Each side of a layer's interval is
read as ``z * sd`` on that side (``z`` the normal quantile of the level), which
keeps the layers' asymmetry:

    mean_lo = mean - sqrt(sum_l (alpha_l - lo_l)**2) / L
    mean_hi = mean + sqrt(sum_l (hi_l - alpha_l)**2) / L

and the same with every term times ``log10(lambda_max_l)`` for the weighted mean
(``lambda_max`` is measured, not estimated, and held fixed).  This works the
same for bootstrap and posterior intervals.

The summary follows the layers' rule (:func:`htsr.report.intervals.checked_interval`):
an interval is given only for an estimate it is an interval of.  If a fitted
layer has no interval (its bootstrap missed its own alpha), the mean over all
fitted layers has none either -- leaving that layer's spread out would claim a
precision nobody measured -- and ``interval_note`` names the layers.  What is
given instead is a construction that holds: the means over the layers that do
have an interval, with theirs (``with_interval``), printed as its own line.

The other natural route -- the percentile interval of the replicated means
``mean_l alpha[l, r]`` -- is printed by ``benchmarks/bench_report.py`` for
comparison: on MiniLM the
bootstrap distribution of nearly every layer sits below its estimate (the
finite-sample bias of the refitted xmin scan), and averaging 39 layers shrinks
the spread but not that shift, so the replicated means miss the estimate
altogether; docs/report.md shows the numbers.  The hierarchical Bayesian model,
when asked, adds its own network-level alpha.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..inference.bootstrap import percentile_interval
from .intervals import NO_INTERVAL, checked_interval
from .verdict import format_interval

__all__ = ["NetworkSummary", "summarize"]


@dataclass(frozen=True, repr=False)
class NetworkSummary:
    """Network-level numbers of a report.

    Attributes
    ----------
    n_layers : int
        Rows of the report.
    n_fitted : int
        Layers with a fit (the ones averaged).
    mean_alpha, mean_alpha_lo, mean_alpha_hi : float
        Mean alpha over fitted layers and its interval (NaN without intervals).
    mean_alpha_weighted, mean_alpha_weighted_lo, mean_alpha_weighted_hi : float
        The same for ``alpha_weighted`` (WeightWatcher's summary metric).
    level : float
    interval_method : str or None
        ``"bootstrap"``, ``"bayes"`` or None.
    labels : dict
        Number of layers per verdict label.
    network_alpha : dict or None
        The hierarchical estimate (``estimate``, ``lo``, ``hi``, ``tau``...) with ``intervals="bayes"``.
    n_interval : int
        Fitted layers that have an interval (the means get one only if this is ``n_fitted``).
    interval_note : str
        Why the means have no interval although intervals were asked for (``""`` otherwise).
    with_interval : dict or None
        When some fitted layers have no interval: the same means and intervals over the
        ``n`` layers that have one (``mean_alpha``, ``mean_alpha_lo``, ... ``mean_alpha_weighted_hi``).
    change : dict or None
        With a baseline (docs/compare.md): ``mean_delta_alpha`` and its interval
        (``mean_delta_alpha_lo``, ``_hi``) over the ``n_compared`` layers fitted in both,
        ``n_changed``, ``change_threshold``, ``baseline`` and a ``note``.
    """

    n_layers: int
    n_fitted: int
    mean_alpha: float
    mean_alpha_lo: float
    mean_alpha_hi: float
    mean_alpha_weighted: float
    mean_alpha_weighted_lo: float
    mean_alpha_weighted_hi: float
    level: float
    interval_method: str | None
    labels: dict = field(default_factory=dict)
    network_alpha: dict | None = None
    n_interval: int = 0
    interval_note: str = ""
    with_interval: dict | None = None
    change: dict | None = None

    def to_dict(self) -> dict:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}

    def lines(self) -> list[tuple[str, str]]:
        """Readable (label, value) pairs, as the CLI and the HTML page print them."""
        pct = f"{round(100 * self.level)}%"

        def iv(v, lo, hi, note=""):
            if not math.isfinite(v):
                return "n/a"
            if math.isfinite(lo) and math.isfinite(hi):
                return f"{v:.3f}  ({pct} interval {format_interval(lo, hi, '.3f')})"
            return f"{v:.3f}  ({note})" if note else f"{v:.3f}"

        out = [("layers", f"{self.n_layers} ({self.n_fitted} fitted)"),
               ("mean alpha", iv(self.mean_alpha, self.mean_alpha_lo, self.mean_alpha_hi, self.interval_note)),
               ("mean alpha_weighted", iv(self.mean_alpha_weighted, self.mean_alpha_weighted_lo,
                                          self.mean_alpha_weighted_hi, self.interval_note))]
        if self.with_interval:
            w = self.with_interval
            what = f"{w['n']} layer{'s' if w['n'] != 1 else ''} with an interval"
            out += [(f"mean alpha, {what}", iv(w["mean_alpha"], w["mean_alpha_lo"], w["mean_alpha_hi"])),
                    (f"mean alpha_weighted, {what}", iv(w["mean_alpha_weighted"], w["mean_alpha_weighted_lo"],
                                                        w["mean_alpha_weighted_hi"]))]
        if self.network_alpha:
            na = self.network_alpha
            out.append(("network alpha (hierarchical)", iv(na["estimate"], na["lo"], na["hi"],
                                                            na.get("interval_note", ""))))
        out.append(("verdicts", ", ".join(f"{k} {v}" for k, v in self.labels.items() if v) or "none"))
        if self.change:
            c = self.change
            out += [("change of mean alpha vs baseline", iv(c["mean_delta_alpha"], c["mean_delta_alpha_lo"],
                                                            c["mean_delta_alpha_hi"])),
                    ("layers changed", f"{c['n_changed']} of {c['n_compared']} compared (interval excludes 0 and "
                                       f"|delta_alpha| >= {c['change_threshold']:g})")]
            if c["note"]:
                out.append(("baseline note", c["note"]))
        return out

    def __repr__(self) -> str:
        return "NetworkSummary(\n" + "\n".join(f"  {k}: {v}" for k, v in self.lines()) + "\n)"


def propagated_interval(estimate: float, values, lo, hi, weight) -> tuple[float, float]:
    """The mean's interval from every layer's; NaN unless every layer has one."""
    values, lo, hi = (np.asarray(v, dtype=np.float64) for v in (values, lo, hi))
    if values.size == 0 or not (np.isfinite(lo) & np.isfinite(hi)).all():
        return math.nan, math.nan
    L = values.size
    below = np.maximum(values - lo, 0.0) * weight
    above = np.maximum(hi - values, 0.0) * weight
    return (estimate - float(np.sqrt(np.sum(below**2))) / L,
            estimate + float(np.sqrt(np.sum(above**2))) / L)


def replicated_means(draws: np.ndarray, log_lambda_max, level: float):
    """Percentile intervals of the bootstrap replicates of both means (for comparison; see the module doc)."""
    w = np.asarray(log_lambda_max, dtype=np.float64)[:, None]
    with np.errstate(invalid="ignore"):
        return (percentile_interval(np.nanmean(draws, axis=0), level),
                percentile_interval(np.nanmean(draws * w, axis=0), level))


def summarize(alpha, log_lambda_max, alpha_lo, alpha_hi, *, n_layers: int, level: float, method: str | None,
              labels: dict, network_alpha: dict | None = None, names=None) -> NetworkSummary:
    """Means over the fitted layers, with intervals propagated from the layers' ``alpha_lo``/``alpha_hi``.

    ``names`` (the fitted layers') name the layers without an interval in ``interval_note``.
    """
    alpha = np.asarray(alpha, dtype=np.float64)
    w = np.asarray(log_lambda_max, dtype=np.float64)
    lo, hi = np.asarray(alpha_lo, dtype=np.float64), np.asarray(alpha_hi, dtype=np.float64)
    nan2 = (math.nan, math.nan)
    if alpha.size == 0:
        return NetworkSummary(n_layers, 0, math.nan, *nan2, math.nan, *nan2, level, method, labels, network_alpha)
    has = np.isfinite(lo) & np.isfinite(hi)
    note = ""
    if method is not None and not has.all():
        missing = [str(n) for n in np.asarray(names, dtype=object)[~has]] if names is not None else []
        which = f" ({', '.join(missing[:3])}{', ...' if len(missing) > 3 else ''})" if missing else ""
        k = int((~has).sum())
        note = f"{NO_INTERVAL}{k} of {alpha.size} fitted layers {'has' if k == 1 else 'have'} none{which}"
    if network_alpha:  # the layers' rule: no interval that excludes its own estimate
        lo_n, hi_n, why = checked_interval(network_alpha["estimate"], network_alpha["lo"], network_alpha["hi"],
                                           "the posterior")
        network_alpha = dict(network_alpha, lo=lo_n, hi=hi_n, **({"interval_note": why} if why else {}))
    means = _means(alpha, w, lo, hi)
    subset = None
    if note and has.any():
        subset = dict(n=int(has.sum()), **_means(alpha[has], w[has], lo[has], hi[has]))
    return NetworkSummary(n_layers, int(alpha.size), *means.values(), level, method, labels, network_alpha,
                          n_interval=int(has.sum()), interval_note=note, with_interval=subset)


def _means(alpha, w, lo, hi) -> dict:
    ma, mw = float(alpha.mean()), float((alpha * w).mean())
    ia = propagated_interval(ma, alpha, lo, hi, 1.0)
    iw = propagated_interval(mw, alpha, lo, hi, np.abs(w))
    return dict(mean_alpha=ma, mean_alpha_lo=ia[0], mean_alpha_hi=ia[1],
                mean_alpha_weighted=mw, mean_alpha_weighted_lo=iw[0], mean_alpha_weighted_hi=iw[1])
