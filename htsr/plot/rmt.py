"""Random-matrix figures: MP fits, heavy-tailed ESDs, fitted alpha versus mu.

Each function draws on an Axes (a new one if ``ax`` is None) and returns it;
none calls ``plt.show()``.  The gallery of ``htsr rmt OUTDIR`` is
:func:`plot_gaussian_esds`, :func:`plot_heavy_tailed_esds` and
:func:`plot_alpha_vs_mu`; the last draws a study of :func:`htsr.calibrate`.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from ._ticks import tidy_log_xaxis

__all__ = [
    "plot_gaussian_esds",
    "plot_heavy_tailed_esds",
    "plot_alpha_vs_mu",
    "plot_esd_mp",
]


def _axes(ax, figsize=(5.5, 4)):
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=figsize)
    return ax


def _colors(n):
    import matplotlib.pyplot as plt

    cycle = plt.rcParams["axes.prop_cycle"].by_key().get("color", ["C0", "C1", "C2"])
    return [cycle[i % len(cycle)] for i in range(n)]


def plot_gaussian_esds(Qs: Sequence[float] = (1.0, 2.0, 4.0), *, M: int = 500, sigma: float = 1.0,
                       seed=0, bins: int = 60, ax=None):
    """ESDs of Gaussian ``N x M`` matrices for several ``Q``, with the MP density overlaid.

    Histograms are density-normalised; the curves are :func:`htsr.rmt.mp_pdf`
    with ``sigma2 = sigma**2`` (no fit: the law is exact in the limit).
    """
    from ..rmt import esd, gaussian, mp_edges, mp_pdf

    ax = _axes(ax)
    top = 0.0
    for Q, color in zip(Qs, _colors(len(Qs))):
        ev = esd(gaussian(M, Q, sigma=sigma, seed=seed))
        ax.hist(ev, bins=bins, density=True, histtype="stepfilled", alpha=0.3, color=color)
        lo, hi = mp_edges(Q, sigma**2)
        x = np.linspace(max(lo, 1e-3 * hi), hi, 400)
        y = mp_pdf(x, Q, sigma**2)
        ax.plot(x, y, color=color, lw=1.8, label=f"Q = {Q:g}")
        top = max(top, float(y[x >= lo + 0.05 * (hi - lo)].max()))
    ax.set_ylim(0, 1.4 * top)  # Q = 1 diverges at 0: clip its spike
    ax.set_xlabel(r"eigenvalue $\lambda$ of $W^TW/N$")
    ax.set_ylabel("density")
    ax.set_title(f"Gaussian ESDs (M = {M}) and the Marchenko-Pastur law")
    ax.legend(title="MP density")
    return ax


def plot_heavy_tailed_esds(mus: Sequence[float] = (1.0, 2.5, 5.0), *, M: int = 500, Q: float = 2.0,
                           seed=0, bins: int = 60, ax=None):
    """Log-log histograms of ESDs of symmetric-Pareto matrices, one per tail index ``mu``.

    Bins are logarithmic; each curve is a density.  A dotted guide of slope
    ``-(1 + mu/2)`` (the asymptotic exponent for ``mu < 4``) is drawn through
    the upper part of each ESD.
    """
    from ..rmt import esd, esd_exponent, pareto, universality_class

    ax = _axes(ax)
    for mu, color in zip(mus, _colors(len(mus))):
        ev = esd(pareto(M, Q, mu, seed=seed), method="auto")  # SVD where the tail is extreme
        ev = ev[ev > 0]
        edges = np.geomspace(ev.min(), ev.max() * (1 + 1e-12), bins + 1)
        h, _ = np.histogram(ev, bins=edges, density=True)
        mid = np.sqrt(edges[1:] * edges[:-1])
        keep = h > 0
        label = rf"$\mu$ = {mu:g} ({universality_class(mu).key})"
        ax.loglog(mid[keep], h[keep], "o-", ms=3, lw=1, color=color, label=label)
        a = esd_exponent(mu)
        if np.isfinite(a):
            x0 = np.quantile(ev, 0.8)
            y0 = np.interp(np.log(x0), np.log(mid[keep]), np.log(h[keep]))
            x = np.geomspace(x0, ev.max(), 20)
            ax.loglog(x, np.exp(y0) * (x / x0) ** (-a), ":", color=color, lw=1.5)
    ax.set_xlabel(r"eigenvalue $\lambda$")
    ax.set_ylabel("density")
    ax.set_title(f"Heavy-tailed ESDs (Pareto entries, M = {M}, Q = {Q:g})")
    ax.legend(fontsize=8)
    return tidy_log_xaxis(ax)


def plot_alpha_vs_mu(study, *, M=None, Q=None, estimator: str = "clauset", ax=None):
    """Fitted ESD exponent alpha versus the entries' tail index mu, drawn from a calibration study.

    ``study`` is the Dataset of ``htsr.calibrate("pareto", mu=..., M=..., Q=...)`` (or
    ``"student_t"``): the figure draws it and computes nothing.  Points are the mean of
    ``estimator``'s fitted alpha over the replicates, bars one standard deviation
    (``alpha_mean``, ``alpha_sd``), with the line ``1 + mu/2`` and the very heavy-tailed
    class shaded, as :func:`htsr.plot.calibration.plot_alpha_vs_mu` draws them; the
    line goes on dashed beyond the class boundary ``mu = 4`` (dotted), where it no
    longer holds.  ``M`` and ``Q`` pick the size when the study has several (the
    nearest value).
    """
    from .calibration import plot_alpha_vs_mu as draw

    ax = draw(study, M=M, Q=Q, estimators=[estimator], fits=(), ax=ax)
    top = float(study["mu"].max())
    if top > 4.0:
        x = np.linspace(4.0, top, 50)
        ax.plot(x, 1 + x / 2, color="red", lw=1.2, ls="--", label=r"$1 + \mu/2$ beyond its class")
    ax.axvline(4.0, color="0.6", ls=":", lw=1)
    ax.legend(fontsize=7)
    return ax


def plot_esd_mp(evals, fit, *, bins: int = 80, ax=None):
    """An ESD with its fitted MP bulk (:func:`htsr.rmt.fit_mp`) and the spike threshold."""
    from ..rmt import mp_pdf

    ev = np.asarray(evals, dtype=np.float64)
    ax = _axes(ax)
    ax.hist(ev, bins=bins, density=True, alpha=0.4, color="0.4", label="ESD")
    x = np.linspace(max(fit.lambda_minus, 1e-3 * fit.lambda_plus), fit.lambda_plus, 400)
    ax.plot(x, mp_pdf(x, fit.Q, fit.sigma2), "C3", lw=1.8, label=rf"MP, $\sigma^2$ = {fit.sigma2:.3g}")
    ax.axvline(fit.threshold, color="C0", ls="--", lw=1, label=f"TW threshold ({fit.n_spikes} above)")
    ax.set_xlabel(r"eigenvalue $\lambda$")
    ax.set_ylabel("density")
    ax.legend(fontsize=8)
    return ax
