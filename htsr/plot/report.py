"""Figures of a report, and the self-contained HTML page that holds them.

The page lives here, in the plot layer, because it needs figures: ``htsr.report``
(below) computes, ``htsr.plot.report`` draws and writes.  Every image is an
embedded PNG (``data:`` URI) and the style is inline, so ``report.html`` opens
offline, from any folder, with nothing else beside it.
"""

from __future__ import annotations

import base64
import html
import io
import math
from pathlib import Path

import numpy as np

from ..errors import HtsrError
from ._ticks import tidy_log_xaxis
from .powerlaw import plot_ccdf

__all__ = ["plot_alpha_by_depth", "plot_layer_esd", "write_html", "save_report"]

_COLORS = {"over-trained": "#c0392b", "typical": "#2e7d32", "under-trained": "#1f5fa8", "uncertain": "#b08900",
           "too short": "#7f7f7f", "no fit": "#b0b0b0"}


def _axes(ax, size=(7, 3.2)):
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    return plt.figure(figsize=size).add_subplot()


def plot_alpha_by_depth(rep, *, ax=None):
    """Alpha of each layer against its position, with its interval and the verdict thresholds."""
    ax = _axes(ax)
    t = rep.layers
    th = rep.spec.thresholds
    ax.axhspan(1.0, th.alpha_low, color="#c0392b", alpha=0.07, lw=0)
    ax.axhspan(th.alpha_high, 100.0, color="#1f5fa8", alpha=0.07, lw=0)
    for y in (th.alpha_low, th.alpha_high):
        ax.axhline(y, color="0.5", ls="--", lw=0.8)
    fitted = t[np.isfinite(t["alpha"].to_numpy(dtype=float))]
    for label, g in fitted.groupby("label", sort=False):
        a = g["alpha"].to_numpy(dtype=float)
        lo, hi = g["alpha_lo"].to_numpy(dtype=float), g["alpha_hi"].to_numpy(dtype=float)
        has = np.isfinite(lo) & np.isfinite(hi)
        err = np.where(has, [np.maximum(a - lo, 0), np.maximum(hi - a, 0)], 0.0)
        ax.errorbar(g["index"], a, yerr=err, fmt="o", ms=4, lw=1, capsize=2, color=_COLORS.get(label, "k"),
                    label=f"{label} ({len(g)})")
    ax.set_yscale("log")
    top = np.nanmax(np.r_[fitted["alpha_hi"].to_numpy(dtype=float), fitted["alpha"].to_numpy(dtype=float), 8.0])
    ax.set_ylim(1.0, min(top * 1.3, 100.0))
    ax.set_xlabel("layer (position in the model)")
    ax.set_ylabel("alpha")
    pct = round(100 * rep.spec.intervals.level)
    what = "no interval" if rep.spec.intervals.method is None else f"{pct}% {rep.spec.intervals.method} interval"
    ax.set_title(f"Tail exponent by depth ({what})", fontsize=10)
    ax.legend(frameon=False, fontsize=7, ncol=3, loc="upper left")
    return ax


def plot_layer_esd(rep, name: str, *, ax=None):
    """One layer's ESD as an empirical CCDF, with its fitted power law and xmin."""
    ax = _axes(ax, (3.4, 2.5))
    row = rep.layers.set_index("name").loc[name]
    fit = rep.fits.get(name)
    if fit is None:
        ax.text(0.5, 0.5, "no fit", ha="center", va="center", transform=ax.transAxes)
        return ax
    plot_ccdf(fit, ax=ax)
    ax.set_xlabel("eigenvalue", fontsize=7)
    ax.set_ylabel("P(λ ≥ x)", fontsize=7)
    ax.tick_params(labelsize=6)
    iv = f" [{row['alpha_lo']:.2f}, {row['alpha_hi']:.2f}]" if math.isfinite(row["alpha_lo"]) else ""
    ax.set_title(f"{name}\nα = {row['alpha']:.2f}{iv}, n_tail = {int(row['n_tail'])}", fontsize=7)
    ax.legend(frameon=False, fontsize=6)
    return tidy_log_xaxis(ax)


def _png(fig, dpi=90, tight=True) -> str:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, **({"bbox_inches": "tight"} if tight else {}))
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _fmt(v, spec=".3g"):
    if isinstance(v, (float, np.floating)):
        return "" if not math.isfinite(v) else format(float(v), spec)
    if isinstance(v, (int, np.integer)):
        return "" if v < 0 else str(int(v))
    return html.escape(str(v))


_TABLE = (("name", "layer"), ("shape", "shape"), ("alpha", "α"), ("alpha_lo", "lo"), ("alpha_hi", "hi"),
          ("xmin", "xmin"), ("n_tail", "n_tail"), ("D", "D"), ("alpha_bounded", "α bounded"),
          ("num_fingers", "fingers"), ("alpha_weighted", "α weighted"), ("log_norm", "log norm"),
          ("log_spectral_norm", "log spectral"), ("stable_rank", "stable rank"), ("num_spikes", "spikes"),
          ("verdict", "verdict"), ("warning", "warning"))

_CSS = """body{font:14px/1.45 system-ui,sans-serif;margin:24px;color:#222;max-width:1400px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:26px 0 8px}.src{color:#666;font-size:12px}
table{border-collapse:collapse;font-size:12px}td,th{padding:3px 7px;border-bottom:1px solid #e4e4e4;text-align:right}
td.l,th.l{text-align:left}td.v{white-space:nowrap}td.w{font-size:11px;min-width:240px;color:#555}th{background:#f4f4f4;position:sticky;top:0}
.grid{display:flex;flex-wrap:wrap;gap:8px}.grid figure{margin:0;border:1px solid #eee;padding:2px}
.tag{display:inline-block;width:9px;height:9px;border-radius:50%;margin-right:5px}"""

_SCRIPT = """window.addEventListener('load',function(){var ok=0,bad=0;
for(const im of document.images){if(im.complete&&im.naturalWidth>0)ok++;else bad++;}
document.body.setAttribute('data-images-ok',ok);document.body.setAttribute('data-images-broken',bad);});"""


def _summary_html(rep) -> str:
    rows = "".join(f"<tr><th class=l>{html.escape(k)}</th><td class=l>{html.escape(v)}</td></tr>"
                   for k, v in rep.summary.lines())
    t = rep.timings
    rows += f"<tr><th class=l>time</th><td class=l>{t.get('total', math.nan):.1f} s</td></tr>"
    return f"<table id=summary>{rows}</table>"


def _layers_html(rep) -> str:
    head = "".join(f"<th class={'l' if k in ('name', 'verdict', 'warning') else 'r'}>{h}</th>" for k, h in _TABLE)
    body = []
    for r in rep.layers.to_dict(orient="records"):
        tag = f"<span class=tag style='background:{_COLORS.get(r['label'], '#000')}'></span>"
        cells = []
        for k, _ in _TABLE:
            v = _fmt(r[k])
            cls = {"name": "l", "verdict": "l v", "warning": "l w"}.get(k, "r")
            cells.append(f"<td class='{cls}'>{tag + v if k == 'verdict' else v}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table id=layers><tr>{head}</tr>{''.join(body)}</table>"


def _esd_grid(rep) -> str:
    import matplotlib.pyplot as plt

    figs = []
    for name in rep.fits:
        fig, ax = plt.subplots(figsize=(3.6, 2.7))
        fig.subplots_adjust(left=0.17, right=0.97, bottom=0.16, top=0.83)  # fixed margins: one render, not two
        plot_layer_esd(rep, name, ax=ax)
        figs.append(f"<figure><img alt='ESD of {html.escape(name)}' src='{_png(fig, 80, tight=False)}'></figure>")
    return "<div class=grid>" + "".join(figs) + "</div>"


def render_html(rep) -> str:
    """The page as a string (see :func:`write_html`)."""
    import matplotlib
    import matplotlib.pyplot as plt

    from .. import __version__

    with matplotlib.rc_context({"figure.max_open_warning": 0}):
        fig, ax = plt.subplots(figsize=(9, 3.6))
        plot_alpha_by_depth(rep, ax=ax)
        depth = _png(fig, 100)
        grid = _esd_grid(rep)
    notes = "".join(f"<li>{html.escape(n)}: {html.escape(w)}</li>" for n, w in rep.skipped)
    skipped = f"<h2>Not reported</h2><ul>{notes}</ul>" if notes else ""
    return (f"<!DOCTYPE html><html lang=en><head><meta charset=utf-8><title>htsr report</title>"
            f"<style>{_CSS}</style></head><body><h1>htsr report</h1>"
            f"<div class=src>{html.escape(rep.source)} &middot; htsr {__version__}</div>"
            f"<h2>Network summary</h2>{_summary_html(rep)}"
            f"<h2>Alpha by depth</h2><img id=depth alt='alpha by depth' src='{depth}'>"
            f"<h2>Layers</h2>{_layers_html(rep)}{skipped}"
            f"<h2>Spectra and fits</h2>{grid}<script>{_SCRIPT}</script></body></html>")


def write_html(rep, path) -> Path:
    """Write the self-contained ``report.html`` of a :class:`htsr.report.Report`; returns its path."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(render_html(rep), encoding="utf-8")
    except OSError as exc:
        raise HtsrError(f"cannot write {path}: {exc}") from None
    return path


def save_report(rep, out_dir, *, html_page: bool = True) -> dict:
    """``report.csv``, ``report.json``, ``summary.json`` and (unless ``html_page=False``) ``report.html``."""
    paths = rep.write(out_dir)
    if html_page:
        paths["html"] = write_html(rep, Path(out_dir) / "report.html")
    return paths
