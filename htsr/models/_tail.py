"""Machinery shared by the alternative tail laws (exponential, stretched, lognormal, cutoff).

A tail law is described by a :class:`Shape`: an *unnormalised* log shape
``log_f(x)`` on ``x >= xmin`` and the log of its tail integral
``log_tail(x) = log int_x^inf f(t) dt``, both written in the law's optimisation
coordinates ``eta`` (chosen so the MLE is well conditioned and, where the law is
an exponential family, the log-likelihood is concave).  Everything else is
built here, once, for every law:

Normalisation
-------------
* continuous: ``log p(x) = log_f(x) - log_tail(xmin)``, ``P(X >= x) = exp(log_tail(x) - log_tail(xmin))``.
* discrete (integers ``x >= xmin``): ``log p(x) = log_f(x) - log Z(xmin)`` with

      Z(q) = sum_{k >= q} f(k)
           = sum_{j < K} f(q + j)                            (exact, log-sum-exp)
             + int_N^inf f + f(N)/2 - f'(N)/12                 (tail, N = q + K)

  The second line is the Euler-Maclaurin formula for the part of the infinite
  sum past ``K = 256`` explicit terms; ``f'`` comes from ``log_f`` by automatic
  differentiation and the integral is the law's own ``log_tail``.  The
  neglected remainder is about ``f^(3)(N)/720``; for a power-law-like tail
  ``f ~ x^-alpha`` that is ``alpha(alpha+1)(alpha+2) N^-3/720`` relative to the
  tail's own mass; the tests find ``Z`` exact to ~1e-12 relative against
  brute-force sums of two million terms.  Laws whose log-density changes by O(1) per unit step beyond ``N`` have
  negligible mass there.  ``P(X >= x) = Z(x)/Z(xmin)``.

Maximum likelihood
------------------
:func:`maximize` runs a projected Levenberg-Marquardt-damped Newton iteration
in a box of ``eta`` (Hessian by ``jax.hessian``), accepting only steps that
increase the likelihood.  It is a pure function of one padded sample and is
``vmap``-ed over a batch, so many samples share one compiled kernel.  A fit
that ends on the box is flagged ``at_boundary``; nothing raises.

Standard errors come from the observed Fisher information: the inverse of
minus the autodiff Hessian of the log-likelihood in the law's *reported*
parameters, at the MLE (NaN where the fit is on the boundary or the Hessian is
not negative definite).

Sampling
--------
:func:`sample_by_inversion` inverts the CCDF: bisection on ``log x``
(continuous) or on the integers (discrete, exact: the smallest ``x`` with
``P(X >= x + 1) < U``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp

from ..roots import bisect_integers, bisect_log, widen
from ..special import em_first_order
from .law import TailMLE, batch_mle, uniform_open

__all__ = [
    "DISCRETE_TERMS",
    "Shape",
    "TailMLE",
    "fit_one",
    "log_ccdf",
    "log_norm_discrete",
    "log_pdf",
    "maximize",
    "mle_padded",
    "params_cdf",
    "params_ccdf",
    "params_log_pdf",
    "params_sample",
    "params_to_eta",
    "sample_by_inversion",
    "standard_errors",
]

#: Explicit terms of a discrete normalising sum before the Euler-Maclaurin tail.
DISCRETE_TERMS = 256


class Shape(NamedTuple):
    """A tail law, in optimisation coordinates ``eta`` (shape (k,)).

    Attributes
    ----------
    name : canonical name ("exponential", ...)
    param_names : names of the reported parameters
    log_f : ``(x, eta, xmin, scale) -> log f(x)``, unnormalised, elementwise in x
    log_tail : ``(x, eta, xmin, scale) -> log int_x^inf f``
    to_params : ``(eta, xmin, scale) -> params`` (reported parameters, shape (k,))
    from_params : ``(params, xmin, scale) -> eta``
    lower, upper : box for ``eta``
    init : ``(x, mask, xmin, discrete) -> (eta0, scale)``; ``scale`` is a positive
        data-dependent constant the coordinates may use (1.0 if none)
    log_sum : optional closed form of ``log sum_{k >= q} f(k)``, ``(q, eta, xmin, scale)``,
        used instead of the generic summation (the geometric series of the exponential)
    edge : optional absolute distance from a bound (per coordinate) within which a
        fit counts as on the boundary, on top of 1e-6 of the bound; for coordinates
        whose limit is approached along a flat ridge (beta -> 0, b -> 0, lam -> 0)
    """

    name: str
    param_names: tuple
    log_f: Callable
    log_tail: Callable
    to_params: Callable
    from_params: Callable
    lower: tuple
    upper: tuple
    init: Callable
    log_sum: Callable | None = None
    edge: tuple | None = None


# --------------------------------------------------------------------- normalisation
def log_norm_discrete(law, eta, xmin, scale, q):
    """``log sum_{k >= q} f(k)`` for integer ``q >= xmin`` (broadcast over q)."""
    q = jnp.asarray(q, dtype=jnp.float64)
    if law.log_sum is not None:
        return law.log_sum(q, eta, xmin, scale)
    j = jnp.arange(DISCRETE_TERMS, dtype=jnp.float64)
    head = jax.scipy.special.logsumexp(law.log_f(q[..., None] + j, eta, xmin, scale), axis=-1)
    N = q + DISCRETE_TERMS
    lfN, g1 = jax.jvp(lambda t: law.log_f(t, eta, xmin, scale), (N,), (jnp.ones_like(N),))
    integral = law.log_tail(N, eta, xmin, scale)
    # Euler-Maclaurin: sum_{k>=N} f(k) = int_N^inf f + f(N) (1/2 - f'(N)/(12 f(N))) + O(f^(3)(N)/720)
    ratio = jnp.exp(jnp.minimum(lfN - integral, 700.0)) * (0.5 + em_first_order(g1))
    tail = integral + jnp.log1p(jnp.maximum(ratio, -1.0 + 1e-16))
    return jnp.logaddexp(head, tail)


def log_pdf(law, x, eta, xmin, scale, discrete: bool):
    """Normalised log density (or log mass) at ``x >= xmin``."""
    if discrete:
        return law.log_f(x, eta, xmin, scale) - log_norm_discrete(law, eta, xmin, scale, xmin)
    return law.log_f(x, eta, xmin, scale) - law.log_tail(xmin, eta, xmin, scale)


def log_ccdf(law, x, eta, xmin, scale, discrete: bool):
    """``log P(X >= x)`` for ``x >= xmin``."""
    if discrete:
        return log_norm_discrete(law, eta, xmin, scale, x) - log_norm_discrete(law, eta, xmin, scale, xmin)
    return law.log_tail(x, eta, xmin, scale) - law.log_tail(xmin, eta, xmin, scale)


# --------------------------------------------------------------------- optimisation
_MAX_ITER = 200
_REL_TOL = 1e-12


def _loglik(law, eta, x, mask, xmin, scale, discrete):
    lp = log_pdf(law, x, eta, xmin, scale, discrete)
    return jnp.sum(jnp.where(mask, lp, 0.0))


def maximize(law, x, mask, xmin, eta0, scale, discrete: bool):
    """Maximise the log-likelihood of one padded tail over the box of ``eta``.

    Projected Newton with Levenberg-Marquardt damping (scaled by the Hessian's
    diagonal, so the iteration is invariant to rescaling a coordinate).  A step
    is taken only if it increases the likelihood (NaN counts as no increase);
    rejected steps raise the damping tenfold, accepted ones lower it.  The
    likelihood, gradient and Hessian are evaluated once per iteration, at the
    candidate point (one copy of the derivative graph in the compiled kernel).

    Returns
    -------
    (eta, loglik, Hessian of the negative log-likelihood at eta, converged, n_iter)
    """
    lo = jnp.asarray(law.lower, dtype=jnp.float64)
    hi = jnp.asarray(law.upper, dtype=jnp.float64)
    k = lo.shape[0]

    def nll(eta):
        return -_loglik(law, eta, x, mask, xmin, scale, discrete)

    def grad_aux(eta):
        f, g = jax.value_and_grad(nll)(eta)
        return g, (f, g)

    def derivs(eta):
        H, (f, g) = jax.jacfwd(grad_aux, has_aux=True)(eta)
        return jnp.where(jnp.isfinite(f), f, jnp.inf), g, H

    def cond(s):
        return (~s[-1]) & (s[-2] < _MAX_ITER)

    tol_lo = lo + 1e-6 * jnp.abs(lo)
    tol_hi = hi - 1e-6 * jnp.abs(hi)

    def newton(eta, g, H, mu):
        """Damped Newton step on the free coordinates, and the Newton decrement."""
        active = ((eta <= tol_lo) & (g > 0)) | ((eta >= tol_hi) & (g < 0))
        free = ~active
        both = free[:, None] & free[None, :]
        Hr = jnp.where(both, H, 0.0) + jnp.diag(active.astype(H.dtype))
        gr = jnp.where(free, g, 0.0)
        d = jnp.maximum(jnp.abs(jnp.diag(Hr)), 1e-300)
        step = -jnp.linalg.solve(Hr + mu * jnp.diag(d), gr)
        step = jnp.where(jnp.all(jnp.isfinite(step)), step, -gr / d)
        pd = jnp.min(jnp.linalg.eigvalsh(Hr)) > 0
        dec = jnp.where(pd, gr @ jnp.linalg.solve(Hr, gr), jnp.inf)
        return step, dec

    def body(s):
        eta, f, g, H, mu, cand, it, done = s
        f1, g1, H1 = derivs(cand)
        ok = jnp.isfinite(f1) & (f1 <= f)
        eta = jnp.where(ok, cand, eta)
        f_old = f
        f = jnp.where(ok, f1, f)
        g = jnp.where(ok, g1, g)
        H = jnp.where(ok, H1, H)
        mu = jnp.where(ok, jnp.maximum(mu * 0.1, 1e-12), mu * 10.0)
        step, dec = newton(eta, g, H, mu)
        # converged: the Newton decrement (twice the predicted gain) is at rounding
        # level; or a step failed to gain while the decrement is already tiny
        scale_f = jnp.maximum(1.0, jnp.abs(f))
        flat = jnp.isfinite(f1) & (jnp.abs(f1 - f_old) <= 1e-12 * scale_f) & (dec <= 1e-8 * scale_f)
        converged = (dec <= _REL_TOL * scale_f) | flat
        done = converged | (mu > 1e30)
        cand = jnp.clip(eta + step, lo, hi)
        return eta, f, g, H, mu, cand, it + 1, done

    eta0 = jnp.clip(eta0, lo, hi)
    state = (eta0, jnp.asarray(jnp.inf), jnp.zeros(k), jnp.eye(k), jnp.asarray(1e-3), eta0,
             jnp.asarray(0), jnp.asarray(False))
    eta, f, _, H, mu, _, it, done = jax.lax.while_loop(cond, body, state)
    converged = done & (mu <= 1e30) & jnp.isfinite(f)
    return eta, -f, H, converged, it


def standard_errors(law, eta, H_eta, xmin, scale):
    """Standard errors of the reported parameters from the observed Fisher information.

    ``H_eta`` is the autodiff Hessian of the negative log-likelihood in ``eta`` at
    the MLE; in the reported parameters ``p`` the information is ``J^T H_eta J``
    with ``J = d eta / d p`` (the gradient term vanishes at an interior maximum).
    """
    params = law.to_params(eta, xmin, scale)
    J = jax.jacfwd(lambda p: law.from_params(p, xmin, scale))(params)
    info = J.T @ H_eta @ J
    cov = jnp.linalg.inv(info)
    var = jnp.diag(cov)
    pd = jnp.all(jnp.linalg.eigvalsh(info) > 0)
    return jnp.where(pd & (var > 0), jnp.sqrt(jnp.abs(var)), jnp.nan)


def on_boundary(law, eta):
    """True per coordinate where ``eta`` sits on its box (1e-6 of the bound plus ``law.edge``)."""
    lo = jnp.asarray(law.lower, dtype=jnp.float64)
    hi = jnp.asarray(law.upper, dtype=jnp.float64)
    edge = jnp.zeros_like(lo) if law.edge is None else jnp.asarray(law.edge, dtype=jnp.float64)
    return (eta <= lo + 1e-6 * jnp.abs(lo) + edge) | (eta >= hi - 1e-6 * jnp.abs(hi) - edge)


def fit_one(law, x, mask, xmin, discrete: bool) -> TailMLE:
    """MLE, log-likelihood, flags and standard errors of one padded tail (vmap me)."""
    eta0, scale = law.init(x, mask, xmin, discrete)
    eta, ll, H, converged, it = maximize(law, x, mask, xmin, eta0, scale, discrete)
    at_boundary = on_boundary(law, eta)
    params = law.to_params(eta, xmin, scale)
    se = standard_errors(law, eta, H, xmin, scale)
    se = jnp.where(jnp.any(at_boundary), jnp.nan, se)
    pointwise = jnp.where(mask, log_pdf(law, x, eta, xmin, scale, discrete), 0.0)
    return TailMLE(params, se, ll, converged, at_boundary, it, pointwise)


# --------------------------------------------------------------------- sampling
_BISECT_STEPS = 100


def sample_by_inversion(law, key, eta, xmin, scale, shape, discrete: bool):
    """Draw from the law by inverting its CCDF with ``U ~ Uniform(0, 1]``.

    Continuous: bisection on ``log x`` down to the last bit.  Discrete:
    the exact smallest integer ``x`` with ``P(X >= x + 1) < U``.
    """
    logu = jnp.log(uniform_open(key, shape))
    xmin = jnp.asarray(xmin, dtype=jnp.float64)

    if discrete:
        lz0 = log_norm_discrete(law, eta, xmin, scale, xmin)

        def above(t):  # True where P(X >= t + 1) >= U, i.e. the answer is > t
            return log_norm_discrete(law, eta, xmin, scale, t + 1.0) - lz0 >= logu

        hi = widen(above, jnp.full(shape, xmin + 1.0))
        return bisect_integers(above, jnp.full(shape, xmin - 1.0), hi)

    lt0 = law.log_tail(xmin, eta, xmin, scale)

    def above_c(t):  # True where P(X >= t) >= U
        return law.log_tail(t, eta, xmin, scale) - lt0 >= logu

    hi = widen(above_c, jnp.full(shape, 2.0 * xmin))
    return bisect_log(above_c, jnp.full(shape, xmin), hi, max_steps=_BISECT_STEPS)


# --------------------------------------------------------------------- batch front end
@functools.cache
def _batch_fitter(law, discrete: bool):
    def one(x, n, xmin):
        mask = jnp.arange(x.shape[0]) < n
        return fit_one(law, x, mask, xmin, discrete)

    return jax.jit(jax.vmap(one))


def mle_padded(law, x, counts, xmin, *, discrete: bool = False) -> TailMLE:
    """Fit ``law`` to a batch of tails, one compiled kernel per padded shape.

    Parameters
    ----------
    x : (B, P) array
        Row ``b`` holds its tail (every value ``>= xmin[b]``) in its first
        ``counts[b]`` entries; the rest is padding (any valid tail value).
    counts : (B,) int array
    xmin : (B,) array

    Returns
    -------
    TailMLE of NumPy arrays.  No validation: this is the kernel-level entry point.
    """
    return batch_mle(_batch_fitter(law, bool(discrete)), x, counts, xmin)


def params_to_eta(law, params, xmin):
    """Optimisation coordinates of reported parameters (scale 1)."""
    p = jnp.stack([jnp.asarray(v, dtype=jnp.float64) for v in params])
    return law.from_params(p, jnp.asarray(xmin, dtype=jnp.float64), 1.0)


# --------------------------------------------------------------------- in reported parameters
# The raw functions of a law built by Law.from_shape: the law's parameters unpacked, then xmin.
def params_log_pdf(law, x, *args, discrete: bool = False):
    """Normalised log density at ``x >= xmin``; ``args`` = (*params, xmin)."""
    *params, xmin = args
    return log_pdf(law, jnp.asarray(x), params_to_eta(law, params, xmin), xmin, 1.0, discrete)


def params_ccdf(law, x, *args, discrete: bool = False):
    """``P(X >= x)`` for ``x >= xmin``; ``args`` = (*params, xmin)."""
    *params, xmin = args
    return jnp.exp(log_ccdf(law, jnp.asarray(x), params_to_eta(law, params, xmin), xmin, 1.0, discrete))


def params_cdf(law, x, *args, discrete: bool = False):
    """``P(X <= x)``: ``1 - P(X >= x + 1)`` on the integers, ``1 - P(X >= x)`` otherwise."""
    *params, xmin = args
    x = jnp.asarray(x)
    eta = params_to_eta(law, params, xmin)
    return -jnp.expm1(log_ccdf(law, x + 1.0 if discrete else x, eta, xmin, 1.0, discrete))


def params_sample(law, key, *args, discrete: bool = False):
    """Exact draws by inversion of the CCDF (:func:`sample_by_inversion`); ``args`` = (*params, xmin, shape)."""
    *params, xmin, shape = args
    return sample_by_inversion(law, key, params_to_eta(law, params, xmin), xmin, 1.0, tuple(shape), discrete)
