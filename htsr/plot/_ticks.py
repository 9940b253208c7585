"""Readable tick labels on logarithmic axes.

Matplotlib labels minor ticks of a log axis (``2x10^2``, ``3x10^2``, ...) when
fewer than two powers of ten are in view, whatever the room; on a narrow panel
those labels run into each other.  :func:`tidy_log_xaxis` installs a minor
formatter that labels no minor tick when two or more decades are labelled, and
otherwise the densest of a few nested subsets of mantissas (2..9, then 2,3,5,7,
then 2,5, then 3) whose labels, measured in the axis font, do not touch.
"""

from __future__ import annotations

import math

import numpy as np
from matplotlib.ticker import LogFormatterSciNotation

__all__ = ["tidy_log_xaxis"]

# mantissas of labelled minor ticks, densest first
_SUBSETS = ((2, 3, 4, 5, 6, 7, 8, 9), (2, 3, 4, 5, 6, 8), (2, 3, 5, 7), (2, 5), (3,))
_PAD = 0.5  # gap between neighbouring labels, in units of the font size


class MinorLogFormatter(LogFormatterSciNotation):
    """Minor-tick labels of a log axis, thinned so that no two labels overlap."""

    def __init__(self):
        super().__init__(labelOnlyBase=False)
        self._sublabels = None
        self._chosen: np.ndarray = np.empty(0)

    def set_locs(self, locs=None):
        self._chosen = np.empty(0)
        if locs is None or self.axis is None:
            return
        lo, hi = sorted(self.axis.get_view_interval())
        if not (lo > 0 and hi > lo):
            return
        minor = np.array([v for v in locs if lo <= v <= hi], dtype=np.float64)
        major = np.array([v for v in self.axis.get_majorticklocs() if lo <= v <= hi], dtype=np.float64)
        if minor.size == 0 or major.size >= 2:
            return  # two labelled decades are enough to read a log axis
        width = self._pixels_per_decade(lo, hi)
        if width is None:
            return
        for subset in _SUBSETS:
            chosen = minor[np.isin(_mantissa(minor), subset)]
            if chosen.size and self._fits(np.sort(np.concatenate([major, chosen])), width):
                self._chosen = chosen
                return
        if major.size == 0:  # nothing fits: one label, so the axis still has a scale
            self._chosen = minor[[minor.size // 2]]

    def __call__(self, x, pos=None):
        if self._chosen.size == 0 or not np.any(np.isclose(self._chosen, x, rtol=1e-9, atol=0)):
            return ""
        return self._text(x)

    def _text(self, x) -> str:
        return super().__call__(x)

    def _pixels_per_decade(self, lo, hi):
        axes = getattr(self.axis, "axes", None)
        if axes is None:
            return None
        return axes.bbox.width / math.log10(hi / lo)

    def _fits(self, locs, px_per_decade) -> bool:
        from matplotlib.textpath import text_to_path

        prop = self._font()
        size_px = prop.get_size_in_points() * self.axis.figure.dpi / 72
        scale = self.axis.figure.dpi / 72
        half = []
        for v in locs:
            s = self._text(v)
            w, _, _ = text_to_path.get_text_width_height_descent(s, prop, ismath="$" in s)
            half.append(0.5 * w * scale)
        pos = np.log10(locs) * px_per_decade
        need = np.add(half[:-1], half[1:]) + _PAD * size_px
        return bool(np.all(np.diff(pos) >= need))

    def _font(self):
        ticks = self.axis.get_minor_ticks(1)
        return ticks[0].label1.get_fontproperties()


def _mantissa(v):
    return np.round(v / 10.0 ** np.floor(np.log10(v) + 1e-9)).astype(int)


def tidy_log_xaxis(ax):
    """Give a log x axis minor tick labels that do not overlap (no-op on a linear axis)."""
    if ax.get_xscale() == "log":
        ax.xaxis.set_minor_formatter(MinorLogFormatter())
    return ax
