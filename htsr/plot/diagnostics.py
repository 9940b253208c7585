"""Three figures the ``powerlaw`` and poweRlaw users know: the empirical CDF with a fitted law,
the bootstrap diagnostics (running mean and sd of each parameter by replicate, as poweRlaw's
``plot(bootstrap(...))``), and the pointwise log-likelihood ratio of a comparison (Clauset,
Shalizi & Newman 2009, section 5 and Fig. 6).  Each returns its Axes; none calls ``plt.show()``.
"""

from __future__ import annotations

import numpy as np

from ._ticks import tidy_log_xaxis

__all__ = ["empirical_cdf", "plot_bootstrap", "plot_cdf", "plot_llr", "pointwise_llr", "running_moments"]


def empirical_cdf(x):
    """``(values, P(X <= value))``: one point per distinct value of ``x``."""
    x = np.sort(np.asarray(x, dtype=np.float64).ravel())
    values, counts = np.unique(x, return_counts=True)
    return values, np.cumsum(counts) / x.size


def _axes(ax, **kw):
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(**kw)
    return ax


def plot_cdf(source, *, ax=None, points: int = 200):
    """Empirical CDF ``P(X <= x)`` on a log x axis; with a fitted law's CDF when given a fit.

    Parameters
    ----------
    source : array_like, PowerLawFit (:func:`htsr.fit`) or TailFit (:func:`htsr.fit_model`)
        Data (its CDF alone) or a fit: then the tail ``x >= xmin`` and the law's
        ``P(X <= x | X >= xmin)``, drawn at integers for a discrete fit.
    ax : matplotlib Axes, optional
    points : int
        Grid points of the fitted curve.

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = _axes(ax, figsize=(5, 4))
    fitted = hasattr(source, "cdf") and hasattr(source, "tail")
    data = source.tail if fitted else np.asarray(source, dtype=np.float64).ravel()
    values, cdf = empirical_cdf(data)
    ax.semilogx(values, cdf, ".", ms=3, color="0.3", label=f"data (n = {data.size})")
    if fitted:
        grid = np.geomspace(values[0], values[-1], points)
        if source.discrete:
            grid = np.unique(np.round(grid))
        name = getattr(source, "name", "power_law").replace("_", " ")
        ax.semilogx(grid, source.cdf(grid), "-", color="C3", lw=1.8, label=f"{name} fit")
        ax.set_ylabel("P(X ≤ x | X ≥ xmin)")
    else:
        ax.set_ylabel("P(X ≤ x)")
    ax.set_xlabel("x")
    ax.set_ylim(0, 1.02)
    ax.legend(frameon=False, fontsize=8)
    return tidy_log_xaxis(ax)


def running_moments(draws):
    """Running mean and sd (ddof 1) of ``draws`` by replicate, NaN draws skipped: ``(mean, sd)``."""
    d = np.asarray(draws, dtype=np.float64)
    ok = np.isfinite(d)
    n = np.cumsum(ok)
    s1 = np.cumsum(np.where(ok, d, 0.0))
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = s1 / n
        s2 = np.cumsum(np.where(ok, d * d, 0.0))
        var = (s2 - n * mean**2) / (n - 1)
    return mean, np.sqrt(np.where(n > 1, np.maximum(var, 0.0), np.nan))


def plot_bootstrap(result, *, params=None, axes=None):
    """poweRlaw's bootstrap diagnostics: running mean (top) and sd (bottom) of each parameter.

    Parameters
    ----------
    result : BootstrapResult (:func:`htsr.bootstrap`)
        Its ``draws`` by replicate, in replicate order.
    params : sequence of str, optional
        Which parameters (default: every one in ``result.draws``).
    axes : (2, k) array of Axes, optional

    Returns
    -------
    numpy.ndarray of Axes, shape (2, k)
        Row 0 the running means, row 1 the running standard deviations.
    """
    params = tuple(result.draws) if params is None else tuple(params)
    missing = [p for p in params if p not in result.draws]
    if missing:
        raise KeyError(f"no bootstrap draws of {missing}; the result has {tuple(result.draws)}")
    if axes is None:
        import matplotlib.pyplot as plt

        _, axes = plt.subplots(2, len(params), figsize=(3.2 * len(params), 4.6), squeeze=False, sharex=True)
    axes = np.asarray(axes).reshape(2, len(params))
    for k, name in enumerate(params):
        mean, sd = running_moments(result.draws[name])
        r = np.arange(1, mean.size + 1)
        axes[0, k].plot(r, mean, color="C0", lw=1.2)
        axes[1, k].plot(r, sd, color="C1", lw=1.2)
        axes[0, k].set_title(name)
        axes[1, k].set_xlabel("replicate")
    axes[0, 0].set_ylabel("running mean")
    axes[1, 0].set_ylabel("running sd")
    return axes


def pointwise_llr(result):
    """``(x, l1(x) - l2(x))`` of a :class:`~htsr.inference.CompareResult`: each tail point's
    log-likelihood ratio at the two MLEs (their sum is ``R``)."""
    m1, m2 = result.model1, result.model2
    return np.asarray(m1.tail, dtype=np.float64), np.asarray(m1.pointwise) - np.asarray(m2.pointwise)


def plot_llr(result, *, ax=None):
    """The pointwise log-likelihood ratio of a comparison against x (Clauset et al. 2009, Fig. 6).

    Points above 0 favour ``model1``; the title gives ``R``, the normalised ratio and ``p``.

    Parameters
    ----------
    result : CompareResult (:func:`htsr.compare`)
    ax : matplotlib Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = _axes(ax, figsize=(5, 3.6))
    x, llr = pointwise_llr(result)
    ax.semilogx(x, llr, ".", ms=3, color="C0")
    ax.axhline(0.0, color="0.4", lw=0.8)
    one, two = (m.name.replace("_", " ") for m in (result.model1, result.model2))
    ax.set_xlabel("x")
    ax.set_ylabel(f"log p({one}) - log p({two})")
    ax.set_title(f"R = {result.R:.3g}, normalised {result.normalized_R:.3g}, p = {result.p:.3g}", fontsize=9)
    return tidy_log_xaxis(ax)
