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
A maximum over a subset of a tail's points is a lower bound on D, so any
candidate whose bound exceeds the best exact D found so far cannot be the
argmin.  The bounds here: ``lower_bound`` (``m`` points spread over each
candidate's tail, for all candidates), ``refined_bound`` (the same for
(sample, candidate) pairs) and ``window_bound`` (the points around given
positions, where other candidates' deviations peaked).  ``block_points``
evaluates a grid of points in blocks of a tail and bounds the deviation
between them (both CDFs are monotone): the step of the branch-and-bound exact
D of :mod:`htsr.fitting.search`.  ``exact_d`` is the brute force, every point
of every tail.  The host loop in :mod:`htsr.fitting.scan` drives them; the
selected xmin is the one an exhaustive scan selects.

Memory
------
No kernel gathers a full row per pair: pair kernels touch O(pairs x points)
elements, the coarse bound runs over candidate blocks (``lax.map``) and the
brute force over blocks of ``EXACT_WIDTH`` tail points (``fori_loop``), so
scratch memory stays O(P) at any sample size.
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
    "continuous_block_points",
    "continuous_window_bound",
    "discrete_alpha",
    "discrete_alpha_on_grid",
    "discrete_lower_bound",
    "discrete_refined_bound",
    "discrete_exact_d",
    "discrete_block_points",
    "discrete_window_bound",
]


#: Elements per step of the blocked coarse bound (B x columns x m).
BOUND_BUDGET = 1 << 19
#: The same for the discrete laws (each point sums 16 terms of a zeta function).
DISCRETE_BOUND_BUDGET = BOUND_BUDGET // 16
#: Tail points per step of the brute-force exact D.
EXACT_WIDTH = 4096


def suffix_sum(v):
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
    s = suffix_sum(jnp.where(valid, lx, 0.0))
    nt = (n[:, None] - idx).astype(x.dtype)
    denom = s - nt * lx
    alpha = pl.continuous_mle(denom, nt)
    return lx, alpha


def _cont_fit_emp(lxi, lxj, alpha, pos, nt):
    """Fitted and empirical CDF at tail position ``pos`` (0-based) of a candidate.

    ``1 - exp(.)`` rather than ``-expm1(.)``: D is an absolute difference, so the
    two agree to ~1e-16, and exp is cheaper than expm1 on XLA:CPU.
    """
    fitted = 1.0 - jnp.exp((1.0 - alpha) * (lxi - lxj))
    return fitted, pos * (1.0 / nt)


def _cont_dev(lxi, lxj, alpha, pos, nt):
    """|fitted CDF - empirical CDF| at tail position ``pos`` (0-based)."""
    fitted, emp = _cont_fit_emp(lxi, lxj, alpha, pos, nt)
    return jnp.abs(fitted - emp)


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


def _column_blocks(width: int, rows: int, m: int, budget: int) -> int:
    """Columns per step of a blocked bound: a power of two dividing ``width``
    with ``rows * cols * m`` at most ``budget`` elements."""
    cols = width & -width  # largest power of two dividing width
    while cols > 1 and rows * cols * m > budget:
        cols //= 2
    return cols


def map_columns(fn, cidx, m: int, budget: int | None = None):
    """``fn(bs, js)`` -> (B, k) over the columns of ``cidx`` (B, C) in blocks, so the
    (B, k, m) intermediates stay under ``budget`` (``BOUND_BUDGET``) elements (``lax.map``)."""
    B, C = cidx.shape
    k = _column_blocks(C, B, m, BOUND_BUDGET if budget is None else budget)
    blocks = cidx.reshape(B, C // k, k).transpose(1, 0, 2)
    bs = jnp.broadcast_to(jnp.arange(B, dtype=cidx.dtype)[:, None], (B, k))
    out = jax.lax.map(lambda js: fn(bs, js), blocks)
    return out.transpose(1, 0, 2).reshape(B, C)


@partial(jax.jit, static_argnames=("m",))
def continuous_lower_bound(lx, alpha, n, cidx, m: int = 64):
    """Lower bound on D at candidate positions ``cidx`` (B, C): the deviation at
    ``m`` points of each tail.  Returns (B, C); +inf where the tail has < 2 points.
    Computed in column blocks (:func:`map_columns`): memory O(BOUND_BUDGET), not O(B C m)."""
    return map_columns(lambda bs, js: _pair_bound(lx, alpha, n, bs, js, m), cidx, m)


@partial(jax.jit, static_argnames=("m",))
def continuous_refined_bound(lx, alpha, n, bs, js, m: int = 1024):
    """Lower bound on D for (sample, candidate) pairs from ``m`` points spread over
    each tail; shape (C,)."""
    return _pair_bound(lx, alpha, n, bs, js, m)


def window_positions(js, last, hints, w: int):
    """Positions (C, H * w): ``w`` consecutive points centred on each hint (C, H),
    clipped to the pair's tail [js, last]; a hint < 0 (none) gives the tail's first point."""
    k = jnp.arange(w, dtype=js.dtype) - w // 2
    pos = jnp.where(hints[..., None] >= 0, hints[..., None] + k, js[:, None, None])
    return jnp.clip(pos, js[:, None, None], last[:, None, None]).reshape(js.shape[0], -1)


@partial(jax.jit, static_argnames=("w",))
def continuous_window_bound(lx, alpha, n, bs, js, hints, w: int = 9):
    """Lower bound on D for pairs from ``w`` points around each of their ``hints`` (C, H)
    (positions where other candidates' deviations peaked); (C,)."""
    i = window_positions(js, n[bs] - 1, hints.astype(js.dtype), w)
    dev = _cont_dev(lx[bs[:, None], i], lx[bs, js][:, None], alpha[bs, js][:, None], i - js[:, None],
                    (n[bs] - js)[:, None])
    return jnp.max(dev, axis=-1)


def blocked_max(dev_fn, nt, width: int, peak: bool = False):
    """max over tail positions ``0 <= pos < nt`` of ``dev_fn(pos)``, ``width`` at a time.

    ``dev_fn(pos)`` maps offsets (C, width) to deviations (C, width); ``nt`` (C, 1).
    A ``fori_loop`` over blocks of the longest tail: memory O(C width), never O(C P).
    ``peak=True`` also returns the offset where the maximum is.
    """
    off = jnp.arange(width, dtype=jnp.int32)[None, :]

    def body(k, carry):
        acc, arg = carry
        pos = k * width + off
        dev = jnp.where(pos < nt, dev_fn(pos), 0.0)
        top = jnp.max(dev, axis=-1)
        if not peak:
            return jnp.maximum(acc, top), arg
        better = top > acc
        where = (k * width + jnp.argmax(dev, axis=-1)).astype(jnp.int32)
        return jnp.maximum(acc, top), jnp.where(better, where, arg)  # acc: the same as without peak

    blocks = (jnp.max(nt) + width - 1) // width
    init = (jnp.zeros(nt.shape[0], jnp.float64), jnp.zeros(nt.shape[0], jnp.int32))
    acc, arg = jax.lax.fori_loop(0, blocks, body, init)
    return (acc, arg) if peak else acc


@partial(jax.jit, static_argnames=("peak",))
def continuous_exact_d(lx, alpha, n, bs, js, lxmin=None, peak: bool = False):
    """Exact D for the (sample, candidate) pairs ``(bs[c], js[c])``, every tail point; shape (C,).

    ``lxmin`` (C,), if given, is log(xmin) for each pair; by default xmin is the
    candidate's own value ``x[bs, js]`` (a user-fixed xmin need not be a data point).
    The brute-force reference (``exhaustive=True``, fixed-xmin D): tails are
    read in blocks of ``EXACT_WIDTH`` points (:func:`blocked_max`).  ``peak=True``
    also returns the tail offset where the deviation is largest.
    """
    P = lx.shape[-1]
    a = alpha[bs, js][:, None]
    lxj = (lx[bs, js] if lxmin is None else lxmin)[:, None]
    nt = (n[bs] - js)[:, None]

    def dev(pos):
        return _cont_dev(lx[bs[:, None], jnp.minimum(js[:, None] + pos, P - 1)], lxj, a, pos, nt)

    return blocked_max(dev, nt, exact_width(P), peak)


def exact_width(P: int) -> int:
    """Tail points per step of the brute-force continuous D for rows of padded length ``P``.

    An eighth of the row (at least 256, at most ``EXACT_WIDTH``): a call runs as many
    steps as its longest tail needs, so short tails (candidates near the top of a
    sample, where the scan's argmin usually is) do not pay for the whole row.  The
    maximum is over the same points whatever the width: the same D to the bit.
    """
    return int(min(P, EXACT_WIDTH, max(256, P // 8)))


def block_positions(starts, last, step: int, f: int):
    """Positions ``starts + step * k`` (k = 0..f), clipped to each pair's ``last``; (H, f + 1)."""
    k = jnp.arange(f + 1, dtype=starts.dtype)[None, :]
    return jnp.minimum(starts[:, None] + step * k, last[:, None])


def block_ub(fitted, emp):
    """Upper bound on |fitted - emp| strictly inside each of the f sub-blocks.

    Both CDFs are non-decreasing along the tail, so between positions p < q
    the fitted value lies in [F(p), F(q)] and the empirical in [E(p), E(q)]:
    ``|F - E| <= max(F(q) - E(p), E(q) - F(p))``.  Shapes (H, f + 1) -> (H, f).
    """
    return jnp.maximum(fitted[:, 1:] - emp[:, :-1], emp[:, 1:] - fitted[:, :-1])


@partial(jax.jit, static_argnames=("f",))
def continuous_block_points(lx, alpha, n, bs, js, starts, step, *, f: int):
    """Deviation at ``f + 1`` points ``starts + step * k`` of each pair's tail, and
    an upper bound on it inside each of the ``f`` sub-blocks between them.

    One level of the branch-and-bound exact D of :mod:`htsr.fitting.scan`.  The
    deviations are computed by the same expression as :func:`continuous_exact_d`,
    so the maximum over the points the search visits is that kernel's D to the bit.
    Returns ``dev`` (H, f + 1) and ``ub`` (H, f).
    """
    i = block_positions(starts, n[bs] - 1, step, f)
    fitted, emp = _cont_fit_emp(lx[bs[:, None], i], lx[bs, js][:, None], alpha[bs, js][:, None],
                                i - js[:, None], (n[bs] - js)[:, None])
    return jnp.abs(fitted - emp), block_ub(fitted, emp)


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
    nt = suffix_sum(c)
    lsum = suffix_sum(c * jnp.log(u))
    mean = lsum / jnp.maximum(nt, 1.0)
    alpha = pl.discrete_mle(mean, u)
    cum_before = jnp.cumsum(c, -1) - c
    return alpha, nt, cum_before


@jax.jit
def discrete_alpha_on_grid(u, c, alpha, nt, grid):
    """Snap each candidate's exact MLE to the likelihood's best point on ``grid``
    (:func:`htsr.models.powerlaw.discrete_grid_mle`; ``plfit.m`` compatibility)."""
    mean = suffix_sum(c * jnp.log(u)) / jnp.maximum(nt, 1.0)
    return pl.discrete_grid_mle(alpha, mean, u, grid)


def disc_dev(u, c_cum, lz_next, lz_succ, lz0, cb, nt, has_succ):
    """Deviation at unique value ``u_k`` and just before the next unique value.

    ``c_cum`` = points <= u_k in the whole sample, ``lz_next`` = log zeta(alpha, u_k+1),
    ``lz_succ`` = log zeta(alpha, u_{k+1}), ``lz0`` = log zeta(alpha, xmin),
    ``cb`` = points below xmin.
    """
    emp = (c_cum - cb) / nt
    at_u = jnp.abs(1.0 - jnp.exp(lz_next - lz0) - emp)
    before_next = jnp.abs(1.0 - jnp.exp(lz_succ - lz0) - emp)
    return jnp.maximum(at_u, jnp.where(has_succ, before_next, 0.0))


def disc_points(u, c, alpha_j, lz0, cb, nt, k, nu):
    """Deviation of candidate(s) with parameters (alpha_j, lz0, cb, nt) at unique index k."""
    uk = jnp.take_along_axis(u, k, axis=-1)
    usucc = jnp.take_along_axis(u, jnp.minimum(k + 1, u.shape[-1] - 1), axis=-1)
    ccum = jnp.take_along_axis(jnp.cumsum(c, -1), k, axis=-1)
    lz_next = log_hurwitz_zeta(alpha_j, uk + 1.0)
    lz_succ = log_hurwitz_zeta(alpha_j, usucc)
    has_succ = (k + 1) < nu
    return disc_dev(uk, ccum, lz_next, lz_succ, lz0, cb, nt, has_succ)


def _disc_at(u, ccum, nu, bs, k, a, lz0, cb, nt):
    """Deviation at unique index ``k`` (any shape, with rows ``bs``) of discrete candidates
    with parameters (a, lz0, cb, nt), and the fitted and empirical CDF at ``u_k``.

    The same expression as :func:`disc_dev` (at ``u_k`` and just before the next
    unique value); ``ccum`` (B, U) = points <= u in the whole sample.
    """
    U = u.shape[-1]
    uk = u[bs, k]
    usucc = u[bs, jnp.minimum(k + 1, U - 1)]
    emp = (ccum[bs, k] - cb) / nt
    f_at = 1.0 - jnp.exp(log_hurwitz_zeta(a, uk + 1.0) - lz0)
    f_before = 1.0 - jnp.exp(log_hurwitz_zeta(a, usucc) - lz0)
    has_succ = (k + 1) < nu[bs]
    dev = jnp.maximum(jnp.abs(f_at - emp), jnp.where(has_succ, jnp.abs(f_before - emp), 0.0))
    return dev, f_at, emp


def _disc_pair(u, alpha, nt, cum_before, bs, js):
    """Per-pair parameters (alpha, log zeta(alpha, xmin), points below xmin, tail size), (C, 1) each."""
    a = alpha[bs, js][..., None]
    return a, log_hurwitz_zeta(a, u[bs, js][..., None]), cum_before[bs, js][..., None], nt[bs, js][..., None]


def _disc_pair_bound(u, ccum, alpha, nt, cum_before, nu, bs, js, m):
    """Deviation at ``m`` unique values spread over each pair's tail; +inf if < 2 values."""
    U = u.shape[-1]
    ntail_u = (nu[bs] - js)[..., None]
    k = js[..., None] + (jnp.arange(m) * jnp.maximum(ntail_u - 1, 0)) // (m - 1)
    k = jnp.clip(k, 0, U - 1)
    dev, _, _ = _disc_at(u, ccum, nu, bs[..., None], k, *_disc_pair(u, alpha, nt, cum_before, bs, js))
    return jnp.where(ntail_u[..., 0] >= 2, jnp.max(dev, axis=-1), jnp.inf)


@partial(jax.jit, static_argnames=("m",))
def discrete_lower_bound(u, c, alpha, nt, cum_before, nu, cidx, m: int = 32):
    """Lower bound on D at discrete candidates ``cidx`` (B, C) (deviation at ``m``
    unique values), in column blocks (:func:`map_columns`); (B, C)."""
    ccum = cum_before + c
    return map_columns(lambda bs, js: _disc_pair_bound(u, ccum, alpha, nt, cum_before, nu, bs, js, m),
                       cidx, m, DISCRETE_BOUND_BUDGET)


@partial(jax.jit, static_argnames=("m",))
def discrete_refined_bound(u, c, alpha, nt, cum_before, nu, bs, js, m: int = 256):
    """Lower bound on D for discrete (sample, candidate) pairs from ``m`` unique values."""
    return _disc_pair_bound(u, cum_before + c, alpha, nt, cum_before, nu, bs, js, m)


@partial(jax.jit, static_argnames=("w",))
def discrete_window_bound(u, c, alpha, nt, cum_before, nu, bs, js, hints, w: int = 9):
    """Discrete counterpart of :func:`continuous_window_bound` (positions are unique indices)."""
    k = window_positions(js, nu[bs] - 1, hints.astype(js.dtype), w)
    dev, _, _ = _disc_at(u, cum_before + c, nu, bs[:, None], k, *_disc_pair(u, alpha, nt, cum_before, bs, js))
    return jnp.max(dev, axis=-1)


@partial(jax.jit, static_argnames=("peak",))
def discrete_exact_d(u, c, alpha, nt, cum_before, nu, bs, js, peak: bool = False):
    """Exact D for the (sample, candidate) pairs ``(bs[c], js[c])``; shape (C,).

    Brute force over every unique value of each tail, in blocks (:func:`blocked_max`);
    ``peak=True`` also returns the offset of the largest deviation.
    """
    U = u.shape[-1]
    ccum = cum_before + c
    par = _disc_pair(u, alpha, nt, cum_before, bs, js)
    ntail_u = (nu[bs] - js)[:, None]

    def dev(pos):
        k = jnp.minimum(js[:, None] + pos, U - 1)
        return _disc_at(u, ccum, nu, bs[:, None], k, *par)[0]

    return blocked_max(dev, ntail_u, min(U, EXACT_WIDTH // 8), peak)


@partial(jax.jit, static_argnames=("f",))
def discrete_block_points(u, c, alpha, nt, cum_before, nu, bs, js, starts, step, *, f: int):
    """Discrete counterpart of :func:`continuous_block_points` (positions are unique
    indices; inside a block the fitted CDF lies between its values at the block's
    ends, the "just before the next value" points included)."""
    k = block_positions(starts, nu[bs] - 1, step, f)
    dev, f_at, emp = _disc_at(u, cum_before + c, nu, bs[:, None], k, *_disc_pair(u, alpha, nt, cum_before, bs, js))
    return dev, block_ub(f_at, emp)
