"""Both ends of a bounded power law by the Deluca & Corral (2013) procedure.

Candidate ends are ``grid`` values of the sample spaced evenly in log between
its smallest and largest value.  Every pair ``a < b`` with at least
``min_tail`` points in ``[a, b]`` gets the bounded fit with that range fixed
and the fixed-range goodness-of-fit p-value of :func:`htsr.gof` (``reps``
synthetic sets drawn from the fitted law, alpha refitted with the range held:
:func:`htsr.fitting.refit.fixed_range_replicates`; p = fraction of synthetic
D >= observed D).
Pairs are visited from the widest range ``ln(b/a)`` down (ties: more points
first), and the first pair with ``p >= p_threshold`` is returned.

This is not the default of ``fit(method="bounded")``: it costs ``reps``
refits per visited pair and depends on the threshold and the grid, whereas
xmax = the largest observation is the maximum-likelihood estimate of the upper
truncation point and needs no tuning.  Use it when the tail visibly bends down
before the largest observations.

Reference: A. Deluca, Á. Corral, "Fitting and goodness-of-fit test of
non-truncated and truncated power-law distributions", Acta Geophysica 61,
1351-1394 (2013).
"""

from __future__ import annotations

import numpy as np

from .. import _jax, streams
from ..errors import FitError
from .refit import BATCH, fixed_range_replicates, power_law_fit, refit
from .result import FitSpec, PowerLawFit, RangeSearch

__all__ = ["search_range"]


def search_range(
    x,
    *,
    discrete: bool = False,
    xmin: float | None = None,
    p_threshold: float = 0.1,
    reps: int = 100,
    grid: int = 20,
    min_tail: int = 50,
    seed: int = 0,
    estimator: str = "mle",
) -> PowerLawFit:
    """The widest range ``[xmin, xmax]`` whose bounded fit has a GoF p-value >= ``p_threshold``.

    Parameters
    ----------
    x : sorted float64 array of positive values (as from :func:`htsr.data.as_sample`)
    discrete : bool
    xmin : float, optional
        Fix the lower end and search only xmax.
    p_threshold, reps, grid, min_tail
        See the module docstring.
    seed : int
        The p-value of the ``k``-th range visited draws from the ``range_search``
        stream of :mod:`htsr.streams`: ``keys(seed, "range_search", 0, reps, k)``.
    estimator : {"mle", "unbiased"}
        ``"unbiased"`` (continuous) reports the bias-corrected alpha of the chosen
        range; the search itself (D and p) uses the MLE.
    """
    x = np.asarray(x, dtype=np.float64)
    vals = np.unique(x)
    pos = np.unique(np.searchsorted(vals, np.geomspace(vals[0], vals[-1], grid)).clip(0, len(vals) - 1))
    ends = vals[pos]
    lows = np.array([float(xmin)]) if xmin is not None else ends[:-1]
    pairs = []
    for a in lows:
        for b in ends:
            if b <= a or (discrete and b - a < 2):
                continue
            tail = x[(x >= a) & (x <= b)]
            if len(tail) >= max(min_tail, 2) and tail[0] != tail[-1]:
                pairs.append((np.log(b / a), len(tail), a, b))
    if not pairs:
        raise FitError(f"no range on the grid holds at least min_tail={min_tail} points")
    pairs.sort(key=lambda p: (-p[0], -p[1]))
    rows = _jax.pad_rows([x])
    for k, (_, _, a, b) in enumerate(pairs):
        spec = FitSpec(method="bounded", discrete=discrete, xmin=float(a), xmax=float(b), xmax_rule="fixed")
        obs = power_law_fit(refit(rows, spec), 0, x, spec)
        sims = fixed_range_replicates(obs, lambda start, stop: streams.keys(seed, "range_search", start, stop, k),
                                      reps, batch=min(reps, BATCH))
        p = float(np.mean(sims.D >= obs.D))
        if p >= p_threshold:
            found = RangeSearch(p=p, reps=reps, p_threshold=p_threshold, grid=grid)
            batch = refit(rows, spec.replace(estimator=estimator))
            return power_law_fit(batch, 0, x, spec.replace(estimator=estimator), n_candidates=len(pairs),
                                 n_evaluated=k + 1, range_search=found)
    raise FitError(f"no range on the grid reaches p >= {p_threshold} ({len(pairs)} ranges tried)")
