"""Figures as inline SVG for the HTML report: text stays text, at a size a reader can read.

:func:`svg` writes a figure as an ``<svg>`` element to paste into a page:
text as ``<text>`` (``svg.fonttype = "none"``, so it is selectable and sharp at
any zoom), ids salted per figure (``svg.hashsalt``) so several figures in one
page never share a marker or clip-path id, no date, no namespace declarations
(the HTML parser supplies them, ``xlink:href`` included), and none of
matplotlib's per-element ``<g id=...>`` (they would repeat from figure to figure).  Shown at
its natural size, one SVG user unit (a point) is 4/3 CSS pixels, so a 9 pt
label is 12 px on screen.

:func:`plain_log_ticks` replaces the ``10^k`` mathtext labels of log axes, whose
exponents matplotlib sets at 70% of the font (a 7 pt ``-3`` is not legible), by
plain numbers (``0.001``, ``20``, ``1e+06``), keeping which ticks are labelled.
"""

from __future__ import annotations

import io
import math
import re

from matplotlib.ticker import Formatter

__all__ = ["svg", "plain_log_ticks", "MIN_FONT_PT"]

#: The smallest font the report's figures use, in points (12 px at natural size).
MIN_FONT_PT = 9.0

_GROUP_ID = re.compile(r'<g id="[^"]*"')
_PROLOG = re.compile(r"^.*?(?=<svg)", re.S)
_METADATA = re.compile(r"\s*<metadata>.*?</metadata>", re.S)
_XMLNS = re.compile(r'\s+xmlns(:xlink)?="[^"]*"')  # inline in HTML the parser supplies both namespaces


def svg(fig, salt: str, label: str = "", *, close: bool = True) -> str:
    """The figure as an ``<svg ...>...</svg>`` string (and closes the figure, unless ``close=False``).

    ``salt`` must differ between the figures of one page (it seeds their ids);
    ``label`` becomes the element's ``aria-label``.
    """
    import html

    import matplotlib
    import matplotlib.pyplot as plt

    buf = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": salt}):
        fig.savefig(buf, format="svg", metadata={"Date": None})
    if close:
        plt.close(fig)
    text = _METADATA.sub("", _PROLOG.sub("", buf.getvalue(), count=1), count=1)
    text = _GROUP_ID.sub("<g", _XMLNS.sub("", text))
    aria = f' role="img" aria-label="{html.escape(label)}"' if label else ""
    return text.replace("<svg ", f'<svg class="fig"{aria} ', 1).strip()


def _plain(v: float) -> str:
    if v == 0 or not math.isfinite(v):
        return f"{v:g}"
    return f"{v:g}" if 1e-4 <= abs(v) < 1e6 else f"{v:.0e}".replace("e+0", "e").replace("e-0", "e-")


class _Plain(Formatter):
    """Labels the ticks the wrapped formatter labels, as plain numbers."""

    def __init__(self, inner: Formatter):
        self.inner = inner

    def set_axis(self, axis):
        super().set_axis(axis)
        self.inner.set_axis(axis)

    def set_locs(self, locs):
        super().set_locs(locs)
        self.inner.set_locs(locs)

    def __call__(self, x, pos=None):
        return _plain(x) if self.inner(x, pos) else ""


def plain_log_ticks(ax):
    """Plain-number tick labels on the log axes of ``ax`` (see the module docstring); returns ``ax``."""
    for axis in (ax.xaxis, ax.yaxis):
        if axis.get_scale() != "log":
            continue
        for getter, setter in ((axis.get_major_formatter, axis.set_major_formatter),
                               (axis.get_minor_formatter, axis.set_minor_formatter)):
            inner = getter()
            if not isinstance(inner, _Plain):
                setter(_Plain(inner))
    return ax
