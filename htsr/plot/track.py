"""Figures of training trajectories (:func:`htsr.track`): they take the trajectory Dataset.

* :func:`plot_alpha_steps` -- alpha against step, one line per layer, with its interval as a band;
* :func:`plot_alpha_heatmap` -- alpha as a layer x step heat map;
* :func:`track_figures` -- both, written as PNGs.

Each function draws on an Axes (new or given) and returns it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import HtsrError

__all__ = ["plot_alpha_steps", "plot_alpha_heatmap", "track_figures"]


def _layers(ds, layers):
    have = [str(x) for x in ds["layer"].values]
    if layers is None:
        return have
    layers = [layers] if isinstance(layers, str) else list(layers)
    missing = [x for x in layers if x not in have]
    if missing:
        raise HtsrError(f"layers {missing} are not in this trajectory (it has {len(have)}: {', '.join(have[:5])}"
                        f"{', ...' if len(have) > 5 else ''})")
    return layers


def plot_alpha_steps(ds, *, layers=None, band: bool = True, legend: bool | None = None, ax=None):
    """Alpha against step for each layer, with its interval (``alpha_lo``..``alpha_hi``) as a band.

    Parameters
    ----------
    ds : xarray.Dataset
        A trajectory (:func:`htsr.track`).
    layers : str or sequence of str, optional
        Layers to draw (default all).
    band : bool
        Shade each layer's interval where it has one.
    legend : bool, optional
        Default: a legend when there are at most 12 layers.
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(6.5, 4.2))
    names = _layers(ds, layers)
    steps = ds["step"].values
    colors = plt.get_cmap("viridis")(np.linspace(0, 0.95, max(len(names), 1)))
    for name, color in zip(names, colors):
        sel = ds.sel(layer=name)
        a = sel["alpha"].values
        ax.plot(steps, a, marker="o", ms=3, lw=1.2, color=color, label=name)
        lo, hi = sel["alpha_lo"].values, sel["alpha_hi"].values
        if band and np.isfinite(lo).any():
            ax.fill_between(steps, lo, hi, color=color, alpha=0.2, lw=0)
    ax.set_xlabel(ds.attrs.get("step_unit", "step"))
    ax.set_ylabel(r"$\hat\alpha$")
    level = _level(ds)
    ax.set_title(r"$\hat\alpha$ by layer" + (f" ({level:g}% intervals)" if band and level else ""))
    if legend or (legend is None and len(names) <= 12):
        ax.legend(fontsize=7, frameon=False, ncol=1 + len(names) // 7)
    return ax


def _level(ds) -> float | None:
    import json

    try:
        options = json.loads(ds.attrs.get("report_options", "{}"))
    except ValueError:
        return None
    return 100 * options["level"] if options.get("intervals") and "level" in options else None


def plot_alpha_heatmap(ds, *, layers=None, vmin: float | None = None, vmax: float | None = None, ax=None):
    """Alpha as a heat map: layers (in the order the network runs them) by step; blank where absent."""
    import matplotlib.pyplot as plt

    names = _layers(ds, layers)
    if ax is None:
        _, ax = plt.subplots(figsize=(6.5, max(2.5, 0.22 * len(names) + 1.2)))
    a = ds["alpha"].sel(layer=names).transpose("layer", "step").values
    steps = ds["step"].values
    im = ax.imshow(np.ma.masked_invalid(a), aspect="auto", interpolation="nearest", cmap="viridis",
                   vmin=vmin, vmax=vmax)
    ax.figure.colorbar(im, ax=ax, label=r"$\hat\alpha$")
    ax.set_yticks(range(len(names)), names, fontsize=6 if len(names) > 20 else 8)
    ticks = np.unique(np.linspace(0, len(steps) - 1, min(len(steps), 10)).round().astype(int))
    ax.set_xticks(ticks, [str(steps[t]) for t in ticks])
    ax.set_xlabel(ds.attrs.get("step_unit", "step"))
    ax.set_title(r"$\hat\alpha$ by layer and " + ds.attrs.get("step_unit", "step"))
    return ax


def track_figures(ds, out_dir, *, dpi: int = 120) -> dict:
    """Write ``alpha_steps.png`` and ``alpha_heatmap.png`` into ``out_dir``; name -> path."""
    import matplotlib.pyplot as plt

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, draw in (("alpha_steps", plot_alpha_steps), ("alpha_heatmap", plot_alpha_heatmap)):
        ax = draw(ds)
        path = out / f"{name}.png"
        try:
            ax.figure.savefig(path, dpi=dpi, bbox_inches="tight")
        except OSError as exc:
            raise HtsrError(f"cannot write {path}: {exc}") from None
        finally:
            plt.close(ax.figure)
        paths[name] = path
    return paths
