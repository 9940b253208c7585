"""Bayesian tail models in NumPyro: posteriors of alpha with honest error bars, as arviz InferenceData.

::

    htsr.bayes.fit(data, model="power_law", *, xmin=None, discrete=False, seed=0, draws=1000, chains=4)
    htsr.bayes.fit_many(samples, *, hierarchical=True, xmin="fit")
    htsr.bayes.loo_compare(data, ("power_law", "power_law_cutoff", "lognormal"), xmin=...)

Every model calls the laws of :mod:`htsr.models` through their common interface
(:class:`~htsr.bayes.distribution.LawDistribution` wraps ``Law.log_pdf`` and
``Law.sample``); nothing here writes a density.  :func:`fit` and :func:`fit_many` share
one pipeline (:mod:`htsr.bayes.pipeline`).  Importing this package imports
numpyro (not arviz, which loads on the first fit); ``import htsr`` does not
import it.  See docs/bayes.md.
"""

from .api import fit, loo_compare
from .checks import LooComparison
from .distribution import LawDistribution
from .many import fit_many
from .priors import Exponential, Gamma, HalfNormal, LogNormal, Normal, Prior, default_priors
from .result import BayesFit, BayesManyFit, Diagnostics, GammaPosterior

__all__ = ["fit", "fit_many", "loo_compare", "BayesFit", "BayesManyFit", "Diagnostics", "GammaPosterior",
           "LooComparison", "LawDistribution", "Prior", "Gamma", "Normal", "HalfNormal", "LogNormal", "Exponential",
           "default_priors"]
