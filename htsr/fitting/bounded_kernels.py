"""Pure JAX kernels of the xmin scan under the bounded power law (fixed xmax).

Same data layout and the same ``plfit.m`` conventions for D as
:mod:`htsr.fitting.kernels`, with the fitted CDF that of the bounded law on
``[xmin, xmax]`` (:mod:`htsr.models.bounded`) and alpha its exact MLE.  Every
row carries its own ``xmax`` (``lxmax = ln xmax`` for continuous rows); the
caller has removed the points above it.  The three stages (coarse lower bound
on every candidate, refined bound on pairs, exact D on pairs) feed the pruning
loop of :mod:`htsr.fitting.scan` exactly as the unbounded kernels do.

The fixed-range kernels at the end (:func:`continuous_range_d`,
:func:`discrete_range_d`) give D with both ends and alpha given: the D of
:func:`htsr.fitting.fixed_range.fit_range`, unbounded law included.
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp

from ..models import bounded as bd
from .kernels import (
    DISCRETE_BOUND_BUDGET,
    EXACT_WIDTH,
    exact_width,
    disc_dev,
    suffix_sum,
    block_positions,
    block_ub,
    blocked_max,
    map_columns,
    window_positions,
)

__all__ = [
    "continuous_alpha",
    "continuous_lower_bound",
    "continuous_refined_bound",
    "continuous_exact_d",
    "discrete_alpha",
    "discrete_lower_bound",
    "discrete_refined_bound",
    "discrete_exact_d",
    "continuous_block_points",
    "discrete_block_points",
    "continuous_window_bound",
    "discrete_window_bound",
    "continuous_range_d",
    "discrete_range_d",
]

_Y_EPS = 1e-15


# ---------------------------------------------------------------- continuous
@partial(jax.jit, static_argnames=("conditional",))
def continuous_alpha(x, n, lxmax, conditional: bool = False):
    """Bounded MLE alpha for every candidate index of (B, P) padded samples.

    ``conditional=True`` (xmax = the sample's largest value): the MLE given the
    tail's smallest and largest points, i.e. from the ``nt - 2`` points between
    them with the range ``[x_j, xmax]`` (see :mod:`htsr.fitting.bounded_scan`).

    Returns ``lx`` (B, P), ``alpha`` (B, P) and ``r = ln(xmax / x)`` (B, P, with
    1 where the candidate is not valid).
    """
    lx = jnp.log(x)
    idx = jnp.arange(x.shape[-1])
    valid = idx < n[:, None]
    s = suffix_sum(jnp.where(valid, lx, 0.0))
    nt = (n[:, None] - idx).astype(x.dtype)
    r = lxmax[:, None] - lx
    k = 2.0 if conditional else 0.0
    # a conditional fit needs one point strictly inside the range (nt >= 3),
    # an unconditional one two points: the same rule as the scan's candidates
    ok = valid & (nt >= 2 + k / 2.0) & (r > 0)
    r = jnp.where(ok, r, 1.0)
    # conditional: drop t = 0 (the candidate itself) and t = r (the maximum)
    y = jnp.where(ok, (s - nt * lx - k / 2.0 * r) / jnp.maximum(nt - k, 1.0) / r, 0.5)
    alpha = bd.continuous_mle(jnp.clip(y, _Y_EPS, 1.0 - _Y_EPS) * r, r)
    return lx, alpha, r


def _fit_emp(lxi, lxj, alpha, r, pos, nt):
    """Bounded fitted CDF and empirical CDF at tail position ``pos`` (0-based).

    ``pos`` is cast to float64 first: in JAX, int32 / int32 is float32.
    """
    return bd._cdf_t(lxi - lxj, alpha - 1.0, r), jnp.asarray(pos, jnp.float64) / nt


def _dev(lxi, lxj, alpha, r, pos, nt):
    """|bounded CDF - empirical CDF| at tail position ``pos`` (0-based)."""
    fitted, emp = _fit_emp(lxi, lxj, alpha, r, pos, nt)
    return jnp.abs(fitted - emp)


def _pair_bound(lx, alpha, r, n, bs, js, m):
    """Deviation at ``m`` tail points for (sample, candidate) pairs of any shape; +inf if < 2 points."""
    P = lx.shape[-1]
    nt = (n[bs] - js)[..., None]
    off = (jnp.arange(m) * jnp.maximum(nt - 1, 0)) // (m - 1)
    i = jnp.clip(js[..., None] + off, 0, P - 1)
    dev = _dev(lx[bs[..., None], i], lx[bs, js][..., None], alpha[bs, js][..., None], r[bs, js][..., None], off, nt)
    return jnp.where(nt[..., 0] >= 2, jnp.max(dev, axis=-1), jnp.inf)


@partial(jax.jit, static_argnames=("m",))
def continuous_lower_bound(lx, alpha, r, n, cidx, m: int = 64):
    """Lower bound on D at candidate positions ``cidx`` (B, C) from ``m`` tail points,
    in column blocks; (B, C), +inf if < 2 points."""
    return map_columns(lambda bs, js: _pair_bound(lx, alpha, r, n, bs, js, m), cidx, m)


@partial(jax.jit, static_argnames=("m",))
def continuous_refined_bound(lx, alpha, r, n, bs, js, m: int = 1024):
    """Lower bound on D for (sample, candidate) pairs from ``m`` tail points; (C,)."""
    return _pair_bound(lx, alpha, r, n, bs, js, m)


@partial(jax.jit, static_argnames=("peak",))
def continuous_exact_d(lx, alpha, r, n, bs, js, peak: bool = False):
    """Exact D for the (sample, candidate) pairs ``(bs[c], js[c])``, every tail point; (C,).
    ``peak=True`` also returns the tail offset of the largest deviation."""
    P = lx.shape[-1]
    nt = (n[bs] - js)[:, None]
    par = (lx[bs, js][:, None], alpha[bs, js][:, None], r[bs, js][:, None])

    def dev(pos):
        return _dev(lx[bs[:, None], jnp.minimum(js[:, None] + pos, P - 1)], *par, pos, nt)

    return blocked_max(dev, nt, exact_width(P), peak)


@partial(jax.jit, static_argnames=("f",))
def continuous_block_points(lx, alpha, r, n, bs, js, starts, step, *, f: int):
    """Deviation at ``starts + step * k`` (k = 0..f) and bounds inside the sub-blocks
    (see :func:`htsr.fitting.kernels.continuous_block_points`); (H, f + 1), (H, f)."""
    i = block_positions(starts, n[bs] - 1, step, f)
    fitted, emp = _fit_emp(lx[bs[:, None], i], lx[bs, js][:, None], alpha[bs, js][:, None], r[bs, js][:, None],
                           i - js[:, None], (n[bs] - js)[:, None])
    return jnp.abs(fitted - emp), block_ub(fitted, emp)


@partial(jax.jit, static_argnames=("w",))
def continuous_window_bound(lx, alpha, r, n, bs, js, hints, w: int = 9):
    """Lower bound on D from ``w`` points around each hint (C, H); (C,)."""
    i = window_positions(js, n[bs] - 1, hints.astype(js.dtype), w)
    dev = _dev(lx[bs[:, None], i], lx[bs, js][:, None], alpha[bs, js][:, None], r[bs, js][:, None],
               i - js[:, None], (n[bs] - js)[:, None])
    return jnp.max(dev, axis=-1)


# ------------------------------------------------------------------ discrete
@jax.jit
def discrete_alpha(u, c, nu, xmax):
    """Exact bounded MLE for every candidate (unique value) of discrete samples.

    ``u`` (B, U) sorted unique values, ``c`` (B, U) multiplicities, ``nu`` (B,)
    unique counts, ``xmax`` (B,) upper ends.  Returns alpha, nt, cum_before (B, U).
    """
    nt = suffix_sum(c)
    lsum = suffix_sum(c * jnp.log(u))
    idx = jnp.arange(u.shape[-1])
    ok = idx < (nu[:, None] - 1)
    b = jnp.broadcast_to(xmax[:, None], u.shape)
    b_safe = jnp.where(ok, b, u + 1.0)
    mean = jnp.where(ok, lsum / jnp.maximum(nt, 1.0), 0.5 * (jnp.log(u) + jnp.log(b_safe)))
    alpha = bd.discrete_mle(mean, u, b_safe)
    cum_before = jnp.cumsum(c, -1) - c
    return alpha, nt, cum_before


def _points(u, c, alpha_j, ls0, cb, nt, k, nu, b):
    uk = jnp.take_along_axis(u, k, axis=-1)
    usucc = jnp.take_along_axis(u, jnp.minimum(k + 1, u.shape[-1] - 1), axis=-1)
    ccum = jnp.take_along_axis(jnp.cumsum(c, -1), k, axis=-1)
    ls_next = bd.log_power_sum(alpha_j, uk + 1.0, b)
    ls_succ = bd.log_power_sum(alpha_j, usucc, b)
    return disc_dev(uk, ccum, ls_next, ls_succ, ls0, cb, nt, (k + 1) < nu)


def _at(u, ccum, nu, bs, k, a, ls0, cb, nt, b):
    """Bounded counterpart of :func:`htsr.fitting.kernels._disc_at` (same expression as
    :func:`_points`): deviation, fitted CDF at ``u_k`` and empirical CDF at unique index ``k``."""
    U = u.shape[-1]
    uk = u[bs, k]
    usucc = u[bs, jnp.minimum(k + 1, U - 1)]
    emp = (ccum[bs, k] - cb) / nt
    f_at = 1.0 - jnp.exp(bd.log_power_sum(a, uk + 1.0, b) - ls0)
    f_before = 1.0 - jnp.exp(bd.log_power_sum(a, usucc, b) - ls0)
    has_succ = (k + 1) < nu[bs]
    dev = jnp.maximum(jnp.abs(f_at - emp), jnp.where(has_succ, jnp.abs(f_before - emp), 0.0))
    return dev, f_at, emp


def _pair(u, alpha, nt, cum_before, xmax, bs, js):
    """Per-pair (alpha, log S(alpha; xmin, xmax), points below xmin, tail size, xmax), (C, 1) each."""
    a = alpha[bs, js][..., None]
    b = xmax[bs][..., None]
    return a, bd.log_power_sum(a, u[bs, js][..., None], b), cum_before[bs, js][..., None], nt[bs, js][..., None], b


def _disc_pair_bound(u, ccum, alpha, nt, cum_before, nu, xmax, bs, js, m):
    U = u.shape[-1]
    ntail_u = (nu[bs] - js)[..., None]
    k = jnp.clip(js[..., None] + (jnp.arange(m) * jnp.maximum(ntail_u - 1, 0)) // (m - 1), 0, U - 1)
    dev, _, _ = _at(u, ccum, nu, bs[..., None], k, *_pair(u, alpha, nt, cum_before, xmax, bs, js))
    return jnp.where(ntail_u[..., 0] >= 2, jnp.max(dev, axis=-1), jnp.inf)


@partial(jax.jit, static_argnames=("m",))
def discrete_lower_bound(u, c, alpha, nt, cum_before, nu, xmax, cidx, m: int = 32):
    """Lower bound on D at discrete candidates ``cidx`` (B, C) from ``m`` unique values, in column blocks."""
    ccum = cum_before + c
    return map_columns(lambda bs, js: _disc_pair_bound(u, ccum, alpha, nt, cum_before, nu, xmax, bs, js, m),
                       cidx, m, DISCRETE_BOUND_BUDGET)


@partial(jax.jit, static_argnames=("m",))
def discrete_refined_bound(u, c, alpha, nt, cum_before, nu, xmax, bs, js, m: int = 256):
    """Lower bound on D for discrete (sample, candidate) pairs from ``m`` unique values."""
    return _disc_pair_bound(u, cum_before + c, alpha, nt, cum_before, nu, xmax, bs, js, m)


@partial(jax.jit, static_argnames=("peak",))
def discrete_exact_d(u, c, alpha, nt, cum_before, nu, xmax, bs, js, peak: bool = False):
    """Exact D for discrete (sample, candidate) pairs, every unique value of the tail; (C,).
    ``peak=True`` also returns the offset of the largest deviation."""
    U = u.shape[-1]
    ccum = cum_before + c
    par = _pair(u, alpha, nt, cum_before, xmax, bs, js)

    def dev(pos):
        return _at(u, ccum, nu, bs[:, None], jnp.minimum(js[:, None] + pos, U - 1), *par)[0]

    return blocked_max(dev, (nu[bs] - js)[:, None], min(U, EXACT_WIDTH // 8), peak)


@partial(jax.jit, static_argnames=("f",))
def discrete_block_points(u, c, alpha, nt, cum_before, nu, xmax, bs, js, starts, step, *, f: int):
    """Bounded counterpart of :func:`htsr.fitting.kernels.discrete_block_points`."""
    k = block_positions(starts, nu[bs] - 1, step, f)
    dev, f_at, emp = _at(u, cum_before + c, nu, bs[:, None], k, *_pair(u, alpha, nt, cum_before, xmax, bs, js))
    return dev, block_ub(f_at, emp)


@partial(jax.jit, static_argnames=("w",))
def discrete_window_bound(u, c, alpha, nt, cum_before, nu, xmax, bs, js, hints, w: int = 9):
    """Bounded discrete counterpart of :func:`continuous_window_bound`."""
    k = window_positions(js, nu[bs] - 1, hints.astype(js.dtype), w)
    dev, _, _ = _at(u, cum_before + c, nu, bs[:, None], k, *_pair(u, alpha, nt, cum_before, xmax, bs, js))
    return jnp.max(dev, axis=-1)


# ------------------------------------------------------------ fixed range
@partial(jax.jit, static_argnames=("bounded",))
def continuous_range_d(x, n, lxmin, lxmax, alpha, *, bounded: bool):
    """D of (B, P) padded tails with both ends fixed, at the given ``alpha`` (B,).

    Every real entry lies in ``[xmin, xmax]``; ``bounded=False`` compares with
    the unbounded power law on ``x >= xmin`` (``lxmax`` ignored).
    """
    P = x.shape[-1]
    lx = jnp.log(x)
    pos = jnp.arange(P)[None, :]
    valid = pos < n[:, None]
    nt = n.astype(x.dtype)
    if bounded:
        fitted = bd._cdf_t(lx - lxmin[:, None], (alpha - 1.0)[:, None], (lxmax - lxmin)[:, None])
    else:
        fitted = -jnp.expm1(-(alpha - 1.0)[:, None] * (lx - lxmin[:, None]))
    dev = jnp.abs(fitted - pos / nt[:, None])
    return jnp.max(jnp.where(valid, dev, 0.0), axis=-1)


@partial(jax.jit, static_argnames=("bounded",))
def discrete_range_d(u, c, nu, alpha, xmin, xmax, *, bounded: bool):
    """D of discrete tails stored as unique values with fixed ``xmin`` (and ``xmax``).

    ``u[:, 0]`` must be ``xmin`` (with count 0 if it was not observed).
    """
    U = u.shape[-1]
    k = jnp.broadcast_to(jnp.arange(U)[None, :], u.shape)
    a = alpha[:, None]
    nt = jnp.sum(c, axis=-1)[:, None]
    cb = jnp.zeros_like(nt)
    if bounded:
        b = xmax[:, None]
        ls0 = bd.log_power_sum(a, xmin[:, None], b)
        dev = _points(u, c, a, ls0, cb, nt, k, nu[:, None], b)
    else:
        from ..special import log_hurwitz_zeta
        from .kernels import disc_points

        lz0 = log_hurwitz_zeta(a, xmin[:, None])
        dev = disc_points(u, c, a, lz0, cb, nt, k, nu[:, None])
    return jnp.max(jnp.where(k < nu[:, None], dev, 0.0), axis=-1)
