"""``htsr.bayes.fit_many``: many samples (the layers of one network), alpha pooled or independent."""

from __future__ import annotations

import dataclasses
import functools

import jax
import jax.numpy as jnp
import numpy as np

from .._jax import bucket, pad_batch, pad_rows, x64
from .._progress import resolve as resolve_progress
from ..data import as_sample, check_bool, check_choice, check_int, check_tail, check_xmin
from ..errors import FitError, HtsrError
from ..models import registry
from . import models as bm
from . import threshold as th
from ._mcmc import diagnose, optimized_init, run_nuts, to_idata
from .api import BODY_LAWS, TARGET_ACCEPT_UNKNOWN, make_sampler, numpyro_priors, threshold_start, thin_draws
from .checks import ppc_padded, ppc_threshold
from .priors import resolve_priors, to_numpyro
from .result import BayesManyFit

__all__ = ["fit_many"]


def fit_many(samples, *, hierarchical: bool = True, xmin="fit", discrete: bool = False, seed: int = 0,
             draws: int = 1000, chains: int = 4, warmup: int | None = None, target_accept: float | None = None,
             prior=None, body: str = "stretched_exponential", body_priors=None, min_tail: int = 10,
             max_candidates: int | None = 200, xmin_prior: str = "log_tail", ppc_draws: int = 400,
             progress=None) -> BayesManyFit:
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
    target_accept : float, optional
        NUTS target acceptance: default 0.9, or 0.95 with xmin unknown (as :func:`htsr.bayes.fit`).
    progress : bool or callable, optional
        As in :func:`htsr.bayes.fit`: NUTS iterations per chain, warmup first.
    Other parameters as in :func:`htsr.bayes.fit`.
    """
    hierarchical = check_bool(hierarchical, "hierarchical")
    discrete = check_bool(discrete, "discrete")
    if isinstance(samples, np.ndarray) and samples.ndim == 1 or len(samples) == 0:
        raise HtsrError("samples must be a non-empty sequence of samples (one per layer)")
    xs = [as_sample(s, discrete=discrete, name=f"samples[{i}]") for i, s in enumerate(samples)]
    if target_accept is None:  # 0.9 for the pooled tails; the unknown-xmin model's as in fit
        target_accept = TARGET_ACCEPT_UNKNOWN if xmin is None else 0.9
    sampler = make_sampler(draws, chains, warmup, target_accept, seed)
    ppc_draws = check_int(ppc_draws, "ppc_draws", minimum=1)
    progress = resolve_progress(progress, "NUTS")
    law = registry.get("power_law")
    alpha_prior = resolve_priors(law, 1.0, None if prior is None else {"alpha": prior})["alpha"]
    with x64():
        if xmin is None:
            body_law = registry.get(check_choice(body, "body", BODY_LAWS))
            return _many_threshold(xs, law, body_law, sampler, hierarchical, discrete, alpha_prior,
                                   body_priors, check_int(min_tail, "min_tail", minimum=2), max_candidates,
                                   ppc_draws, check_choice(xmin_prior, "xmin_prior", th.THRESHOLD_PRIORS),
                                   progress)
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
        draws = run_nuts(bm.many_tail_model, sampler, key,
                         dict(x=xj, mask=mj, xmin=xminj, prior=to_numpyro(alpha_prior)),
                         static=dict(law=law, discrete=discrete, hierarchical=hierarchical), progress=progress)
        C, L = sampler.chains, len(xs)
        thin = thin_draws(sampler, ppc_draws)
        alpha_all = jnp.asarray(draws.samples["alpha"])
        alpha = alpha_all[:, thin].reshape(-1, L)
        reps, hit = ppc_padded(law, {"alpha": alpha}, xj, mj, xminj, k_ppc, discrete=discrete)
        ll = bm.many_tail_loglik(law, alpha_all, xj, mj, xminj, discrete=discrete)
        dims = _dims(hierarchical, {"x": ["layer", "slot"]})
        idata = to_idata(draws, dims=dims, loglik={"x": np.asarray(ll)}, observed={"x": padded},
                         predictive={"x": np.asarray(reps).reshape(C, thin.size, L, -1)})
        names = ("alpha", "m", "tau") if hierarchical else ("alpha",)
        diag = diagnose(idata, names, what=f"{len(xs)} tails", sampler=sampler)
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
                    max_candidates, ppc_draws, xmin_prior, progress=None) -> BayesManyFit:
    sampler = dataclasses.replace(sampler, dense_mass=True)
    cands = [th.candidate_indices(x, min_tail=min_tail, max_candidates=max_candidates) for x in xs]
    for i, c in enumerate(cands):
        if c.size == 0:
            raise FitError(f"samples[{i}]: no xmin candidate leaves min_tail={min_tail} tail points")
    padded, counts = pad_rows(xs)
    K = bucket(max(c.size for c in cands))
    cand = pad_batch(np.stack([np.pad(c, (0, K - c.size)) for c in cands]).astype(np.float64),
                     np.array([c.size for c in cands]), width=K, fill="first").astype(np.int64)
    cprior = np.stack([th.threshold_log_prior(n, c, xmin_prior, width=K) for n, c in zip(counts, cands)])
    x0 = np.array([np.median(x) for x in xs])  # the body priors' scale, as in htsr.bayes.fit
    bpri = resolve_priors(body_law, x0, body_priors)
    xj, nj, cj, mj = (jnp.asarray(a) for a in (padded, counts, cand, cprior))
    k_mcmc, k_post, k_ppc, k_init = jax.random.split(jax.random.PRNGKey(sampler.seed), 4)
    data = dict(x=xj, n=nj, cand=cj, cprior=mj, body_x0=jnp.asarray(x0), prior=to_numpyro(alpha_prior),
                body_priors=numpyro_priors(bpri))
    static = dict(law=law, body_law=body_law, discrete=discrete, hierarchical=hierarchical)
    init = optimized_init(bm.many_threshold_model, data,
                          _many_start(xs, cands, x0, law, body_law, discrete, hierarchical),
                          k_init, sampler.chains, static=static)
    draws = run_nuts(bm.many_threshold_model, sampler, k_mcmc, data, static=static, init_params=init,
                     progress=progress)
    samples = draws.samples
    C, D, L = sampler.chains, sampler.draws, len(xs)
    alpha = jnp.asarray(samples["alpha"].reshape(C * D, L))
    body = {k: jnp.asarray(samples["body_" + k].reshape(C * D, L)) for k in body_law.param_names}
    j, phi, ll = th.posterior_thresholds_many(law, body_law, {"alpha": alpha}, body, xj, nj, cj, mj,
                                              jax.random.split(k_post, C * D), discrete=discrete)
    j = np.asarray(j)
    thin = (np.arange(C)[:, None] * D + thin_draws(sampler, ppc_draws)[None, :]).reshape(-1)
    reps, hit = _ppc_many(law, xj, nj, alpha[thin], jnp.asarray(j[thin]), jax.random.split(k_ppc, L), discrete)
    xmin_draws = np.take_along_axis(np.broadcast_to(padded, (C * D, *padded.shape)), j[..., None], -1)[..., 0]
    extra = {"xmin": xmin_draws.reshape(C, D, L), "n_tail": (counts[None, :] - j).reshape(C, D, L),
             "phi": np.asarray(phi).reshape(C, D, L)}
    dims = _dims(hierarchical, {"xmin": ["layer"], "n_tail": ["layer"], "phi": ["layer"], "x": ["layer", "point"],
                                **{k: ["layer"] for k in samples if k.startswith("body_")}})
    dims["x_tail"] = ["layer", "tail_slot"]
    idata = to_idata(draws, extra_posterior=extra, dims=dims,
                     loglik={"x": np.asarray(ll).reshape(C, D, L, -1)}, observed={"x": padded}, coords=None,
                     predictive={"x_tail": np.asarray(reps).reshape(C, -1, L, padded.shape[1])})
    names = ("alpha", "m", "tau") if hierarchical else ("alpha",)
    diag = diagnose(idata, names, what=f"{L} samples with unknown xmin", sampler=sampler)
    return BayesManyFit(idata=idata, hierarchical=hierarchical, xmin=None, n_tail=None, discrete=discrete,
                        seed=sampler.seed, diagnostics=diag,
                        var_names=("alpha_network", "tau", "alpha") if hierarchical else ("alpha",),
                        ppc_p=np.asarray(hit).mean(0))


@functools.partial(jax.jit, static_argnames=("law", "discrete"))
def _ppc_many(law, x, n, alpha, j, keys, discrete):
    one = lambda xl, nl, al, jl, kl: ppc_threshold(law, xl, nl, {"alpha": al}, jl, kl, discrete=discrete)
    return jax.vmap(one, in_axes=(0, 0, 1, 1, 0), out_axes=1)(x, n, alpha, j, keys)


def _many_start(xs, cands, body_x0, law, body_law, discrete, hierarchical):
    """Starting values of the unknown-xmin many-sample model: each layer's Clauset-based start."""
    starts = [threshold_start(x, law, body_law, discrete, x0=float(x[c[0]]), body_x0=float(b))
              for x, c, b in zip(xs, cands, body_x0)]
    names = ["alpha", *sorted({k for s in starts for k in s if k.startswith("body_")})]
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
