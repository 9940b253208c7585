"""Distances between a tail's empirical CDF and a fitted law: KS, Kuiper, Anderson-Darling, reweighted KS.

One padded sorted tail ``z_1 <= ... <= z_m`` (every ``z_i >= xmin``) and a law's CDF
``P(x) = P(X <= x)`` conditioned on ``X >= xmin``.  The empirical CDF is compared
on both sides of every jump:

* continuous: at ``z_i``, ``S_hi = i/m`` and ``S_lo = (i-1)/m`` against ``P(z_i)``
  (ties taken point by point, as :func:`scipy.stats.kstest` does);
* discrete (integers): at each observed value ``u``, ``S(u) = #{z <= u}/m`` against
  ``P(u)`` and ``S(u-1) = #{z < u}/m`` against ``P(u - 1)``.  Between two observed
  values the empirical CDF is flat and the law's rises, so these places hold every
  supremum below (the rule of the power law's discrete scan, :mod:`htsr.fitting.kernels`).

With ``D+ = max(S - P)`` and ``D- = max(P - S)`` over those places:

``ks``
    ``D = max(D+, D-)`` (Kolmogorov 1933; Clauset et al. 2009, eq. 3.9).
``kuiper``
    ``V = D+ + D-`` (Kuiper 1960), equally sensitive in the middle and the ends.
``reweighted_ks``
    ``D* = max |S - P| / sqrt(P (1 - P))`` over the places with ``0 < P < 1``
    (Clauset et al. 2009, section 3.3; R poweRlaw's ``distance="reweight"``):
    uniform sensitivity across the tail, most weight at its two ends.  For a
    continuous law the points at xmin, where ``P = 0`` exactly, carry no
    information and are skipped (by value, ``z > xmin``: rounding can leave
    ``P(xmin) ~ 1e-16``, whose weight would be ``1e8``).
``ad``
    Anderson-Darling (1954), continuous tails only::

        A^2 = -m' - (1/m') sum_j [(2j - 1) ln P(z_j) + (2m' - 2j + 1) ln(1 - P(z_j))]

    over the ``m'`` points above xmin (``z_j > xmin``: the points equal to xmin, where the
    conditioned law puts no mass below, are given, not observed; each term would be
    ``-inf``).  ``ln(1 - P)`` is the log of the law's CCDF, exact far in the tail.

Powerlaw's (Alstott et al.) "Asquare" is ``sum (S - P)^2 / (P (1 - P))``, not
Anderson-Darling's statistic; it is not offered.

References
----------
A. N. Kolmogorov (1933); N. H. Kuiper, Proc. KNAW A 63, 38 (1960);
T. W. Anderson, D. A. Darling, JASA 49, 765 (1954);
A. Clauset, C. R. Shalizi, M. E. J. Newman, SIAM Review 51, 661 (2009), section 3.3.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp

from ..errors import FitError

__all__ = ["DISTANCES", "check_distance", "tail_distance", "batch_distance"]

#: The distances a scan and a goodness-of-fit test can use.
DISTANCES = ("ks", "kuiper", "ad", "reweighted_ks")


def check_distance(distance, discrete: bool = False) -> str:
    """``distance`` if it is one of :data:`DISTANCES` (``"ad"`` only for continuous data), else FitError."""
    if not isinstance(distance, str) or distance not in DISTANCES:
        raise FitError(f"distance must be one of {', '.join(map(repr, DISTANCES))}, got {distance!r}")
    if distance == "ad" and discrete:
        raise FitError("distance='ad' (Anderson-Darling) is defined here for continuous data only; "
                       "use 'ks', 'kuiper' or 'reweighted_ks' for discrete data")
    return distance


def _empirical(z, valid, m, discrete):
    """``S_lo``, ``S_hi`` at each position of the padded sorted tail ``z``."""
    W = z.shape[0]
    if discrete:
        zs = jnp.where(valid, z, jnp.inf)
        lo = jnp.searchsorted(zs, z, side="left")
        hi = jnp.searchsorted(zs, z, side="right")
    else:
        lo = jnp.arange(W)
        hi = lo + 1
    return lo / m, hi / m


def tail_distance(law, z, m, params, xmin, *, distance: str, discrete: bool = False):
    """The ``distance`` of one padded sorted tail ``z`` (first ``m`` entries real) from ``law``.

    ``params`` is a sequence of scalars in ``law.param_names`` order.  Pure JAX
    (jit/vmap it); NaN when ``m < 1``.
    """
    W = z.shape[0]
    idx = jnp.arange(W)
    valid = idx < m
    zz = jnp.where(valid, z, xmin)
    P_hi = law.cdf(zz, params, xmin, discrete=discrete)
    P_lo = law.cdf(zz - 1.0, params, xmin, discrete=discrete) if discrete else P_hi
    S_lo, S_hi = _empirical(z, valid, m, discrete)
    neg = -jnp.inf
    if distance in ("ks", "kuiper"):
        dp = jnp.max(jnp.where(valid, jnp.maximum(S_hi - P_hi, S_lo - P_lo), neg))
        dm = jnp.max(jnp.where(valid, jnp.maximum(P_hi - S_hi, P_lo - S_lo), neg))
        out = jnp.maximum(dp, dm) if distance == "ks" else jnp.maximum(dp, 0.0) + jnp.maximum(dm, 0.0)
    elif distance == "reweighted_ks":
        # continuous: a point at xmin has P = 0 in exact arithmetic (rounding may leave 1e-16: skip it by value)
        above = valid if discrete else valid & (z > xmin)

        def rw(S, P):
            inside = above & (P > 0.0) & (P < 1.0)
            safe = jnp.where(inside, P, 0.5)
            return jnp.where(inside, jnp.abs(S - P) / jnp.sqrt(safe * (1.0 - safe)), neg)

        out = jnp.maximum(jnp.max(rw(S_hi, P_hi)), jnp.max(rw(S_lo, P_lo)))
    elif distance == "ad":
        keep = valid & (z > xmin) & (P_hi > 0.0)
        mk = jnp.sum(keep)
        j = (idx - (m - mk) + 1).astype(z.dtype)  # rank among the kept points (a suffix of the tail)
        lnF = jnp.log(jnp.where(keep, P_hi, 1.0))
        ln1mF = jnp.log(jnp.maximum(law.ccdf(zz, params, xmin), jnp.finfo(z.dtype).tiny))
        terms = jnp.where(keep, (2.0 * j - 1.0) * lnF + (2.0 * mk - 2.0 * j + 1.0) * ln1mF, 0.0)
        out = -mk - jnp.sum(terms) / mk
    else:  # pragma: no cover - check_distance runs first
        raise ValueError(distance)
    return jnp.where(m >= 1, out, jnp.nan)


@functools.cache
def _batch_kernel(law, distance: str, discrete: bool):
    def one(z, m, params, xmin):
        return tail_distance(law, z, m, tuple(params[i] for i in range(len(law.param_names))), xmin,
                             distance=distance, discrete=discrete)

    return jax.jit(jax.vmap(one))


def batch_distance(law, z, m, params, xmin, *, distance: str, discrete: bool = False):
    """:func:`tail_distance` of every row of a padded batch: ``z`` (B, W), ``m`` (B,), ``params`` (B, k),
    ``xmin`` (B,); jitted once per law, distance and shape.  Call under :func:`htsr._jax.x64`."""
    return _batch_kernel(law, distance, bool(discrete))(z, m, params, xmin)
