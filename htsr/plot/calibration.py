"""Figures of calibration studies (:func:`htsr.calibrate`): the seeds' two plots and size scans.

* :func:`plot_fitted_vs_true` -- power-law samples: mean fitted alpha (+- 1 sd over
  replicates) against the true alpha, one series per estimator, and the identity;
* :func:`plot_alpha_vs_mu` -- heavy-tailed matrices at one (M, Q): mean fitted alpha
  against mu, the theory's line ``1 + mu/2`` (mu < 4) and least-squares lines on
  ``mu < 2`` and ``2 < mu < 4`` (:func:`htsr.calibration.line_fit`);
* :func:`plot_alpha_vs_size` -- alpha against Q or M at fixed mu;
* :func:`study_figures` -- every figure a study supports, written as PNGs.

Each function draws on an Axes (new or given) and returns it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..calibration import line_fit
from ..errors import HtsrError

__all__ = ["plot_fitted_vs_true", "plot_alpha_vs_mu", "plot_alpha_vs_size", "study_figures"]

_MARKERS = "osD^v<>"


def _axes(ax):
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(5.5, 4.2))
    return ax


def _estimators(ds, estimators):
    have = [str(e) for e in ds["estimator"].values]
    if estimators is None:
        return have
    missing = [e for e in estimators if e not in have]
    if missing:
        raise HtsrError(f"estimators {missing} are not in this study (it has {', '.join(have)})")
    return list(estimators)


def _pick(da, dim, value):
    """Select ``dim`` at ``value`` (nearest) or the only value; returns (DataArray, value used)."""
    vals = da[dim].values
    if value is None:
        if vals.size != 1:
            raise HtsrError(f"give {dim}: the study has {dim} = {', '.join(f'{v:g}' for v in vals)}")
        return da.isel({dim: 0}), vals[0].item()
    i = int(np.argmin(np.abs(vals.astype(float) - float(value))))
    return da.isel({dim: i}), vals[i].item()


def plot_fitted_vs_true(ds, *, n=None, estimators=None, ax=None):
    """Mean fitted vs true alpha for a ``power_law`` study (the seed's N = 1000 figure)."""
    if ds.attrs.get("generator") != "power_law":
        raise HtsrError("plot_fitted_vs_true needs a power_law study (alpha and n)")
    ax = _axes(ax)
    mean, n_used = _pick(ds["alpha_mean"], "n", n)
    sd, _ = _pick(ds["alpha_sd"], "n", n)
    alpha = ds["alpha"].values
    for k, est in enumerate(_estimators(ds, estimators)):
        off = (k - 0.5 * (len(ds["estimator"]) - 1)) * 0.02
        ax.errorbar(alpha + off, mean.sel(estimator=est), yerr=sd.sel(estimator=est), fmt=_MARKERS[k % 7],
                    ms=4, capsize=2, lw=1, label=est)
    lim = [alpha.min() - 0.1, alpha.max() + 0.1]
    ax.plot(lim, lim, color="green", lw=1.2, label="perfect estimate")
    ax.set_xlabel(r"true $\alpha$")
    ax.set_ylabel(r"fitted $\alpha$ (mean $\pm$ 1 sd)")
    ax.set_title(f"power-law samples, n = {n_used}, {ds.attrs.get('reps')} replicates")
    ax.legend(fontsize=8)
    return ax


def plot_alpha_vs_mu(ds, *, M=None, Q=None, estimators=None, fits=((0.0, 2.0), (2.0, 4.0)), ax=None):
    """Mean fitted alpha vs mu at one (M, Q), with ``1 + mu/2`` and linear fits (the seed's figure)."""
    if "mu" not in ds["alpha_hat"].dims:
        raise HtsrError("plot_alpha_vs_mu needs a study over mu (pareto or student_t)")
    ax = _axes(ax)
    mean, M_used = _pick(ds["alpha_mean"], "M", M)
    mean, Q_used = _pick(mean, "Q", Q)
    sd, _ = _pick(_pick(ds["alpha_sd"], "M", M)[0], "Q", Q)
    mu = ds["mu"].values
    for k, est in enumerate(_estimators(ds, estimators)):
        ax.errorbar(mu, mean.sel(estimator=est), yerr=sd.sel(estimator=est), fmt=_MARKERS[k % 7], ms=4,
                    capsize=2, lw=1, label=est)
        for lo, hi in fits or ():
            if np.sum((mu > lo) & (mu < hi)) < 2:
                continue
            lf = line_fit(ds, lo, hi, estimator=est, M=M_used, Q=Q_used)
            xs = np.array([max(lo, mu.min()), min(hi, mu.max())])
            ax.plot(xs, lf.intercept + lf.slope * xs, lw=1, ls=":", color=ax.lines[-1].get_color(),
                    label=f"{est} fit on {lo:g}<mu<{hi:g}: {lf.intercept:.2f} + {lf.slope:.2f} mu")
    xs = np.linspace(max(mu.min(), 1e-3), min(mu.max(), 4.0), 50)
    ax.plot(xs, 1 + xs / 2, color="red", lw=1.2, label=r"theory $1 + \mu/2$")
    ax.axvspan(0, 2, color="0.93", zorder=0, label="very heavy-tailed class (mu < 2)")
    ax.set_xlim(mu.min() - 0.15, mu.max() + 0.15)
    ax.set_xlabel(r"tail index of the entries $\mu$")
    ax.set_ylabel(r"fitted ESD exponent $\alpha$ (mean $\pm$ 1 sd)")
    ax.set_title(f"{ds.attrs.get('generator')} matrices, M = {M_used}, Q = {Q_used:g}")
    ax.legend(fontsize=7)
    return ax


def plot_alpha_vs_size(ds, dim: str = "Q", *, mu=None, estimator: str = "clauset", ax=None):
    """Mean fitted alpha vs ``Q`` (one line per M) or vs ``M`` (one line per Q) at fixed mu."""
    if dim not in ("Q", "M"):
        raise HtsrError(f"dim must be 'Q' or 'M', got {dim!r}")
    if "M" not in ds["alpha_hat"].dims:
        raise HtsrError("plot_alpha_vs_size needs a matrix study (M and Q)")
    other = "M" if dim == "Q" else "Q"
    ax = _axes(ax)
    (est,) = _estimators(ds, [estimator])
    mean = ds["alpha_mean"].sel(estimator=est)
    sd = ds["alpha_sd"].sel(estimator=est)
    title = f"{ds.attrs.get('generator')} matrices"
    if "mu" in mean.dims:
        mean, mu_used = _pick(mean, "mu", mu)
        sd, _ = _pick(sd, "mu", mu)
        title += f", mu = {mu_used:g}"
        if mu_used < 4:
            ax.axhline(1 + mu_used / 2, color="red", lw=1, label=r"$1 + \mu/2$")
    for k, v in enumerate(ds[other].values):
        ax.errorbar(ds[dim].values, mean.sel({other: v}), yerr=sd.sel({other: v}), fmt=_MARKERS[k % 7] + "-",
                    ms=4, capsize=2, lw=1, label=f"{other} = {v:g}")
    ax.set_xscale("log", base=2)
    ax.set_xlabel(dim)
    ax.set_ylabel(rf"fitted $\alpha$ ({est}, mean $\pm$ 1 sd)")
    ax.set_title(title)
    ax.legend(fontsize=8)
    return ax


def study_figures(ds, out) -> list[Path]:
    """Write every figure the study supports into the folder ``out``; returns the paths."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written = []

    def save(ax, name):
        path = out / name
        ax.figure.tight_layout()
        ax.figure.savefig(path, dpi=120)
        plt.close(ax.figure)
        written.append(path)

    if ds.attrs.get("generator") == "power_law":
        for n in ds["n"].values:
            save(plot_fitted_vs_true(ds, n=n), f"fitted_vs_true_n{n}.png")
        return written
    dims = ds["alpha_hat"].dims
    if "mu" in dims:
        for M in ds["M"].values:
            for Q in ds["Q"].values:
                save(plot_alpha_vs_mu(ds, M=M, Q=Q), f"alpha_vs_mu_M{M}_Q{Q:g}.png")
    # size scans at one mu per heavy-tailed class (the study's values nearest 1 and 3)
    mus = ([None] if "mu" not in dims else
           sorted({ds["mu"].values[np.argmin(np.abs(ds["mu"].values - m))].item() for m in (1.0, 3.0)}))
    for mu in mus:
        tag = "" if mu is None else f"_mu{mu:g}"
        if ds["Q"].size > 1:
            save(plot_alpha_vs_size(ds, "Q", mu=mu), f"alpha_vs_Q{tag}.png")
        if ds["M"].size > 1:
            save(plot_alpha_vs_size(ds, "M", mu=mu), f"alpha_vs_M{tag}.png")
    return written
