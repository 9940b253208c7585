"""Priors: small frozen specs that build NumPyro distributions, and the defaults per law.

A prior is given per reported parameter of a law (``alpha``, ``lam``, ``mu``,
``sigma``, ``beta``), as one of the specs below or as any
``numpyro.distributions.Distribution`` whose support matches the parameter's
constraint.  The specs exist so that priors are typed, printable and
recognisable: the conjugate closed form (:func:`htsr.bayes.conjugate`) needs to
know that the prior of ``alpha - 1`` is a Gamma.

Default priors (weakly informative; ``x0`` is the tail's xmin, which makes them
scale-free: multiplying the data by ``s`` multiplies every scale parameter's
prior accordingly and leaves the posterior of ``alpha``, ``beta``, ``sigma`` as it was):

=======================  =========  ===========================================
law                      parameter  default prior
=======================  =========  ===========================================
``power_law``            alpha      ``alpha - 1 ~ Gamma(2, rate 0.5)``: mode 3, mean 5,
                                    P(alpha < 1.5) = 0.03, P(alpha > 10) = 0.06
``bounded_power_law``    alpha      ``Normal(2, 3)`` (any real exponent is proper)
``power_law_cutoff``     alpha      ``Normal(2, 3)``
                         lam        ``lam * x0 ~ Exponential(1)``
``exponential``          lam        ``lam * x0 ~ Exponential(1)``
``stretched_exponential`` lam       ``lam * x0^beta ~ LogNormal(0, 2)`` (``lam`` has units
                                    ``x^-beta``; the spec is keyed ``lam_scaled``)
                         beta       ``LogNormal(0, 1)``
``lognormal``            mu         ``Normal(ln x0, 5)``
                         sigma      ``HalfNormal(5)``
=======================  =========  ===========================================
"""

from __future__ import annotations

import numpy as np
from collections.abc import Mapping
from dataclasses import dataclass

from ..errors import HtsrError

__all__ = ["Gamma", "Normal", "HalfNormal", "LogNormal", "Exponential", "default_priors", "resolve_priors"]


@dataclass(frozen=True)
class Gamma:
    """``X - loc ~ Gamma(shape, rate)`` (``loc=1``: the usual prior on a power law's alpha)."""

    shape: float
    rate: float
    loc: float = 0.0

    def numpyro(self):
        import numpyro.distributions as dist

        g = dist.Gamma(self.shape, self.rate)
        if self.loc == 0.0:
            return g
        # domain=positive so the support is (loc, inf), which NUTS's unconstraining transform needs
        shift = dist.transforms.AffineTransform(self.loc, 1.0, domain=dist.constraints.positive)
        return dist.TransformedDistribution(g, shift)


@dataclass(frozen=True)
class Normal:
    """``Normal(loc, scale)``."""

    loc: float
    scale: float

    def numpyro(self):
        import numpyro.distributions as dist

        return dist.Normal(self.loc, self.scale)


@dataclass(frozen=True)
class HalfNormal:
    """``|Normal(0, scale)|``."""

    scale: float

    def numpyro(self):
        import numpyro.distributions as dist

        return dist.HalfNormal(self.scale)


@dataclass(frozen=True)
class LogNormal:
    """``ln X ~ Normal(loc, scale)``."""

    loc: float
    scale: float

    def numpyro(self):
        import numpyro.distributions as dist

        return dist.LogNormal(self.loc, self.scale)


@dataclass(frozen=True)
class Exponential:
    """``Exponential(rate)``."""

    rate: float

    def numpyro(self):
        import numpyro.distributions as dist

        return dist.Exponential(self.rate)


_SPECS = (Gamma, Normal, HalfNormal, LogNormal, Exponential)

#: Key of the stretched exponential's default prior: on the dimensionless ``lam * x0**beta``, not on ``lam``
#: (whose units, ``x^-beta``, change with beta): the model samples that product
#: (:func:`htsr.bayes.models.sample_law_params`), so the posterior's geometry does not depend on the data's units.
SCALED = "lam_scaled"


def default_priors(law_name: str, x0: float) -> dict:
    """The default prior spec of every parameter of a law, for a tail starting at ``x0``."""
    lx = np.log(x0)
    table = {
        "power_law": {"alpha": Gamma(2.0, 0.5, loc=1.0)},
        "bounded_power_law": {"alpha": Normal(2.0, 3.0)},
        "power_law_cutoff": {"alpha": Normal(2.0, 3.0), "lam": Exponential(x0)},
        "exponential": {"lam": Exponential(x0)},
        # the prior of the dimensionless lam * x0^beta (SCALED): scale-free whatever beta is
        "stretched_exponential": {SCALED: LogNormal(0.0, 2.0), "beta": LogNormal(0.0, 1.0)},
        "lognormal": {"mu": Normal(lx, 5.0), "sigma": HalfNormal(5.0)},
    }
    return dict(table[law_name])


def resolve_priors(law, x0: float, priors: Mapping | None) -> dict:
    """Defaults overridden by ``priors``; unknown parameter names and non-priors raise."""
    out = default_priors(law.name, x0)
    if priors is None:
        return out
    if not isinstance(priors, Mapping):
        raise HtsrError(f"priors must be a mapping from parameter name to prior, got {type(priors).__name__}")
    unknown = sorted(set(priors) - set(law.param_names))
    if unknown:
        raise HtsrError(f"priors given for {unknown}, but the {law.name} law has parameters {law.param_names}")
    if "lam" in priors:  # a prior on lam itself replaces the default one on lam * x0^beta
        out.pop(SCALED, None)
    for name, prior in priors.items():
        if not (isinstance(prior, _SPECS) or hasattr(prior, "log_prob")):
            raise HtsrError(f"the prior of {name} must be a prior spec (htsr.bayes.Gamma, ...) or a numpyro "
                            f"distribution, got {prior!r}")
        out[name] = prior
    return out


def to_numpyro(prior):
    """A numpyro distribution from a spec (a distribution passes through)."""
    return prior.numpyro() if isinstance(prior, _SPECS) else prior
