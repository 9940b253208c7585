"""Figures of a power-law fit: log-binned PDF, CCDF, and the KS landscape D(xmin)."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..fitting.result import PowerLawFit
from ._ticks import tidy_log_xaxis

__all__ = ["plot_pdf", "plot_ccdf", "plot_ks_curve", "log_binned_density", "empirical_ccdf", "BinnedDensity"]


class BinnedDensity(NamedTuple):
    """A log-binned empirical density (a pmf per integer, for discrete data).

    Attributes
    ----------
    edges : ndarray, shape (k + 1,)
        Bin edges.  Discrete data: half-integers, so bin ``i`` holds the integers
        ``edges[i] + 0.5, ..., edges[i + 1] - 0.5`` and its width is their number.
    counts : ndarray of int, shape (k,)
        Observations in each bin.
    density : ndarray, shape (k,)
        ``counts / (n * width)``; ``sum(density * width) == 1``.  For discrete data
        this is the mean pmf over the integers of the bin, so it is at most 1.
    centers : ndarray, shape (k,)
        Where each bin is drawn: the geometric middle of the bin (of its first and
        last integer, for discrete data, so a one-integer bin sits on its integer).
    """

    edges: np.ndarray
    counts: np.ndarray
    density: np.ndarray
    centers: np.ndarray


def log_binned_density(x, *, discrete: bool = False, bins_per_decade: int = 10) -> BinnedDensity:
    """Histogram of positive ``x`` on logarithmic bins, as a density.

    Continuous data: ``bins_per_decade`` equal bins per factor of ten from
    ``min(x)`` to ``max(x)`` (both included).  Discrete data: the same log-spaced
    edges rounded to integers and merged, so every bin holds one or more whole
    integers (small values get one integer each) and the density of a bin is
    ``count / (n * number of integers in it)``, an average pmf.
    """
    x = np.sort(np.asarray(x, dtype=np.float64).ravel())
    n = x.size
    lo, hi = x[0], x[-1]
    nb = max(int(np.ceil(np.log10(hi / lo) * bins_per_decade)), 1) if hi > lo else 1
    if discrete:
        first, last = int(np.round(lo)), int(np.round(hi))
        ints = np.unique(np.round(np.geomspace(first, last + 1, nb + 1))).astype(np.int64)
        ints = np.unique(np.concatenate([[first], ints[(ints > first) & (ints < last + 1)], [last + 1]]))
        edges = ints - 0.5
        counts = np.histogram(x, bins=edges)[0]
        width = np.diff(ints).astype(np.float64)
        centers = np.sqrt(ints[:-1] * (ints[1:] - 1.0))
    else:
        edges = np.geomspace(lo, hi, nb + 1) if hi > lo else np.array([lo * (1 - 1e-9), lo * (1 + 1e-9)])
        edges[0], edges[-1] = min(edges[0], lo), max(edges[-1], hi)  # geomspace may miss by an ulp
        counts = np.histogram(x, bins=edges)[0]
        width = np.diff(edges)
        centers = np.sqrt(edges[:-1] * edges[1:])
    return BinnedDensity(edges, counts, counts / (n * width), centers)


def empirical_ccdf(x):
    """Distinct values of ``x`` and the empirical ``P(X >= value)`` at each.

    One point per distinct value (tied observations do not stand in a column),
    with the convention of Clauset et al. (2009) and the fitted laws' ``ccdf``:
    ``P(X >= x_(1)) = 1`` at the smallest value.
    """
    x = np.sort(np.asarray(x, dtype=np.float64).ravel())
    values, first = np.unique(x, return_index=True)
    return values, 1.0 - first / x.size


def _axes(ax):
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(5, 4))
    return ax


def _grid(result: PowerLawFit, points: int = 200):
    """Where to evaluate the fitted law: log-spaced on [xmin, xmax], at integers if discrete.

    A discrete law's ``ccdf`` between integers is an interpolation, not ``P(X >= x)``
    of the integer variable, so it is only drawn at integers.
    """
    grid = np.geomspace(result.xmin, result.xmax, points)
    return np.unique(np.round(grid)) if result.discrete else grid


def _fitted_ccdf(result: PowerLawFit, x):
    """P(X >= x) of the fitted tail law (bounded or not), scaled by the tail fraction."""
    return result.ccdf(x) * result.n_tail / result.n


def plot_ccdf(result: PowerLawFit, *, ax=None, tail_only: bool = False):
    """Empirical CCDF P(X >= x) of the data on log-log axes with the fitted power law.

    The fitted line is the tail's CCDF (of the bounded law for ``method="bounded"``)
    times the tail fraction n_tail/n, so it lies on the data above xmin.
    """
    ax = _axes(ax)
    values, ccdf = empirical_ccdf(result.tail if tail_only else result.data)
    ax.loglog(values, ccdf, ".", ms=3, color="0.3", label="data")
    grid = _grid(result)
    fitted = _fitted_ccdf(result, grid)
    if tail_only:
        fitted = fitted * result.n / result.n_tail
    ax.loglog(grid, fitted, "-", color="C3", lw=2, label=f"power law, α = {result.alpha:.3f}")
    ax.axvline(result.xmin, color="C0", ls="--", lw=1, label=f"xmin = {result.xmin:.4g}")
    ax.set_xlabel("x")
    ax.set_ylabel("P(X ≥ x)")
    ax.legend(frameon=False, fontsize=8)
    return tidy_log_xaxis(ax)


def plot_pdf(result: PowerLawFit, *, ax=None, bins_per_decade: int = 10):
    """Log-binned empirical density of the data with the fitted power-law density.

    Bins are logarithmic (``bins_per_decade`` per factor of ten, see
    :func:`log_binned_density`); the density of each bin is its count /
    (n * width).  Discrete data are binned on integer boundaries, so the points
    are a probability mass function (at most 1), and the fitted pmf is drawn at
    the integers.  The fitted line is the tail density times the tail fraction.
    """
    ax = _axes(ax)
    binned = log_binned_density(result.data, discrete=result.discrete, bins_per_decade=bins_per_decade)
    keep = binned.counts > 0
    ax.loglog(binned.centers[keep], binned.density[keep], "o", ms=4, color="0.3", label="data (log bins)")
    grid = _grid(result)
    pdf = np.exp(result.log_pdf(grid))
    ax.loglog(grid, pdf * result.n_tail / result.n, "-", color="C3", lw=2,
              label=f"power law, α = {result.alpha:.3f}")
    ax.axvline(result.xmin, color="C0", ls="--", lw=1, label=f"xmin = {result.xmin:.4g}")
    ax.set_xlabel("x")
    ax.set_ylabel("p(x)")
    ax.legend(frameon=False, fontsize=8)
    return tidy_log_xaxis(ax)


def plot_ks_curve(result: PowerLawFit, *, ax=None, curve=None):
    """D versus candidate xmin (the KS landscape), with the selected xmin marked.

    ``curve`` (a :class:`~htsr.fitting.result.KSCurve`) may be passed to avoid
    recomputing it; by default :meth:`PowerLawFit.ks_curve` is called.
    """
    ax = _axes(ax)
    curve = result.ks_curve() if curve is None else curve
    ax.semilogx(curve.xmin, curve.D, "-", color="0.3", lw=1)
    ax.semilogx([result.xmin], [result.D], "o", color="C3", label=f"xmin = {result.xmin:.4g}, D = {result.D:.3g}")
    ax.set_xlabel("candidate xmin")
    ax.set_ylabel("KS distance D")
    ax.legend(frameon=False, fontsize=8)
    return tidy_log_xaxis(ax)
