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
``sigma_mp``         the bulk's scale in WeightWatcher's units: ``sqrt(sigma2 / mean(lambda))``, the
                     MP sigma of the ESD rescaled to mean eigenvalue 1 (1 for pure noise)
``bulk_min``,        ``lambda_-``, ``lambda_+`` of that fit, in the ESD's units
``bulk_max``
``detX_num``         WeightWatcher's detX count: on the ESD rescaled to mean 1, the fewest top
                     eigenvalues whose product falls below 1 (:func:`detx`)
``detX_val``         the smallest of those eigenvalues, in the ESD's units
===================  =========================================================

WeightWatcher's ``entropy`` adds ``1e-10`` to every ``p_i`` and to the rank; htsr
sums the exact terms (values agree to about 1e-8).  Its ``num_spikes`` and
``mp_softrank`` come from its own MP fit (``mp_fit=True``); htsr's bulk fit is
:func:`htsr.rmt.fit_mp`, so those two (and ``sigma_mp``, ``bulk_max``) are the same idea, not
the same numbers; docs/report.md says where and why they differ.  ``detX_num`` and ``detX_val``
are WeightWatcher's to the last digit.
"""

from __future__ import annotations

import math

import numpy as np

from ..rmt import fit_mp

__all__ = ["spectrum_metrics", "alpha_metrics", "detx", "METRIC_COLUMNS"]

METRIC_COLUMNS = ("alpha_weighted", "log_norm", "log_spectral_norm", "log_alpha_norm", "stable_rank",
                  "mp_softrank", "num_spikes", "entropy", "rank_loss", "lambda_max", "sigma_mp", "bulk_min",
                  "bulk_max", "detX_num", "detX_val")

_EPS = np.finfo(np.float64).eps


def _nan_metrics() -> dict:
    return dict(lambda_max=math.nan, log_norm=math.nan, log_spectral_norm=math.nan, stable_rank=math.nan,
                entropy=math.nan, rank_loss=-1, num_spikes=-1, mp_softrank=math.nan, sigma_mp=math.nan,
                bulk_min=math.nan, bulk_max=math.nan, detX_num=-1, detX_val=math.nan)


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
    out.update(zip(("detX_num", "detX_val"), detx(ev)))
    try:
        mp = fit_mp(ev, Q)
        out.update(num_spikes=int(mp.n_spikes), mp_softrank=float(mp.soft_rank),
                   sigma_mp=math.sqrt(mp.sigma2 * ev.size / total), bulk_min=float(mp.lambda_minus),
                   bulk_max=float(mp.lambda_plus))
    except ValueError:  # too few positive eigenvalues for a bulk fit
        out.update(num_spikes=-1, mp_softrank=math.nan, sigma_mp=math.nan, bulk_min=math.nan, bulk_max=math.nan)
    return out


def detx(evals: np.ndarray) -> tuple[int, float]:
    """WeightWatcher 0.7.7's detX constraint: ``(detX_num, detX_val)`` of an ascending ESD.

    The ESD is rescaled to mean 1 (``lambda * M / sum lambda``, WeightWatcher's
    ``rescale_eigenvalues``); going down from the top, ``detX_num`` is the number of
    eigenvalues taken when their product first falls below 1, and ``detX_val`` the
    last one taken, in the ESD's own units (``detX_constraint`` and ``apply_detX``).
    This is the Exact Renormalization Group (ERG) condition of Martin's theory of
    heavy-tailed self-regularization (C. H. Martin et al., "SETOL: A Semi-Empirical Theory of
    (Deep) Learning", 2025, following Martin & Mahoney, JMLR 22(165), 2021): a layer at the
    ideal fixed point has ``det X = 1`` on its power-law tail, so ``detX_num`` should be
    close to the tail's length, ``ERG_gap = detX_num - n_tail`` near 0 (WeightWatcher's
    ``detX=True``, alias ``ERG=True``: "the Trace Log Norm / DetX=1 constraint").

    The product is taken as a sum of logs, so it cannot overflow: WeightWatcher's
    ``np.prod`` becomes inf after a few hundred large eigenvalues, and then never falls
    below 1 (it then reports every eigenvalue).  WeightWatcher's edge cases are kept: never
    below 1 gives ``(M, lambda[1])``; fewer than 2 eigenvalues or a constant ESD, ``(0, lambda[0])``.
    """
    ev = np.asarray(evals, dtype=np.float64)
    if ev.size < 2 or not ev[0] < ev[-1]:
        return 0, (float(ev[0]) if ev.size else math.nan)
    total = float(ev.sum())
    with np.errstate(divide="ignore"):
        logs = np.log(ev[1:] * (ev.size / total))  # positions 1..M-1, as WeightWatcher's loop
    below = np.flatnonzero(np.cumsum(logs[::-1]) < 0.0)  # tops of length 1, 2, ... (positions M-1 down to 1)
    if below.size == 0:
        return int(ev.size), float(ev[1])
    idx = ev.size - 1 - int(below[0])
    return int(ev.size - idx), float(ev[idx])


def alpha_metrics(evals: np.ndarray, alpha: float) -> dict:
    """``alpha_weighted`` and ``log_alpha_norm`` for a fitted alpha (NaN without one)."""
    ev = np.asarray(evals, dtype=np.float64)
    if not np.isfinite(alpha) or ev.size == 0 or not ev[-1] > 0:
        return dict(alpha_weighted=math.nan, log_alpha_norm=math.nan)
    top = float(ev[-1])
    # sum lambda^alpha computed as top^alpha * sum (lambda/top)^alpha: no overflow for large alpha
    s = float(np.sum((ev[ev > 0] / top) ** alpha))
    return dict(alpha_weighted=alpha * math.log10(top), log_alpha_norm=alpha * math.log10(top) + math.log10(s))
