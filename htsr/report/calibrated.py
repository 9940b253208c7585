"""What a layer's alpha implies about the tail index mu of its entries, from the shipped table.

The table (:func:`htsr.calibration.load_table`) holds the Clauset fits of Pareto
matrices at common layer shapes; :func:`htsr.calibration.invert` turns a fitted
alpha into the range of mu whose fitted alphas (central 95%) contain it.  A layer
gets a value only when its shape is close to one in the table (M and Q each
within a factor 1.5); otherwise the columns are NaN: the finite-size bias depends
on the shape, and extrapolating it would be a guess.
"""

from __future__ import annotations

import functools
import math

from ..calibration.table import load_table
from ..calibration.use import invert

__all__ = ["implied_mu", "MAX_SHAPE_RATIO"]

MAX_SHAPE_RATIO = 1.5


@functools.lru_cache(maxsize=1)
def _table():
    return load_table()


def implied_mu(alpha: float, N: int, M: int, level: float = 0.95) -> dict:
    """``{"mu": ..., "mu_lo": ..., "mu_hi": ...}`` (NaN when the shape is not in the table)."""
    nan = dict(mu=math.nan, mu_lo=math.nan, mu_hi=math.nan)
    if not (math.isfinite(alpha) and M and N):
        return nan
    table = _table()
    Q = N / M
    inv = invert(table, alpha, M=M, Q=Q, level=level)
    if (max(inv.at["M"] / M, M / inv.at["M"]) > MAX_SHAPE_RATIO
            or max(inv.at["Q"] / Q, Q / inv.at["Q"]) > MAX_SHAPE_RATIO):
        return nan
    return dict(mu=inv.value, mu_lo=inv.lo, mu_hi=inv.hi)
