"""The network summary: mean alpha and mean weighted alpha, with intervals propagated from the layers.

Layers are fitted (and resampled) independently, so the variance of a mean over
``L`` layers is ``sum_l var_l / L**2``.  Each side of a layer's interval is
read as ``z * sd`` on that side (``z`` the normal quantile of the level), which
keeps the layers' asymmetry:

    mean_lo = mean - sqrt(sum_l (alpha_l - lo_l)**2) / L
    mean_hi = mean + sqrt(sum_l (hi_l - alpha_l)**2) / L

and the same with every term times ``log10(lambda_max_l)`` for the weighted mean
(``lambda_max`` is measured, not estimated, and held fixed).  This works the
same for bootstrap and posterior intervals.  The other natural route -- the
percentile interval of the replicated means ``mean_l alpha[l, r]`` -- is
printed by ``benchmarks/bench_report.py`` for comparison: on MiniLM the
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

    def to_dict(self) -> dict:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}

    def lines(self) -> list[tuple[str, str]]:
        """Readable (label, value) pairs, as the CLI and the HTML page print them."""
        pct = f"{round(100 * self.level)}%"

        def iv(v, lo, hi):
            if not math.isfinite(v):
                return "n/a"
            tail = f"  ({pct} interval {lo:.3f}-{hi:.3f})" if math.isfinite(lo) else ""
            return f"{v:.3f}{tail}"

        out = [("layers", f"{self.n_layers} ({self.n_fitted} fitted)"),
               ("mean alpha", iv(self.mean_alpha, self.mean_alpha_lo, self.mean_alpha_hi)),
               ("mean alpha_weighted", iv(self.mean_alpha_weighted, self.mean_alpha_weighted_lo,
                                          self.mean_alpha_weighted_hi))]
        if self.network_alpha:
            na = self.network_alpha
            out.append(("network alpha (hierarchical)", iv(na["estimate"], na["lo"], na["hi"])))
        out.append(("verdicts", ", ".join(f"{k} {v}" for k, v in self.labels.items() if v) or "none"))
        return out

    def __repr__(self) -> str:
        return "NetworkSummary(\n" + "\n".join(f"  {k}: {v}" for k, v in self.lines()) + "\n)"


def _propagated(estimate: float, values, lo, hi, weight) -> tuple[float, float]:
    values, lo, hi = (np.asarray(v, dtype=np.float64) for v in (values, lo, hi))
    ok = np.isfinite(lo) & np.isfinite(hi)
    if not ok.any():
        return math.nan, math.nan
    L = values.size
    below = np.maximum(values - lo, 0.0) * weight
    above = np.maximum(hi - values, 0.0) * weight
    # a layer without an interval contributes nothing it could claim: the mean's interval then
    # covers only the layers that have one, which the summary states in n_fitted vs n_layers
    return (estimate - float(np.sqrt(np.sum(below[ok] ** 2))) / L,
            estimate + float(np.sqrt(np.sum(above[ok] ** 2))) / L)


def replicated_means(draws: np.ndarray, log_lambda_max, level: float):
    """Percentile intervals of the bootstrap replicates of both means (for comparison; see the module doc)."""
    w = np.asarray(log_lambda_max, dtype=np.float64)[:, None]
    with np.errstate(invalid="ignore"):
        return (percentile_interval(np.nanmean(draws, axis=0), level),
                percentile_interval(np.nanmean(draws * w, axis=0), level))


def summarize(alpha, log_lambda_max, alpha_lo, alpha_hi, *, n_layers: int, level: float, method: str | None,
              labels: dict, network_alpha: dict | None = None) -> NetworkSummary:
    """Means over the fitted layers, with intervals propagated from the layers' ``alpha_lo``/``alpha_hi``."""
    alpha = np.asarray(alpha, dtype=np.float64)
    w = np.asarray(log_lambda_max, dtype=np.float64)
    nan2 = (math.nan, math.nan)
    if alpha.size == 0:
        return NetworkSummary(n_layers, 0, math.nan, *nan2, math.nan, *nan2, level, method, labels, network_alpha)
    ma, mw = float(alpha.mean()), float((alpha * w).mean())
    ia = _propagated(ma, alpha, alpha_lo, alpha_hi, 1.0)
    iw = _propagated(mw, alpha, alpha_lo, alpha_hi, np.abs(w))
    return NetworkSummary(n_layers, int(alpha.size), ma, *ia, mw, *iw, level, method, labels, network_alpha)
