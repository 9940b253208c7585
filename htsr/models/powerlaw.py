"""The power law on ``x >= xmin`` (Clauset, Shalizi & Newman 2009, Table 2.1).

Continuous::

    p(x) = (alpha - 1) / xmin * (x / xmin)^-alpha,        x >= xmin > 0
    P(X >= x) = (x / xmin)^(1 - alpha)

Discrete (integers ``x >= xmin >= 1``)::

    p(x) = x^-alpha / zeta(alpha, xmin)
    P(X >= x) = zeta(alpha, x) / zeta(alpha, xmin)

with ``zeta`` the Hurwitz zeta function (:mod:`htsr.special`).

Maximum likelihood
------------------
Continuous (eq. 3.1 of Clauset et al.)::

    alpha_hat = 1 + n / sum(ln(x_i / xmin)),   sigma = (alpha_hat - 1) / sqrt(n)

and, as an option, the finite-size unbiased variant ``1 + (n - 1) / sum(...)``
(its expectation is exactly alpha for a pure power-law sample).

Discrete: the exact root of the score equation
``E_alpha[ln X] = mean(ln x_i)``, where ``E_alpha[ln X] = -d/dalpha log zeta``
decreases strictly in alpha, found by a safeguarded Newton iteration
(:func:`discrete_mle`).  Not the ``xmin - 1/2`` approximation (eq. 3.7), which
is badly biased at small xmin.  Its standard error comes from the Fisher
information ``n * Var_alpha[ln X]``.

All functions are pure, jit-able and broadcast over their arguments.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from ..special import log_hurwitz_zeta, log_zeta_moments

__all__ = [
    "log_pdf",
    "cdf",
    "ccdf",
    "sample",
    "continuous_mle",
    "continuous_sigma",
    "discrete_mle",
    "discrete_sigma",
    "discrete_grid_mle",
    "ALPHA_MAX_DISCRETE",
    "PLFIT_ALPHA_GRID",
]

#: Upper end of the bracket searched by the discrete MLE.
ALPHA_MAX_DISCRETE = 200.0
_NEWTON_STEPS = 60


def log_pdf(x, alpha, xmin, *, discrete: bool = False):
    """Log density (continuous) or log probability mass (discrete) at ``x >= xmin``."""
    x = jnp.asarray(x)
    if discrete:
        return -alpha * jnp.log(x) - log_hurwitz_zeta(alpha, xmin)
    return jnp.log(alpha - 1.0) - jnp.log(xmin) - alpha * jnp.log(x / xmin)


def ccdf(x, alpha, xmin, *, discrete: bool = False):
    """``P(X >= x)`` for ``x >= xmin``."""
    x = jnp.asarray(x)
    if discrete:
        return jnp.exp(log_hurwitz_zeta(alpha, x) - log_hurwitz_zeta(alpha, xmin))
    return jnp.exp((1.0 - alpha) * jnp.log(x / xmin))


def cdf(x, alpha, xmin, *, discrete: bool = False):
    """``P(X <= x)`` for ``x >= xmin`` (for discrete laws, ``x`` an integer)."""
    x = jnp.asarray(x)
    if discrete:
        return -jnp.expm1(log_hurwitz_zeta(alpha, x + 1.0) - log_hurwitz_zeta(alpha, xmin))
    return -jnp.expm1((1.0 - alpha) * jnp.log(x / xmin))


#: Largest value a sampler returns.  For alpha close to 1 the law puts mass
#: beyond what float64 can hold (P(X > 1e300) = 1e-3 at alpha = 1.01, xmin = 1);
#: such draws are returned as X_MAX instead of inf.
X_MAX = 1e300
_MAX_BISECT = 1100  # enough to resolve any integer below X_MAX to one unit


def sample(key, alpha, xmin, shape=(), *, discrete: bool = False):
    """Draw from the power law by inversion.

    Continuous: ``xmin * U^(-1/(alpha-1))``.  Discrete: exact inversion of the
    CCDF: the smallest integer ``x`` with ``P(X >= x + 1) < U``, found by
    bracketing around the continuous approximation and bisection (Clauset et
    al. 2009, Appendix D, without the approximation error).  Draws are capped
    at :data:`X_MAX` (only reachable for alpha very close to 1).
    """
    u = jax.random.uniform(key, shape, minval=jnp.finfo(jnp.float64).tiny, maxval=1.0)
    cont = jnp.minimum(xmin * jnp.exp(-jnp.log(u) / (alpha - 1.0)), X_MAX)
    if not discrete:
        return cont
    lz0 = log_hurwitz_zeta(alpha, xmin)
    logu = jnp.log(u)

    def above(x):  # True where P(X >= x + 1) >= U, i.e. the answer is > x
        return log_hurwitz_zeta(alpha, x + 1.0) - lz0 >= logu

    # bracket [lo, hi] with the answer in (lo, hi], hi <= X_MAX
    guess = jnp.clip(jnp.floor((xmin - 0.5) * jnp.exp(-logu / (alpha - 1.0)) + 0.5), xmin, X_MAX / 4)
    lo = jnp.maximum(xmin - 1.0, jnp.floor(guess / 2.0) - 1.0)
    hi = jnp.maximum(guess * 2.0 + 1.0, xmin)
    lo = jnp.where(above(lo), lo, xmin - 1.0)

    def widen(hi):
        return jnp.where(above(hi) & (hi < X_MAX), jnp.minimum(hi * 4.0, X_MAX), hi)

    hi = jax.lax.while_loop(lambda h: jnp.any(above(h) & (h < X_MAX)), widen, hi)

    def bisect(carry):
        lo, hi, i = carry
        mid = jnp.floor((lo + hi) / 2.0)
        go_up = above(mid)
        return jnp.where(go_up, mid, lo), jnp.where(go_up, hi, mid), i + 1

    def unresolved(carry):
        lo, hi, i = carry
        mid = jnp.floor((lo + hi) / 2.0)
        # stop at one unit, or where float64 cannot split [lo, hi] any further
        return (i < _MAX_BISECT) & jnp.any((hi - lo > 1.0) & (mid > lo) & (mid < hi))

    lo, hi, _ = jax.lax.while_loop(unresolved, bisect, (lo, hi, 0))
    return hi


def continuous_mle(sum_log_ratio, n, *, unbiased: bool = False):
    """``1 + n / sum(ln(x/xmin))``, or ``1 + (n-1)/sum`` when ``unbiased``."""
    k = n - 1.0 if unbiased else n
    return 1.0 + k / sum_log_ratio


def continuous_sigma(alpha, n):
    """Standard error ``(alpha - 1) / sqrt(n)`` of the continuous MLE."""
    return (alpha - 1.0) / jnp.sqrt(n)


def discrete_mle(mean_log_x, xmin, alpha0=None):
    """Exact discrete power-law MLE: solve ``E_alpha[ln X] = mean_log_x``.

    Parameters
    ----------
    mean_log_x : array_like
        Mean of ``ln x`` over the tail (all ``x >= xmin``).
    xmin : array_like
        Lower bound of the tail (an integer >= 1), broadcast against ``mean_log_x``.
    alpha0 : array_like, optional
        Starting point; defaults to the continuous approximation with ``xmin - 1/2``.

    Returns
    -------
    jax.Array
        The MLE, in ``(1, ALPHA_MAX_DISCRETE]``.  ``E[ln X]`` decreases strictly in
        alpha from +inf (alpha -> 1) to ``ln xmin``, so the root is unique whenever
        ``mean_log_x > ln xmin``; a tail with every point at ``xmin`` returns the
        bracket's upper end.
    """
    mean_log_x = jnp.asarray(mean_log_x, dtype=jnp.float64)
    xmin = jnp.asarray(xmin, dtype=jnp.float64)
    mean_log_x, xmin = jnp.broadcast_arrays(mean_log_x, xmin)
    if alpha0 is None:
        excess = jnp.maximum(mean_log_x - jnp.log(xmin - 0.5), 1e-12)
        alpha0 = 1.0 + 1.0 / excess
    lo = jnp.full_like(xmin, 1.0 + 1e-12)
    hi = jnp.full_like(xmin, ALPHA_MAX_DISCRETE)
    a = jnp.clip(alpha0, 1.0 + 1e-6, ALPHA_MAX_DISCRETE)

    def step(_, carry):
        a, lo, hi = carry
        _, mean, var = log_zeta_moments(a, xmin)
        g = mean - mean_log_x  # decreasing in a
        lo = jnp.where(g > 0, a, lo)
        hi = jnp.where(g > 0, hi, a)
        newton = a + g / jnp.maximum(var, 1e-300)
        inside = (newton > lo) & (newton < hi)
        a_next = jnp.where(inside, newton, 0.5 * (lo + hi))
        return a_next, lo, hi

    a, lo, hi = jax.lax.fori_loop(0, _NEWTON_STEPS, step, (a, lo, hi))
    return a


PLFIT_ALPHA_GRID = tuple(round(1.5 + 0.01 * k, 2) for k in range(201))
"""The alpha grid of Clauset's ``plfit.m``/``plpva.m`` for integer data: 1.50, 1.51, ..., 3.50."""


def discrete_grid_mle(alpha_mle, mean_log_x, xmin, grid):
    """Maximise the discrete power-law likelihood over a sorted grid of alpha values.

    ``plfit.m`` and ``plpva.m`` fit integer data by evaluating the likelihood on
    the grid 1.50:0.01:3.50 (:data:`PLFIT_ALPHA_GRID`) and taking the best point.
    The log-likelihood ``-alpha * sum(ln x) - n ln zeta(alpha, xmin)`` is concave
    in alpha, so its maximum over the grid is at one of the two grid points
    around the exact maximiser ``alpha_mle`` (or at the grid's end when
    ``alpha_mle`` lies outside it); this compares those two.  Ties go to the
    smaller value, as MATLAB's ``max`` does.

    Parameters
    ----------
    alpha_mle : array_like
        The exact MLE (:func:`discrete_mle`).
    mean_log_x, xmin : array_like
        Mean of ``ln x`` over the tail, and the tail's lower bound.
    grid : 1-D array
        Strictly increasing alpha values, all > 1.
    """
    grid = jnp.asarray(grid, dtype=jnp.float64)
    last = grid.shape[0] - 1
    i = jnp.searchsorted(grid, alpha_mle)
    lo = grid[jnp.clip(i - 1, 0, last)]
    hi = grid[jnp.clip(i, 0, last)]

    def loglik(a):  # per point
        return -a * mean_log_x - log_hurwitz_zeta(a, xmin)

    return jnp.where(loglik(hi) > loglik(lo), hi, lo)


def discrete_sigma(alpha, xmin, n):
    """Standard error ``1 / sqrt(n * Var_alpha[ln X])`` of the discrete MLE."""
    _, _, var = log_zeta_moments(alpha, xmin)
    return 1.0 / jnp.sqrt(n * var)
