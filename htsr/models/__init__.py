"""Tail laws, each reached through one interface (:class:`htsr.models.law.Law`).

Each law lives in one module (``powerlaw``, ``bounded``, ``exponential``,
``stretched``, ``lognormal``, ``cutoff``) whose ``LAW`` object carries its
parameter names and constraints, support, ``log_pdf``/``cdf``/``ccdf``,
sampler, MLE, a ``logdensity_fn`` builder for NumPyro/blackjax and its default
priors (:mod:`htsr.models.prior`; NumPyro is imported only when a prior builds
its distribution).
:mod:`htsr.models.registry` lists them by name; the fitters, the bootstrap,
``compare`` and the Bayesian models all call these, so each density exists
exactly once.
"""

from . import bounded, cutoff, exponential, lognormal, powerlaw, stretched
from .law import Constraint, Law, TailMLE
from .prior import Prior
from .registry import ALIASES, ALTERNATIVES, LAWS, NESTED_PAIRS, get, is_nested

__all__ = ["Law", "Constraint", "TailMLE", "Prior", "LAWS", "ALIASES", "NESTED_PAIRS", "ALTERNATIVES", "get",
           "is_nested", "powerlaw", "bounded", "exponential", "stretched", "lognormal", "cutoff"]
