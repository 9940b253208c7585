"""The lognormal tail law with a positive ``mu`` (the ``powerlaw`` package's ``lognormal_positive``).

The density is :mod:`htsr.models.lognormal`'s, normalised on ``x >= xmin``
(continuous or discrete), with the constraint ``mu >= 0`` (a non-negative mean of
``ln x`` before truncation; ``mu = 0`` is allowed, as in ``powerlaw``).  Only the maximum likelihood differs: it is taken
over ``mu >= 0``.  Where the unconstrained lognormal MLE has ``mu > 0`` the two
fits coincide; otherwise the fit sits on ``mu = 0`` and is flagged
``at_boundary`` (standard errors NaN, as for any fit on its box).

Coordinates
-----------
With :mod:`htsr.models.lognormal`'s natural coordinates ``(a, b)`` (``b =
-s^2/(2 sigma^2) < 0``, ``s`` the tail's mean of ``ln(x/xmin)``),
``mu = ln xmin - s a / (2 b)``, so ``mu >= 0`` is the half-plane
``c = a - 2 b ln(xmin) / s >= 0``.  The MLE runs in ``eta = (c, b)``, a linear
change of the lognormal's concave coordinates (so still concave), with the box
``c in [0, 1e8]``, ``b in [-1e8, -1e-12]``; then ``mu = s c / (-2 b)``.

Comparisons: :func:`htsr.compare` accepts ``"lognormal_positive"``; it is not
in ``NESTED_PAIRS`` with the lognormal (a constraint, not a point restriction:
both fits are equal whenever ``mu_hat > 0``).
"""

from __future__ import annotations

import dataclasses
import functools

import jax.numpy as jnp
import numpy as np

from . import _tail, lognormal
from ._tail import Shape
from .law import POSITIVE, Constraint
from .prior import HalfNormal

__all__ = ["LAW", "SHAPE"]

_LN = lognormal.SHAPE


def _ab(eta, xmin, scale):
    c, b = eta[0], eta[1]
    return jnp.stack([c + 2.0 * b * jnp.log(xmin) / scale, b])


def _log_f(x, eta, xmin, scale):
    return _LN.log_f(x, _ab(eta, xmin, scale), xmin, scale)


def _log_tail(x, eta, xmin, scale):
    return _LN.log_tail(x, _ab(eta, xmin, scale), xmin, scale)


def _init(x, mask, xmin, discrete):
    ab, s = _LN.init(x, mask, xmin, discrete)
    c = ab[0] - 2.0 * ab[1] * jnp.log(xmin) / s
    return jnp.stack([jnp.maximum(c, 1e-3), ab[1]]), s


def _to_params(eta, xmin, scale):
    c, b = eta[0], eta[1]
    sig_v = 1.0 / jnp.sqrt(-2.0 * b)
    return jnp.stack([scale * c * sig_v * sig_v, scale * sig_v])  # mu = s c / (-2 b): exactly 0 at c = 0


def _from_params(p, xmin, scale):
    a, b = _LN.from_params(p, xmin, scale)
    return jnp.stack([a - 2.0 * b * jnp.log(xmin) / scale, b])


#: ``mu >= 0``: closed, as in ``powerlaw`` (``mu in [0, None]``), so a fit on the bound is a valid law.
NONNEGATIVE = Constraint(0.0, closed=True)

SHAPE = Shape("lognormal_positive", ("mu", "sigma"), _log_f, _log_tail, _to_params, _from_params,
              lower=(0.0, -1e8), upper=(1e8, -1e-12), init=_init, edge=(1e-12, 1e-9))


def _prior(x0):
    return {"mu": HalfNormal(max(5.0, 2.0 * abs(float(np.log(x0))))), "sigma": HalfNormal(5.0)}


#: The law through the common interface: the lognormal's densities and sampler, ``mu >= 0``, and the
#: MLE over ``mu >= 0``.  Default priors ``mu ~ HalfNormal(max(5, 2 |ln x0|))``, ``sigma ~ HalfNormal(5)``.
LAW = dataclasses.replace(lognormal.LAW, name="lognormal_positive", constraints=(NONNEGATIVE, POSITIVE),
                          raw_mle=functools.partial(_tail.mle_padded, SHAPE), title="lognormal (mu >= 0)",
                          prior=_prior)
