"""NumPyro models of tails.  Each calls the law interface of :mod:`htsr.models`; none writes a density.

``tail_model``
    xmin (and xmax) fixed: ``x_i ~ law(theta; xmin[, xmax])`` iid, the observed
    site ``x`` a :class:`~htsr.bayes.distribution.LawDistribution`, ``theta``
    with the priors of :mod:`htsr.bayes.priors`.  Continuous or discrete; any
    law of the registry (power law, bounded power law, cutoff, lognormal, ...).
``threshold_model``
    xmin unknown: the whole sample under the body/tail mixture of
    :mod:`htsr.bayes.threshold`, threshold and tail fraction summed out exactly
    (``numpyro.factor``).  Body parameters are the sites ``body_<name>``.

The stretched exponential's ``lam`` (units ``x^-beta``) is sampled as the
dimensionless ``lam_scaled = lam * x0^beta`` (:func:`sample_law_params`), so the
sampler's coordinates, like the default priors, do not depend on the data's units.
``many_tail_model``
    L padded tails (L, P) with masks, one xmin per tail.  ``hierarchical``:
    ``log(alpha_l - 1) = m + tau * z_l``, ``z_l ~ Normal(0, 1)`` (non-centred),
    ``m ~ Normal(ln 1.5, 1)``, ``tau ~ HalfNormal(1)``; otherwise each alpha has
    the single-sample prior.  Power law only (the exponent that is pooled).
``many_threshold_model``
    The same with every xmin unknown: the threshold model per layer (vmapped).

References: Clauset, Shalizi & Newman (2009) for the laws; Betancourt &
Girolami (2015) for the non-centred parameterisation; Vehtari, Gelman & Gabry
(2017) for PSIS-LOO.
"""

from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp
import numpyro
import numpyro.distributions as dist

from . import threshold as th
from .distribution import LawDistribution
from .priors import SCALED, to_numpyro

__all__ = ["tail_model", "threshold_model", "many_tail_model", "many_threshold_model", "tail_loglik",
           "many_tail_loglik", "sample_law_params", "HYPER"]

#: Hyperpriors of the hierarchical model: m ~ Normal(*m), tau ~ HalfNormal(tau).
HYPER = {"m": (math.log(1.5), 1.0), "tau": 1.0}


def sample_law_params(law, priors, x0, prefix=""):
    """The law's parameters as sample sites ``prefix + name``, in coordinates free of the data's units.

    Every law but the stretched exponential: one site per parameter, with its prior.  The
    stretched exponential's ``lam`` has units ``x^-beta``: in the sampler's coordinates
    ``(log lam, log beta)`` a change of units ``x -> s x`` shears the posterior by
    ``beta * log s`` (``log lam`` moves with ``beta``), which, 6.9 per unit of beta for
    values in the thousands, bent it into a narrow curved valley where NUTS's step size went to 0
    and every step hit the tree-depth limit (docs/bayes.md, "What a fit costs").  So the
    site is the dimensionless ``lam_scaled = lam * x0**beta`` (``x0`` the scale of the
    default priors: xmin, or the sample's median for a body) and ``lam`` a deterministic site.
    The default prior is on ``lam_scaled``; a prior given on ``lam`` is carried over
    exactly (a ``TransformedDistribution``: the same posterior in other coordinates).
    """
    if law.name != "stretched_exponential":
        return {name: numpyro.sample(prefix + name, to_numpyro(priors[name])) for name in law.param_names}
    beta = numpyro.sample(prefix + "beta", to_numpyro(priors["beta"]))
    unit = jnp.asarray(x0) ** beta
    if SCALED in priors:
        d = to_numpyro(priors[SCALED])
    else:
        d = dist.TransformedDistribution(to_numpyro(priors["lam"]),
                                         dist.transforms.AffineTransform(0.0, unit, domain=dist.constraints.positive))
    scaled = numpyro.sample(prefix + SCALED, d)
    return {"lam": numpyro.deterministic(prefix + "lam", scaled / unit), "beta": beta}


def tail_model(x, *, law, xmin, xmax=None, discrete=False, priors, mask=None):
    """Fixed-xmin tail model: the observed site ``x`` is the tail itself (padded where ``~mask``)."""
    theta = sample_law_params(law, priors, xmin)
    d = LawDistribution(law, theta, xmin, xmax, discrete=discrete).expand(jnp.shape(x))
    numpyro.sample("x", d if mask is None else d.mask(mask), obs=x)


def threshold_model(x, n, cand, cprior, body_x0, *, law, body_law, discrete=False, priors, body_priors):
    """Unknown-xmin model of the whole sample ``x`` (see :mod:`htsr.bayes.threshold`).

    ``body_x0``: the scale of the body's priors (the sample's median); the tail law's is the
    smallest candidate ``x[cand[0]]``.
    """
    theta = sample_law_params(law, priors, x[cand[0]])
    body = sample_law_params(body_law, body_priors, body_x0, "body_")
    numpyro.factor("loglik", th.marginal_loglik(law, body_law, theta, body, x, n, cand, cprior, discrete=discrete))


def _alphas(L, hierarchical, prior):
    """Per-layer alpha (L,): pooled (non-centred) or independent with ``prior``."""
    if hierarchical:
        m = numpyro.sample("m", dist.Normal(*HYPER["m"]))
        tau = numpyro.sample("tau", dist.HalfNormal(HYPER["tau"]))
        with numpyro.plate("layer", L):
            z = numpyro.sample("z", dist.Normal(0.0, 1.0))
        alpha = numpyro.deterministic("alpha", 1.0 + jnp.exp(m + tau * z))
        numpyro.deterministic("alpha_network", 1.0 + jnp.exp(m))
        return alpha
    with numpyro.plate("layer", L):
        return numpyro.sample("alpha", to_numpyro(prior))


def many_tail_model(x, mask, xmin, *, law, discrete=False, hierarchical=True, prior):
    """L tails padded to (L, P) with ``mask``; ``xmin`` (L,)."""
    L, P = x.shape
    alpha = _alphas(L, hierarchical, prior)
    d = LawDistribution(law, {"alpha": alpha[:, None]}, xmin[:, None], discrete=discrete)
    numpyro.sample("x", d.expand((L, P)).mask(mask), obs=x)


def many_threshold_model(x, n, cand, cprior, body_x0, *, law, body_law, discrete=False, hierarchical=True,
                         prior, body_priors):
    """L whole samples padded to (L, P) (real lengths ``n``), candidates (L, K) with log prior masses ``cprior``;
    ``body_x0`` (L,) the scales of the body priors."""
    L = x.shape[0]
    alpha = _alphas(L, hierarchical, prior)
    with numpyro.plate("layer", L):
        body = sample_law_params(body_law, body_priors, body_x0, "body_")

    def one(a, bd, xl, nl, cl, ml):
        return th.marginal_loglik(law, body_law, {"alpha": a}, bd, xl, nl, cl, ml, discrete=discrete)

    numpyro.factor("loglik", jnp.sum(jax.vmap(one)(alpha, body, x, n, cand, cprior)))


@functools.partial(jax.jit, static_argnames=("law", "discrete"))
def tail_loglik(law, params, x, xmin, xmax=None, *, discrete=False):
    """Pointwise log-likelihood (..., n) of the tail ``x`` (n,) under draws ``params`` (dict of (...) arrays)."""
    d = LawDistribution(law, {k: v[..., None] for k, v in params.items()}, xmin, xmax, discrete=discrete)
    return d.log_prob(x)


@functools.partial(jax.jit, static_argnames=("law", "discrete"))
def many_tail_loglik(law, alpha, x, mask, xmin, *, discrete=False):
    """Pointwise log-likelihood (..., L, P) of padded tails (L, P) under alpha draws (..., L); 0 at padding."""
    d = LawDistribution(law, {"alpha": alpha[..., None]}, xmin[:, None], discrete=discrete)
    return jnp.where(mask, d.log_prob(x), 0.0)
