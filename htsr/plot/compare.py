"""Figures and the HTML section of a comparison with a baseline (``htsr report NEW --baseline BASE``).

:func:`plot_delta_by_depth` draws ``delta_alpha = alpha - alpha_base`` of each layer against its
depth with its interval; changed layers are filled red, identical tensors grey on the zero
line.  :func:`compare_html` is the page's "Change from the baseline" section
(:func:`htsr.plot.report.render_html` puts it after "Alpha by depth"); docs/compare.md says
what every number means.
"""

from __future__ import annotations

import html
import math

import numpy as np

from ._svg import MIN_FONT_PT, svg

__all__ = ["plot_delta_by_depth", "compare_html"]


def plot_delta_by_depth(rep, *, ax=None):
    """``delta_alpha`` of each compared layer against its depth, with its interval.

    Red: ``changed`` (interval without 0 and ``|delta_alpha| >= change_threshold``); blue: the
    others with an interval; hollow: no interval; grey crosses: identical tensors (delta 0).
    The band is ``+- change_threshold``.  Needs ``rep.comparison`` (a report with a baseline).
    """
    from matplotlib.ticker import MaxNLocator

    if rep.comparison is None:
        raise ValueError("plot_delta_by_depth needs a report with a baseline (htsr.report(new, baseline=base))")
    if ax is None:
        import matplotlib.pyplot as plt

        ax = plt.figure(figsize=(7, 3.2)).add_subplot()
    t = rep.layers
    depth = (t["depth"] if "depth" in t.columns else t["index"]).to_numpy(dtype=float)
    d = t["delta_alpha"].to_numpy(dtype=float)
    lo, hi = t["delta_alpha_lo"].to_numpy(dtype=float), t["delta_alpha_hi"].to_numpy(dtype=float)
    changed = t["changed"].to_numpy(dtype=bool)
    same = t["name"].isin(rep.comparison.identical).to_numpy()
    thr = rep.comparison.change_threshold
    ax.axhspan(-thr, thr, color="0.5", alpha=0.1, lw=0)
    ax.axhline(0.0, color="0.4", lw=0.8)
    has = np.isfinite(d) & np.isfinite(lo) & np.isfinite(hi) & ~same
    for mask, color, label in ((has & changed, "#c0392b", "changed"), (has & ~changed, "#1f5fa8", "not changed")):
        if mask.any():
            err = np.array([np.maximum(d - lo, 0), np.maximum(hi - d, 0)])[:, mask]
            ax.errorbar(depth[mask], d[mask], yerr=err, fmt="o", ms=5, lw=1.2, capsize=2.5, color=color,
                        label=f"{label} ({int(mask.sum())})")
    bare = np.isfinite(d) & ~has & ~same
    if bare.any():
        ax.plot(depth[bare], d[bare], "o", ms=5, mfc="white", mec="0.3", mew=1.4, label=f"no interval ({bare.sum()})")
    if same.any():
        ax.plot(depth[same], np.zeros(same.sum()), "x", ms=5, color="0.55", label=f"identical ({same.sum()})")
    if depth.size:
        ax.set_xlim(depth.min() - 0.7, depth.max() + 0.7)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))
    ax.set_xlabel("layer depth (0 = first layer the network runs)")
    ax.set_ylabel("delta alpha (new - baseline)")
    pct = round(100 * rep.comparison.level)
    ax.set_title(f"Change of alpha by depth ({pct}% interval; band: +-{thr:g})", fontsize=11)
    ax.legend(frameon=False, fontsize=MIN_FONT_PT + 1, ncol=4, loc="best")  # clear of the zero line
    return ax


def _names(title: str, names, anchor: str) -> str:
    if not names:
        return ""
    items = "".join(f"<li><code>{html.escape(str(n))}</code></li>" for n in names)
    return f"<details id={anchor}><summary>{len(names)} {html.escape(title)}</summary><ul>{items}</ul></details>"


def _f(v) -> str:
    return f"{v:.3f}" if isinstance(v, (int, float)) and math.isfinite(v) else "n/a"


def _changed_table(rep) -> str:
    t = rep.layers[rep.layers["changed"].astype(bool)]
    if t.empty:
        return "<p class=note>No layer changed.</p>"
    rows = "".join(f"<tr><td class=l><code>{html.escape(r['name'])}</code></td><td>{_f(r['alpha_base'])}</td>"
                   f"<td>{_f(r['alpha'])}</td><td>{_f(r['delta_alpha'])}</td>"
                   f"<td>[{_f(r['delta_alpha_lo'])}, {_f(r['delta_alpha_hi'])}]</td></tr>"
                   for _, r in t.iterrows())
    return ("<table id=changed><tr><th class=l>changed layer</th><th>alpha_base</th><th>alpha</th>"
            f"<th>delta_alpha</th><th>interval</th></tr>{rows}</table>")


def _updates_table(cmp) -> str:
    ut = cmp.update_table()
    if ut is None:
        return ""
    ut = ut[ut["rank"] != 0]
    rows = "".join(f"<tr><td class=l><code>{html.escape(r['name'])}</code></td><td>{int(r['rank'])}</td>"
                   f"<td>{'yes' if r['low_rank'] else 'no'}</td><td>{_f(r['alpha'])}</td>"
                   f"<td class=l>{html.escape(str(r['warning']))}</td></tr>" for _, r in ut.iterrows())
    return ("<h3>Updates W - W_base</h3><p class=note>Nonzero updates only; rank is the numerical rank, a low-rank "
            "update has no fit (docs/compare.md).</p><table id=updates><tr><th class=l>layer</th><th>rank</th>"
            f"<th>low-rank</th><th>alpha</th><th class=l>note</th></tr>{rows}</table>")


def compare_html(rep) -> str:
    """The "Change from the baseline" section of the page ("" for a report without a baseline)."""
    cmp = rep.comparison
    if cmp is None:
        return ""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(12.5, 3.6))
    plot_delta_by_depth(rep, ax=ax)
    ax.tick_params(labelsize=MIN_FONT_PT + 1)
    fig.tight_layout()
    notes = "".join(f"<p class=note>{html.escape(n)}</p>" for n in cmp.notes)
    mism = [f"{n} ({there} in the baseline, {here} here)" for n, (here, there) in cmp.mismatched.items()]
    return (f"<h2 id=baseline>Change from the baseline</h2><p class=note>Baseline: {html.escape(cmp.baseline)}. "
            f"delta_alpha = alpha - alpha_base; interval: {html.escape(cmp.interval)}; changed: the interval "
            f"excludes 0 and |delta_alpha| &ge; {cmp.change_threshold:g}. {cmp.n_changed} of {cmp.n_compared} "
            f"compared layers changed; {len(cmp.identical)} tensors are byte-identical (not recomputed).</p>{notes}"
            f"<div id=delta class=scroll>{svg(fig, 'htsr-delta', 'delta alpha by depth')}</div>"
            f"{_changed_table(rep)}{_names('layers not in the baseline', cmp.unmatched_new, 'unmatched-new')}"
            f"{_names('layers only in the baseline', cmp.unmatched_base, 'unmatched-base')}"
            f"{_names('layers with another shape in the baseline (no delta)', mism, 'mismatched')}"
            f"{_updates_table(cmp)}")
