"""The lognormal law normalised on the tail ``x >= xmin`` (Clauset et al. 2009, Table 2.1).

Continuous::

    p(x) = sqrt(2 / (pi sigma^2)) / x * exp(-(ln x - mu)^2 / (2 sigma^2))
           / erfc((ln xmin - mu) / (sqrt(2) sigma))

Discrete (integers ``x >= xmin``)::

    p(x) = f(x) / sum_{k >= xmin} f(k),   f(x) = exp(-(ln x - mu)^2 / (2 sigma^2)) / x

with the sum done exactly in log-sum-exp plus an Euler-Maclaurin tail
(:mod:`htsr.models._tail`).  (Clauset et al.'s code discretised by rounding
instead, ``P(X = k) ~ F(k + 1/2) - F(k - 1/2)``; docs/alternatives.md compares.)

Coordinates and the power-law limit
-----------------------------------
With ``v = ln(x / xmin) / s`` (``s`` the tail's mean of ``ln(x/xmin)``) the law is
an exponential family, ``f ~ exp(a v + b v^2) / x`` with ``b = -s^2/(2 sigma^2) < 0``
and ``a = s (mu - ln xmin) / sigma^2``, so the log-likelihood is concave in
``eta = (a, b)`` and Newton's method finds the unique maximum.  The normaliser
is written with :func:`htsr.special.log_gauss_laplace` (a Stieltjes continued
fraction in ``-b / slope^2``), which stays exact, derivatives included, as ``b -> 0-``.  That limit, ``mu -> -inf`` and ``sigma -> inf`` with
``mu/sigma^2`` fixed, is a power law with ``alpha = 1 - a/s``: on power-law-like
data the MLE may run to it.  Box: ``a in [-1e8, 1e8]``, ``b in [-1e8, -1e-12]``; a
fit on the box, or with ``b > -1e-9`` (the ridge towards the limit is flat), is
flagged ``at_boundary`` (mu and sigma are then huge but
finite and the log-likelihood is the supremum approached from inside).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from ..special import log_gauss_laplace
from . import _tail
from ._tail import Shape
from .law import POSITIVE, REAL, Law, uniform_open
from .prior import HalfNormal, Normal

__all__ = ["LAW", "SHAPE"]


def _log_f(x, eta, xmin, scale):
    a, b = eta[0], eta[1]
    v = jnp.log(x / xmin) / scale
    return -jnp.log(x / xmin) + a * v + b * v * v


def _log_tail(x, eta, xmin, scale):
    # int_x^inf (xmin/t) exp(a v + b v^2) dt = xmin s exp(a v0 + b v0^2) int_0^inf exp(-c w + b w^2) dw,
    # c = -(a + 2 b v0): the local slope, which stays finite in the power-law limit b -> 0-
    a, b = eta[0], eta[1]
    v = jnp.log(x / xmin) / scale
    c = -(a + 2.0 * b * v)
    return jnp.log(xmin * scale) + a * v + b * v * v + log_gauss_laplace(c, -b)


def _init(x, mask, xmin, discrete):
    n = jnp.sum(mask)
    u = jnp.where(mask, jnp.log(x / xmin), 0.0)
    s = jnp.maximum(jnp.sum(u) / n, 1e-300)
    v = u / s
    var = jnp.sum(jnp.where(mask, (v - 1.0) ** 2, 0.0)) / n
    var = jnp.clip(var, 1e-6, 1e6)
    return jnp.stack([1.0 / var, -0.5 / var]), s


def _to_params(eta, xmin, scale):
    a, b = eta[0], eta[1]
    sig_v = 1.0 / jnp.sqrt(-2.0 * b)
    return jnp.stack([jnp.log(xmin) + scale * a * sig_v * sig_v, scale * sig_v])


def _from_params(p, xmin, scale):
    mu, sigma = p[0], p[1]
    sig_v = sigma / scale
    m_v = (mu - jnp.log(xmin)) / scale
    return jnp.stack([m_v / (sig_v * sig_v), -0.5 / (sig_v * sig_v)])


SHAPE = Shape("lognormal", ("mu", "sigma"), _log_f, _log_tail, _to_params, _from_params,
              lower=(-1e8, -1e8), upper=(1e8, -1e-12), init=_init, edge=(0.0, 1e-9))


def _sample(key, mu, sigma, xmin, shape=(), *, discrete: bool = False):
    """Draws by inversion of the tail CCDF (continuous: ``ndtri``; discrete: exact search)."""
    if discrete:
        return _tail.params_sample(SHAPE, key, mu, sigma, xmin, shape, discrete=True)
    u = uniform_open(key, shape)
    # P(X >= x) = Phi(-z(x)) / Phi(-z0), z = (ln x - mu) / sigma
    z0 = (jnp.log(xmin) - mu) / sigma
    log_p = jnp.log(u) + jax.scipy.special.log_ndtr(-z0)
    return jnp.exp(mu - sigma * jax.scipy.special.ndtri(jnp.exp(log_p)))


#: The law through the common interface (:class:`htsr.models.law.Law`); default priors
#: ``mu ~ Normal(ln x0, 5)``, ``sigma ~ HalfNormal(5)``.
LAW = Law.from_shape(SHAPE, (REAL, POSITIVE), title="lognormal", sample=_sample,
                     prior=lambda x0: {"mu": Normal(np.log(x0), 5.0), "sigma": HalfNormal(5.0)})
