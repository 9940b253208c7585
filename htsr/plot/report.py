"""Figures of a report, and the self-contained HTML page that holds them.

The page lives here, in the plot layer, because it needs figures: ``htsr.report``
(below) computes, ``htsr.plot.report`` draws and writes.  Figures are inline SVG
(text as text, 9 pt and up: 12 px at their natural size, sharp at any zoom) and
the style is inline, so ``report.html`` opens offline, from any folder, with
nothing else beside it.  Per-layer figure files (:mod:`htsr.plot.layers`, ``htsr
report --figures DIR``) are linked from each layer's caption when they were written.

The layer table shows a short set of columns (all of them are in report.csv),
each header with a tooltip and a glossary below the table; long notes fold into
a ``<details>``; long names and verdicts wrap, so the table fits a 1400 px
window, and on a phone it scrolls inside its own box while the page does not.
Layers are listed, and plotted, in the order the network runs them (the
``depth`` column), not in the file's name order.
"""

from __future__ import annotations

import html
import math
from pathlib import Path

import numpy as np

from ..errors import HtsrError
from ..report.intervals import NO_INTERVAL
from ..report.result import skipped_counts
from ..report.verdict import format_interval
from ._svg import MIN_FONT_PT, plain_log_ticks, svg
from ._ticks import tidy_log_xaxis
from .layers import figure_files_html, figure_links
from .powerlaw import plot_ccdf
from .compare import compare_html

__all__ = ["plot_alpha_by_depth", "plot_layer_esd", "write_html", "render_html", "save_report", "GLOSSARY"]

_COLORS = {"over-trained": "#c0392b", "typical": "#2e7d32", "under-trained": "#1f5fa8", "uncertain": "#b08900",
           "too short": "#7f7f7f", "no fit": "#b0b0b0"}

_LABEL_TEXT = {
    "over-trained": "the whole interval is below alpha_low ({lo:g}): a very heavy tail",
    "typical": "the whole interval is within [{lo:g}, {hi:g}]",
    "under-trained": "the whole interval is above alpha_high ({hi:g}): a light tail, close to random",
    "uncertain": "the interval straddles {lo:g} or {hi:g}, or no interval holds the estimate: cannot tell",
    "too short": "fewer than min_tail ({tail}) eigenvalues in the tail: too few to tell",
    "no fit": "no spectrum or no fit (NaN/inf, all zeros, too few or too many eigenvalues)",
}


def _axes(ax, size=(7, 3.2)):
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    return plt.figure(figsize=size).add_subplot()


def _depth(t):
    return t["depth"] if "depth" in t.columns else t["index"]


def plot_alpha_by_depth(rep, *, ax=None):
    """Alpha of each layer against its depth (the order the network runs them), with its interval.

    Layers whose interval was rejected (it missed their alpha) are drawn hollow, without
    a bar.  With no fitted layer the axes say so and show nothing else.
    """
    from matplotlib.ticker import MaxNLocator

    ax = _axes(ax)
    t = rep.layers
    th = rep.spec.thresholds
    fitted = t[np.isfinite(t["alpha"].to_numpy(dtype=float))]
    if fitted.empty:
        ax.text(0.5, 0.5, "no layer was fitted: nothing to plot", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
        return ax
    ax.axhspan(1.0, th.alpha_low, color="#c0392b", alpha=0.07, lw=0)
    ax.axhspan(th.alpha_high, 100.0, color="#1f5fa8", alpha=0.07, lw=0)
    for y in (th.alpha_low, th.alpha_high):
        ax.axhline(y, color="0.5", ls="--", lw=0.8)
    for label, g in fitted.groupby("label", sort=False):
        a, x = g["alpha"].to_numpy(dtype=float), _depth(g).to_numpy(dtype=float)
        lo, hi = g["alpha_lo"].to_numpy(dtype=float), g["alpha_hi"].to_numpy(dtype=float)
        has = np.isfinite(lo) & np.isfinite(hi)
        color = _COLORS.get(label, "k")
        if has.any():
            err = np.array([np.maximum(a - lo, 0), np.maximum(hi - a, 0)])[:, has]
            ax.errorbar(x[has], a[has], yerr=err, fmt="o", ms=5, lw=1.2, capsize=2.5, color=color,
                        label=f"{label} ({len(g)})")
        if (~has).any():
            ax.plot(x[~has], a[~has], "o", ms=5, mfc="white", mec=color, mew=1.4,
                    label=None if has.any() else f"{label} ({len(g)})")
    if rep.spec.intervals.method is not None and not np.isfinite(fitted["alpha_lo"].to_numpy(dtype=float)).all():
        ax.plot([], [], "o", ms=5, mfc="white", mec="0.3", label="hollow: no interval")
    ax.set_yscale("log")
    top = np.nanmax(np.r_[fitted["alpha_hi"].to_numpy(dtype=float), fitted["alpha"].to_numpy(dtype=float), 8.0])
    ax.set_ylim(1.0, min(top * 1.3, 100.0))
    ticks = [v for v in (1, 1.5, 2, 3, 4, 6, 8, 10, 15, 20, 30, 50, 100) if v <= min(top * 1.3, 100.0)]
    ax.set_yticks(ticks, [f"{v:g}" for v in ticks])
    ax.set_yticks([], minor=True)
    depth = _depth(t).to_numpy(dtype=float)
    ax.set_xlim(depth.min() - 0.7, depth.max() + 0.7)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))
    ax.set_xlabel("layer depth (0 = first layer the network runs)")
    ax.set_ylabel("alpha")
    pct = round(100 * rep.spec.intervals.level)
    what = "no interval" if rep.spec.intervals.method is None else f"{pct}% {rep.spec.intervals.method} interval"
    ax.set_title(f"Tail exponent by depth ({what})", fontsize=11)
    ax.legend(frameon=False, fontsize=MIN_FONT_PT + 1, ncol=4, loc="upper left")
    return ax


def plot_layer_esd(rep, name: str, *, ax=None, title: bool = True):
    """One layer's ESD as an empirical CCDF, with its fitted power law and xmin."""
    ax = _axes(ax, (4.2, 3.0))
    row = rep.layers.set_index("name").loc[name]
    fit = rep.fits.get(name)
    if fit is None:
        ax.text(0.5, 0.5, "no fit", ha="center", va="center", transform=ax.transAxes)
        return ax
    plot_ccdf(fit, ax=ax)
    ax.set_xlabel("eigenvalue x", fontsize=MIN_FONT_PT)
    ax.set_ylabel("P(λ ≥ x)", fontsize=MIN_FONT_PT)
    ax.tick_params(labelsize=MIN_FONT_PT)
    if title:
        iv = format_interval(row["alpha_lo"], row["alpha_hi"], ".2f") or "no interval"
        ax.set_title(f"{name}\nα = {row['alpha']:.2f} {iv}, n_tail = {int(row['n_tail'])}", fontsize=MIN_FONT_PT)
    ax.legend(frameon=False, fontsize=MIN_FONT_PT)
    ax = tidy_log_xaxis(ax)
    # minor ticks at 2 and 5 only: matplotlib builds every tick as an object, and the HTML report
    # draws one of these figures per layer
    from matplotlib.ticker import LogLocator

    for axis in (ax.xaxis, ax.yaxis):
        axis.set_minor_locator(LogLocator(subs=(2.0, 5.0), numticks=12))
    return ax


# ---------------------------------------------------------------- the table
#: Columns of the HTML layer table: (column, header, tooltip; ``{how}``, ``{lo}``, ``{hi}``, ``{tail}`` are
#: filled in from the report's options: its interval and thresholds).
#: The glossary below the table says the same.
GLOSSARY = (
    ("depth", "#", "Depth: the layer's place in the order the network runs its layers (embeddings first, "
                   "layer 2 before layer 10). The file's own order is the index column of report.csv."),
    ("name", "layer", "The weight tensor's name."),
    ("shape", "shape", "Stored shape. The matrix is N x M with N >= M; its M eigenvalues are the squared "
                       "singular values (report.csv: N, M, Q = N/M, n_evals)."),
    ("alpha", "α", "Power-law exponent of the tail of the eigenvalue spectrum (ESD), fitted as Clauset et al.: "
                   "xmin by the smallest KS distance, alpha by maximum likelihood. Smaller alpha, heavier tail."),
    ("interval", "interval", "Interval for alpha ({how}). 'no interval: ...' where the interval computed "
                             "excludes alpha itself (the bootstrap missed the estimate): none is shown rather "
                             "than one that is not an interval for this alpha; hover it for the numbers."),
    ("n_tail", "n_tail", "Eigenvalues in the fitted tail (those >= xmin). Fewer than {tail}: the verdict is "
                         "'too short'."),
    ("xmin", "xmin", "Where the fitted tail starts, in eigenvalue units."),
    ("D", "D", "Kolmogorov-Smirnov distance between the tail and the fitted power law (smaller is closer)."),
    ("num_fingers", "fingers", "Top eigenvalues that pull the fit: the smallest k whose removal lowers alpha by "
                               "more than 1 (the notes give alpha without them). 0: none."),
    ("alpha_weighted", "α weighted", "alpha x log10(lambda_max), WeightWatcher's alpha_weighted."),
    ("log_norm", "log norm", "log10 of the squared Frobenius norm, log10(sum of eigenvalues)."),
    ("stable_rank", "stable rank", "sum of eigenvalues / largest eigenvalue: how many directions carry the "
                                   "weight's energy."),
    ("num_spikes", "spikes", "Eigenvalues above the Marchenko-Pastur bulk edge (plus its Tracy-Widom margin): "
                             "structure beyond a random matrix."),
    ("verdict", "verdict", "over-trained / typical / under-trained only when the whole interval lies on one side "
                           "of {lo} and {hi}; uncertain when it straddles one (or there is no interval); too short "
                           "when the tail has under {tail} points."),
    ("warning", "notes", "What deserves a look: fingers, layers too small or too large to fit, NaN or inf "
                         "values. Click a long note to unfold it."),
)


def _glossary(spec) -> list[tuple[str, str, str]]:
    """:data:`GLOSSARY` with the interval's description and the thresholds filled in from the report's options."""
    ispec = spec.intervals
    pct = f"{round(100 * ispec.level)}%"
    how = {"bootstrap": f"{pct} bootstrap {'BCa' if ispec.ci == 'bca' else 'percentile'} interval, {ispec.reps} "
                        f"resamples of the eigenvalues with xmin refitted on each",
           "bayes": f"{pct} credible interval of the hierarchical posterior"}.get(ispec.method, "none asked for")
    th = spec.thresholds
    fill = {"{how}": how, "{lo}": f"{th.alpha_low:g}", "{hi}": f"{th.alpha_high:g}", "{tail}": str(th.min_tail)}
    out = []
    for k, h, tip in GLOSSARY:
        for key, value in fill.items():
            tip = tip.replace(key, value)
        out.append((k, h, tip))
    return out


_CSS = """*{box-sizing:border-box}
body{font:14px/1.45 system-ui,sans-serif;margin:24px;color:#222;max-width:1400px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:26px 0 8px}
.src{color:#666;font-size:12px;overflow-wrap:anywhere}p.note{color:#555;font-size:13px;margin:4px 0 8px}
table{border-collapse:collapse;font-size:12.5px}td,th{padding:4px 6px;border-bottom:1px solid #e4e4e4;
text-align:right;vertical-align:top}td.l,th.l{text-align:left}th{background:#f4f4f4;font-weight:600}
th[title]{cursor:help;text-decoration:underline dotted #999}
#summary td{overflow-wrap:anywhere}
.scroll{overflow-x:auto;max-width:100%}
#layers td.num,#layers td.iv{white-space:nowrap}#layers .w{overflow-wrap:break-word}
#layers td.name .w{min-width:11em;max-width:17em}#layers td.v .w{min-width:12em;max-width:16em}
#layers td.n .w{min-width:10em;max-width:13em;font-size:11.5px;color:#555}
#layers td.iv .none{white-space:normal;min-width:7em;max-width:8.5em;color:#8a5a00;font-size:11.5px;text-align:left}
details summary{cursor:pointer}details ul{margin:4px 0 0;padding-left:16px}
.tag{display:inline-block;width:9px;height:9px;border-radius:50%;margin-right:5px}
.grid{display:flex;flex-wrap:wrap;gap:10px}.grid figure{margin:0;border:1px solid #eee;padding:4px;max-width:100%}
figcaption{font-size:12.5px;max-width:420px;overflow-wrap:anywhere}figcaption b{font-weight:600}
.files{font-size:11.5px;color:#555}
svg.fig{max-width:100%;height:auto;display:block}#depth svg.fig{min-width:900px}
dl.gloss{display:grid;grid-template-columns:max-content 1fr;gap:4px 14px;font-size:13px;margin:0}
dl.gloss dt{font-weight:600}dl.gloss dd{margin:0}
@media (max-width:600px){body{margin:10px}dl.gloss{grid-template-columns:1fr}dl.gloss dd{margin-bottom:6px}}"""


def _fmt(v, spec=".3g"):
    if isinstance(v, (float, np.floating)):
        return "" if not math.isfinite(v) else format(float(v), spec)
    if isinstance(v, (int, np.integer)):
        return "" if v < 0 else str(int(v))
    return html.escape(str(v))


def _wrap_name(name: str) -> str:
    """The name with a break opportunity after each dot, so long names wrap between their parts."""
    return "<wbr>".join(html.escape(p) + "." for p in name.split("."))[:-1] if "." in name else html.escape(name)


def _interval_cell(r) -> str:
    iv = format_interval(r["alpha_lo"], r["alpha_hi"])
    note = r.get("interval_note")
    note = note if isinstance(note, str) else ""
    if iv:
        if note:  # a fallback that holds the estimate (the percentile interval in place of BCa)
            return f"{iv} <abbr title='{html.escape(note)}'>pct</abbr>"
        return iv
    if note.startswith(NO_INTERVAL):
        short = note.split(" (", 1)[0]
        return f"<div class=none title='{html.escape(note)}'>{html.escape(short)}</div>"
    return ""


def _notes_cell(warning: str) -> str:
    """Short notes as they are; a long one folded into a ``<details>`` that opens on a click."""
    warning = warning if isinstance(warning, str) else ""
    if len(warning) <= 60:
        return html.escape(warning)
    return (f"<details><summary>{html.escape(warning[:44].rstrip())}…</summary>"
            f"<div>{html.escape(warning)}</div></details>")


def _cell(k: str, r) -> tuple[str, str]:
    """(class, html) of one cell of the layer table."""
    if k == "name":
        return "l name", f"<div class=w>{_wrap_name(r['name'])}</div>"
    if k == "interval":
        return "iv", _interval_cell(r)
    if k == "verdict":
        tag = f"<span class=tag style='background:{_COLORS.get(r['label'], '#000')}'></span>"
        text = str(r["verdict"])
        if r["label"] == "no fit" and r["warning"] and text == f"no fit: {r['warning']}":
            text = "no fit (see notes)"  # the reason is the note beside it: not twice
        text = html.escape(text).replace(" straddles ", " straddles&nbsp;")  # no lone "6" on a line of its own
        return "l v", f"<div class=w>{tag}{text}</div>"
    if k == "warning":
        return "l n", f"<div class=w>{_notes_cell(r['warning'])}</div>"
    return "num", _fmt(r[k], ".4g" if k == "xmin" else ".3g")


def _layers_html(rep) -> str:
    cols = [(k, h, tip) for k, h, tip in _glossary(rep.spec) if k != "interval" or rep.spec.intervals.method]
    head = "".join(f"<th class={'l' if k in ('name', 'verdict', 'warning') else 'r'} "
                   f"title='{html.escape(tip)}'>{h}</th>" for k, h, tip in cols)
    body = []
    for r in rep.layers.sort_values(["depth", "index"] if "depth" in rep.layers else "index").to_dict("records"):
        cells = (_cell(k, r) for k, _, _ in cols)
        body.append("<tr>" + "".join(f"<td class='{c}'>{v}</td>" for c, v in cells) + "</tr>")
    return (f"<div class=scroll><table id=layers><thead><tr>{head}</tr></thead>"
            f"<tbody>{''.join(body)}</tbody></table></div>")


def _glossary_html(rep) -> str:
    cols = "".join(f"<dt>{h}</dt><dd>{html.escape(tip)}</dd>" for k, h, tip in _glossary(rep.spec))
    th = rep.spec.thresholds
    labels = "".join(f"<dt><span class=tag style='background:{_COLORS[k]}'></span>{k}</dt>"
                     f"<dd>{html.escape(v.format(lo=th.alpha_low, hi=th.alpha_high, tail=th.min_tail))}</dd>"
                     for k, v in _LABEL_TEXT.items())
    return (f"<h2 id=glossary>What the columns mean</h2><dl class=gloss>{cols}</dl>"
            f"<h2>Verdicts</h2><p class=note>Thresholds of this report: alpha_low = {th.alpha_low:g}, "
            f"alpha_high = {th.alpha_high:g}, min_tail = {th.min_tail}.</p><dl class=gloss>{labels}</dl>")


def _summary_html(rep) -> str:
    rows = "".join(f"<tr><th class=l>{html.escape(k)}</th><td class=l>{html.escape(v)}</td></tr>"
                   for k, v in rep.summary.lines())
    t = rep.timings
    rows += f"<tr><th class=l>time</th><td class=l>{t.get('total', math.nan):.1f} s</td></tr>"
    return f"<table id=summary>{rows}</table>"


def _caption(rep, name: str, links: str = "") -> str:
    row = rep.layers.set_index("name").loc[name]
    iv = format_interval(row["alpha_lo"], row["alpha_hi"], ".2f")
    iv = f", interval {iv}" if iv else (", no interval" if row.get("interval_note") else "")
    return (f"<figcaption><b>{_wrap_name(name)}</b><br>α = {row['alpha']:.2f}{iv}, "
            f"n_tail = {int(row['n_tail'])}, xmin = {row['xmin']:.3g}{'<br>' + links if links else ''}</figcaption>")


def _esd_grid(rep, links=None) -> str:
    import matplotlib.pyplot as plt

    if not rep.fits:
        return "<p class=note>No layer was fitted, so there is no fitted spectrum to show.</p>"
    t = rep.layers
    order = t.sort_values(["depth", "index"] if "depth" in t else "index")["name"]
    figs = []
    # one figure for every layer, its data artists removed between layers: matplotlib then builds its
    # tick objects once, not per figure (the SVGs are byte for byte those of a fresh figure per layer,
    # tests/test_report_html.py; half the time of the page)
    fig, ax = plt.subplots(figsize=(4.4, 3.1))
    fig.subplots_adjust(left=0.19, right=0.97, bottom=0.17, top=0.97)  # fixed margins: one render, not two
    try:
        for k, name in enumerate(n for n in order if n in rep.fits):
            _clear_data(ax)
            plot_layer_esd(rep, name, ax=ax, title=False)
            plain_log_ticks(ax)
            caption = _caption(rep, name, (links or {}).get(name, ""))  # with links to the figure files, if written
            figs.append(f"<figure>{svg(fig, f'htsr-esd-{k}', f'ESD of {name}', close=False)}{caption}</figure>")
    finally:
        plt.close(fig)
    return "<div class=grid>" + "".join(figs) + "</div>"


def _clear_data(ax) -> None:
    """Remove what a layer drew (lines, texts, collections, legend) and forget its data limits."""
    for artist in [*ax.lines, *ax.texts, *ax.collections]:
        artist.remove()
    if ax.get_legend() is not None:
        ax.get_legend().remove()
    ax.relim()
    ax.ignore_existing_data_limits = True


def _depth_html(rep) -> str:
    import matplotlib.pyplot as plt

    if not np.isfinite(rep.layers["alpha"].to_numpy(dtype=float)).any():
        return "<p class=note id=depth>No layer was fitted, so there is no alpha to plot by depth.</p>"
    fig, ax = plt.subplots(figsize=(12.5, 4.0))
    plot_alpha_by_depth(rep, ax=ax)
    ax.tick_params(labelsize=MIN_FONT_PT + 1)
    fig.tight_layout()
    return f"<div id=depth class=scroll>{svg(fig, 'htsr-depth', 'alpha by depth')}</div>"


def _skipped_html(rep) -> str:
    """"Not reported": every tensor with no row and why, grouped by reason (a count per group)."""
    if not rep.skipped:
        return ""
    groups: dict = {}
    for s in rep.skipped:
        groups.setdefault(getattr(s, "group", "other tensors"), []).append(s)
    parts = []
    for group in skipped_counts(rep.skipped):
        items = "".join(f"<li><code>{html.escape(n)}</code>: {html.escape(w)}</li>" for n, w in groups[group])
        parts.append(f"<details id='skipped-{html.escape(group.replace(' ', '-'))}'><summary>"
                     f"{len(groups[group])} {html.escape(group)}</summary><ul>{items}</ul></details>")
    n = len(rep.skipped)
    return (f"<h2 id=skipped>Not reported</h2><p class=note>{n} tensor{'s' if n != 1 else ''} of the source "
            f"got no row; each is listed with why (also in summary.json, <code>skipped</code>).</p>"
            f"{''.join(parts)}")


def render_html(rep, *, figures=None, base=".") -> str:
    """The page as a string (see :func:`write_html`); ``figures`` linked relative to the folder ``base``."""
    import matplotlib

    from .. import __version__

    with matplotlib.rc_context({"figure.max_open_warning": 0, "font.size": 10}):
        depth = _depth_html(rep)
        grid = _esd_grid(rep, figure_links(figures, base))
        change = compare_html(rep)  # with a baseline: delta_alpha by depth, changed and unmatched layers
    skipped = _skipped_html(rep)
    n_cols = len(rep.layers.columns)
    return (f"<!DOCTYPE html><html lang=en><head><meta charset=utf-8>"
            f"<meta name=viewport content='width=device-width, initial-scale=1'><title>htsr report</title>"
            f"<style>{_CSS}</style></head><body><h1>htsr report</h1>"
            f"<div class=src>{html.escape(rep.source)} &middot; htsr {__version__}</div>"
            f"<h2>Network summary</h2>{_summary_html(rep)}"
            f"<h2>Alpha by depth</h2>{depth}{change}"
            f"<h2>Layers</h2><p class=note>In the order the network runs them. Hover a column header for what it "
            f"means (<a href='#glossary'>glossary</a>); all {n_cols} columns are in report.csv.</p>"
            f"{_layers_html(rep)}{skipped}"
            f"{_glossary_html(rep)}"
            f"<h2>Spectra and fits</h2>{grid}{figure_files_html(figures, base)}</body></html>")


def write_html(rep, path, *, figures=None) -> Path:
    """Write the self-contained ``report.html`` of a :class:`htsr.report.Report`; returns its path.

    ``figures``: the :class:`htsr.plot.layers.LayerFigures` of :func:`htsr.plot.layers.write_layer_figures`,
    linked from each layer's caption and a "Figure files" section (relative links).
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(render_html(rep, figures=figures, base=path.parent), encoding="utf-8")
    except OSError as exc:
        raise HtsrError(f"cannot write {path}: {exc}") from None
    return path


def save_report(rep, out_dir, *, html_page: bool = True, figures=None) -> dict:
    """``report.csv``, ``report.json``, ``summary.json`` and (unless ``html_page=False``) ``report.html``."""
    paths = rep.write(out_dir)
    if html_page:
        paths["html"] = write_html(rep, Path(out_dir) / "report.html", figures=figures)
    return paths
