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
from ._mcmc import diagnose, optimized_init, run_nuts, to_idata
from .api import BODY_LAWS, make_sampler, threshold_start, thin_draws
from .checks import ppc_padded, ppc_threshold
from .priors import resolve_priors
from .result import BayesManyFit

__all__ = ["fit_many"]


def fit_many(samples, *, hierarchical: bool = True, xmin="fit", discrete: bool = False, seed: int = 0,
             draws: int = 1000, chains: int = 4, warmup: int | None = None, target_accept: float = 0.9,
             prior=None, body: str = "lognormal", body_priors=None, min_tail: int = 10,
             max_candidates: int | None = 200, ppc_draws: int = 400) -> BayesManyFit:
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
    ppc_draws : int
        Posterior draws (over all chains) of the posterior_predictive group: per draw and
        layer a replicated tail of the layer's size (``x``, dims ``layer``, ``slot``, NaN at
        padding), or with xmin unknown a tail above that draw's threshold (``x_tail``).
        ``ppc_p`` is each layer's KS posterior predictive p-value.
    Other parameters as in :func:`htsr.bayes.fit`.
    """
    hierarchical = check_bool(hierarchical, "hierarchical")
    discrete = check_bool(discrete, "discrete")
    if isinstance(samples, np.ndarray) and samples.ndim == 1 or len(samples) == 0:
        raise HtsrError("samples must be a non-empty sequence of samples (one per layer)")
    xs = [as_sample(s, discrete=discrete, name=f"samples[{i}]") for i, s in enumerate(samples)]
    sampler = make_sampler(draws, chains, warmup, target_accept, seed)
    ppc_draws = check_int(ppc_draws, "ppc_draws", minimum=1)
    law = registry.get("power_law")
    alpha_prior = resolve_priors(law, 1.0, None if prior is None else {"alpha": prior})["alpha"]
    with x64():
        if xmin is None:
            body_law = registry.get(check_choice(body, "body", BODY_LAWS))
            return _many_threshold(xs, law, body_law, sampler, hierarchical, discrete, alpha_prior,
                                   body_priors, check_int(min_tail, "min_tail", minimum=2), max_candidates,
                                   ppc_draws)
        xmins = _xmins(xs, xmin, discrete)
        tails = []
        for i, (x, xm) in enumerate(zip(xs, xmins)):
            tail = x[x >= xm]
            check_tail(tail, f"samples[{i}] with xmin={xm:g}", error=FitError)
            tails.append(tail)
        padded, counts = pad_rows(tails)
        mask = np.arange(padded.shape[1])[None, :] < counts[:, None]
        key, k_ppc = jax.random.split(jax.random.PRNGKey(sampler.seed))
        xj, mj, xminj = jnp.asarray(padded), jnp.asarray(mask), jnp.asarray(xmins)
        mcmc = run_nuts(bm.many_tail_model, sampler, key, x=xj, mask=mj, xmin=xminj, law=law, discrete=discrete,
                        hierarchical=hierarchical, prior=alpha_prior)
        C, L = sampler.chains, len(xs)
        thin = thin_draws(sampler, ppc_draws)
        alpha = mcmc.get_samples(group_by_chain=True)["alpha"][:, thin].reshape(-1, L)
        reps, hit = ppc_padded(law, {"alpha": alpha}, xj, mj, xminj, k_ppc, discrete=discrete)
        dims = _dims(hierarchical, {"x": ["layer", "slot"]})
        idata = to_idata(mcmc, log_likelihood=True, dims=dims,
                         predictive={"x": np.asarray(reps).reshape(C, thin.size, L, -1)})
        names = ("alpha", "m", "tau") if hierarchical else ("alpha",)
        diag = diagnose(idata, names, what=f"{len(xs)} tails")
        return BayesManyFit(idata=idata, hierarchical=hierarchical, xmin=np.asarray(xmins), n_tail=counts,
                            discrete=discrete, seed=sampler.seed, diagnostics=diag,
                            var_names=("alpha_network", "tau", "alpha") if hierarchical else ("alpha",),
                            ppc_p=np.asarray(hit).mean(0))


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
                    max_candidates, ppc_draws) -> BayesManyFit:
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
    k_mcmc, k_post, k_ppc, k_init = jax.random.split(jax.random.PRNGKey(sampler.seed), 4)
    kw = dict(x=xj, n=nj, cand=cj, cmask=mj, law=law, body_law=body_law, discrete=discrete,
              hierarchical=hierarchical, prior=alpha_prior, body_priors=bpri)
    init = optimized_init(bm.many_threshold_model, kw, _many_start(xs, law, body_law, discrete, hierarchical),
                          k_init, sampler.chains)
    mcmc = run_nuts(bm.many_threshold_model, sampler, k_mcmc, init_params=init, **kw)
    samples = mcmc.get_samples(group_by_chain=True)
    C, D, L = sampler.chains, sampler.draws, len(xs)
    alpha = samples["alpha"].reshape(C * D, L)
    body = {k: samples["body_" + k].reshape(C * D, L) for k in body_law.param_names}

    def per_draw(args):
        key, a, b = args

        def layer(k, al, bl, xl, nl, cl, ml):
            lw = th.log_weights(law, body_law, {"alpha": al}, bl, xl, nl, cl, ml, discrete=discrete)
            jl, phi = th.draw_threshold(k, lw, cl, nl)
            return jl, phi, th.pointwise_loglik(law, body_law, {"alpha": al}, bl, xl, nl, jl, phi,
                                                discrete=discrete)

        return jax.vmap(layer)(jax.random.split(key, L), a, b, xj, nj, cj, mj)

    j, phi, ll = jax.jit(lambda a: jax.lax.map(per_draw, a, batch_size=128))(
        (jax.random.split(k_post, C * D), alpha, body))
    j = np.asarray(j)
    thin = (np.arange(C)[:, None] * D + thin_draws(sampler, ppc_draws)[None, :]).reshape(-1)
    reps, hit = jax.jit(jax.vmap(lambda xl, nl, al, jl, kl: ppc_threshold(law, xl, nl, {"alpha": al}, jl, kl,
                                                                           discrete=discrete),
                                 in_axes=(0, 0, 1, 1, 0), out_axes=1))(xj, nj, alpha[thin], jnp.asarray(j[thin]),
                                                               jax.random.split(k_ppc, L))
    xmin_draws = np.take_along_axis(np.broadcast_to(padded, (C * D, *padded.shape)), j[..., None], -1)[..., 0]
    extra = {"xmin": xmin_draws.reshape(C, D, L), "n_tail": (counts[None, :] - j).reshape(C, D, L),
             "phi": np.asarray(phi).reshape(C, D, L)}
    dims = _dims(hierarchical, {"xmin": ["layer"], "n_tail": ["layer"], "phi": ["layer"], "x": ["layer", "point"],
                                **{"body_" + k: ["layer"] for k in body_law.param_names}})
    dims["x_tail"] = ["layer", "tail_slot"]
    idata = to_idata(mcmc, log_likelihood=False, extra_posterior=extra, dims=dims,
                     loglik={"x": np.asarray(ll).reshape(C, D, L, -1)}, observed={"x": padded}, coords=None,
                     predictive={"x_tail": np.asarray(reps).reshape(C, -1, L, padded.shape[1])})
    names = ("alpha", "m", "tau") if hierarchical else ("alpha",)
    diag = diagnose(idata, names, what=f"{L} samples with unknown xmin")
    return BayesManyFit(idata=idata, hierarchical=hierarchical, xmin=None, n_tail=None, discrete=discrete,
                        seed=sampler.seed, diagnostics=diag,
                        var_names=("alpha_network", "tau", "alpha") if hierarchical else ("alpha",),
                        ppc_p=np.asarray(hit).mean(0))


def _many_start(xs, law, body_law, discrete, hierarchical):
    """Starting values of the unknown-xmin many-sample model: each layer's Clauset-based start."""
    starts = [threshold_start(x, law, body_law, discrete) for x in xs]
    names = ["alpha", *("body_" + k for k in body_law.param_names)]
    out = {}
    for name in names:
        vals = [s.get(name) for s in starts]
        if all(v is not None for v in vals):
            out[name] = np.asarray(vals, dtype=np.float64)
    if hierarchical and "alpha" in out:  # the non-centred coordinates of the starting alphas
        la = np.log(np.maximum(out.pop("alpha") - 1.0, 1e-3))
        m, tau = float(la.mean()), float(max(la.std(), 0.05))
        out.update(m=m, tau=tau, z=(la - m) / tau)
    return out
