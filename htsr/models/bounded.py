"""The bounded (truncated) power law on ``[xmin, xmax]``, for every real exponent.

Continuous::

    p(x) = (alpha - 1) / (xmin^(1-alpha) - xmax^(1-alpha)) * x^-alpha,   xmin <= x <= xmax

(``1 / (x ln(xmax/xmin))`` at ``alpha = 1``).  Discrete, on the integers
``xmin <= x <= xmax``::

    p(x) = x^-alpha / S(alpha; xmin, xmax),     S(s; a, b) = sum_{k=a}^{b} k^-s.

Any real alpha is allowed: the support is bounded, so the law is proper for
``alpha <= 1`` too (Hanel, Corominas-Murtra, Liu & Thurner 2017; Deluca &
Corral 2013).

The log variable
----------------
With ``t = ln(x/xmin)`` and ``r = ln(xmax/xmin)`` the continuous law is the
exponential law of rate ``lambda = alpha - 1`` truncated to ``[0, r]`` (any
sign of lambda; uniform at lambda = 0).  Writing ``u = lambda * r``::

    E[t] / r   = m(u) = 1/u - 1/(e^u - 1)         (1/2 at u = 0)
    Var[t]/r^2 = v(u) = 1/u^2 - 1/(4 sinh^2(u/2))  (1/12 at u = 0)

``m`` decreases strictly from 1 to 0 and ``m(-u) = 1 - m(u)``.  Every formula
below is written in ``u`` with series near ``u = 0`` and the mirror symmetry
for ``u < 0``, so nothing overflows or cancels for huge ``|alpha|``.

Maximum likelihood
------------------
The score equation is ``E_alpha[ln X] = mean(ln x_i)``.  The left side
decreases strictly in alpha (its derivative is ``-Var[ln X]``), so the root is
unique whenever the sample has two distinct values; it always exists because
``E[ln X]`` runs over all of ``(ln xmin, ln xmax)``.  It is found by Newton's
method safeguarded by bisection inside a bracket that always contains the root
(:func:`continuous_mle`, :func:`discrete_mle`).  Standard errors come from the
Fisher information ``n Var_alpha[ln X]``.

The finite power sum
--------------------
``S(s; a, b)`` is :func:`htsr.special.log_power_sum`, for any real ``s`` (the
Euler-Maclaurin formula shared with the Hurwitz zeta function).  The
discrete MLE searches ``alpha`` in ``[ALPHA_MIN_DISCRETE, ALPHA_MAX_DISCRETE]``.

All functions are pure, jit-able and broadcast over their arguments.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp

from ..special import log_power_sum, phi
from ..roots import bisect_integers, bracketed_newton
from .law import REAL, Law, TailMLE, batch_mle, uniform_open
from .prior import Normal

__all__ = ["LAW", "mle", "log_pdf", "cdf", "ccdf", "sample", "log_power_sum", "discrete_moments", "continuous_mle",
           "continuous_sigma", "continuous_bias", "discrete_mle", "discrete_sigma", "ALPHA_MIN_DISCRETE",
           "ALPHA_MAX_DISCRETE"]

#: Bracket searched by the discrete MLE.
ALPHA_MIN_DISCRETE = -200.0
ALPHA_MAX_DISCRETE = 200.0
_MAX_STEPS = 100
_SMALL_U = 1e-2  # below this |u| the series of m, v and phi are used


# ------------------------------------------------------------ helpers in u
def _safe(u):
    """u away from zero (for the branch that is not taken near 0)."""
    return jnp.where(jnp.abs(u) < _SMALL_U, _SMALL_U, u)


def _m(u):
    """``E[t]/r = 1/u - 1/(e^u - 1)``."""
    us = _safe(u)
    big = 1.0 / us - 1.0 / jnp.expm1(us)
    small = 0.5 - u / 12.0 + u**3 / 720.0 - u**5 / 30240.0
    return jnp.where(jnp.abs(u) < _SMALL_U, small, big)


def _v(u):
    """``Var[t]/r^2 = 1/u^2 - 1/(4 sinh^2(u/2))`` (= -m'(u))."""
    us = _safe(u)
    sh = jnp.sinh(jnp.minimum(jnp.abs(us) / 2.0, 354.0))
    big = 1.0 / (us * us) - 0.25 / (sh * sh)
    u2 = u * u
    small = 1.0 / 12.0 - u2 / 240.0 + u2 * u2 / 6048.0
    return jnp.where(jnp.abs(u) < _SMALL_U, small, big)


def _cdf_t(t, lam, r):
    """``P(T <= t)`` for the exponential law of rate ``lam`` truncated to [0, r]."""
    mu = jnp.abs(lam)
    tiny = mu * r < 1e-8
    mus = jnp.where(tiny, 1.0, mu)
    g = jnp.expm1(-mus * t) / jnp.expm1(-mus * r)
    g = jnp.where(lam < 0, jnp.exp(-mus * (r - t)) * g, g)
    series = t / r * (1.0 + lam * (r - t) / 2.0)
    return jnp.clip(jnp.where(tiny, series, g), 0.0, 1.0)


def discrete_moments(alpha, xmin, xmax):
    """``log S``, ``E[ln X]`` and ``Var[ln X]`` of the discrete bounded law."""
    alpha = jnp.asarray(alpha, dtype=jnp.float64)

    def f(s):
        return log_power_sum(s, xmin, xmax)

    def df(s):
        return jax.jvp(f, (s,), (jnp.ones_like(s),))

    (ls, d1), (_, d2) = jax.jvp(df, (alpha,), (jnp.ones_like(alpha),))
    return ls, -d1, d2


# ------------------------------------------------------------ the law
def log_pdf(x, alpha, xmin, xmax, *, discrete: bool = False):
    """Log density (continuous) or log mass (discrete) at ``xmin <= x <= xmax``."""
    x = jnp.asarray(x, dtype=jnp.float64)
    if discrete:
        return -alpha * jnp.log(x) - log_power_sum(alpha, xmin, xmax)
    r = jnp.log(xmax / xmin)
    lam = alpha - 1.0
    return -jnp.log(x) - lam * jnp.log(x / xmin) + phi(lam * r) - jnp.log(r)


def cdf(x, alpha, xmin, xmax, *, discrete: bool = False):
    """``P(X <= x)`` for ``xmin <= x <= xmax`` (discrete: ``x`` an integer)."""
    x = jnp.asarray(x, dtype=jnp.float64)
    if discrete:
        ls0 = log_power_sum(alpha, xmin, xmax)
        return -jnp.expm1(log_power_sum(alpha, x + 1.0, xmax) - ls0)
    r = jnp.log(xmax / xmin)
    return _cdf_t(jnp.log(x / xmin), alpha - 1.0, r)


def ccdf(x, alpha, xmin, xmax, *, discrete: bool = False):
    """``P(X >= x)`` for ``xmin <= x <= xmax``."""
    x = jnp.asarray(x, dtype=jnp.float64)
    if discrete:
        return jnp.exp(log_power_sum(alpha, x, xmax) - log_power_sum(alpha, xmin, xmax))
    r = jnp.log(xmax / xmin)
    # mirror: r - t is the truncated exponential of rate -lambda
    return _cdf_t(r - jnp.log(x / xmin), 1.0 - alpha, r)


def sample(key, alpha, xmin, xmax, shape=(), *, discrete: bool = False):
    """Draw from the bounded power law by exact inversion of its CDF.

    Continuous: ``t = -log1p(U expm1(-|lambda| r)) / |lambda|`` (mirrored,
    ``r - t``, when lambda < 0).  Discrete: the smallest integer ``k`` with
    ``P(X <= k) >= U``, by bisection on ``[xmin, xmax]`` with the finite power
    sum (exact, no continuous approximation).
    """
    u = uniform_open(key, shape)
    alpha = jnp.asarray(alpha, dtype=jnp.float64)
    if not discrete:
        r = jnp.log(xmax / xmin)
        lam = alpha - 1.0
        mu = jnp.abs(lam)
        tiny = mu * r < 1e-8
        mus = jnp.where(tiny, 1.0, mu)
        t = -jnp.log1p(u * jnp.expm1(-mus * r)) / mus
        t = jnp.where(tiny, u * r, t)
        t = jnp.where(lam < 0, r - t, t)
        return jnp.clip(xmin * jnp.exp(t), xmin, xmax)
    xmin = jnp.broadcast_to(jnp.asarray(xmin, jnp.float64), u.shape)
    xmax = jnp.broadcast_to(jnp.asarray(xmax, jnp.float64), u.shape)
    a = jnp.broadcast_to(alpha, u.shape)
    ls0 = log_power_sum(a, xmin, xmax)
    logv = jnp.log1p(-u)  # P(X > k) > 1 - U  <=>  answer > k

    def above(k):
        return log_power_sum(a, k + 1.0, xmax) - ls0 > logv

    return bisect_integers(above, xmin - 1.0, xmax)


# ------------------------------------------------------------ maximum likelihood
def _solve_m(y):
    """The unique ``u`` with ``m(u) = y`` for ``0 < y < 1`` (bracketed Newton)."""
    y = jnp.asarray(y, dtype=jnp.float64)
    flip = y > 0.5
    z = jnp.clip(jnp.where(flip, 1.0 - y, y), 1e-300, 0.5)  # solve on u >= 0
    lo = jnp.zeros_like(z)
    hi = 1.0 / z  # m(u) < 1/u, so m(1/z) < z
    u0 = jnp.clip(1.0 / z - 1.0 / (1.0 - z), lo, hi)

    def score(u):
        return _m(u) - z, _v(u)  # m decreases, m' = -v

    u = bracketed_newton(score, u0, lo, hi, rtol=1e-15, width_rtol=1e-15, max_steps=_MAX_STEPS).x
    return jnp.where(flip, -u, u)


def continuous_mle(mean_log_ratio, log_range):
    """Exact MLE of the continuous bounded law.

    Parameters
    ----------
    mean_log_ratio : array_like
        ``mean(ln(x_i / xmin))`` over the points in ``[xmin, xmax]``.
    log_range : array_like
        ``r = ln(xmax / xmin) > 0``.

    Returns
    -------
    jax.Array
        ``alpha = 1 + u/r`` with ``m(u) = mean_log_ratio / r``: any real number.
    """
    r = jnp.asarray(log_range, dtype=jnp.float64)
    u = _solve_m(jnp.asarray(mean_log_ratio, dtype=jnp.float64) / r)
    return 1.0 + u / r


def continuous_sigma(alpha, log_range, n):
    """Standard error ``1 / sqrt(n Var[ln X]) = 1 / (r sqrt(n v(u)))``."""
    r = jnp.asarray(log_range, dtype=jnp.float64)
    return 1.0 / (r * jnp.sqrt(n * _v((alpha - 1.0) * r)))


def discrete_mle(mean_log_x, xmin, xmax):
    """Exact MLE of the discrete bounded law: solve ``E_alpha[ln X] = mean_log_x``.

    ``E_alpha[ln X]`` decreases strictly from ``ln xmax`` to ``ln xmin``, so the
    root is unique; it is searched in ``[ALPHA_MIN_DISCRETE, ALPHA_MAX_DISCRETE]``
    by bracketed Newton steps started from the continuous approximation on
    ``[xmin - 1/2, xmax + 1/2]``.
    """
    mean_log_x, xmin, xmax = jnp.broadcast_arrays(
        *(jnp.asarray(v, dtype=jnp.float64) for v in (mean_log_x, xmin, xmax))
    )
    lo0, hi0 = jnp.log(xmin - 0.5), jnp.log(xmax + 0.5)
    y = jnp.clip((mean_log_x - lo0) / (hi0 - lo0), 1e-12, 1.0 - 1e-12)
    a0 = jnp.clip(1.0 + _solve_m(y) / (hi0 - lo0), ALPHA_MIN_DISCRETE, ALPHA_MAX_DISCRETE)

    def score(a):
        _, mean, var = discrete_moments(a, xmin, xmax)
        return mean - mean_log_x, var  # decreasing in a

    return bracketed_newton(score, a0, ALPHA_MIN_DISCRETE, ALPHA_MAX_DISCRETE, rtol=1e-14,
                            width_atol=1e-14, max_steps=_MAX_STEPS).x


def discrete_sigma(alpha, xmin, xmax, n):
    """Standard error ``1 / sqrt(n Var_alpha[ln X])`` of the discrete MLE."""
    _, _, var = discrete_moments(alpha, xmin, xmax)
    return 1.0 / jnp.sqrt(n * var)


def continuous_bias(alpha, log_range, n):
    """First-order bias of the continuous MLE, ``kappa_3 / (2 n kappa_2^2)``.

    The law is an exponential family in alpha with sufficient statistic ln x, so
    (Cox & Snell 1968) ``E[alpha_hat] - alpha = kappa_3 / (2 n kappa_2^2) + O(n^-2)``
    with ``kappa_2 = r^2 v(u)`` and ``kappa_3 = -r^3 v'(u)`` the cumulants of ln x.
    In the unbounded limit this is ``(alpha - 1)/n``, the correction behind
    Clauset's ``1 + (n-1)/sum`` estimator.  ``alpha_hat - continuous_bias(alpha_hat, r, n)``
    is the bias-corrected estimator (``estimator="unbiased"``).
    """
    r = jnp.asarray(log_range, dtype=jnp.float64)
    u = (jnp.asarray(alpha, dtype=jnp.float64) - 1.0) * r
    v, dv = jax.jvp(_v, (u,), (jnp.ones_like(u),))
    return -dv / (2.0 * n * r * v * v)


# Compiled once per shape: the while loops inside would otherwise be retraced on
# every eager call.
log_pdf = jax.jit(log_pdf, static_argnames=("discrete",))
cdf = jax.jit(cdf, static_argnames=("discrete",))
ccdf = jax.jit(ccdf, static_argnames=("discrete",))
sample = jax.jit(sample, static_argnames=("shape", "discrete"))
discrete_moments = jax.jit(discrete_moments)
continuous_mle = jax.jit(continuous_mle)
continuous_sigma = jax.jit(continuous_sigma)
discrete_mle = jax.jit(discrete_mle)
discrete_sigma = jax.jit(discrete_sigma)
continuous_bias = jax.jit(continuous_bias)


# ------------------------------------------------------------------ batch MLE and the law

@functools.cache
def _mle_kernel(discrete: bool):
    def one(x, n, xmin, xmax):
        mask = jnp.arange(x.shape[0]) < n
        nf = n.astype(jnp.float64)
        if discrete:
            mean = jnp.sum(jnp.where(mask, jnp.log(x), 0.0)) / nf
            alpha = discrete_mle(mean, xmin, xmax)
            se = discrete_sigma(alpha, xmin, xmax, nf)
        else:
            r = jnp.log(xmax / xmin)
            mlr = jnp.sum(jnp.where(mask, jnp.log(x / xmin), 0.0)) / nf
            alpha = continuous_mle(jnp.clip(mlr, 1e-300, r * (1 - 1e-15)), r)
            se = continuous_sigma(alpha, r, nf)
        lp = jnp.where(mask, log_pdf(x, alpha, xmin, xmax, discrete=discrete), 0.0)
        return TailMLE(alpha[None], se[None], jnp.sum(lp), jnp.asarray(True), jnp.zeros(1, bool),
                       jnp.asarray(0), lp)

    return jax.jit(jax.vmap(one))


def mle(x, counts, xmin, xmax, *, discrete: bool = False) -> TailMLE:
    """The bounded power-law MLE of a batch of padded tails on ``[xmin[b], xmax[b]]``."""
    return batch_mle(_mle_kernel(bool(discrete)), x, counts, xmin, xmax)


#: The bounded power law through the common interface (:class:`htsr.models.law.Law`); default prior
#: ``alpha ~ Normal(2, 3)`` (any real exponent is proper on a bounded support).
LAW = Law("bounded_power_law", ("alpha",), (REAL,), log_pdf, cdf, ccdf, sample, mle, bounded=True,
          title="bounded power law", prior=lambda x0: {"alpha": Normal(2.0, 3.0)})
