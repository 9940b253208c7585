"""Random-matrix figures: MP fits, heavy-tailed ESDs, fitted alpha versus mu.

Each function draws on an Axes (a new one if ``ax`` is None) and returns it;
none calls ``plt.show()``.  The gallery of ``htsr rmt OUTDIR`` is
:func:`plot_gaussian_esds`, :func:`plot_heavy_tailed_esds` and
:func:`plot_alpha_vs_mu`.
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
    "alpha_vs_mu",
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


def alpha_vs_mu(mus: Sequence[float], *, M: int = 300, Q: float = 2.0, n_seeds: int = 3, seed=0):
    """Fitted power-law exponents of Pareto-matrix ESDs: array ``(len(mus), n_seeds)``.

    Matrix ``j`` of ``mu_i`` is ``pareto(M, Q, mu_i, seed=seed + j)``; each ESD
    is fitted with :func:`htsr.fit_many` (Clauset et al. method).  For ``mu`` of
    2 and above the fitted values depend strongly on ``M`` and ``Q`` (finite-size
    effects): this is the measurement a calibration study repeats on a grid.
    """
    from ..fitting import fit_many
    from ..rmt import esd, pareto

    # method="auto": for mu < 1 the Gram route would lose the smallest eigenvalues
    samples = [esd(pareto(M, Q, mu, seed=seed + j), method="auto") for mu in mus for j in range(n_seeds)]
    fits = fit_many(samples)
    return np.array([f.alpha for f in fits], dtype=np.float64).reshape(len(mus), n_seeds)


def plot_alpha_vs_mu(mus: Sequence[float] = (0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0, 5.0), *,
                     M: int = 300, Q: float = 2.0, n_seeds: int = 3, seed=0, alphas=None, ax=None):
    """Fitted ESD exponent alpha versus tail index mu, with the line ``1 + mu/2``.

    Points are the mean over ``n_seeds`` matrices, bars one standard deviation
    (:func:`alpha_vs_mu`; or pass precomputed ``alphas`` of shape
    ``(len(mus), n_seeds)``).  The line is the asymptotic relation, solid where it
    holds (``mu < 4``), dashed beyond; dotted verticals mark the class
    boundaries ``mu = 2`` and ``mu = 4``.
    """
    mus = np.asarray(mus, dtype=np.float64)
    a = alpha_vs_mu(mus, M=M, Q=Q, n_seeds=n_seeds, seed=seed) if alphas is None else np.asarray(alphas)
    ax = _axes(ax)
    ax.errorbar(mus, a.mean(axis=1), yerr=a.std(axis=1), fmt="o", capsize=3, label=f"fitted (M={M}, Q={Q:g})")
    x = np.linspace(0, max(4.0, mus.max()), 200)
    ax.plot(x[x <= 4], 1 + x[x <= 4] / 2, "k-", lw=1, label=r"$1 + \mu/2$")
    ax.plot(x[x >= 4], 1 + x[x >= 4] / 2, "k--", lw=1)
    for b in (2.0, 4.0):
        ax.axvline(b, color="0.6", ls=":", lw=1)
    ax.set_xlabel(r"tail index $\mu$ of the entries")
    ax.set_ylabel(r"fitted ESD exponent $\alpha$")
    ax.set_title("Power-law exponent of the ESD vs tail index")
    ax.legend(fontsize=8)
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
