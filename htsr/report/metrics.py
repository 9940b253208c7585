"""Per-layer spectral metrics, under WeightWatcher 0.7.7's names where the meaning is the same.

All are functions of the ESD ``lambda_1 <= ... <= lambda_M`` (squared singular
values by default, see :class:`~htsr.report.options.LayerFitOptions`) and, for two of
them, of the fitted alpha:

===================  =========================================================
``log_norm``         ``log10(sum lambda_i)`` = log10 of the squared Frobenius norm
``log_spectral_norm````log10(lambda_max)``
``alpha_weighted``   ``alpha * log10(lambda_max)``
``log_alpha_norm``   ``log10(sum lambda_i ** alpha)`` (the Schatten alpha-norm, to the alpha)
``stable_rank``      ``sum lambda_i / lambda_max``
``entropy``          ``-sum p_i log p_i / log(rank)``, ``p_i = lambda_i / sum lambda`` (matrix entropy)
``rank_loss``        ``M - rank``: singular values at or below ``sigma_max * N * eps``
``num_spikes``       eigenvalues above the Marchenko-Pastur bulk plus its Tracy-Widom margin
                     (:func:`htsr.rmt.fit_mp`, confidence 0.99)
``mp_softrank``      ``lambda_+ / lambda_max`` of that bulk fit
===================  =========================================================

WeightWatcher's ``entropy`` adds ``1e-10`` to every ``p_i`` and to the rank; htsr
sums the exact terms (values agree to about 1e-8).  Its ``num_spikes`` and
``mp_softrank`` come from its own MP fit (``mp_fit=True``); htsr's bulk fit is
:func:`htsr.rmt.fit_mp`, so those two are the same idea, not the same numbers.
"""

from __future__ import annotations

import math

import numpy as np

from ..rmt import fit_mp

__all__ = ["spectrum_metrics", "alpha_metrics", "METRIC_COLUMNS"]

METRIC_COLUMNS = ("alpha_weighted", "log_norm", "log_spectral_norm", "log_alpha_norm", "stable_rank",
                  "mp_softrank", "num_spikes", "entropy", "rank_loss", "lambda_max")

_EPS = np.finfo(np.float64).eps


def _nan_metrics() -> dict:
    return dict(lambda_max=math.nan, log_norm=math.nan, log_spectral_norm=math.nan, stable_rank=math.nan,
                entropy=math.nan, rank_loss=-1, num_spikes=-1, mp_softrank=math.nan)


def spectrum_metrics(evals: np.ndarray, N: int, Q: float) -> dict:
    """The metrics that need no fit, from an ascending ESD (``N``: the larger side, ``Q = N / M``)."""
    ev = np.asarray(evals, dtype=np.float64)
    top = float(ev[-1]) if ev.size else 0.0
    if not top > 0:
        return _nan_metrics()
    total = float(ev.sum())
    sv = np.sqrt(ev)
    rank = int(np.count_nonzero(sv > sv[-1] * N * _EPS))
    p = ev[ev > 0] / total
    entropy = float(-np.sum(p * np.log(p)) / np.log(rank)) if rank > 1 else math.nan
    out = dict(lambda_max=top, log_norm=math.log10(total), log_spectral_norm=math.log10(top),
               stable_rank=total / top, entropy=entropy, rank_loss=int(ev.size - rank))
    try:
        mp = fit_mp(ev, Q)
        out.update(num_spikes=int(mp.n_spikes), mp_softrank=float(mp.soft_rank))
    except ValueError:  # too few positive eigenvalues for a bulk fit
        out.update(num_spikes=-1, mp_softrank=math.nan)
    return out


def alpha_metrics(evals: np.ndarray, alpha: float) -> dict:
    """``alpha_weighted`` and ``log_alpha_norm`` for a fitted alpha (NaN without one)."""
    ev = np.asarray(evals, dtype=np.float64)
    if not np.isfinite(alpha) or ev.size == 0 or not ev[-1] > 0:
        return dict(alpha_weighted=math.nan, log_alpha_norm=math.nan)
    top = float(ev[-1])
    # sum lambda^alpha computed as top^alpha * sum (lambda/top)^alpha: no overflow for large alpha
    s = float(np.sum((ev[ev > 0] / top) ** alpha))
    return dict(alpha_weighted=alpha * math.log10(top), log_alpha_norm=alpha * math.log10(top) + math.log10(s))
