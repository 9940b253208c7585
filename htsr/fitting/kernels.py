"""Pure JAX kernels of the xmin scan (continuous and discrete power laws).

Conventions (those of Clauset's ``plfit.m``)
-------------------------------------------
Candidates for xmin are the unique values of the sample except the largest.
For a candidate ``xmin`` the tail is every point ``x >= xmin``, alpha is its
MLE, and D is the Kolmogorov-Smirnov distance of the tail from the fitted law:

* **continuous**: the tail sorted ascending, tied values included as separate
  points, is compared at each point ``z_i`` (i = 0..n-1) with the empirical
  value ``i / n``::

      D = max_i | 1 - (xmin / z_i)^(alpha - 1)  -  i / n |

  (``cx = (0:n-1)'/n; cf = 1-(xmin./z).^(alpha-1); D = max(abs(cf-cx))``).
  Without ties this is also the ``powerlaw`` package's D.
* **discrete**: both CDFs are compared at every integer ``k`` from xmin to
  the tail's maximum, with the empirical CDF counting ``x <= k``::

      D = max_k | P(X <= k) - #{x_i <= k} / n |

  Between two observed values the empirical CDF is flat and the fitted CDF
  rises, so the maximum over integers is attained at an observed value ``u``
  or just before the next one; only those two places per unique value are
  evaluated.

Data layout
-----------
A batch of B samples is a (B, P) float64 array, each row sorted ascending and
padded at the end (padding repeats the row's last value), plus the counts of
real entries.  Discrete samples are stored as their unique values (B, U) with
multiplicities (padding has multiplicity 0).

Exactness with pruning
----------------------
``lower_bound`` evaluates the KS deviation at ``m`` points spread over each
candidate's tail.  A maximum over a subset of the points is a lower bound on
the maximum over all of them, so any candidate whose bound exceeds the best
exact D found so far cannot be the argmin.  ``refined_bound`` tightens the bound of the
survivors with more points, and ``exact_d`` evaluates a chunk of
(sample, candidate) pairs over every point.  The host loop in
:mod:`htsr.fitting.scan` alternates between them; the selected xmin is the one
an exhaustive scan selects.
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp

from ..models import powerlaw as pl
from ..special import log_hurwitz_zeta

__all__ = [
    "continuous_alpha",
    "continuous_lower_bound",
    "continuous_refined_bound",
    "continuous_exact_d",
    "discrete_alpha",
    "discrete_alpha_on_grid",
    "discrete_lower_bound",
    "discrete_refined_bound",
    "discrete_exact_d",
]


def _suffix_sum(v):
    return jnp.flip(jnp.cumsum(jnp.flip(v, -1), -1), -1)


# ---------------------------------------------------------------- continuous
@jax.jit
def continuous_alpha(x, n):
    """MLE alpha for every candidate index.

    Parameters
    ----------
    x : (B, P) sorted padded samples; n : (B,) counts.

    Returns
    -------
    lx : (B, P) log x
    alpha : (B, P) alpha if xmin = x[b, j] (garbage where the tail is empty)
    """
    lx = jnp.log(x)
    idx = jnp.arange(x.shape[-1])
    valid = idx < n[:, None]
    s = _suffix_sum(jnp.where(valid, lx, 0.0))
    nt = (n[:, None] - idx).astype(x.dtype)
    denom = s - nt * lx
    alpha = pl.continuous_mle(denom, nt)
    return lx, alpha


def _cont_dev(lxi, lxj, alpha, pos, nt):
    """|fitted CDF - empirical CDF| at tail position ``pos`` (0-based).

    ``1 - exp(.)`` rather than ``-expm1(.)``: D is an absolute difference, so the
    two agree to ~1e-16, and exp is several times faster on XLA:CPU.
    """
    fitted = 1.0 - jnp.exp((1.0 - alpha) * (lxi - lxj))
    return jnp.abs(fitted - pos * (1.0 / nt))


def _spread(js, nt, m):
    """``m`` tail positions (offsets from the candidate) spread evenly over its tail."""
    frac = jnp.arange(m, dtype=jnp.float64) / (m - 1)
    return jnp.floor(frac * jnp.maximum(nt - 1, 0).astype(jnp.float64)[..., None]).astype(jnp.int32)


def _pair_bound(lx, alpha, n, bs, js, m):
    """Deviation at ``m`` tail points for (sample, candidate) pairs of any shape."""
    P = lx.shape[-1]
    nt = n[bs] - js
    off = _spread(js, nt, m)
    lxi = lx[bs[..., None], jnp.clip(js[..., None] + off, 0, P - 1)]
    dev = _cont_dev(lxi, lx[bs, js][..., None], alpha[bs, js][..., None], off,
                    nt[..., None].astype(jnp.float64))
    return jnp.where(nt >= 2, jnp.max(dev, axis=-1), jnp.inf)


@partial(jax.jit, static_argnames=("m",))
def continuous_lower_bound(lx, alpha, n, cidx, m: int = 64):
    """Lower bound on D at candidate positions ``cidx`` (B, C): the deviation at
    ``m`` points of each tail.  Returns (B, C); +inf where the tail has < 2 points."""
    bs = jnp.broadcast_to(jnp.arange(lx.shape[0], dtype=jnp.int32)[:, None], cidx.shape)
    return _pair_bound(lx, alpha, n, bs, cidx, m)


@partial(jax.jit, static_argnames=("m",))
def continuous_refined_bound(lx, alpha, n, bs, js, m: int = 1024):
    """Lower bound on D for (sample, candidate) pairs from ``m`` tail points; shape (C,)."""
    return _pair_bound(lx, alpha, n, bs, js, m)


@jax.jit
def continuous_exact_d(lx, alpha, n, bs, js, lxmin=None):
    """Exact D for the (sample, candidate) pairs ``(bs[c], js[c])``; shape (C,).

    ``lxmin`` (C,), if given, is log(xmin) for each pair; by default xmin is the
    candidate's own value ``x[bs, js]`` (a user-fixed xmin need not be a data point).
    """
    P = lx.shape[-1]
    row = lx[bs]  # (C, P)
    a = alpha[bs, js][:, None]
    lxj = (lx[bs, js] if lxmin is None else lxmin)[:, None]
    nt = (n[bs] - js)[:, None]
    pos = jnp.arange(P)[None, :] - js[:, None]
    dev = _cont_dev(row, lxj, a, pos, nt)
    ok = (pos >= 0) & (pos < nt)
    return jnp.max(jnp.where(ok, dev, 0.0), axis=-1)


# ------------------------------------------------------------------ discrete
@jax.jit
def discrete_alpha(u, c):
    """Exact MLE alpha for every candidate (unique value) of discrete samples.

    Parameters
    ----------
    u : (B, U) sorted unique values (padded by repeating the last);
    c : (B, U) multiplicities (0 on padding).

    Returns
    -------
    alpha : (B, U); nt : (B, U) tail sizes; cum_before : (B, U) points below u.
    """
    nt = _suffix_sum(c)
    lsum = _suffix_sum(c * jnp.log(u))
    mean = lsum / jnp.maximum(nt, 1.0)
    alpha = pl.discrete_mle(mean, u)
    cum_before = jnp.cumsum(c, -1) - c
    return alpha, nt, cum_before


@jax.jit
def discrete_alpha_on_grid(u, c, alpha, nt, grid):
    """Snap each candidate's exact MLE to the likelihood's best point on ``grid``
    (:func:`htsr.models.powerlaw.discrete_grid_mle`; ``plfit.m`` compatibility)."""
    mean = _suffix_sum(c * jnp.log(u)) / jnp.maximum(nt, 1.0)
    return pl.discrete_grid_mle(alpha, mean, u, grid)


def _disc_dev(u, c_cum, lz_next, lz_succ, lz0, cb, nt, has_succ):
    """Deviation at unique value ``u_k`` and just before the next unique value.

    ``c_cum`` = points <= u_k in the whole sample, ``lz_next`` = log zeta(alpha, u_k+1),
    ``lz_succ`` = log zeta(alpha, u_{k+1}), ``lz0`` = log zeta(alpha, xmin),
    ``cb`` = points below xmin.
    """
    emp = (c_cum - cb) / nt
    at_u = jnp.abs(1.0 - jnp.exp(lz_next - lz0) - emp)
    before_next = jnp.abs(1.0 - jnp.exp(lz_succ - lz0) - emp)
    return jnp.maximum(at_u, jnp.where(has_succ, before_next, 0.0))


def _disc_points(u, c, alpha_j, lz0, cb, nt, k, nu):
    """Deviation of candidate(s) with parameters (alpha_j, lz0, cb, nt) at unique index k."""
    uk = jnp.take_along_axis(u, k, axis=-1)
    usucc = jnp.take_along_axis(u, jnp.minimum(k + 1, u.shape[-1] - 1), axis=-1)
    ccum = jnp.take_along_axis(jnp.cumsum(c, -1), k, axis=-1)
    lz_next = log_hurwitz_zeta(alpha_j, uk + 1.0)
    lz_succ = log_hurwitz_zeta(alpha_j, usucc)
    has_succ = (k + 1) < nu
    return _disc_dev(uk, ccum, lz_next, lz_succ, lz0, cb, nt, has_succ)


@partial(jax.jit, static_argnames=("m",))
def discrete_lower_bound(u, c, alpha, nt, cum_before, nu, m: int = 32):
    """Lower bound on D for every discrete candidate (deviation at ``m`` unique values)."""
    B, U = u.shape
    idx = jnp.arange(U)
    ntail_u = nu[:, None] - idx  # unique values in the tail
    kk = jnp.arange(m)
    k = idx[None, :, None] + (kk[None, None, :] * jnp.maximum(ntail_u[..., None] - 1, 0)) // (m - 1)
    k = jnp.clip(k, 0, U - 1).reshape(B, U * m)
    rep = lambda v: jnp.repeat(v, m, axis=-1)  # noqa: E731
    a = rep(alpha)
    lz0 = log_hurwitz_zeta(a, rep(u))
    dev = _disc_points(u, c, a, lz0, rep(cum_before), rep(nt), k, nu[:, None])
    lb = jnp.max(dev.reshape(B, U, m), axis=-1)
    return jnp.where(ntail_u >= 2, lb, jnp.inf)


@partial(jax.jit, static_argnames=("m",))
def discrete_refined_bound(u, c, alpha, nt, cum_before, nu, bs, js, m: int = 256):
    """Lower bound on D for discrete (sample, candidate) pairs from ``m`` unique values."""
    U = u.shape[-1]
    ntail_u = (nu[bs] - js)[:, None]
    k = js[:, None] + (jnp.arange(m)[None, :] * jnp.maximum(ntail_u - 1, 0)) // (m - 1)
    k = jnp.clip(k, 0, U - 1)
    a = alpha[bs, js][:, None]
    lz0 = log_hurwitz_zeta(a, u[bs, js][:, None])
    dev = _disc_points(
        u[bs], c[bs], a, lz0, cum_before[bs, js][:, None], nt[bs, js][:, None], k, nu[bs][:, None]
    )
    return jnp.max(dev, axis=-1)


@jax.jit
def discrete_exact_d(u, c, alpha, nt, cum_before, nu, bs, js):
    """Exact D for the (sample, candidate) pairs ``(bs[c], js[c])``; shape (C,)."""
    U = u.shape[-1]
    ub, cbatch = u[bs], c[bs]  # (C, U)
    a = alpha[bs, js][:, None]
    lz0 = log_hurwitz_zeta(a, u[bs, js][:, None])
    k = jnp.broadcast_to(jnp.arange(U)[None, :], ub.shape)
    dev = _disc_points(
        ub, cbatch, a, lz0, cum_before[bs, js][:, None], nt[bs, js][:, None], k, nu[bs][:, None]
    )
    ok = (k >= js[:, None]) & (k < nu[bs][:, None])
    return jnp.max(jnp.where(ok, dev, 0.0), axis=-1)
