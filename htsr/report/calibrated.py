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

import numpy as np

from ..calibration.table import table_alphas
from ..calibration.use import belt, read_belt

__all__ = ["implied_mu", "MAX_SHAPE_RATIO"]

MAX_SHAPE_RATIO = 1.5


@functools.lru_cache(maxsize=1)
def _table() -> dict:
    """The shipped table's Clauset fits (:func:`htsr.calibration.table.table_alphas`), read once."""
    return table_alphas("clauset")


@functools.lru_cache(maxsize=64)
def _cell_belt(i: int, j: int, level: float) -> tuple:
    t = _table()
    return belt(t["mu"], t["alpha_hat"][:, i, j, :], level, {"M": t["M"][i], "Q": t["Q"][j]})


def implied_mu(alpha: float, N: int, M: int, level: float = 0.95) -> dict:
    """``{"mu": ..., "mu_lo": ..., "mu_hi": ...}`` (NaN when the shape is not in the table)."""
    nan = dict(mu=math.nan, mu_lo=math.nan, mu_hi=math.nan)
    if not (math.isfinite(alpha) and M and N):
        return nan
    t = _table()
    Q = N / M
    # the nearest cell on a log scale, as htsr.calibration.invert picks it
    i = int(np.argmin(np.abs(np.log(t["M"]) - math.log(M))))
    j = int(np.argmin(np.abs(np.log(t["Q"]) - math.log(Q))))
    if max(t["M"][i] / M, M / t["M"][i]) > MAX_SHAPE_RATIO or max(t["Q"][j] / Q, Q / t["Q"][j]) > MAX_SHAPE_RATIO:
        return nan
    found = read_belt(_cell_belt(i, j, float(level)), float(alpha))
    if found is None:
        return nan
    value, lo, hi, _, _ = found
    return dict(mu=value, mu_lo=lo, mu_hi=hi)
