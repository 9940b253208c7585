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

import functools

import jax
import jax.numpy as jnp
import numpy as np

from ..special import log_hurwitz_zeta, log_zeta_moments
from ..roots import bisect_integers, bracketed_newton, widen
from .law import GREATER_THAN_ONE, Law, TailMLE, batch_mle, uniform_open
from .prior import Gamma

__all__ = ["LAW", "PRIOR", "mle", "log_pdf", "cdf", "ccdf", "sample", "gamma_posterior", "continuous_mle",
           "continuous_sigma", "discrete_mle", "discrete_sigma", "discrete_grid_mle", "ALPHA_MAX_DISCRETE",
           "PLFIT_ALPHA_GRID"]

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
    u = uniform_open(key, shape)
    cap = min(X_MAX, float(jnp.finfo(u.dtype).max))  # float32: its own largest value
    cont = jnp.minimum(xmin * jnp.exp(-jnp.log(u) / (alpha - 1.0)), cap)
    if not discrete:
        return cont
    lz0 = log_hurwitz_zeta(alpha, xmin)
    logu = jnp.log(u)

    def above(x):  # True where P(X >= x + 1) >= U, i.e. the answer is > x
        return log_hurwitz_zeta(alpha, x + 1.0) - lz0 >= logu

    # bracket (lo, hi] around the continuous approximation, hi <= X_MAX
    guess = jnp.clip(jnp.floor((xmin - 0.5) * jnp.exp(-logu / (alpha - 1.0)) + 0.5), xmin, cap / 4)
    lo = jnp.maximum(xmin - 1.0, jnp.floor(guess / 2.0) - 1.0)
    lo = jnp.where(above(lo), lo, xmin - 1.0)
    hi = widen(above, jnp.maximum(guess * 2.0 + 1.0, xmin), cap=cap)
    return bisect_integers(above, lo, hi, max_steps=_MAX_BISECT)


def continuous_mle(sum_log_ratio, n, *, unbiased: bool = False):
    """``1 + n / sum(ln(x/xmin))``, or ``1 + (n-1)/sum`` when ``unbiased``."""
    k = n - 1.0 if unbiased else n
    return 1.0 + k / sum_log_ratio


def continuous_sigma(alpha, n):
    """Standard error ``(alpha - 1) / sqrt(n)`` of the continuous MLE.

    On NumPy inputs (the fits' host code) in NumPy, so a report compiles no XLA program for
    it; both square roots are IEEE's correctly rounded one, so the numbers are the same."""
    if isinstance(alpha, (np.ndarray, np.generic, float)) and isinstance(n, (np.ndarray, np.generic, int, float)):
        return (alpha - 1.0) / np.sqrt(n)
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
    a0 = jnp.clip(alpha0, 1.0 + 1e-6, ALPHA_MAX_DISCRETE)

    def score(a):
        _, mean, var = log_zeta_moments(a, xmin)
        return mean - mean_log_x, var  # decreasing in a, slope Var[ln X]

    return bracketed_newton(score, a0, 1.0 + 1e-12, ALPHA_MAX_DISCRETE, rtol=1e-15,
                            max_steps=_NEWTON_STEPS).x


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


# ------------------------------------------------------------------ batch MLE and the law

@functools.cache
def _mle_kernel(discrete: bool, unbiased: bool, grid: tuple | None):
    def one(x, n, xmin):
        mask = jnp.arange(x.shape[0]) < n
        nf = n.astype(jnp.float64)
        if discrete:
            mean = jnp.sum(jnp.where(mask, jnp.log(x), 0.0)) / nf
            alpha = discrete_mle(mean, xmin)
            if grid is not None:
                alpha = discrete_grid_mle(alpha, mean, xmin, jnp.asarray(grid))
            se = discrete_sigma(alpha, xmin, nf)
        else:
            alpha = continuous_mle(jnp.sum(jnp.where(mask, jnp.log(x / xmin), 0.0)), nf, unbiased=unbiased)
            se = continuous_sigma(alpha, nf)
        lp = jnp.where(mask, log_pdf(x, alpha, xmin, discrete=discrete), 0.0)
        return TailMLE(alpha[None], se[None], jnp.sum(lp), jnp.asarray(True), jnp.zeros(1, bool),
                       jnp.asarray(0), lp)

    return jax.jit(jax.vmap(one))


def mle(x, counts, xmin, *, discrete: bool = False, estimator: str = "mle", alpha_grid=None) -> TailMLE:
    """The power-law MLE of a batch of padded tails: the one final-alpha fit of htsr.

    ``x`` (B, P) holds tail ``b`` (every value ``>= xmin[b]``) in its first
    ``counts[b]`` entries.  Continuous: ``1 + n / sum ln(x/xmin)`` (``estimator=
    "unbiased"``: ``1 + (n-1)/sum``); discrete: the exact root of the score
    equation, or its best point on ``alpha_grid`` (``plfit.m`` compatibility).
    ``pointwise`` and ``loglik`` are evaluated at the reported alpha.
    """
    grid = None if alpha_grid is None else tuple(float(a) for a in alpha_grid)
    return batch_mle(_mle_kernel(bool(discrete), estimator == "unbiased", grid), x, counts, xmin)


# ------------------------------------------------------------------ the conjugate posterior

#: The default prior of alpha: ``alpha - 1 ~ Gamma(2, rate 0.5)`` (mode 3, mean 5, P(alpha < 1.5) = 0.03,
#: P(alpha > 10) = 0.06), scale-free, and conjugate to the continuous law (:func:`gamma_posterior`).
PRIOR = Gamma(2.0, 0.5, loc=1.0)


def gamma_posterior(tail, xmin: float, a0: float, b0: float) -> tuple[float, float]:
    """Shape and rate of the exact posterior of ``alpha - 1`` under ``alpha - 1 ~ Gamma(a0, rate b0)``.

    Continuous law, ``xmin`` fixed: the likelihood of ``n`` tail points is
    ``(alpha-1)^n xmin^-n exp(-alpha S)`` with ``S = sum ln(x_i/xmin)``, so::

        alpha - 1 | x ~ Gamma(a0 + n, b0 + S)

    (mean ``(a0 + n) / (b0 + S)``, sd ``sqrt(a0 + n) / (b0 + S)``).  :data:`PRIOR`
    is of this form: ``htsr.bayes.fit(..., method="conjugate")`` and the
    calibration studies' ``bayes`` estimator are this closed form.
    """
    tail = np.asarray(tail, dtype=np.float64)
    return a0 + tail.size, b0 + float(np.sum(np.log(tail / xmin)))


#: The power law through the common interface (:class:`htsr.models.law.Law`).
LAW = Law("power_law", ("alpha",), (GREATER_THAN_ONE,), log_pdf, cdf, ccdf, sample, mle, title="power law",
          prior=lambda x0: {"alpha": PRIOR})
