"""One cell of a study: draw its replicates, take their spectra, fit every estimator.

:func:`run_cell` is a pure function of ``(grid, cell)``: the unit sent to a Dask
worker and the unit stored.  It calls the core and copies none of it:

* draws: :func:`htsr.models.sampling.law_rows` (power-law samples, the law's own
  inverse-CDF sampler) or the :mod:`htsr.rmt` generators (one compiled kernel per
  matrix shape), keyed by the cell's ``calibration`` stream (:mod:`htsr.streams`);
* spectra: :func:`htsr.rmt.esd` (``X = W^T W / N``, LAPACK ``dsyrk + dsyevd``);
* fits: :func:`htsr.fitting.fit_padded`, all replicates of the cell in one batch
  (``clauset``: the Clauset-Shalizi-Newman MLE with the KS scan for xmin;
  ``unbiased``: the same scan with ``1 + (n_tail - 1) / sum ln(x / xmin)``;
  ``bounded``: the power law on ``[xmin, max]``, any exponent);
* ``bayes``: the posterior of alpha with xmin fixed at the Clauset fit, under the
  power law's default prior (:data:`htsr.models.powerlaw.PRIOR`, ``alpha - 1 ~
  Gamma(2, rate 0.5)``), which is conjugate: ``alpha - 1 | x ~ Gamma(2 + n_tail,
  0.5 + sum ln(x / xmin))`` (:func:`htsr.models.powerlaw.gamma_posterior`, the
  closed form of ``htsr.bayes.fit(..., method="conjugate")``): its mean and
  highest-density interval.

Intervals: ``alpha +- z sigma`` (Wald, ``sigma`` the scan's asymptotic standard
error) for the three MLEs, the HDI for ``bayes``; both at the grid's ``level``.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from scipy import optimize, stats

from .. import _jax
from .._dask import one_blas_thread
from .. import rmt
from ..fitting import fit_padded
from ..models import powerlaw as pl
from ..models.sampling import law_rows
from ..streams import cell_word, keys as stream_keys
from .grid import Grid

__all__ = ["run_cell", "cell_samples", "cell_keys", "replicate_esd", "spectra_rows", "fit_cell", "FIELDS",
           "gamma_hdi"]

# per (estimator, replicate): float fields, then integer ones
FIELDS = ("alpha_hat", "alpha_lo", "alpha_hi", "xmin", "D")
INT_FIELDS = ("n_tail",)
_MATRIX = {"pareto": rmt.pareto, "student_t": rmt.student_t, "gaussian": rmt.gaussian}


def gamma_hdi(shape: float, rate: float, level: float) -> tuple[float, float]:
    """Highest-density interval of ``Gamma(shape, rate)`` (shape >= 1: unimodal)."""
    g = stats.gamma(shape, scale=1.0 / rate)

    def width(q):
        return g.ppf(q + level) - g.ppf(q)

    res = optimize.minimize_scalar(width, bounds=(0.0, 1.0 - level), method="bounded",
                                   options={"xatol": 1e-10})
    return float(g.ppf(res.x)), float(g.ppf(res.x + level))


def cell_samples(grid: Grid, cell: dict) -> tuple[np.ndarray, np.ndarray]:
    """The values one cell fits: (reps, P) rows sorted ascending, positive values first,
    and their counts (draws and spectra; a pure function of ``(grid, cell)``)."""
    keys = cell_keys(grid, cell)
    if grid.generator == "power_law":
        with _jax.x64():
            x = np.asarray(law_rows(keys, (cell["alpha"], 1.0, np.inf), n=int(cell["n"]),
                                    discrete=False, bounded=False), dtype=np.float64)
        return x, np.full(grid.reps, x.shape[1], dtype=np.int64)
    workers = min(grid.reps, os.cpu_count() or 1)
    if workers == 1:
        return spectra_rows([replicate_esd(grid, cell, k) for k in keys])
    with one_blas_thread(), ThreadPoolExecutor(max_workers=workers) as pool:  # one BLAS thread each
        return spectra_rows(list(pool.map(lambda k: replicate_esd(grid, cell, k), keys)))


def cell_keys(grid: Grid, cell: dict):
    """The cell's replicate keys, from its ``calibration`` stream (:mod:`htsr.streams`)."""
    return stream_keys(grid.seed, "calibration", 0, grid.reps, cell_word(grid.generator, cell))


def replicate_esd(grid: Grid, cell: dict, key) -> np.ndarray:
    """One replicate of a matrix cell: its matrix drawn with ``key`` and its ESD (ascending).

    Only this matrix is in memory while it runs: a study's worker threads run these
    one replicate at a time (:func:`htsr.calibration.study.calibrate`)."""
    gen = _MATRIX[grid.generator]
    args = () if grid.param is None else (cell[grid.param],)
    return rmt.esd(gen(int(cell["M"]), float(cell["Q"]), *args, seed=key))


def spectra_rows(evs) -> tuple[np.ndarray, np.ndarray]:
    """A cell's ESDs (one ascending row per replicate) as :func:`cell_samples`' rows and counts."""
    ev = np.stack(evs)
    # eigenvalues are ascending; a zero eigenvalue (Q = 1 at machine precision) is not a
    # value of the power law: fit the positive ones, padded at the end with the row's maximum
    pos = ev > 0
    counts = pos.sum(axis=1)
    x = np.sort(np.where(pos, ev, np.inf), axis=1)
    x = np.where(np.isfinite(x), x, ev[:, -1:])
    return x, counts


def _wald(alpha, sigma, z):
    return alpha - z * sigma, alpha + z * sigma


def run_cell(grid: Grid, cell: dict) -> dict:
    """Fit every estimator on every replicate of one cell: :func:`fit_cell` of :func:`cell_samples`.

    Returns
    -------
    dict
        ``{field: (n_estimators, reps) array}`` for :data:`FIELDS` and ``n_tail``,
        and ``n_values``: ``(reps,)`` the number of values fitted per replicate.
    """
    x, counts = cell_samples(grid, cell)
    return fit_cell(grid, x, counts)


def fit_cell(grid: Grid, x: np.ndarray, counts: np.ndarray) -> dict:
    """Every estimator of ``grid`` on the rows ``x`` (counts ``counts``) of one cell: :func:`run_cell`'s result."""
    E, R = len(grid.estimators), grid.reps
    out = {f: np.full((E, R), np.nan) for f in FIELDS}
    out["n_tail"] = np.zeros((E, R), dtype=np.int64)
    out["n_values"] = counts.astype(np.int64)
    z = float(stats.norm.ppf(0.5 + grid.level / 2))
    fits = {}

    def clauset():
        if "clauset" not in fits:
            fits["clauset"] = fit_padded(x, counts, min_tail=grid.min_tail)
        return fits["clauset"]

    for i, est in enumerate(grid.estimators):
        if est == "bayes":
            c = clauset()
            prior = pl.PRIOR
            for r in range(R):
                if not np.isfinite(c.xmin[r]):
                    continue
                row = x[r, : counts[r]]
                tail = row[row >= c.xmin[r]]
                a, b = pl.gamma_posterior(tail, float(c.xmin[r]), prior.shape, prior.rate)
                lo, hi = gamma_hdi(a, b, grid.level)
                out["alpha_hat"][i, r] = prior.loc + a / b
                out["alpha_lo"][i, r], out["alpha_hi"][i, r] = prior.loc + lo, prior.loc + hi
                out["xmin"][i, r], out["n_tail"][i, r] = c.xmin[r], tail.size
            continue
        if est == "clauset":
            f = clauset()
        elif est == "unbiased":
            f = fit_padded(x, counts, min_tail=grid.min_tail, estimator="unbiased")
        else:  # bounded
            f = fit_padded(x, counts, min_tail=grid.min_tail, method="bounded")
        out["alpha_hat"][i] = f.alpha
        out["alpha_lo"][i], out["alpha_hi"][i] = _wald(f.alpha, f.sigma, z)
        out["xmin"][i], out["D"][i] = f.xmin, f.D
        out["n_tail"][i] = f.n_tail
    return out
