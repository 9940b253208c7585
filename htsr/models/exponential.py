"""The exponential law on ``x >= xmin`` (Clauset, Shalizi & Newman 2009, Table 2.1).

Continuous::

    p(x) = lam * exp(-lam (x - xmin)),            P(X >= x) = exp(-lam (x - xmin))

Discrete (integers ``x >= xmin``), the normalising sum is a geometric series,
summed exactly::

    p(x) = (1 - exp(-lam)) * exp(-lam (x - xmin)),   P(X >= x) = exp(-lam (x - xmin))

Maximum likelihood is in closed form: ``lam = 1 / mean(x - xmin)`` (continuous)
and ``lam = log(1 + 1 / mean(x - xmin))`` (discrete); the common machinery of
:mod:`htsr.models._tail` starts from it, confirms it in one Newton step and
supplies the observed-information standard error (``lam / sqrt(n)``, resp.
``2 sinh(lam/2) / sqrt(n)``).

Optimisation coordinate: ``eta = log(lam * xmin)``, boxed to ``[-50, 50]``.
"""

from __future__ import annotations

import jax.numpy as jnp

from ._tail import Shape
from .law import POSITIVE, Law, uniform_open
from .prior import Exponential

__all__ = ["LAW", "SHAPE"]


def _lam(eta, xmin):
    return jnp.exp(eta[0]) / xmin


def _log_f(x, eta, xmin, scale):
    return -_lam(eta, xmin) * (x - xmin)


def _log_tail(x, eta, xmin, scale):
    lam = _lam(eta, xmin)
    return -lam * (x - xmin) - jnp.log(lam)


def _log_sum(q, eta, xmin, scale):
    lam = _lam(eta, xmin)
    return -lam * (q - xmin) - jnp.log(-jnp.expm1(-lam))


def _init(x, mask, xmin, discrete):
    m = jnp.sum(jnp.where(mask, x - xmin, 0.0)) / jnp.sum(mask)
    m = jnp.maximum(m, 1e-300)
    lam = jnp.log1p(1.0 / m) if discrete else 1.0 / m
    return jnp.log(lam * xmin)[None], 1.0


def _to_params(eta, xmin, scale):
    return _lam(eta, xmin)[None]


def _from_params(p, xmin, scale):
    return jnp.log(p[0] * xmin)[None]


SHAPE = Shape("exponential", ("lam",), _log_f, _log_tail, _to_params, _from_params,
              lower=(-50.0,), upper=(50.0,), init=_init, log_sum=_log_sum)


def _sample(key, lam, xmin, shape=(), *, discrete: bool = False):
    """Exact draws by inversion: ``xmin - log(U)/lam``; discrete: ``xmin + floor(-log(U)/lam)``."""
    u = uniform_open(key, shape)
    t = -jnp.log(u) / lam
    return xmin + jnp.floor(t) if discrete else xmin + t


#: The law through the common interface (:class:`htsr.models.law.Law`); default prior ``lam * x0 ~ Exponential(1)``.
LAW = Law.from_shape(SHAPE, (POSITIVE,), title="exponential", sample=_sample,
                     prior=lambda x0: {"lam": Exponential(x0)})
