"""The registry of tail laws: names, aliases and nesting, in one place.

Everything that iterates over laws (``htsr.compare``, the plots, the command
line, the Bayesian models, the layer report) reads this module; nothing else
keeps a list of laws.

=========================  ==========================  ===========================
name                       parameters                  module
=========================  ==========================  ===========================
``power_law``              alpha > 1                   :mod:`htsr.models.powerlaw`
``bounded_power_law``      alpha (any real)            :mod:`htsr.models.bounded`
``exponential``            lam > 0                     :mod:`htsr.models.exponential`
``stretched_exponential``  lam > 0, beta > 0           :mod:`htsr.models.stretched`
``lognormal``              mu, sigma > 0               :mod:`htsr.models.lognormal`
``power_law_cutoff``       alpha, lam > 0              :mod:`htsr.models.cutoff`
``lognormal_positive``     mu >= 0, sigma > 0          :mod:`htsr.models.lognormal_positive`
``poisson``                lam > 0 (discrete only)     :mod:`htsr.models.poisson`
=========================  ==========================  ===========================
"""

from __future__ import annotations

from . import bounded, cutoff, exponential, lognormal, lognormal_positive, poisson, powerlaw, stretched
from .law import Law

__all__ = ["LAWS", "ALIASES", "NESTED_PAIRS", "ALTERNATIVES", "TAIL_MODELS", "get", "canonical", "is_nested"]

#: Every law by canonical name.
LAWS: dict[str, Law] = {
    law.name: law
    for law in (powerlaw.LAW, bounded.LAW, exponential.LAW, stretched.LAW, lognormal.LAW, cutoff.LAW,
                lognormal_positive.LAW, poisson.LAW)
}
#: Other spellings accepted for a law (``truncated_power_law`` is the ``powerlaw`` package's name).
ALIASES = {"truncated_power_law": "power_law_cutoff", "bounded": "bounded_power_law"}
#: Pairs where the first law is a special case of the second (power law in the cutoff law at
#: lam = 0; exponential in the cutoff law at alpha = 0; exponential in the stretched
#: exponential at beta = 1).
NESTED_PAIRS = (
    ("power_law", "power_law_cutoff"),
    ("exponential", "power_law_cutoff"),
    ("exponential", "stretched_exponential"),
)
#: The alternatives to the power law, in the column order of Clauset et al. Table 6.2.
ALTERNATIVES = ("lognormal", "exponential", "stretched_exponential", "power_law_cutoff")
#: The laws on ``[xmin, inf)`` that likelihood-ratio tests compare on one tail (the last two are not
#: in compare_all's default: the positive lognormal equals the lognormal whenever mu_hat > 0, and the
#: Poisson is discrete only).
TAIL_MODELS = ("power_law", *ALTERNATIVES, "lognormal_positive", "poisson")


def canonical(name, *, among=None, error=ValueError) -> str:
    """The canonical name of a law (aliases resolved); ``among`` restricts the choice."""
    choices = tuple(LAWS) if among is None else tuple(among)
    if not isinstance(name, str):
        raise error(f"a model name must be a string, got {name!r}")
    key = ALIASES.get(name, name)
    if key not in choices:
        aliases = [a for a, k in ALIASES.items() if k in choices]
        extra = f" (or {', '.join(aliases)})" if aliases else ""
        raise error(f"unknown model {name!r}; choose from {', '.join(choices)}{extra}")
    return key


def get(name, **kwargs) -> Law:
    """The :class:`~htsr.models.law.Law` of a name or alias."""
    return LAWS[canonical(name, **kwargs)]


def is_nested(model1: str, model2: str) -> bool:
    """Whether one of two canonical names is a special case of the other."""
    return (model1, model2) in NESTED_PAIRS or (model2, model1) in NESTED_PAIRS
