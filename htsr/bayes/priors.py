"""Priors of the Bayesian models: each law's defaults, overridden by the user's.

A prior is given per reported parameter of a law (``alpha``, ``lam``, ``mu``,
``sigma``, ``beta``), as a :class:`~htsr.models.prior.Prior` (``Gamma``,
``Normal``, ``HalfNormal``, ``LogNormal``, ``Exponential``, re-exported here)
or as any ``numpyro.distributions.Distribution`` whose support matches the
parameter's constraint.  The defaults belong to the laws
(``Law.default_priors(x0)``; the table is in :mod:`htsr.models.prior`).
"""

from __future__ import annotations

from collections.abc import Mapping

from ..errors import HtsrError
from ..models import registry
from ..models.prior import Exponential, Gamma, HalfNormal, LogNormal, Normal, Prior
from ..models.stretched import SCALED

__all__ = ["Prior", "Gamma", "Normal", "HalfNormal", "LogNormal", "Exponential", "SCALED", "default_priors",
           "resolve_priors", "to_numpyro"]


def default_priors(law_name: str, x0: float) -> dict:
    """The default prior spec of every parameter of a law, for a tail starting at ``x0``."""
    return registry.get(law_name).default_priors(x0)


def resolve_priors(law, x0: float, priors: Mapping | None) -> dict:
    """Defaults overridden by ``priors``; unknown parameter names and non-priors raise."""
    out = law.default_priors(x0)
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
        if not (isinstance(prior, Prior) or hasattr(prior, "log_prob")):
            raise HtsrError(f"the prior of {name} must be a prior spec (htsr.bayes.Gamma, ...) or a numpyro "
                            f"distribution, got {prior!r}")
        out[name] = prior
    return out


def to_numpyro(prior):
    """A numpyro distribution from a spec (a distribution passes through)."""
    return prior.numpyro() if isinstance(prior, Prior) else prior
