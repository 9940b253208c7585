"""A tail law of :mod:`htsr.models` as a ``numpyro.distributions.Distribution``.

:class:`LawDistribution` holds a :class:`~htsr.models.law.Law`, its parameters
and its support ends; ``log_prob`` *is* ``Law.log_pdf`` and ``sample`` *is*
``Law.sample``, so the Bayesian models use the one implementation of each
density that the MLEs, the scan, the samplers and the bootstrap use.  Outside
the support (or the parameter constraints) ``log_prob`` is ``-inf``.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpyro.distributions as dist
from numpyro.distributions import constraints

__all__ = ["LawDistribution"]


class LawDistribution(dist.Distribution):
    """``law`` with ``params`` (dict keyed by ``law.param_names``) on ``[xmin, inf)`` or ``[xmin, xmax]``.

    Parameters and ends broadcast: with ``alpha`` of shape (L, 1) and ``xmin``
    of shape (L, 1) the batch shape is (L, 1); use ``.expand((L, P))`` for a
    padded (L, P) block of observations and ``.mask(mask)`` to drop padding.
    """

    arg_constraints = {}
    pytree_data_fields = ("params", "xmin", "xmax")
    pytree_aux_fields = ("law", "discrete")

    def __init__(self, law, params, xmin, xmax=None, *, discrete: bool = False, validate_args=None):
        self.law = law
        self.params = {k: jnp.asarray(v) for k, v in zip(law.param_names, law.params(params))}
        self.xmin = jnp.asarray(xmin)
        self.xmax = None if xmax is None else jnp.asarray(xmax)
        self.discrete = bool(discrete)
        shapes = [jnp.shape(v) for v in self.params.values()] + [jnp.shape(self.xmin)]
        if self.xmax is not None:
            shapes.append(jnp.shape(self.xmax))
        super().__init__(batch_shape=jnp.broadcast_shapes(*shapes), event_shape=(), validate_args=validate_args)

    @constraints.dependent_property(is_discrete=False, event_dim=0)
    def support(self):
        if self.discrete:
            return constraints.integer_greater_than(self.xmin - 1)
        if self.xmax is not None:
            return constraints.interval(self.xmin, self.xmax)
        return constraints.greater_than_eq(self.xmin)

    def log_prob(self, value):
        return self.law.log_pdf(value, self.params, self.xmin, xmax=self.xmax, discrete=self.discrete)

    def sample(self, key, sample_shape=()):
        shape = tuple(sample_shape) + tuple(self.batch_shape)
        params = {k: jnp.broadcast_to(v, shape) for k, v in self.params.items()}
        return self.law.sample(key, params, jnp.broadcast_to(self.xmin, shape), shape,
                               xmax=None if self.xmax is None else jnp.broadcast_to(self.xmax, shape),
                               discrete=self.discrete)

    def cdf(self, value):
        return self.law.cdf(value, self.params, self.xmin, xmax=self.xmax, discrete=self.discrete)
