"""Verdicts that respect the interval.

A layer is called over-trained (alpha below ``alpha_low``) or under-trained
(above ``alpha_high``) only when its whole interval lies on that side; an
interval across a threshold is "cannot tell", and a tail shorter than
``min_tail`` is "too short to tell" whatever its estimate.  Without intervals
the point estimate is compared and the text says so.

Labels (the ``label`` column): ``over-trained``, ``under-trained``, ``typical``,
``uncertain``, ``too short``, ``no fit``.
"""

from __future__ import annotations

import math

from .options import Thresholds

__all__ = ["verdict", "LABELS"]

LABELS = ("over-trained", "typical", "under-trained", "uncertain", "too short", "no fit")


def _g(v: float) -> str:
    return f"{v:.3g}"


def verdict(alpha: float, lo: float, hi: float, n_tail: int, th: Thresholds, level: float,
            what: str = "interval") -> tuple[str, str]:
    """``(label, text)`` for one layer; ``lo``/``hi`` NaN when there is no interval."""
    if not math.isfinite(alpha):
        return "no fit", "no fit"
    has_iv = math.isfinite(lo) and math.isfinite(hi)
    iv = f"{round(100 * level):d}% {what} {_g(lo)}-{_g(hi)}" if has_iv else ""
    low, high = th.alpha_low, th.alpha_high
    if n_tail < th.min_tail:
        extra = f", {what} {_g(lo)}-{_g(hi)}" if has_iv else ""
        return "too short", f"tail too short to tell (n_tail = {n_tail}{extra})"
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
