"""The truncated power law of every fitted layer, and the nested test of the power law against it.

WeightWatcher's ``fit='TPL'`` (its ``alpha`` and ``Lambda`` columns) fits the
power law with exponential cutoff, ``p(x) ~ x^-alpha exp(-lambda x)`` on
``x >= xmin``, to the tail the power-law scan chose.  ``htsr.report(...,
tpl=True)`` does the same on each layer's Clauset tail (the same ``xmin``,
the same points) and adds what WeightWatcher does not show: the likelihood-ratio
test of the power law against it (Clauset, Shalizi & Newman 2009, section 5 and
Appendix C).  The power law is the cutoff law at ``lambda = 0`` (nested), so
``2 |R|`` is chi-square(1) and ``R <= 0`` up to rounding.

Columns (``NaN``/``""`` where a layer has no fit or ``tpl`` was not asked):

================  ===============================================================
``tpl_alpha``     the cutoff law's exponent
``tpl_lambda``    its cutoff rate lambda, in 1 / eigenvalue units
``tpl_R``         log-likelihood ratio power law - truncated power law (``< 0``:
                  the cutoff fits better)
``tpl_p``         chi-square(1) p-value of ``R`` (the nested test)
``tpl_verdict``   "truncated power law favoured" (``R < 0`` and ``p < 0.1``),
                  "power law favoured" or "inconclusive"
================  ===============================================================

Each number is the one ``htsr.compare(sample, "power_law",
"truncated_power_law", xmin=fit.xmin)`` gives for that layer: both laws are
fitted by their own batched ``mle`` (:mod:`htsr.models.registry`) on the same
padding as :func:`htsr.compare`, here all layers in one call per width bucket,
and the test is :func:`htsr.inference.lrt.likelihood_ratio`.
"""

from __future__ import annotations

import math

import numpy as np

from .. import _jax
from ..inference.lrt import likelihood_ratio
from ..inference.lrt import verdict as lrt_verdict
from ..models import registry

__all__ = ["TPL_COLUMNS", "tpl_columns"]

TPL_COLUMNS = ("tpl_alpha", "tpl_lambda", "tpl_R", "tpl_p", "tpl_verdict")

_MIN_WIDTH = 4096  # the padding htsr.compare uses: the same compiled kernels, the same numbers
_MIN_ROWS = 8  # rows padded to a bucket of at least this many: a few compilations, not one per layer count


def _empty() -> dict:
    return dict(tpl_alpha=math.nan, tpl_lambda=math.nan, tpl_R=math.nan, tpl_p=math.nan, tpl_verdict="")


def _mle_rows(law, tails, xmins):
    """``law.mle`` of each tail, rows padded to a bucket count: ``(params (B, k), pointwise list)``."""
    B = len(tails)
    rows = _jax.bucket(B, minimum=_MIN_ROWS)
    fill = [tails[0]] * (rows - B)  # extra rows repeat the first; their results are dropped
    X, n = _jax.pad_rows(list(tails) + fill, _jax.bucket(max(len(t) for t in tails), minimum=_MIN_WIDTH))
    r = law.mle(X, n, np.r_[xmins, np.full(rows - B, xmins[0])])
    return np.asarray(r.params[:B], dtype=np.float64), [np.asarray(r.pointwise[b, : len(t)]) for b, t in
                                                         enumerate(tails)]


def _test(pl_points, tpl_points) -> tuple[float, float, str]:
    if not (np.all(np.isfinite(pl_points)) and np.all(np.isfinite(tpl_points))):
        return math.nan, math.nan, ""  # a fit that failed: no test rather than an error
    t = likelihood_ratio(pl_points, tpl_points, nested=registry.is_nested("power_law", "power_law_cutoff"))
    return t.R, t.p, lrt_verdict(t.R, t.p, first="power law", second="truncated power law")


def tpl_columns(fits) -> list[dict]:
    """The :data:`TPL_COLUMNS` of each fit (a :class:`htsr.PowerLawFit` of a layer's sample), in order.

    Tails are grouped by their padded width (the bucket of ``n_tail``, at least 4096, as
    :func:`htsr.compare` pads them) and each group is fitted in one batched call per law.
    """
    out = [_empty() for _ in fits]
    tails = [np.asarray(f.tail, dtype=np.float64) for f in fits]
    usable = [b for b, t in enumerate(tails) if t.size >= 2 and t[-1] > t[0]]
    groups: dict[int, list[int]] = {}
    for b in usable:
        groups.setdefault(_jax.bucket(tails[b].size, minimum=_MIN_WIDTH), []).append(b)
    pl, tpl = registry.get("power_law"), registry.get("truncated_power_law")
    for members in groups.values():
        group = [tails[b] for b in members]
        xmins = np.array([float(fits[b].xmin) for b in members])
        _, pl_points = _mle_rows(pl, group, xmins)
        params, tpl_points = _mle_rows(tpl, group, xmins)
        for k, b in enumerate(members):
            R, p, said = _test(pl_points[k], tpl_points[k])
            out[b] = dict(tpl_alpha=float(params[k, 0]), tpl_lambda=float(params[k, 1]), tpl_R=R, tpl_p=p,
                          tpl_verdict=said)
    return out
