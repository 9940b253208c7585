"""Per-layer figure files of a report: ``write_layer_figures(rep, folder)`` (``htsr report --figures DIR``).

For each layer with a spectrum, up to four figures, each written as SVG (text as
``<text>``, sharp at any zoom, searchable) and as PNG (150 dpi):

``esd``
    The ESD as an empirical CCDF on log-log axes with the fitted power law and its
    xmin, and the bounded power law and the truncated power law where the report
    fitted them (``bounded=True``, ``tpl=True``); each line is the law's own ``ccdf``
    (:mod:`htsr.models.registry`) times its tail fraction.
``ks``
    The KS distance D of the power-law fit against the candidate xmin
    (:meth:`htsr.PowerLawFit.ks_curve`), the chosen xmin marked.
``mp``
    The ESD as a histogram with the Marchenko-Pastur bulk fitted by
    :func:`htsr.rmt.fit_mp` (the fit behind ``num_spikes`` and ``mp_softrank``) and
    its Tracy-Widom spike threshold; eigenvalues beyond the axis are counted under it.
``randomized``
    Only when the report holds the layer's randomized ESD (``rand_evals``): the
    histograms of log10 eigenvalues of W and of its element-wise permutation, with the
    randomized bulk's edge.

File names are ``<k>-<name>-<figure>.<svg|png>``, ``k`` the layer's place in the
order the network runs its layers (zero-padded) and ``name`` the layer's name with
everything but letters, digits, ``.``, ``_`` and ``-`` replaced by ``_``: safe on
any file system, unique, and listed in running order.
"""

from __future__ import annotations

import html
import math
import os
import re
from urllib.parse import quote
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .. import _jax
from ..errors import HtsrError
from ._svg import MIN_FONT_PT, plain_log_ticks

__all__ = ["FIGURES", "LayerFigures", "write_layer_figures", "figure_stems", "plot_layer_fits", "plot_layer_ks",
           "plot_layer_mp", "plot_layer_randomized", "figure_links", "figure_files_html"]

#: The figures of a layer, in the order they are written and linked.
FIGURES = ("esd", "ks", "mp", "randomized")
#: What each figure shows, for captions and links.
TITLES = {"esd": "ESD and fits", "ks": "D against xmin", "mp": "MP bulk", "randomized": "randomized ESD"}

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_MAX_STEM = 120


@dataclass(frozen=True)
class LayerFigures:
    """The figure files written for a report.

    Attributes
    ----------
    folder : pathlib.Path
        Where they are.
    files : dict
        Layer name -> figure (one of :data:`FIGURES`) -> format (``"svg"``, ``"png"``) -> path,
        layers in running order.
    """

    folder: Path
    files: dict = field(default_factory=dict)

    def paths(self) -> list[Path]:
        """Every file written."""
        return [p for figs in self.files.values() for fmts in figs.values() for p in fmts.values()]

    def to_dict(self) -> dict:
        return dict(folder=str(self.folder), files={n: {f: {k: str(p) for k, p in fmts.items()}
                                                        for f, fmts in figs.items()} for n, figs in self.files.items()})


def _order(rep) -> list[str]:
    t = rep.layers
    return list(t.sort_values(["depth", "index"] if "depth" in t else "index")["name"])


def figure_stems(names) -> dict[str, str]:
    """Layer name -> a file-name stem ``<k>-<safe name>`` (see the module docstring).

    ``k`` is the name's position, zero-padded, so stems are unique even where two names
    sanitise alike or differ only in case (``"a b"``, ``"a_b"``, ``"A_b"``).
    """
    names = list(names)
    width = max(3, len(str(max(len(names) - 1, 0))))
    return {name: f"{k:0{width}d}-{_UNSAFE.sub('_', str(name)).strip('._-')[:_MAX_STEM] or 'layer'}"
            for k, name in enumerate(names)}


def _spectrum(rep, name):
    return next(sp for sp in rep.spectra if sp.name == name)


def _legible(ax):
    """Every label, tick and legend entry at MIN_FONT_PT or more; on log axes minor ticks at 2 and 5
    only (matplotlib builds every tick as an object: most of a figure's drawing time)."""
    from matplotlib.ticker import LogLocator

    for axis in (ax.xaxis, ax.yaxis):
        if axis.get_scale() == "log":
            axis.set_minor_locator(LogLocator(subs=(2.0, 5.0), numticks=12))
    ax.tick_params(labelsize=MIN_FONT_PT)
    for text in (ax.xaxis.label, ax.yaxis.label):
        text.set_fontsize(max(text.get_fontsize(), MIN_FONT_PT + 1))
    if ax.get_legend() is not None:
        for text in ax.get_legend().get_texts():
            text.set_fontsize(max(text.get_fontsize(), MIN_FONT_PT))
    ax.title.set_fontsize(max(ax.title.get_fontsize(), MIN_FONT_PT + 1))
    return ax


def _axes(ax):
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    return plt.figure(figsize=(6.4, 4.4)).add_subplot()


def _law_line(ax, law_name, params, xmin, xmax, frac, n_points, **style):
    """``frac * P(X >= x)`` of a fitted law on [xmin, xmax], log-spaced, where it is positive."""
    from ..models import registry

    bounded = law_name == "bounded_power_law"
    grid = np.geomspace(xmin, xmax, n_points)
    with _jax.x64():
        y = np.asarray(registry.get(law_name).ccdf(grid, params, xmin, xmax=xmax if bounded else None)) * frac
    keep = y > 0
    ax.loglog(grid[keep], y[keep], **style)


def plot_layer_fits(rep, name: str, *, ax=None):
    """A layer's ESD as an empirical CCDF with every tail law the report fitted to it."""
    from .powerlaw import empirical_ccdf, plot_ccdf

    ax = _axes(ax)
    row = rep.layers.set_index("name").loc[name]
    fit = rep.fits.get(name)
    if fit is None:
        ev = _spectrum(rep, name).evals
        ev = ev[ev > 0]
        if ev.size:
            ax.loglog(*empirical_ccdf(ev), ".", ms=3, color="0.3", label="eigenvalues")
            ax.legend(frameon=False)
        ax.set_title(f"{name}: no fit ({row['warning']})" if row["warning"] else f"{name}: no fit", wrap=True)
        ax.set_xlabel("eigenvalue x")
        ax.set_ylabel("P(λ ≥ x)")
        return _legible(ax)
    plot_ccdf(fit, ax=ax)
    top = float(fit.data[-1])
    if math.isfinite(row.get("alpha_bounded", math.nan)):
        _law_line(ax, "bounded_power_law", (row["alpha_bounded"],), row["xmin_bounded"], top,
                  int(row["n_tail_bounded"]) / fit.n, 200, color="C2", lw=1.6, ls="-.",
                  label=f"bounded at λ_max, α = {row['alpha_bounded']:.3f}")
    if math.isfinite(row.get("tpl_alpha", math.nan)):
        _law_line(ax, "power_law_cutoff", (row["tpl_alpha"], row["tpl_lambda"]), fit.xmin, top,
                  fit.n_tail / fit.n, 200, color="C1", lw=1.6, ls=":",
                  label=f"truncated, α = {row['tpl_alpha']:.3f}, λ = {row['tpl_lambda']:.3g} (p = {row['tpl_p']:.2g})")
    ax.set_xlabel("eigenvalue x")
    ax.set_ylabel("P(λ ≥ x)")
    ax.set_title(f"{name}\nα = {fit.alpha:.3f}, n_tail = {fit.n_tail}, D = {fit.D:.3f}")
    ax.legend(frameon=False, loc="lower left")
    return _legible(plain_log_ticks(ax))


def plot_layer_ks(rep, name: str, *, ax=None):
    """D of the power-law fit against every candidate xmin, the chosen one marked."""
    from .powerlaw import plot_ks_curve

    ax = _axes(ax)
    fit = rep.fits[name]
    plot_ks_curve(fit, ax=ax)
    ax.set_title(f"{name}\nKS distance against xmin ({fit.n_candidates} candidates)")
    return _legible(plain_log_ticks(ax))


def _mp_fit(sp):
    from ..rmt import fit_mp

    try:
        return fit_mp(sp.evals, sp.N / sp.M)
    except ValueError:  # too few positive eigenvalues for a bulk
        return None


def plot_layer_mp(rep, name: str, *, ax=None, bins: int = 80):
    """The ESD's histogram (linear axes) with its fitted Marchenko-Pastur bulk and spike threshold.

    The axis ends past the threshold and the bulk, not at lambda_max, so the bulk stays readable;
    the histogram is a density over all eigenvalues, so it lies on the MP density, and the ones
    beyond the axis are counted under it.
    """
    from ..rmt import mp_pdf

    ax = _axes(ax)
    sp = _spectrum(rep, name)
    ev, mp = np.asarray(sp.evals, dtype=np.float64), _mp_fit(sp)
    if mp is None:
        ax.text(0.5, 0.5, "too few positive eigenvalues for a bulk fit", ha="center", va="center",
                transform=ax.transAxes)
        return _legible(ax)
    right = max(1.6 * mp.threshold, float(np.quantile(ev, 0.98)) * 1.05)
    edges = np.linspace(0.0, right, bins + 1)
    shown = ev[ev <= right]
    heights, _, _ = ax.hist(shown, bins=edges, weights=np.full(shown.size, 1.0 / (ev.size * (edges[1] - edges[0]))),
                            color="0.55", alpha=0.6, label=f"ESD ({ev.size} eigenvalues)")
    x = np.linspace(max(mp.lambda_minus, 1e-3 * mp.lambda_plus), mp.lambda_plus, 400)
    y = mp_pdf(x, mp.Q, mp.sigma2)
    ax.plot(x, y, color="C3", lw=1.8, label=f"MP bulk, σ² = {mp.sigma2:.3g}")
    ax.axvline(mp.threshold, color="C0", ls="--", lw=1.2,
               label=f"TW threshold {mp.threshold:.3g} ({mp.n_spikes} spikes above)")
    beyond = int(np.sum(ev > right))
    ax.set_xlim(0.0, right)
    ax.set_ylim(0.0, 1.45 * max(float(np.max(heights)), float(np.max(y[y < np.inf], initial=0.0))))
    ax.ticklabel_format(axis="y", style="sci", scilimits=(-2, 3))
    ax.yaxis.get_offset_text().set_fontsize(MIN_FONT_PT)
    ax.set_xlabel("eigenvalue λ" + (f"   ({beyond} beyond the axis, the largest {ev[-1]:.4g})" if beyond else ""))
    ax.set_ylabel("density")
    ax.set_title(f"{name}\nMarchenko-Pastur fit of the bulk (Q = {mp.Q:.3g})")
    ax.legend(frameon=False, loc="upper right")
    return _legible(ax)


def plot_layer_randomized(rep, name: str, *, ax=None, bins: int = 60):
    """Histograms of log10 eigenvalues of W and of its randomized copy, with the randomized bulk's edge."""
    from ..rmt import fit_mp

    ax = _axes(ax)
    sp = _spectrum(rep, name)
    ev, every = np.asarray(sp.evals, dtype=np.float64), np.asarray(sp.rand_evals, dtype=np.float64)
    ev, rand = ev[ev > 0], every[every > 0]  # log axes: the positive ones; the MP fit, as the report's, on all
    both = np.log10(np.r_[ev, rand])
    edges = np.linspace(both.min(), both.max(), bins + 1)
    h1, _, _ = ax.hist(np.log10(ev), bins=edges, density=True, color="C0", alpha=0.5, label="ESD of W")
    h2, _, _ = ax.hist(np.log10(rand), bins=edges, density=True, histtype="step", color="C3", lw=1.6,
                       label="ESD of W randomized")
    try:
        mp = fit_mp(every, sp.N / sp.M)  # the fit behind the row's num_traps (htsr.rmt.traps.randomized_esd)
        ax.axvline(math.log10(mp.threshold), color="C3", ls="--", lw=1.2,
                   label=f"randomized bulk edge + TW margin, {mp.threshold:.3g}: {mp.n_spikes} "
                         f"trap{'s' if mp.n_spikes != 1 else ''}; {int(np.sum(ev > mp.threshold))} of W's above")
    except ValueError:
        pass
    ax.set_ylim(0.0, 1.4 * max(float(np.max(h1)), float(np.max(h2))))  # room for the legend
    ax.set_xlabel("log10 eigenvalue")
    ax.set_ylabel("density")
    ax.set_title(f"{name}\nESD and the ESD of an element-wise permutation of W")
    ax.legend(frameon=False, loc="upper left")
    return _legible(ax)


def _wanted(rep, name) -> list[str]:
    """The figures a layer gets: those whose inputs it has."""
    sp = _spectrum(rep, name)
    if not np.any(np.asarray(sp.evals) > 0):
        return []
    out = ["esd"]
    if name in rep.fits:
        out.append("ks")
    if _mp_fit(sp) is not None:
        out.append("mp")
    rand = getattr(sp, "rand_evals", None)
    if rand is not None and np.any(np.asarray(rand) > 0):
        out.append("randomized")
    return out


_DRAW = {"esd": plot_layer_fits, "ks": plot_layer_ks, "mp": plot_layer_mp, "randomized": plot_layer_randomized}


def _save(fig, stem: str, folder: Path, formats, dpi: int) -> dict:
    import matplotlib

    out = {}
    for fmt in formats:
        path = folder / f"{stem}.{fmt}"
        with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": stem}):
            fig.savefig(path, format=fmt, dpi=dpi, metadata={"Date": None} if fmt == "svg" else None)
        out[fmt] = path
    return out


def write_layer_figures(rep, folder, *, formats=("svg", "png"), dpi: int = 150, layers=None) -> LayerFigures:
    """Write each layer's figures (see the module docstring) into ``folder``; returns what was written.

    Parameters
    ----------
    rep : htsr.report.Report
    folder : path
        Created if missing.  Files of the same names are replaced.
    formats : sequence of {"svg", "png"}
        SVG keeps text as text (readable at any zoom); PNG for places that show only images.
    dpi : int
        PNG resolution (a 6.4 x 4.4 inch figure is 960 x 660 pixels at 150).
    layers : sequence of str, optional
        Only these layers (default every layer with a spectrum).

    Returns
    -------
    LayerFigures
        Layer -> figure -> format -> path; :func:`htsr.plot.report.write_html` links them.
    """
    import matplotlib.pyplot as plt

    formats = tuple(formats)
    bad = [f for f in formats if f not in ("svg", "png")]
    if bad or not formats:
        raise HtsrError(f"formats must be 'svg' and/or 'png', got {list(formats)!r}")
    order = _order(rep)
    unknown = sorted(set(layers or ()) - set(order))
    if unknown:
        raise HtsrError(f"no layer named {unknown[0]!r} in this report")
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise HtsrError(f"cannot create the figures folder {folder}: {exc.strerror or exc}") from None
    stems, files = figure_stems(order), {}
    for name in (n for n in order if layers is None or n in layers):
        for figure in _wanted(rep, name):
            fig, ax = plt.subplots(figsize=(6.4, 4.4))
            fig.subplots_adjust(left=0.12, right=0.97, bottom=0.12, top=0.86)  # fixed: no layout pass
            try:
                _DRAW[figure](rep, name, ax=ax)
                files.setdefault(name, {})[figure] = _save(fig, f"{stems[name]}-{figure}", folder, formats, dpi)
            except OSError as exc:
                raise HtsrError(f"cannot write the figures of {name} into {folder}: {exc.strerror or exc}") from None
            finally:
                plt.close(fig)
    return LayerFigures(folder, files)


# ---------------------------------------------------------------- links from the HTML page
def _href(path: Path, base) -> str:
    """``path`` as a link from a page in the folder ``base``: relative, or a file URI where none exists."""
    try:
        rel = os.path.relpath(Path(path).resolve(), Path(base).resolve())
    except ValueError:  # another drive (Windows): no relative path
        return Path(path).resolve().as_uri()
    return quote(Path(rel).as_posix())


def figure_links(figures: LayerFigures | None, base) -> dict[str, str]:
    """Layer -> HTML links to its figure files (``ESD and fits: svg png · ...``), relative to ``base``."""
    if figures is None:
        return {}
    out = {}
    for name, figs in figures.files.items():
        parts = []
        for figure in (f for f in FIGURES if f in figs):
            links = " ".join(f"<a href='{html.escape(_href(p, base))}'>{fmt}</a>" for fmt, p in figs[figure].items())
            parts.append(f"{TITLES[figure]}: {links}")
        out[name] = "<span class=files>" + " &middot; ".join(parts) + "</span>"
    return out


def figure_files_html(figures: LayerFigures | None, base) -> str:
    """The page's "Figure files" section: every layer's files, folded; ``""`` without figures."""
    if figures is None or not figures.files:
        return ""
    links = figure_links(figures, base)
    items = "".join(f"<li><code>{html.escape(n)}</code>: {links[n]}</li>" for n in figures.files)
    n_files = len(figures.paths())
    folder = html.escape(_href(figures.folder, base))
    return (f"<h2 id=figure-files>Figure files</h2><p class=note>{n_files} files in "
            f"<a href='{folder}'>{html.escape(str(figures.folder))}</a>: per layer its ESD with the fitted laws, "
            f"D against xmin, the Marchenko-Pastur bulk and (when asked) the randomized ESD, as SVG (text stays "
            f"text, sharp at any zoom) and PNG.</p><details><summary>{len(figures.files)} layers</summary>"
            f"<ul>{items}</ul></details>")
