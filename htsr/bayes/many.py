"""``htsr.bayes.fit_many``: many samples (the layers of one network), alpha pooled or independent."""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np

from .._jax import pad_batch, pad_rows, x64
from ..data import as_sample, check_bool, check_choice, check_int, check_tail, check_xmin
from ..errors import FitError, HtsrError
from ..models import registry
from . import models as bm
from . import threshold as th
from ._mcmc import diagnose, run_nuts, to_idata
from .api import BODY_LAWS, make_sampler
from .priors import resolve_priors
from .result import BayesManyFit

__all__ = ["fit_many"]


def fit_many(samples, *, hierarchical: bool = True, xmin="fit", discrete: bool = False, seed: int = 0,
             draws: int = 1000, chains: int = 4, warmup: int | None = None, target_accept: float = 0.9,
             prior=None, body: str = "lognormal", body_priors=None, min_tail: int = 10,
             max_candidates: int | None = 200) -> BayesManyFit:
    """Power-law posteriors of many samples in one NUTS run.

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
    prior : prior of alpha for ``hierarchical=False`` (default ``alpha - 1 ~ Gamma(2, 0.5)``).
    Other parameters as in :func:`htsr.bayes.fit`.
    """
    hierarchical = check_bool(hierarchical, "hierarchical")
    discrete = check_bool(discrete, "discrete")
    if isinstance(samples, np.ndarray) and samples.ndim == 1 or len(samples) == 0:
        raise HtsrError("samples must be a non-empty sequence of samples (one per layer)")
    xs = [as_sample(s, discrete=discrete, name=f"samples[{i}]") for i, s in enumerate(samples)]
    sampler = make_sampler(draws, chains, warmup, target_accept, seed)
    law = registry.get("power_law")
    alpha_prior = resolve_priors(law, 1.0, None if prior is None else {"alpha": prior})["alpha"]
    with x64():
        if xmin is None:
            body_law = registry.get(check_choice(body, "body", BODY_LAWS))
            return _many_threshold(xs, law, body_law, sampler, hierarchical, discrete, alpha_prior,
                                   body_priors, check_int(min_tail, "min_tail", minimum=2), max_candidates)
        xmins = _xmins(xs, xmin, discrete)
        tails = []
        for i, (x, xm) in enumerate(zip(xs, xmins)):
            tail = x[x >= xm]
            check_tail(tail, f"samples[{i}] with xmin={xm:g}", error=FitError)
            tails.append(tail)
        padded, counts = pad_rows(tails)
        mask = np.arange(padded.shape[1])[None, :] < counts[:, None]
        key = jax.random.PRNGKey(sampler.seed)
        mcmc = run_nuts(bm.many_tail_model, sampler, key, x=jnp.asarray(padded), mask=jnp.asarray(mask),
                        xmin=jnp.asarray(xmins), law=law, discrete=discrete, hierarchical=hierarchical,
                        prior=alpha_prior)
        dims = _dims(hierarchical, {"x": ["layer", "slot"]})
        idata = to_idata(mcmc, log_likelihood=True, dims=dims)
        names = ("alpha", "m", "tau") if hierarchical else ("alpha",)
        diag = diagnose(idata, names, what=f"{len(xs)} tails")
        return BayesManyFit(idata=idata, hierarchical=hierarchical, xmin=np.asarray(xmins), n_tail=counts,
                            discrete=discrete, seed=sampler.seed, diagnostics=diag,
                            var_names=("alpha_network", "tau", "alpha") if hierarchical else ("alpha",))


def _dims(hierarchical, extra):
    dims = {"alpha": ["layer"], **extra}
    if hierarchical:
        dims["z"] = ["layer"]
    return dims


def _xmins(xs, xmin, discrete) -> np.ndarray:
    if isinstance(xmin, str):
        check_choice(xmin, "xmin", ("fit",))
        from ..fitting import fit_many as clauset_many

        return np.array([f.xmin for f in clauset_many(xs, discrete=discrete)], dtype=np.float64)
    values = np.broadcast_to(np.asarray(xmin, dtype=np.float64), (len(xs),)) if np.ndim(xmin) == 0 else xmin
    if len(values) != len(xs):
        raise HtsrError(f"xmin has {len(values)} values for {len(xs)} samples")
    return np.array([check_xmin(float(v), discrete, error=FitError) for v in values])


def _many_threshold(xs, law, body_law, sampler, hierarchical, discrete, alpha_prior, body_priors, min_tail,
                    max_candidates) -> BayesManyFit:
    sampler = dataclasses.replace(sampler, dense_mass=True)
    cands = [th.candidate_indices(x, min_tail=min_tail, max_candidates=max_candidates) for x in xs]
    for i, c in enumerate(cands):
        if c.size == 0:
            raise FitError(f"samples[{i}]: no xmin candidate leaves min_tail={min_tail} tail points")
    padded, counts = pad_rows(xs)
    K = max(c.size for c in cands)
    cand = pad_batch(np.stack([np.pad(c, (0, K - c.size)) for c in cands]).astype(np.float64),
                     np.array([c.size for c in cands]), width=K, fill="first").astype(np.int64)
    cmask = np.arange(K)[None, :] < np.array([c.size for c in cands])[:, None]
    x0 = padded[:, 0]
    bpri = resolve_priors(body_law, x0, body_priors)
    xj, nj, cj, mj = (jnp.asarray(a) for a in (padded, counts, cand, cmask))
    k_mcmc, k_post = jax.random.split(jax.random.PRNGKey(sampler.seed))
    mcmc = run_nuts(bm.many_threshold_model, sampler, k_mcmc, x=xj, n=nj, cand=cj, cmask=mj, law=law,
                    body_law=body_law, discrete=discrete, hierarchical=hierarchical, prior=alpha_prior,
                    body_priors=bpri)
    samples = mcmc.get_samples(group_by_chain=True)
    C, D, L = sampler.chains, sampler.draws, len(xs)
    alpha = samples["alpha"].reshape(C * D, L)
    body = {k: samples["body_" + k].reshape(C * D, L) for k in body_law.param_names}

    def per_draw(args):
        key, a, b = args

        def layer(k, al, bl, xl, nl, cl, ml):
            lw = th.log_weights(law, body_law, {"alpha": al}, bl, xl, nl, cl, ml, discrete=discrete)
            return th.draw_threshold(k, lw, cl, nl)[0]

        return jax.vmap(layer)(jax.random.split(key, L), a, b, xj, nj, cj, mj)

    j = np.asarray(jax.lax.map(per_draw, (jax.random.split(k_post, C * D), alpha, body), batch_size=128))
    xmin_draws = np.take_along_axis(np.broadcast_to(padded, (C * D, *padded.shape)), j[..., None], -1)[..., 0]
    extra = {"xmin": xmin_draws.reshape(C, D, L), "n_tail": (counts[None, :] - j).reshape(C, D, L)}
    dims = _dims(hierarchical, {"xmin": ["layer"], "n_tail": ["layer"],
                                **{"body_" + k: ["layer"] for k in body_law.param_names}})
    idata = to_idata(mcmc, log_likelihood=False, extra_posterior=extra, dims=dims,
                     observed={"x": padded}, coords=None)
    names = ("alpha", "m", "tau") if hierarchical else ("alpha",)
    diag = diagnose(idata, names, what=f"{L} samples with unknown xmin")
    return BayesManyFit(idata=idata, hierarchical=hierarchical, xmin=None, n_tail=None, discrete=discrete,
                        seed=sampler.seed, diagnostics=diag,
                        var_names=("alpha_network", "tau", "alpha") if hierarchical else ("alpha",))
