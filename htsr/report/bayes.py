"""The Bayesian option of a report: posteriors of every layer's alpha in one hierarchical model.

Calls ``htsr.bayes.fit_many(samples, hierarchical=True, xmin=...)`` with each
layer's Clauset xmin, so the posterior describes the same tail the point fit
used; its network-level alpha (``alpha_network``) becomes the summary's
hierarchical estimate.  ``htsr.bayes`` (NumPyro) is imported only here, only
when asked: ``import htsr.report`` does not import NumPyro (tests/test_report.py
checks it in a fresh interpreter).
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import HtsrError

__all__ = ["posterior_alphas"]


def _module():
    try:
        from .. import bayes
    except ImportError as exc:
        raise HtsrError(f"bayes: the Bayesian option needs htsr.bayes and NumPyro, which are not available "
                        f"in this installation ({exc}); run without --bayes / bayes=False") from None
    return bayes


def posterior_alphas(samples, xmins, *, level: float, seed: int, sampler=None):
    """Per layer (mean, lo, hi) and draws (L, S); the network estimate dict (or None).

    ``sampler``: a :class:`~htsr.report.options.BayesSpec` (default 2 chains x 1000 draws).
    """
    from .options import BayesSpec

    bayes = _module()
    sampler = BayesSpec() if sampler is None else sampler
    res = bayes.fit_many(samples, hierarchical=True, xmin=np.asarray(xmins), seed=seed, **sampler.options())
    post = res.idata.posterior
    a = np.asarray(post["alpha"].stack(sample=("chain", "draw")).transpose("layer", "sample"))
    q = (1 - level) / 2
    lo, hi = np.quantile(a, q, axis=1), np.quantile(a, 1 - q, axis=1)
    network = None
    if "alpha_network" in post:
        an = np.asarray(post["alpha_network"]).ravel()
        network = dict(estimate=float(np.median(an)), lo=float(np.quantile(an, q)), hi=float(np.quantile(an, 1 - q)),
                       tau=float(np.median(np.asarray(post["tau"]))) if "tau" in post else math.nan,
                       max_r_hat=float(res.diagnostics.max_r_hat), n_divergent=int(res.diagnostics.n_divergent))
    return a.mean(axis=1), lo, hi, a, network
