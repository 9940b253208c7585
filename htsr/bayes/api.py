"""``htsr.bayes.fit`` and ``loo_compare``: the keywords checked, then a path of :mod:`htsr.bayes.pipeline`."""

from __future__ import annotations

import warnings

import numpy as np

from .._jax import x64
from .._progress import resolve as resolve_progress
from ..data import as_sample, check_bool, check_choice, check_int
from ..errors import FitError, HtsrError, SmallSampleWarning
from ..fitting.api import MIN_TAIL
from ..models import registry
from . import pipeline as pl
from . import threshold as th
from ._mcmc import arviz
from .checks import LooComparison
from .priors import resolve_priors
from .result import BayesFit

__all__ = ["fit", "loo_compare"]


def fit(data, model: str = "power_law", *, xmin=None, xmax=None, discrete: bool = False, seed: int = 0,
        draws: int = 1000, chains: int = 4, warmup: int | None = None, target_accept: float | None = None,
        priors=None, method: str = "nuts", body: str = "stretched_exponential", body_priors=None, min_tail: int = 10,
        max_candidates: int | None = 200, xmin_prior: str = "log_tail", ppc_draws: int = 400,
        progress=None) -> BayesFit:
    """Posterior of a tail law by NUTS (or in closed form), as arviz InferenceData.

    Parameters
    ----------
    data : array_like
        One-dimensional sample (validated by :func:`htsr.data.as_sample`).
    model : str
        A law of :mod:`htsr.models.registry`: ``power_law`` (default), ``bounded_power_law``,
        ``power_law_cutoff``, ``lognormal``, ``exponential``, ``stretched_exponential``.
    xmin : float, optional
        Fix the start of the tail.  ``None``: xmin is a parameter, the whole sample is
        modelled by a ``body`` law below it and ``model`` above it, threshold and tail
        fraction marginalised exactly (:mod:`htsr.bayes.threshold`).
    xmax : float, optional
        Upper end of ``bounded_power_law`` (default: the largest value).
    discrete : bool
        Integer data (laws on the integers).
    seed, draws, chains, warmup, target_accept
        NUTS: ``chains`` chains vectorised on one device, ``draws`` kept per chain after
        ``warmup`` (default ``draws``) adaptation steps; same seed, same draws.
        ``target_accept`` defaults to 0.8, and to 0.95 for the unknown-xmin model.
    priors : mapping, optional
        Parameter name -> prior (a spec of :mod:`htsr.bayes.priors` or a numpyro
        distribution); the rest keep their defaults (see docs/bayes.md).
    method : ``"nuts"`` or ``"conjugate"``
        ``"conjugate"``: exact Gamma posterior (continuous power law, xmin fixed, Gamma prior
        on alpha - 1), iid draws.
    body, body_priors, min_tail, max_candidates, xmin_prior
        Unknown xmin only: the body law, its priors, the fewest tail points a candidate
        leaves, the most candidates kept, and the threshold's prior: ``"log_tail"``
        (default; the tail size log-uniform between ``min_tail`` and n) or ``"uniform"``
        (every candidate alike); see :func:`htsr.bayes.threshold.threshold_log_prior`.
    ppc_draws : int
        Posterior draws (over all chains) used for the posterior predictive group and p-value.
    progress : bool or callable, optional
        ``True``: a bar on stderr (on a terminal); a callable gets ``(done, total)``, the NUTS
        iterations per chain, warmup first (:func:`htsr.bayes._mcmc.run_nuts`).  The cost grows
        with the sample (O(n) per leapfrog step) and with how hard the posterior is to explore:
        see docs/bayes.md, "What a fit costs".

    Returns
    -------
    BayesFit

    Warns
    -----
    SmallSampleWarning
        With xmin fixed, a tail of fewer than 10 points (as :func:`htsr.fit`).
    """
    discrete = check_bool(discrete, "discrete")
    x = as_sample(data, discrete=discrete, name="data")
    law = registry.get(model, error=HtsrError)
    method = check_choice(method, "method", ("nuts", "conjugate"))
    if target_accept is None:
        target_accept = pl.TARGET_ACCEPT_UNKNOWN if xmin is None else 0.8
    sampler = pl.make_sampler(draws, chains, warmup, target_accept, seed)
    ppc_draws = check_int(ppc_draws, "ppc_draws", minimum=1)
    progress = resolve_progress(progress, "NUTS")
    with x64():
        if xmin is None:
            if law.bounded or method == "conjugate":
                raise FitError(f"xmin=None (unknown) needs an unbounded law and method='nuts', got "
                               f"model={law.name!r}, method={method!r}")
            body_law = registry.get(check_choice(body, "body", pl.BODY_LAWS))
            return pl.one_threshold(x, law, body_law, sampler, discrete, priors, body_priors,
                                    check_int(min_tail, "min_tail", minimum=2), max_candidates, ppc_draws,
                                    check_choice(xmin_prior, "xmin_prior", th.THRESHOLD_PRIORS), progress)
        tail, xmin, xmax = pl.tail_at(x, xmin, xmax, law=law, discrete=discrete)
        if tail.size < MIN_TAIL:  # the threshold htsr.fit warns at
            warnings.warn(f"the tail at xmin={xmin:g} has {tail.size} point(s): below {MIN_TAIL} tail points the "
                          f"posterior of {', '.join(law.param_names)} says more about the prior than the data",
                          SmallSampleWarning, stacklevel=2)
        pri = resolve_priors(law, xmin, priors)
        if method == "conjugate":
            return pl.one_conjugate(x, tail, xmin, law, pri, sampler, discrete, ppc_draws)
        return pl.one_tail(x, tail, xmin, xmax, law, pri, sampler, discrete, ppc_draws, progress)


def loo_compare(data, models=("power_law", "power_law_cutoff", "lognormal"), *, xmin=None,
                discrete: bool = False, seed: int = 0, draws: int = 1000, chains: int = 4,
                priors=None, **fit_options) -> LooComparison:
    """Rank tail laws by PSIS-LOO on one tail (``xmin`` fixed; default the Clauset fit's).

    ``priors``: optional mapping law name -> priors mapping.  Other keywords go to :func:`fit`.
    """
    if isinstance(models, str) or len(models) < 2:
        raise HtsrError(f"models must be a sequence of at least two law names, got {models!r}")
    names = [registry.canonical(m, error=HtsrError) for m in models]
    if xmin is None:
        from ..fitting import fit as clauset_fit

        xmin = clauset_fit(data, discrete=discrete).xmin
    fits = {m: fit(data, m, xmin=xmin, discrete=discrete, seed=seed, draws=draws, chains=chains,
                   priors=(priors or {}).get(m), **fit_options) for m in names}
    az = arviz()
    loos = {m: az.loo(f.idata, pointwise=True) for m, f in fits.items()}
    table = az.compare({m: f.idata for m, f in fits.items()}, ic="loo")
    return LooComparison(table=table, pareto_k={m: np.asarray(l.pareto_k) for m, l in loos.items()},
                         fits=fits, xmin=float(xmin))
