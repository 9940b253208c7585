"""Goodness of fit of a power law to binned data (Virkar & Clauset 2014, section 4).

The semi-parametric Monte Carlo test of Clauset et al. (2009) on histograms:
each synthetic data set has the observed total ``n``; each of its observations
falls in the tail with probability ``n_tail / n`` and then in tail bin ``i`` with
the fitted power law's probability ``p_i``, otherwise in body bin ``i`` with the
body's empirical frequency ``h_i / n_body``.  That is one multinomial draw of
``n`` over all bins with probabilities ``h_i / n`` (body) and ``(n_tail / n) p_i``
(tail).  Each synthetic histogram is refitted the way the data were (bmin
rescanned when it was scanned) by the binned engine
(:func:`htsr.fitting.binned.refit_binned`), and ``p`` is the fraction of
replicates whose KS distance is at least the data's.

Draws come from the named stream ``binned_gof`` (:mod:`htsr.streams`): its NumPy
generator draws the ``reps`` multinomial rows in order (exact, no compilation), so
replicate ``r`` under ``seed`` is the same for every ``reps > r``; the refits run in
padded batches of up to 256 rows through one compiled kernel.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import streams
from ..data import check_int
from ..errors import FitError
from ..fitting.binned import BinnedFit, bin_probabilities, fit_binned, refit_binned

__all__ = ["BinnedGofResult", "gof_binned"]

_BATCH = 256


@dataclass(frozen=True)
class BinnedGofResult:
    """Monte Carlo goodness of fit of a binned power-law fit.

    Attributes
    ----------
    p : fraction of synthetic histograms with ``D >= D`` of the data
    p_se : its binomial standard error ``sqrt(p (1 - p) / reps)``
    D : the data's binned KS distance
    reps, seed : replicates and seed (stream ``binned_gof``)
    fit : the :class:`~htsr.fitting.binned.BinnedFit` tested
    D_sim : the replicates' KS distances
    """

    p: float
    p_se: float
    D: float
    reps: int
    seed: int
    fit: BinnedFit
    D_sim: np.ndarray

    def to_dict(self) -> dict:
        return {"p": self.p, "p_se": self.p_se, "D": self.D, "reps": self.reps, "seed": self.seed,
                "fit": self.fit.to_dict()}

    def __repr__(self) -> str:
        return f"BinnedGofResult(p={self.p:.3g} ± {self.p_se:.2g}, D={self.D:.4g}, reps={self.reps}, {self.fit!r})"


def _probabilities(fit: BinnedFit) -> np.ndarray:
    """Per-bin probabilities of one synthetic observation: body frequencies, then the fitted tail."""
    tail = fit.edges[:-1] >= fit.bmin
    q = np.where(tail, (fit.n_tail / fit.n) * bin_probabilities(fit.alpha, fit.edges, fit.bmin), fit.counts / fit.n)
    return q / q.sum()


def gof_binned(edges, counts, *, bmin="scan", reps: int = 1000, seed: int = 0, min_tail: int = 10) -> BinnedGofResult:
    """p-value of a power law fitted to binned data (Virkar & Clauset 2014).

    Parameters
    ----------
    edges, counts, bmin, min_tail
        As :func:`htsr.fit_binned` (the fit tested).
    reps : int
        Synthetic histograms (``p`` has standard error about ``sqrt(p (1-p) / reps)``).
    seed : int
        Seed of the ``binned_gof`` stream.

    Returns
    -------
    BinnedGofResult
    """
    reps = check_int(reps, "reps", minimum=1, error=FitError)
    fit = fit_binned(edges, counts, bmin=bmin, min_tail=min_tail)
    k = fit.counts.size
    allowed = np.ones(k, dtype=bool) if fit.scanned else fit.edges[:-1] == fit.bmin
    # row r of the draws is the same for every reps > r (NumPy draws the rows in order)
    H = streams.generator(seed, "binned_gof").multinomial(fit.n, _probabilities(fit), size=reps).astype(np.float64)
    size = min(_BATCH, 1 << (reps - 1).bit_length())  # a few batch shapes, so few compilations
    D = []
    for start in range(0, reps, size):
        rows = H[start:start + size]
        pad = np.zeros((size - rows.shape[0], rows.shape[1]))
        D.append(refit_binned(fit.edges, np.vstack([rows, pad]), allowed, fit.min_tail)[2][: rows.shape[0]])
    D_sim = np.concatenate(D)
    p = float(np.mean(np.isfinite(D_sim) & (D_sim >= fit.D)))  # a replicate with no eligible bmin does not exceed D
    return BinnedGofResult(p, float(np.sqrt(p * (1 - p) / reps)), fit.D, reps, int(seed), fit, D_sim)
