"""Verdicts that respect the interval.

A layer is called over-trained (alpha below ``alpha_low``) or under-trained
(above ``alpha_high``) only when its whole interval lies on that side; an
interval across a threshold is "cannot tell", and a tail shorter than
``min_tail`` is "too short to tell" whatever its estimate.  Without intervals
the point estimate is compared and the text says so; where an interval was
asked for but none holds (the bootstrap missed the estimate,
:func:`htsr.report.intervals.checked_interval`), the layer is "cannot tell"
and the rejected interval is never compared.

Labels (the ``label`` column): ``over-trained``, ``under-trained``, ``typical``,
``uncertain``, ``too short``, ``no fit``.

Intervals are printed one way everywhere (verdicts, the summary, the HTML
page, the command line): :func:`format_interval`, ``[lo, hi]``.
"""

from __future__ import annotations

import math

from .options import Thresholds

__all__ = ["verdict", "LABELS", "format_interval"]

LABELS = ("over-trained", "typical", "under-trained", "uncertain", "too short", "no fit")


def _g(v: float) -> str:
    return f"{v:.3g}"


def format_interval(lo: float, hi: float, spec: str = ".3g") -> str:
    """``"[lo, hi]"`` (readable for negative ends too: ``[-1.54, 3.11]``); ``""`` if either end is NaN."""
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return ""
    return f"[{format(float(lo), spec)}, {format(float(hi), spec)}]"


def verdict(alpha: float, lo: float, hi: float, n_tail: int, th: Thresholds, level: float,
            what: str = "interval", no_interval: str = "") -> tuple[str, str]:
    """``(label, text)`` for one layer.

    ``lo``/``hi`` are NaN when there is no interval; ``no_interval`` is then the reason
    when one was asked for but none holds (the layer is "cannot tell" rather than judged
    on its point estimate).
    """
    if not math.isfinite(alpha):
        return "no fit", "no fit"
    has_iv = math.isfinite(lo) and math.isfinite(hi)
    if has_iv and not lo <= alpha <= hi:  # not an interval for this alpha: never compared
        has_iv, no_interval = False, no_interval or f"the {what} {format_interval(lo, hi)} excludes alpha"
    iv = f"{round(100 * level):d}% {what} {format_interval(lo, hi)}" if has_iv else ""
    low, high = th.alpha_low, th.alpha_high
    if n_tail < th.min_tail:
        extra = f", {what} {format_interval(lo, hi)}" if has_iv else (", no interval" if no_interval else "")
        return "too short", f"tail too short to tell (n_tail = {n_tail}{extra})"
    if not has_iv and no_interval:
        return "uncertain", f"cannot tell: no interval holds alpha = {_g(alpha)}"
    if not has_iv:
        if alpha < low:
            return "over-trained", f"alpha = {_g(alpha)} < {low:g} (point estimate, no interval)"
        if alpha > high:
            return "under-trained", f"alpha = {_g(alpha)} > {high:g} (point estimate, no interval)"
        return "typical", f"{low:g} <= alpha = {_g(alpha)} <= {high:g} (point estimate, no interval)"
    if hi < low:
        return "over-trained", f"alpha < {low:g} ({iv})"
    if lo > high:
        return "under-trained", f"alpha > {high:g} ({iv})"
    if lo >= low and hi <= high:
        return "typical", f"{low:g} <= alpha <= {high:g} ({iv})"
    edge = low if lo < low else high
    return "uncertain", f"cannot tell: the {iv} straddles {edge:g}"
