"""``htsr.bayes.fit_many``: many samples (the layers of one network), alpha pooled or independent.

The keywords checked, then a path of :mod:`htsr.bayes.pipeline`.
"""

from __future__ import annotations

import numpy as np

from .._jax import x64
from .._progress import resolve as resolve_progress
from ..data import as_sample, check_bool, check_choice, check_int
from ..errors import HtsrError
from ..models import registry
from . import pipeline as pl
from . import threshold as th
from .priors import resolve_priors
from .result import BayesManyFit

__all__ = ["fit_many"]


def fit_many(samples, *, hierarchical: bool = True, xmin="fit", discrete: bool = False, seed: int = 0,
             draws: int = 1000, chains: int = 4, warmup: int | None = None, target_accept: float | None = None,
             prior=None, body: str = "stretched_exponential", body_priors=None, min_tail: int = 10,
             max_candidates: int | None = 200, xmin_prior: str = "log_tail", ppc_draws: int = 400,
             progress=None) -> BayesManyFit:
    """Power-law posteriors of many samples in one NUTS run.

    The parameters not listed here are those of :func:`htsr.bayes.fit`.

    Parameters
    ----------
    samples : sequence of array_like
        One sample per layer.
    hierarchical : bool
        Pool the alphas: ``log(alpha_l - 1) = m + tau z_l`` (non-centred), ``m ~ Normal(ln 1.5, 1)``,
        ``tau ~ HalfNormal(1)``.  False: independent posteriors, each with ``prior``.
    xmin : ``"fit"``, number, sequence or None
        ``"fit"``: fixed at each sample's Clauset fit (:func:`htsr.fit_many`); a number or one per
        sample: fixed there; ``None``: unknown, the threshold model per sample.
    prior : Prior, optional
        The prior of every alpha with ``hierarchical=False`` (default ``alpha - 1 ~ Gamma(2, 0.5)``).
    ppc_draws : int
        Posterior draws (over all chains) of the posterior_predictive group: per draw and
        layer a replicated tail of the layer's size (``x``, dims ``layer``, ``slot``, NaN at
        padding), or with xmin unknown a tail above that draw's threshold (``x_tail``).
        ``ppc_p`` is each layer's KS posterior predictive p-value.
    target_accept : float, optional
        NUTS target acceptance: default 0.9, or 0.95 with xmin unknown (as :func:`htsr.bayes.fit`).
    progress : bool or callable, optional
        As in :func:`htsr.bayes.fit`: NUTS iterations per chain, warmup first.

    Returns
    -------
    BayesManyFit
    """
    hierarchical = check_bool(hierarchical, "hierarchical")
    discrete = check_bool(discrete, "discrete")
    if isinstance(samples, np.ndarray) and samples.ndim == 1 or len(samples) == 0:
        raise HtsrError("samples must be a non-empty sequence of samples (one per layer)")
    xs = [as_sample(s, discrete=discrete, name=f"samples[{i}]") for i, s in enumerate(samples)]
    if target_accept is None:  # 0.9 for the pooled tails; the unknown-xmin model's as in fit
        target_accept = pl.TARGET_ACCEPT_UNKNOWN if xmin is None else 0.9
    sampler = pl.make_sampler(draws, chains, warmup, target_accept, seed)
    ppc_draws = check_int(ppc_draws, "ppc_draws", minimum=1)
    progress = resolve_progress(progress, "NUTS")
    law = registry.get("power_law")
    alpha_prior = resolve_priors(law, 1.0, None if prior is None else {"alpha": prior})["alpha"]
    with x64():
        if xmin is None:
            body_law = registry.get(check_choice(body, "body", pl.BODY_LAWS))
            return pl.many_threshold(xs, law, body_law, sampler, hierarchical, discrete, alpha_prior, body_priors,
                                     check_int(min_tail, "min_tail", minimum=2), max_candidates, ppc_draws,
                                     check_choice(xmin_prior, "xmin_prior", th.THRESHOLD_PRIORS), progress)
        picked = [pl.tail_at(x, xm, None, law=law, discrete=discrete, name=f"samples[{i}]")
                  for i, (x, xm) in enumerate(zip(xs, _xmins(xs, xmin, discrete)))]
        return pl.many_tails([t for t, _, _ in picked], np.array([xm for _, xm, _ in picked]), law, alpha_prior,
                             sampler, hierarchical, discrete, ppc_draws, progress)


def _xmins(xs, xmin, discrete) -> np.ndarray:
    """Each sample's xmin: its Clauset fit's (``"fit"``), or the value(s) given (checked by ``tail_at``)."""
    if isinstance(xmin, str):
        check_choice(xmin, "xmin", ("fit",))
        from ..fitting import fit_many as clauset_many

        return np.array([f.xmin for f in clauset_many(xs, discrete=discrete)], dtype=np.float64)
    values = np.broadcast_to(np.asarray(xmin, dtype=np.float64), (len(xs),)) if np.ndim(xmin) == 0 else xmin
    if len(values) != len(xs):
        raise HtsrError(f"xmin has {len(values)} values for {len(xs)} samples")
    return list(values)
