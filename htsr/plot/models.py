"""The tail's empirical CCDF with every fitted tail model overlaid."""

from __future__ import annotations

import numpy as np

from ._ticks import tidy_log_xaxis
from .powerlaw import empirical_ccdf

__all__ = ["plot_models"]

_COLORS = ("C3", "C0", "C2", "C4", "C1", "C5", "C6", "C7")
_LINES = ("-", "--", ":", "-.", "-", "--", ":", "-.")


def _style(name: str) -> tuple[str, str]:
    """Colour and line style of a law, by its place in the registry (stable across figures)."""
    from ..models.registry import LAWS

    k = list(LAWS).index(name) if name in LAWS else len(LAWS)
    return _COLORS[k % len(_COLORS)], _LINES[k % len(_LINES)]


def _fits(source) -> list:
    from ..inference.compare import CompareAllResult, CompareResult, TailFit

    if isinstance(source, CompareResult):
        return [source.model1, source.model2]
    if isinstance(source, CompareAllResult):
        return list(source.fits.values())
    if isinstance(source, TailFit):
        return [source]
    fits = list(source)
    if not fits or not all(isinstance(f, TailFit) for f in fits):
        raise TypeError("plot_models needs a CompareResult, a CompareAllResult (from htsr.compare_all) "
                        "or TailFit objects")
    return fits


def plot_models(source, *, ax=None, points: int = 200):
    """Empirical CCDF ``P(X >= x)`` of the tail on log-log axes, with each fitted model.

    The data are drawn once per distinct value (:func:`~htsr.plot.powerlaw.empirical_ccdf`),
    with the convention of the models' ``ccdf``; discrete models are drawn at integers.

    Parameters
    ----------
    source : CompareResult, CompareAllResult (from :func:`htsr.compare_all`), TailFit or sequence of TailFit
        The fitted models (all on the same tail).
    ax : matplotlib Axes, optional
        Where to draw; a new figure by default.
    points : int
        Grid points per model curve (discrete laws are drawn at integers).

    Returns
    -------
    matplotlib.axes.Axes
        Never calls ``plt.show()``.
    """
    fits = _fits(source)
    tail = np.sort(np.asarray(fits[0].tail, dtype=np.float64))
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(5, 4))
    n = tail.size
    values, ccdf = empirical_ccdf(tail)  # one point per distinct value, P(X >= x)
    ax.loglog(values, ccdf, ".", ms=3, color="0.3", label=f"data (n_tail = {n})")
    grid = np.geomspace(tail[0], tail[-1], points)
    if fits[0].discrete:
        grid = np.unique(np.round(grid))
    for fit in fits:
        color, ls = _style(fit.name)
        y = fit.ccdf(grid)
        label = fit.name.replace("_", " ") + (" (boundary)" if fit.at_boundary else "")
        ax.loglog(grid, y, ls, color=color, lw=1.6, label=label)
    ax.set_xlabel("x")
    ax.set_ylabel("P(X ≥ x | X ≥ xmin)")
    ax.set_ylim(bottom=0.5 / n)
    ax.legend(frameon=False, fontsize=8)
    return tidy_log_xaxis(ax)
