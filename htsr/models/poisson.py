"""The Poisson tail law on the integers ``x >= xmin`` (R poweRlaw's ``dispois``).

::

    P(X = x) = lam^x / x! / Z(xmin),   Z(q) = sum_{k >= q} lam^k / k! = e^lam * P(q, lam)

with ``P(q, lam)`` the regularised lower incomplete gamma function (``P(Poisson(lam)
>= q)``), so ``P(X >= x) = Z(x) / Z(xmin)``.  Where ``P(q, lam)`` underflows (``q``
far above ``lam``) ``log Z`` is summed directly over 256 terms, which there fall
faster than geometrically.

Discrete only: the law is a law of counts.  Every call with ``discrete=False``
(``log_pdf``, ``cdf``, ``sample``, ``mle``, and so :func:`htsr.compare`,
:func:`htsr.bayes.fit`, ...) raises :class:`htsr.errors.FitError` saying so.

Maximum likelihood: the truncated Poisson is an exponential family in
``eta = log lam``, so the log-likelihood is concave in ``eta`` and the shared
Newton iteration of :mod:`htsr.models._tail` finds the unique maximum, from
``lam = mean(x)`` (exact when ``xmin = 0``); box ``eta in [-30, 30]``.
"""

from __future__ import annotations

import dataclasses
import functools

import jax
import jax.numpy as jnp
import numpy as np

from ..errors import FitError
from ._tail import DISCRETE_TERMS, Shape
from .law import POSITIVE, Law
from .prior import LogNormal

__all__ = ["LAW", "SHAPE"]


def _log_f(x, eta, xmin, scale):
    return x * eta[0] - jax.scipy.special.gammaln(x + 1.0)


def _log_sum(q, eta, xmin, scale):
    lam = jnp.exp(eta[0])
    qs = jnp.maximum(q, 0.0)
    tail = jax.scipy.special.gammainc(jnp.maximum(qs, 1e-300), lam)  # P(Poisson(lam) >= q), q >= 1
    tail = jnp.where(qs < 0.5, 1.0, tail)
    closed = lam + jnp.log(jnp.where(tail > 1e-250, tail, 1.0))
    j = jnp.arange(DISCRETE_TERMS, dtype=jnp.float64)
    k = qs[..., None] + j  # terms along a new last axis, broadcast against batched parameters
    direct = jax.scipy.special.logsumexp(k * eta[0][..., None] - jax.scipy.special.gammaln(k + 1.0), axis=-1)
    return jnp.where(tail > 1e-250, closed, direct)


def _no_integral(x, eta, xmin, scale):
    raise FitError("the poisson law is discrete only: pass discrete=True (integer data)")


def _init(x, mask, xmin, discrete):
    m = jnp.sum(jnp.where(mask, x, 0.0)) / jnp.sum(mask)
    return jnp.log(jnp.maximum(m, 1e-6))[None], 1.0


def _to_params(eta, xmin, scale):
    return jnp.exp(eta[0])[None]


def _from_params(p, xmin, scale):
    return jnp.log(p[0])[None]


SHAPE = Shape("poisson", ("lam",), _log_f, _no_integral, _to_params, _from_params,
              lower=(-30.0,), upper=(30.0,), init=_init, log_sum=_log_sum)


def _discrete_only(fn):
    @functools.wraps(fn)
    def call(*args, discrete: bool = False, **kwargs):
        if not discrete:
            raise FitError("the poisson law is discrete only: pass discrete=True (integer data)")
        return fn(*args, discrete=True, **kwargs)

    return call


def _prior(x0):
    return {"lam": LogNormal(float(np.log(max(x0, 1.0))), 2.0)}


_BASE = Law.from_shape(SHAPE, (POSITIVE,), title="Poisson", prior=_prior)
#: The law through the common interface; discrete only (``discrete_only=True``); default prior
#: ``ln lam ~ Normal(ln max(x0, 1), 2)``.
LAW = dataclasses.replace(_BASE, discrete_only=True,
                          **{f: _discrete_only(getattr(_BASE, f)) for f in
                             ("raw_log_pdf", "raw_cdf", "raw_ccdf", "raw_sample", "raw_mle")})
