"""Stage 3 of a report: bootstrap intervals for alpha, batched over layers.

A layer's interval is exactly what :func:`htsr.bootstrap` gives on that layer's
fitted eigenvalues (``rep.fits[name].data``) with the documented arguments::

    htsr.bootstrap(evals, reps=reps, level=level, seed=htsr.streams.layer_seed(seed, name))
        .intervals["alpha"].chosen        # ci="bca" (the default); .percentile for ci="percentile"

the same resamples (:func:`htsr.inference.bootstrap.bootstrap_rows`), the same
jackknife groups (:func:`~htsr.inference.bootstrap.jackknife_rows`), the same
refit and the same choice of interval
(:func:`~htsr.inference.bootstrap.param_intervals`).  The report only batches:
every layer's resamples and jackknife rows go through one
:func:`htsr.fitting.fit_padded` call per chunk of layers instead of one per
layer.  Each layer has its own seed (:func:`htsr.streams.layer_seed`), so its
draws depend on the seed and its name only, not on which other layers are
reported, the chunking or the machine that ran the chunk (Dask).

An interval that excludes its own estimate is not an interval for that estimate
(the bootstrap distribution sits off it: a short tail, a finger, a KS-scanned
xmin that jumps between resamples).  :func:`checked_interval` is the one rule:
such a layer gets no interval -- ``alpha_lo``/``alpha_hi`` NaN, and the reason in
``interval_note``, which starts ``"no interval: "`` -- never one that misses its
alpha.  It holds for posterior intervals too, and the verdicts and the network
summary read only intervals that passed it.
"""

from __future__ import annotations

import numpy as np

from .. import _jax
from ..fitting import fit_padded
from ..inference.bootstrap import bootstrap_rows, jackknife_rows, param_intervals
from ..streams import layer_seed
from .options import IntervalSpec

__all__ = ["layer_rows", "bootstrap_chunk", "chunks", "summarize_draws", "checked_interval", "NO_INTERVAL"]

#: How ``interval_note`` starts when a layer has no interval because the one computed missed its estimate.
NO_INTERVAL = "no interval: "

_ROW_ELEMENTS = 1 << 24  # floats of resampled rows fitted per call (~128 MB)


def layer_rows(x: np.ndarray, name: str, spec: IntervalSpec):
    """Sorted bootstrap rows (reps, n) and jackknife rows (list) of one layer's sample:
    those of ``htsr.bootstrap(x, seed=layer_seed(spec.seed, name))``."""
    seed = layer_seed(spec.seed, name)
    return bootstrap_rows(x, seed, 0, spec.reps), jackknife_rows(x, spec.jackknife_groups, seed)


def chunks(sizes, reps: int, groups: int, budget: int = _ROW_ELEMENTS):
    """Split layer indices into consecutive chunks whose rows fit ``budget`` floats."""
    out, cur, used = [], [], 0
    for b, n in enumerate(sizes):
        cost = (reps + min(groups, n)) * _jax.bucket(max(int(n), 2))
        if cur and used + cost > budget:
            out.append(cur)
            cur, used = [], 0
        cur.append(b)
        used += cost
    if cur:
        out.append(cur)
    return out


def bootstrap_chunk_on(device, samples: list[np.ndarray], names: list[str], spec: IntervalSpec):
    """:func:`bootstrap_chunk` on ``device`` (the report's): the task a Dask worker runs."""
    from .._device import on_device

    with on_device(device):
        return bootstrap_chunk(samples, names, spec)


def bootstrap_chunk(samples: list[np.ndarray], names: list[str], spec: IntervalSpec):
    """Bootstrap alphas (L, reps) and jackknife alphas (list of (g,)) of a chunk of layers, in one fit."""
    rows, owner, kind = [], [], []
    for b, (x, name) in enumerate(zip(samples, names)):
        boot, jack = layer_rows(np.asarray(x, dtype=np.float64), name, spec)
        rows.extend(boot)
        rows.extend(jack)
        owner.extend([b] * (len(boot) + len(jack)))
        kind.extend([0] * len(boot) + [1] * len(jack))
    X, n = _jax.pad_rows(rows)
    alpha = fit_padded(X, n).alpha
    owner, kind = np.asarray(owner), np.asarray(kind)
    draws = np.stack([alpha[(owner == b) & (kind == 0)] for b in range(len(samples))])
    jacks = [alpha[(owner == b) & (kind == 1)] for b in range(len(samples))]
    return draws, jacks


def checked_interval(estimate: float, lo: float, hi: float, source: str = "the bootstrap"):
    """``(lo, hi, note)``: the interval if it holds ``estimate``, else ``(nan, nan, "no interval: ...")``.

    ``note`` is ``""`` for an interval that holds, and for no interval at all (NaN ends).
    """
    nan = float("nan")
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return nan, nan, ""
    if not np.isfinite(estimate) or lo <= estimate <= hi:
        return float(lo), float(hi), ""
    side = "below" if hi < estimate else "above"
    return nan, nan, (f"{NO_INTERVAL}{source} does not cover the estimate (its interval "
                      f"[{lo:.3g}, {hi:.3g}] lies {side} alpha = {estimate:.3g})")


def summarize_draws(alpha: float, draws: np.ndarray, jack: np.ndarray, spec: IntervalSpec) -> dict:
    """``alpha_lo``, ``alpha_hi`` (the chosen interval), ``alpha_se``, ``interval_note`` and both intervals.

    The chosen interval is :func:`htsr.bootstrap`'s (``spec.ci == "bca"``: BCa, or the
    percentile interval where BCa is undefined or excludes ``alpha``) or the percentile
    interval; if it still excludes ``alpha`` the layer gets none (:func:`checked_interval`),
    and ``interval_note`` says why.
    """
    finite = draws[np.isfinite(draws)]
    if finite.size < 2:
        nan = float("nan")
        return dict(alpha_lo=nan, alpha_hi=nan, alpha_se=nan, percentile=None, bca=None,
                    interval_note=f"{NO_INTERVAL}fewer than 2 bootstrap resamples could be fitted")
    ivs = param_intervals(finite, alpha, jack, spec.level)
    pct, bca = ivs.percentile, ivs.bca
    chosen = pct if spec.ci == "percentile" else ivs.chosen
    fallback = spec.ci == "bca" and chosen.method == "percentile"
    lo, hi, note = checked_interval(alpha, chosen.low, chosen.high)
    bca_text = "undefined" if bca is None else f"[{bca.low:.3g}, {bca.high:.3g}]"
    if note and fallback:
        side = "below" if np.all(finite < alpha) else "above" if np.all(finite > alpha) else ""
        why = (f"every one of the {finite.size} bootstrap alphas lies {side} it, percentile interval "
               f"[{pct.low:.3g}, {pct.high:.3g}]" if side else
               f"BCa {bca_text} and percentile [{pct.low:.3g}, {pct.high:.3g}] both exclude it")
        note = f"{NO_INTERVAL}the bootstrap does not cover the estimate alpha = {alpha:.3g} ({why})"
    elif fallback:
        note = (f"percentile interval: BCa {bca_text} excludes alpha = {alpha:.3g}, "
                f"the percentile interval holds it (read it with care)")
    return dict(alpha_lo=lo, alpha_hi=hi, alpha_se=float(np.std(finite, ddof=1)),
                percentile=pct, bca=bca, interval_note=note)
