"""Pure JAX kernels of the xmin scan under the bounded power law (fixed xmax).

Same data layout and the same ``plfit.m`` conventions for D as
:mod:`htsr.fitting.kernels`, with the fitted CDF that of the bounded law on
``[xmin, xmax]`` (:mod:`htsr.models.bounded`) and alpha its exact MLE.  Every
row carries its own ``xmax`` (``lxmax = ln xmax`` for continuous rows); the
caller has removed the points above it.  The three stages (coarse lower bound
on every candidate, refined bound on pairs, exact D on pairs) feed the pruning
loop of :mod:`htsr.fitting.scan` exactly as the unbounded kernels do.

The fixed-range kernels at the end (:func:`continuous_range_fit`,
:func:`discrete_range_d`) fit alpha and D with both ends given, for the
Deluca-Corral goodness-of-fit test and the range search.
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp

from ..models import bounded as bd
from ..models import powerlaw as pl
from .kernels import _disc_dev, _suffix_sum

__all__ = [
    "continuous_alpha",
    "continuous_lower_bound",
    "continuous_refined_bound",
    "continuous_exact_d",
    "discrete_alpha",
    "discrete_lower_bound",
    "discrete_refined_bound",
    "discrete_exact_d",
    "continuous_range_fit",
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
    s = _suffix_sum(jnp.where(valid, lx, 0.0))
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


def _dev(lxi, lxj, alpha, r, pos, nt):
    """|bounded CDF - empirical CDF| at tail position ``pos`` (0-based)."""
    fitted = bd._cdf_t(lxi - lxj, alpha - 1.0, r)
    return jnp.abs(fitted - pos / nt)


@partial(jax.jit, static_argnames=("m",))
def continuous_lower_bound(lx, alpha, r, n, m: int = 64):
    """Lower bound on D for every candidate from ``m`` tail points; (B, P), +inf if < 2 points."""
    B, P = lx.shape
    idx = jnp.arange(P)
    nt = n[:, None] - idx
    k = jnp.arange(m)
    off = (k[None, None, :] * jnp.maximum(nt[..., None] - 1, 0)) // (m - 1)
    i = jnp.clip(idx[None, :, None] + off, 0, P - 1)
    lxi = jnp.take_along_axis(lx[:, None, :], i.reshape(B, 1, -1), axis=-1).reshape(B, P, m)
    dev = _dev(lxi, lx[..., None], alpha[..., None], r[..., None], off, nt[..., None])
    return jnp.where(nt >= 2, jnp.max(dev, axis=-1), jnp.inf)


@partial(jax.jit, static_argnames=("m",))
def continuous_refined_bound(lx, alpha, r, n, bs, js, m: int = 1024):
    """Lower bound on D for (sample, candidate) pairs from ``m`` tail points; (C,)."""
    P = lx.shape[-1]
    nt = (n[bs] - js)[:, None]
    off = (jnp.arange(m)[None, :] * jnp.maximum(nt - 1, 0)) // (m - 1)
    i = jnp.clip(js[:, None] + off, 0, P - 1)
    dev = _dev(lx[bs[:, None], i], lx[bs, js][:, None], alpha[bs, js][:, None], r[bs, js][:, None], off, nt)
    return jnp.max(dev, axis=-1)


@jax.jit
def continuous_exact_d(lx, alpha, r, n, bs, js):
    """Exact D for the (sample, candidate) pairs ``(bs[c], js[c])``; (C,)."""
    P = lx.shape[-1]
    nt = (n[bs] - js)[:, None]
    pos = jnp.arange(P)[None, :] - js[:, None]
    dev = _dev(lx[bs], lx[bs, js][:, None], alpha[bs, js][:, None], r[bs, js][:, None], pos, nt)
    ok = (pos >= 0) & (pos < nt)
    return jnp.max(jnp.where(ok, dev, 0.0), axis=-1)


# ------------------------------------------------------------------ discrete
@jax.jit
def discrete_alpha(u, c, nu, xmax):
    """Exact bounded MLE for every candidate (unique value) of discrete samples.

    ``u`` (B, U) sorted unique values, ``c`` (B, U) multiplicities, ``nu`` (B,)
    unique counts, ``xmax`` (B,) upper ends.  Returns alpha, nt, cum_before (B, U).
    """
    nt = _suffix_sum(c)
    lsum = _suffix_sum(c * jnp.log(u))
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
    return _disc_dev(uk, ccum, ls_next, ls_succ, ls0, cb, nt, (k + 1) < nu)


@partial(jax.jit, static_argnames=("m",))
def discrete_lower_bound(u, c, alpha, nt, cum_before, nu, xmax, m: int = 32):
    """Lower bound on D for every discrete candidate (deviation at ``m`` unique values)."""
    B, U = u.shape
    idx = jnp.arange(U)
    ntail_u = nu[:, None] - idx
    k = idx[None, :, None] + (jnp.arange(m)[None, None, :] * jnp.maximum(ntail_u[..., None] - 1, 0)) // (m - 1)
    k = jnp.clip(k, 0, U - 1).reshape(B, U * m)
    rep = lambda v: jnp.repeat(v, m, axis=-1)  # noqa: E731
    a = rep(alpha)
    b = xmax[:, None]
    ls0 = bd.log_power_sum(a, rep(u), b)
    dev = _points(u, c, a, ls0, rep(cum_before), rep(nt), k, nu[:, None], b)
    lb = jnp.max(dev.reshape(B, U, m), axis=-1)
    return jnp.where(ntail_u >= 2, lb, jnp.inf)


@partial(jax.jit, static_argnames=("m",))
def discrete_refined_bound(u, c, alpha, nt, cum_before, nu, xmax, bs, js, m: int = 256):
    """Lower bound on D for discrete (sample, candidate) pairs from ``m`` unique values."""
    U = u.shape[-1]
    ntail_u = (nu[bs] - js)[:, None]
    k = jnp.clip(js[:, None] + (jnp.arange(m)[None, :] * jnp.maximum(ntail_u - 1, 0)) // (m - 1), 0, U - 1)
    a = alpha[bs, js][:, None]
    b = xmax[bs][:, None]
    ls0 = bd.log_power_sum(a, u[bs, js][:, None], b)
    dev = _points(u[bs], c[bs], a, ls0, cum_before[bs, js][:, None], nt[bs, js][:, None], k, nu[bs][:, None], b)
    return jnp.max(dev, axis=-1)


@jax.jit
def discrete_exact_d(u, c, alpha, nt, cum_before, nu, xmax, bs, js):
    """Exact D for discrete (sample, candidate) pairs; (C,)."""
    U = u.shape[-1]
    ub = u[bs]
    a = alpha[bs, js][:, None]
    b = xmax[bs][:, None]
    ls0 = bd.log_power_sum(a, u[bs, js][:, None], b)
    k = jnp.broadcast_to(jnp.arange(U)[None, :], ub.shape)
    dev = _points(ub, c[bs], a, ls0, cum_before[bs, js][:, None], nt[bs, js][:, None], k, nu[bs][:, None], b)
    ok = (k >= js[:, None]) & (k < nu[bs][:, None])
    return jnp.max(jnp.where(ok, dev, 0.0), axis=-1)


# ------------------------------------------------------------ fixed range
@partial(jax.jit, static_argnames=("bounded", "drop_max"))
def continuous_range_fit(x, n, lxmin, lxmax, *, bounded: bool, drop_max: bool = False):
    """alpha and D of (B, P) padded tails with both ends fixed.

    Every real entry lies in ``[xmin, xmax]``; ``bounded=False`` fits the
    unbounded power law on ``x >= xmin`` (``lxmax`` ignored).
    ``drop_max``: alpha from all points but the largest (the MLE given the
    maximum, when xmax is the largest observation).
    Returns ``(alpha, D)``, each (B,).
    """
    P = x.shape[-1]
    lx = jnp.log(x)
    pos = jnp.arange(P)[None, :]
    valid = pos < n[:, None]
    nt = n.astype(x.dtype)
    use = valid & (pos < (n - 1)[:, None]) if drop_max else valid
    s = jnp.sum(jnp.where(use, lx - lxmin[:, None], 0.0), axis=-1)
    if bounded:
        r = lxmax - lxmin
        y = jnp.clip(s / (nt - 1.0 if drop_max else nt) / r, _Y_EPS, 1.0 - _Y_EPS)
        alpha = bd.continuous_mle(y * r, r)
        fitted = bd._cdf_t(lx - lxmin[:, None], (alpha - 1.0)[:, None], r[:, None])
    else:
        alpha = pl.continuous_mle(s, nt)
        fitted = -jnp.expm1(-(alpha - 1.0)[:, None] * (lx - lxmin[:, None]))
    dev = jnp.abs(fitted - pos / nt[:, None])
    return alpha, jnp.max(jnp.where(valid, dev, 0.0), axis=-1)


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
        from .kernels import _disc_points

        lz0 = log_hurwitz_zeta(a, xmin[:, None])
        dev = _disc_points(u, c, a, lz0, cb, nt, k, nu[:, None])
    return jnp.max(jnp.where(k < nu[:, None], dev, 0.0), axis=-1)
