"""Figures of a power-law fit: log-binned PDF, CCDF, and the KS landscape D(xmin)."""

from __future__ import annotations

import numpy as np

from ..fitting.result import PowerLawFit

__all__ = ["plot_pdf", "plot_ccdf", "plot_ks_curve"]


def _axes(ax):
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(5, 4))
    return ax


def _fitted_ccdf(result: PowerLawFit, x):
    """P(X >= x) of the fitted tail law (bounded or not), scaled by the tail fraction."""
    return result.ccdf(x) * result.n_tail / result.n


def plot_ccdf(result: PowerLawFit, *, ax=None, tail_only: bool = False):
    """Empirical CCDF P(X >= x) of the data on log-log axes with the fitted power law.

    The fitted line is the tail's CCDF (of the bounded law for ``method="bounded"``)
    times the tail fraction n_tail/n, so it lies on the data above xmin.
    """
    ax = _axes(ax)
    x = result.tail if tail_only else result.data
    n = len(x)
    ccdf = 1.0 - np.arange(n) / n  # P(X >= x_i) for sorted x (first of ties is exact)
    ax.loglog(x, ccdf, ".", ms=3, color="0.3", label="data")
    grid = np.geomspace(result.xmin, result.xmax, 200)
    fitted = _fitted_ccdf(result, grid)
    if tail_only:
        fitted = fitted * result.n / result.n_tail
    ax.loglog(grid, fitted, "-", color="C3", lw=2, label=f"power law, α = {result.alpha:.3f}")
    ax.axvline(result.xmin, color="C0", ls="--", lw=1, label=f"xmin = {result.xmin:.4g}")
    ax.set_xlabel("x")
    ax.set_ylabel("P(X ≥ x)")
    ax.legend(frameon=False, fontsize=8)
    return ax


def plot_pdf(result: PowerLawFit, *, ax=None, bins_per_decade: int = 10):
    """Log-binned empirical density of the data with the fitted power-law density.

    Bins are logarithmic (``bins_per_decade`` per factor of ten); the density of
    each bin is its count / (n * width).  The fitted line is the tail density
    times the tail fraction.
    """
    ax = _axes(ax)
    x = result.data
    lo, hi = np.log10(x[0]), np.log10(x[-1])
    nb = max(int(np.ceil((hi - lo) * bins_per_decade)), 1)
    edges = np.logspace(lo, hi, nb + 1)
    counts, edges = np.histogram(x, bins=edges)
    dens = counts / (len(x) * np.diff(edges))
    mids = np.sqrt(edges[:-1] * edges[1:])
    keep = counts > 0
    ax.loglog(mids[keep], dens[keep], "o", ms=4, color="0.3", label="data (log bins)")
    grid = np.geomspace(result.xmin, result.xmax, 200)
    # discrete: the pmf at integers is the mass per unit length
    pdf = np.exp(result.log_pdf(np.round(grid) if result.discrete else grid))
    ax.loglog(grid, pdf * result.n_tail / result.n, "-", color="C3", lw=2,
              label=f"power law, α = {result.alpha:.3f}")
    ax.axvline(result.xmin, color="C0", ls="--", lw=1, label=f"xmin = {result.xmin:.4g}")
    ax.set_xlabel("x")
    ax.set_ylabel("p(x)")
    ax.legend(frameon=False, fontsize=8)
    return ax


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
    return ax
