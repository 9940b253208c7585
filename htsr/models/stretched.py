"""The stretched exponential (Weibull form) on ``x >= xmin`` (Clauset et al. 2009, Table 2.1).

Continuous::

    p(x) = beta * lam * x^(beta-1) * exp(-lam (x^beta - xmin^beta))
    P(X >= x) = exp(-lam (x^beta - xmin^beta))

Discrete (integers ``x >= xmin``)::

    p(x) = x^(beta-1) exp(-lam x^beta) / sum_{k >= xmin} k^(beta-1) exp(-lam k^beta)

with the sum done exactly in log-sum-exp plus an Euler-Maclaurin tail
(:mod:`htsr.models._tail`).  (Clauset et al.'s own code used a different
discretisation, ``S(x) - S(x+1)`` of the continuous survival function; see
docs/alternatives.md.)

Maximum likelihood
------------------
Coordinates ``eta = (log(lam xmin^beta), log beta)`` in the box
``[-40, 40] x [log 1e-8, log 100]``.  The start is the best point of the
continuous *profile* likelihood (for fixed beta the continuous MLE of
``lam xmin^beta`` is ``n / sum((x/xmin)^beta - 1)``) on a grid of 48 values of
beta, then damped Newton.

The law has no interior optimum on some data: as ``beta -> 0`` with
``lam beta -> alpha - 1`` it tends to a power law, so on power-law-like data
(Clauset's words, for example) the likelihood keeps rising towards that limit.
The fit then ends at (or, the ridge being flat, within a factor ``e^0.5`` of)
the box and is reported with ``at_boundary`` set; its log-likelihood is the
supremum approached from inside, which is what the likelihood-ratio test needs.
"""

from __future__ import annotations

import math

import jax.numpy as jnp

from . import _tail
from ._tail import Shape
from .law import POSITIVE, Law, uniform_open
from .prior import LogNormal

__all__ = ["LAW", "SHAPE", "SCALED"]

_BETA_GRID = 48


def _log_f(x, eta, xmin, scale):
    c, beta = jnp.exp(eta[0]), jnp.exp(eta[1])
    ly = jnp.log(x / xmin)
    return (beta - 1.0) * ly - c * jnp.expm1(beta * ly)


def _log_tail(x, eta, xmin, scale):
    c, beta = jnp.exp(eta[0]), jnp.exp(eta[1])
    ly = jnp.log(x / xmin)
    return jnp.log(xmin) - eta[0] - eta[1] - c * jnp.expm1(beta * ly)


def _init(x, mask, xmin, discrete):
    ly = jnp.where(mask, jnp.log(x / xmin), 0.0)
    n = jnp.sum(mask)
    sum_ly = jnp.sum(ly)
    betas = jnp.exp(jnp.linspace(jnp.log(2e-3), jnp.log(20.0), _BETA_GRID))
    S = jnp.sum(jnp.where(mask[None, :], jnp.expm1(betas[:, None] * ly[None, :]), 0.0), axis=1)
    S = jnp.maximum(S, 1e-300)
    c = n / S
    prof = n * jnp.log(betas * c) + (betas - 1.0) * sum_ly - n
    prof = jnp.where(jnp.isfinite(prof), prof, -jnp.inf)
    k = jnp.argmax(prof)
    eta0 = jnp.stack([jnp.clip(jnp.log(c[k]), -39.0, 39.0), jnp.log(betas[k])])
    return eta0, 1.0


def _to_params(eta, xmin, scale):
    beta = jnp.exp(eta[1])
    return jnp.stack([jnp.exp(eta[0] - beta * jnp.log(xmin)), beta])


def _from_params(p, xmin, scale):
    lam, beta = p[0], p[1]
    return jnp.stack([jnp.log(lam) + beta * jnp.log(xmin), jnp.log(beta)])


SHAPE = Shape("stretched_exponential", ("lam", "beta"), _log_f, _log_tail, _to_params, _from_params,
              lower=(-40.0, math.log(1e-8)), upper=(40.0, math.log(100.0)), init=_init, edge=(0.5, 0.5))

#: Key of the default prior of the dimensionless ``lam * x0**beta``: ``lam`` has units ``x^-beta``, so the
#: Bayesian models sample that product (:func:`htsr.bayes.models.sample_law_params`), scale-free whatever beta is.
SCALED = "lam_scaled"


def _sample(key, lam, beta, xmin, shape=(), *, discrete: bool = False):
    """Draws by inversion: ``(xmin^beta - log(U)/lam)^(1/beta)``; discrete: exact CCDF inversion."""
    if discrete:
        return _tail.params_sample(SHAPE, key, lam, beta, xmin, shape, discrete=True)
    u = uniform_open(key, shape)
    # x^beta = xmin^beta (1 - log(U) / (lam xmin^beta))
    c = lam * xmin**beta
    return xmin * jnp.exp(jnp.log1p(-jnp.log(u) / c) / beta)


#: The law through the common interface (:class:`htsr.models.law.Law`); default priors
#: ``lam * x0^beta ~ LogNormal(0, 2)`` (keyed :data:`SCALED`), ``beta ~ LogNormal(0, 1)``.
LAW = Law.from_shape(SHAPE, (POSITIVE, POSITIVE), title="stretched exponential", sample=_sample,
                     prior=lambda x0: {SCALED: LogNormal(0.0, 2.0), "beta": LogNormal(0.0, 1.0)})
