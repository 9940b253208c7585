"""The one interface every tail law is reached through.

A :class:`Law` is a small frozen object in the style of a
``numpyro.distributions.Distribution`` class, but for tails: each law is
defined on ``x >= xmin`` (and ``x <= xmax`` for a bounded law), continuous or
on the integers, and carries

* ``param_names`` and :class:`Constraint` s on the *reported* parameters
  (what :func:`htsr.compare` prints, what a prior is put on);
* ``log_pdf``, ``cdf``, ``ccdf``, ``sample``: pure JAX functions of
  ``(x, params, xmin)``; ``log_pdf`` is ``-inf`` outside the support (below
  ``xmin``, above ``xmax``, at a non-integer of a discrete law) and wherever a
  parameter violates its constraint, so a model with a latent ``xmin`` or an
  unconstrained sampler sees an impossible point as impossible;
* ``mle``: maximum likelihood on a batch of padded tails, closed form or
  Newton where one exists, the shared optimiser of :mod:`htsr.models._tail`
  otherwise, with standard errors (a :class:`~htsr.models._tail.TailMLE`);
* ``logdensity_fn(data, mask, xmin)``: a pure function ``params -> log
  likelihood`` of a pytree (a dict keyed by ``param_names``), in the style of
  blackjax's ``logdensity_fn``, for NumPyro (``numpyro.factor``) and blackjax.

* ``default_priors(x0)``: a :class:`~htsr.models.prior.Prior` per parameter
  for a tail starting at ``x0`` (what ``htsr.bayes`` uses unless told otherwise).

Parameters are passed as a sequence in ``param_names`` order or as a dict.
There is one implementation of each density: the functions a :class:`Law`
holds are the law module's own (or, for a law described by its shape,
:meth:`Law.from_shape`'s, built once in :mod:`htsr.models._tail`), which the
scan, the MLEs, the samplers, the bootstrap and the Bayesian models all call.

Adding a law is one file: see docs/architecture.md, "Adding a tail law".
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from .. import _jax

__all__ = ["Constraint", "Law", "TailMLE", "REAL", "POSITIVE", "GREATER_THAN_ONE", "uniform_open", "batch_mle"]


@dataclass(frozen=True)
class Constraint:
    """An interval ``(lower, upper)`` for one reported parameter (open ends unless ``closed``).

    ``numpyro()`` gives the equivalent ``numpyro.distributions.constraints``
    object (imported lazily).
    """

    lower: float = -math.inf
    upper: float = math.inf
    closed: bool = False

    def check(self, value):
        """Elementwise bool: is ``value`` inside the constraint?"""
        v = jnp.asarray(value)
        if self.closed:
            return (v >= self.lower) & (v <= self.upper)
        return (v > self.lower) & (v < self.upper)

    def numpyro(self):
        from numpyro.distributions import constraints as c

        if math.isinf(self.lower) and math.isinf(self.upper):
            return c.real
        if math.isinf(self.upper):
            return c.greater_than(self.lower)
        if math.isinf(self.lower):
            return c.less_than(self.upper)
        return c.interval(self.lower, self.upper)

    def __str__(self) -> str:
        lo = "(" if not self.closed or math.isinf(self.lower) else "["
        hi = ")" if not self.closed or math.isinf(self.upper) else "]"
        return f"{lo}{self.lower:g}, {self.upper:g}{hi}"


REAL = Constraint()
POSITIVE = Constraint(0.0)
GREATER_THAN_ONE = Constraint(1.0)


def uniform_open(key, shape=(), dtype=None):
    """``U ~ Uniform(0, 1]`` in the current default float dtype, never exactly 0.

    The smallest draw is that dtype's ``tiny`` (not float64's, which is 0 in
    float32 and would make ``log(U)`` infinite), so inverse-CDF samplers are
    safe in float32 as in float64.
    """
    dtype = jnp.result_type(float) if dtype is None else dtype
    return jax.random.uniform(key, shape, dtype=dtype, minval=jnp.finfo(dtype).tiny, maxval=1.0)


class TailMLE(NamedTuple):
    """Maximum-likelihood fits of a batch of tails (leading axis B).

    Attributes
    ----------
    params : (B, k) reported parameters
    se : (B, k) standard errors from the observed Fisher information (NaN if unavailable)
    loglik : (B,) maximised log-likelihood of the tail
    converged : (B,) bool, the iteration met its tolerance
    at_boundary : (B, k) bool, the optimisation coordinate ended on its box
    n_iter : (B,) iterations used
    pointwise : (B, P) log-likelihood of each (padded) observation at the MLE; padding is 0
    """

    params: jax.Array
    se: jax.Array
    loglik: jax.Array
    converged: jax.Array
    at_boundary: jax.Array
    n_iter: jax.Array
    pointwise: jax.Array


def batch_mle(kernel, x, counts, *ends) -> TailMLE:
    """Run a jitted per-tail MLE ``kernel(X, counts, *ends)`` on padded tails: the one batch front end.

    ``x`` (B, P) holds tail ``b`` in its first ``counts[b]`` entries; ``ends``
    (``xmin``, and ``xmax`` for a bounded law) broadcast to (B,).  Padding repeats
    each row's first value, a valid point of every tail, so the kernel's
    masked sums see finite numbers.  Returns a :class:`TailMLE` of NumPy arrays.
    """
    counts = np.asarray(counts, dtype=np.int64)
    ends = [np.broadcast_to(np.asarray(e, dtype=np.float64), counts.shape) for e in ends]
    X = _jax.pad_batch(x, counts, fill="first")
    with _jax.x64():
        return TailMLE(*(np.asarray(a) for a in kernel(X, counts, *ends)))


@dataclass(frozen=True, eq=False)
class Law:
    """A tail law: parameter names and constraints, support, densities, sampler, MLE.

    The callables take the parameters unpacked, in ``param_names`` order, then
    ``xmin`` (and ``xmax`` for a bounded law), as the law module's functions do::

        log_pdf(x, *params, xmin[, xmax], discrete=False)
        cdf, ccdf: the same signature
        sample(key, *params, xmin[, xmax], shape, discrete=False)
        mle(x, counts, xmin[, xmax], discrete=False) -> TailMLE

    Use the methods, which add the support, the constraints, dict parameters
    and the log-density builder.  ``prior`` maps a tail's start ``x0`` to the
    law's default priors (:meth:`default_priors`).
    """

    name: str
    param_names: tuple
    constraints: tuple
    raw_log_pdf: Callable
    raw_cdf: Callable
    raw_ccdf: Callable
    raw_sample: Callable
    raw_mle: Callable
    bounded: bool = False
    title: str = ""
    prior: Callable | None = None
    #: a law of counts only (the Poisson): its functions raise FitError when called with discrete=False
    discrete_only: bool = False

    @classmethod
    def from_shape(cls, shape, constraints, *, title: str, prior: Callable, sample: Callable | None = None) -> Law:
        """The law on ``[xmin, inf)`` described by a :class:`~htsr.models._tail.Shape`.

        Its densities, CCDF inversion sampler and Newton MLE are
        :mod:`htsr.models._tail`'s, built once for every such law; ``sample``
        (raw signature) replaces the sampler where the law has a closed form.
        ``prior``: ``x0 -> {parameter: Prior}``, the law's default priors.
        """
        # imported here: _tail builds on this module's TailMLE and uniform_open
        from . import _tail

        def bind(fn):
            return functools.partial(fn, shape)

        return cls(name=shape.name, param_names=shape.param_names, constraints=tuple(constraints),
                   raw_log_pdf=bind(_tail.params_log_pdf), raw_cdf=bind(_tail.params_cdf),
                   raw_ccdf=bind(_tail.params_ccdf), raw_sample=sample or bind(_tail.params_sample),
                   raw_mle=bind(_tail.mle_padded), title=title, prior=prior)

    # ------------------------------------------------------------ plumbing
    def params(self, params) -> tuple:
        """Parameters as a tuple in ``param_names`` order (from a dict or a sequence)."""
        if isinstance(params, Mapping):
            missing = [k for k in self.param_names if k not in params]
            if missing:
                raise KeyError(f"{self.name} needs parameters {self.param_names}, missing {missing}")
            return tuple(params[k] for k in self.param_names)
        params = tuple(params) if isinstance(params, (tuple, list)) else (params,)
        if len(params) != len(self.param_names):
            raise ValueError(f"{self.name} takes {len(self.param_names)} parameter(s) "
                             f"{self.param_names}, got {len(params)}")
        return params

    def _ends(self, xmin, xmax):
        if self.bounded:
            if xmax is None:
                raise ValueError(f"the {self.name} law needs xmax")
            return (xmin, xmax)
        return (xmin,)

    def valid(self, params):
        """Scalar bool: every parameter inside its constraint."""
        ok = jnp.asarray(True)
        for p, c in zip(self.params(params), self.constraints):
            ok = ok & jnp.all(c.check(p))
        return ok

    def in_support(self, x, xmin, xmax=None, *, discrete: bool = False):
        """Elementwise bool: ``x`` in the support (``xmin <= x [<= xmax]``, integer if discrete)."""
        x = jnp.asarray(x)
        ok = x >= xmin
        if self.bounded:
            ok = ok & (x <= xmax)
        if discrete:
            ok = ok & (x == jnp.round(x))
        return ok

    # ------------------------------------------------------------ the law
    def log_pdf(self, x, params, xmin, *, xmax=None, discrete: bool = False):
        """Log density (log mass if discrete); ``-inf`` outside the support or the constraints."""
        p = self.params(params)
        x = jnp.asarray(x)
        # evaluate at a point inside the support so the unused branch is finite (and so its gradient)
        safe = jnp.where(self.in_support(x, xmin, xmax, discrete=discrete), x, xmin)
        raw = self.raw_log_pdf(safe, *p, *self._ends(xmin, xmax), discrete=discrete)
        ok = self.in_support(x, xmin, xmax, discrete=discrete) & self.valid(p)
        return jnp.where(ok, raw, -jnp.inf)

    def cdf(self, x, params, xmin, *, xmax=None, discrete: bool = False):
        """``P(X <= x)``: 0 below ``xmin``, 1 at and above ``xmax``."""
        p = self.params(params)
        x = jnp.asarray(x)
        hi = x if not self.bounded else jnp.minimum(x, xmax)
        inside = jnp.maximum(hi, xmin)
        if discrete:
            inside = jnp.floor(inside)
        val = self.raw_cdf(inside, *p, *self._ends(xmin, xmax), discrete=discrete)
        return jnp.where(x < xmin, 0.0, val)

    def ccdf(self, x, params, xmin, *, xmax=None, discrete: bool = False):
        """``P(X >= x)``: 1 at and below ``xmin``, 0 above ``xmax``."""
        p = self.params(params)
        x = jnp.asarray(x)
        inside = jnp.maximum(x, xmin)
        if self.bounded:
            inside = jnp.minimum(inside, xmax)
        if discrete:
            inside = jnp.ceil(inside)
        val = self.raw_ccdf(inside, *p, *self._ends(xmin, xmax), discrete=discrete)
        if self.bounded:
            val = jnp.where(x > xmax, 0.0, val)
        return val

    def sample(self, key, params, xmin, shape=(), *, xmax=None, discrete: bool = False):
        """Exact draws with the JAX PRNG ``key`` (the law module's own sampler)."""
        p = self.params(params)
        return self.raw_sample(key, *p, *self._ends(xmin, xmax), tuple(shape), discrete=discrete)

    def mle(self, x, counts, xmin, *, xmax=None, discrete: bool = False):
        """Maximum likelihood on padded tails ``x`` (B, P) with ``counts`` (B,) real entries.

        Returns a :class:`~htsr.models._tail.TailMLE` of NumPy arrays: ``params``
        (B, k) in ``param_names`` order, ``se``, ``loglik``, ``converged``,
        ``at_boundary``, ``n_iter``, ``pointwise``.
        """
        return self.raw_mle(x, counts, *self._ends(xmin, xmax), discrete=discrete)

    def default_priors(self, x0) -> dict:
        """The default :class:`~htsr.models.prior.Prior` of every parameter, for a tail starting at ``x0``.

        Keys are :attr:`param_names`, except where the law samples a parameter in
        other coordinates (the stretched exponential's ``lam_scaled``).
        """
        if self.prior is None:
            raise ValueError(f"the {self.name} law has no default prior")
        return dict(self.prior(x0))

    def logdensity_fn(self, data, mask=None, xmin=None, *, xmax=None, discrete: bool = False):
        """A pure ``params -> log-likelihood`` of ``data`` (entries where ``mask``), for NumPyro/blackjax.

        ``params`` is a dict keyed by :attr:`param_names` (or a sequence in that
        order); ``xmin`` may be a traced value (a latent threshold): points below
        it then contribute ``-inf``, so a caller that moves ``xmin`` must say which
        points are the tail through ``mask``.  The result is jit-, grad- and
        vmap-able and is ``-inf`` outside the parameter constraints.
        """
        data = jnp.asarray(data)
        mask = jnp.ones(data.shape, dtype=bool) if mask is None else jnp.asarray(mask, dtype=bool)
        if xmin is None:
            raise ValueError("logdensity_fn needs xmin")

        def logdensity(params):
            lp = self.log_pdf(data, params, xmin, xmax=xmax, discrete=discrete)
            return jnp.sum(jnp.where(mask, lp, 0.0))

        return logdensity

    def __reduce__(self):
        # a registered law pickles as its name, so a worker gets the same object (and its compiled kernels)
        from . import registry

        if registry.LAWS.get(self.name) is self:
            return registry.get, (self.name,)
        return Law, tuple(getattr(self, f.name) for f in dataclasses.fields(self))

    def __repr__(self) -> str:
        cons = ", ".join(f"{n} in {c}" for n, c in zip(self.param_names, self.constraints))
        sup = "[xmin, xmax]" if self.bounded else "[xmin, inf)"
        return f"Law({self.name!r}, {cons}, support {sup})"
