"""Figures of Bayesian fits: the posterior of alpha, and the CCDF with posterior-predictive bands."""

from __future__ import annotations

import numpy as np

__all__ = ["plot_alpha_posterior", "plot_ccdf_bands"]


def _ax(ax):
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots()
    return ax


def plot_alpha_posterior(fit, *, ax=None, bins: int = 60, hdi_prob: float = 0.94):
    """Histogram of the posterior draws of alpha with its HDI shaded; returns the Axes.

    ``fit``: a :class:`htsr.bayes.BayesFit`.
    """
    ax = _ax(ax)
    draws = np.asarray(fit.idata.posterior["alpha"]).reshape(-1)
    ax.hist(draws, bins=bins, density=True, color="C0", alpha=0.6, label="posterior draws")
    lo, hi = fit.hdi("alpha", hdi_prob)
    ax.axvspan(lo, hi, color="C0", alpha=0.15, label=f"{100 * hdi_prob:g}% HDI [{lo:.3g}, {hi:.3g}]")
    ax.axvline(draws.mean(), color="k", lw=1, label=f"mean {draws.mean():.3g}")
    ax.set_xlabel(r"$\alpha$")
    ax.set_ylabel("posterior density")
    ax.legend(frameon=False)
    return ax


def plot_ccdf_bands(fit, *, ax=None, levels=(0.5, 0.9)):
    """Empirical CCDF of the observed tail and bands of the replicated tails' CCDFs; returns the Axes.

    The bands are pointwise quantiles, over posterior-predictive replicates, of the
    replicate's empirical CCDF at the observed values (the ``posterior_predictive`` group).
    """
    ax = _ax(ax)
    pp = fit.idata.posterior_predictive
    name = "x" if "x" in pp else "x_tail"
    reps = np.asarray(pp[name]).reshape(-1, pp[name].shape[-1])
    if fit.xmin is None:  # the tail above the posterior median xmin
        xmin = float(np.median(np.asarray(fit.idata.posterior["xmin"])))
        obs = np.asarray(fit.idata.observed_data["x"])
        obs = np.sort(obs[obs >= xmin])
    else:
        obs = np.sort(np.asarray(fit.idata.observed_data["x"]))
    emp = 1.0 - np.arange(obs.size) / obs.size
    grid = obs
    rep_ccdf = np.empty((reps.shape[0], grid.size))
    for s, r in enumerate(reps):
        r = np.sort(r[np.isfinite(r)])
        rep_ccdf[s] = 1.0 - np.searchsorted(r, grid, side="left") / max(r.size, 1)
    for k, level in enumerate(sorted(levels, reverse=True)):
        lo, hi = np.nanquantile(rep_ccdf, [(1 - level) / 2, (1 + level) / 2], axis=0)
        ax.fill_between(grid, np.maximum(lo, 1e-300), hi, step="post", color="C1", alpha=0.2 + 0.15 * k,
                        label=f"{100 * level:g}% posterior predictive")
    ax.step(grid, emp, where="post", color="k", lw=1.2, label="observed tail")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("x")
    ax.set_ylabel(r"$P(X \geq x)$")
    ax.legend(frameon=False)
    return ax
