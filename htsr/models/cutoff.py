"""The power law with exponential cutoff on ``x >= xmin`` (Clauset et al. 2009, Table 2.1).

Continuous::

    p(x) = lam^(1-alpha) / Gamma(1-alpha, lam xmin) * x^-alpha * exp(-lam x)
    P(X >= x) = Gamma(1-alpha, lam x) / Gamma(1-alpha, lam xmin)

with ``Gamma(a, z)`` the upper incomplete gamma function, here at negative
``a`` whenever ``alpha > 1``.  It is computed in pure JAX as
``z^a E_(1-a)(z)`` by :func:`htsr.special.log_expint` (continued fraction and a
term-wise integrated series; no mpmath), and is differentiable in both
arguments, which the Newton iteration and the standard errors need.

Discrete (integers ``x >= xmin``)::

    p(x) = x^-alpha exp(-lam x) / sum_{k >= xmin} k^-alpha exp(-lam k)

summed exactly in log-sum-exp plus an Euler-Maclaurin tail whose integral is
the same incomplete gamma function (:mod:`htsr.models._tail`); as ``lam -> 0``
this is the Hurwitz zeta function of the discrete power law.

Maximum likelihood
------------------
The law is an exponential family in ``(alpha, lam)`` (sufficient statistics
``sum ln x`` and ``sum x``), so the log-likelihood is concave and the maximum
unique.  Coordinates ``eta = (alpha, lam xmin)`` in the box
``[-1, 50] x [1e-12, 1e6]`` (``alpha >= -1`` as in Clauset et al.'s code).  The
power law is the boundary ``lam = 0``: a fit with ``lam xmin < 1e-9`` is
flagged ``at_boundary``, and its log-likelihood equals the power law's to
~1e-12 per point, so the nested likelihood-ratio test is unaffected.
"""

from __future__ import annotations

import jax.numpy as jnp

from ..special import log_expint
from ._tail import Shape
from .law import POSITIVE, REAL, Law
from .prior import Exponential, Normal

__all__ = ["LAW", "SHAPE"]

_ALPHA_MAX = 50.0


def _log_f(x, eta, xmin, scale):
    alpha, theta = eta[0], eta[1]
    y = x / xmin
    return -alpha * jnp.log(y) - theta * (y - 1.0)


def _log_tail(x, eta, xmin, scale):
    # int_x^inf (t/xmin)^-alpha e^{-theta (t/xmin - 1)} dt = xmin e^theta y^(1-alpha) E_alpha(theta y)
    alpha, theta = eta[0], eta[1]
    y = x / xmin
    return jnp.log(xmin) + theta + (1.0 - alpha) * jnp.log(y) + log_expint(alpha, theta * y)


def _init(x, mask, xmin, discrete):
    n = jnp.sum(mask)
    y = jnp.where(mask, x / xmin, 1.0)
    sum_ly = jnp.maximum(jnp.sum(jnp.log(y)), 1e-300)
    alpha0 = jnp.clip(1.0 + n / sum_ly, 1.05, _ALPHA_MAX - 1.0)
    excess = jnp.maximum(jnp.sum(y - 1.0) / n, 1e-300)
    theta0 = jnp.clip(0.1 / excess, 1e-8, 1e5)
    return jnp.stack([alpha0, theta0]), 1.0


def _to_params(eta, xmin, scale):
    return jnp.stack([eta[0], eta[1] / xmin])


def _from_params(p, xmin, scale):
    return jnp.stack([p[0], p[1] * xmin])


SHAPE = Shape("power_law_cutoff", ("alpha", "lam"), _log_f, _log_tail, _to_params, _from_params,
              lower=(-1.0, 1e-12), upper=(_ALPHA_MAX, 1e6), init=_init, edge=(0.0, 1e-9))

#: The law through the common interface (:class:`htsr.models.law.Law`); draws invert the CCDF by
#: bisection.  Default priors: ``alpha ~ Normal(2, 3)``, ``lam * x0 ~ Exponential(1)``.
LAW = Law.from_shape(SHAPE, (REAL, POSITIVE), title="power law with exponential cutoff",
                     prior=lambda x0: {"alpha": Normal(2.0, 3.0), "lam": Exponential(x0)})
