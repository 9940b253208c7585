"""The steps of a Bayesian fit, shared by :func:`htsr.bayes.fit` and :func:`htsr.bayes.fit_many`.

Every fit takes the same steps:

1. the sampler's settings (:func:`make_sampler`) and its keys (:func:`keys`: the
   seed's ``bayes`` stream of :mod:`htsr.streams`, the only randomness here);
2. the data padded to bucket widths by :mod:`htsr._jax` (:func:`padded_tails`,
   :func:`threshold_inputs`), so samples of similar size share one compiled sampler;
3. NUTS on a model of :mod:`htsr.bayes.models` (:func:`run`; with xmin unknown,
   from an optimised start, :func:`threshold_start`);
4. the posterior predictive check on a thinned set of draws (:func:`thin_draws`),
   the pointwise log-likelihood, arviz InferenceData and the sampler's
   :class:`~htsr.bayes._mcmc.Diagnostics`.

The paths, one sample or many and xmin fixed or unknown, are :func:`one_tail`,
:func:`one_conjugate`, :func:`one_threshold`, :func:`many_tails` and
:func:`many_threshold`; the front doors (:mod:`htsr.bayes.api`,
:mod:`htsr.bayes.many`) validate the keywords and pick one.  Every path runs
under ``htsr._jax.x64()``, which the front doors hold.
"""

from __future__ import annotations

import dataclasses
import functools
import warnings

import jax
import jax.numpy as jnp
import numpy as np

from .. import streams
from .._jax import pad_batch, pad_rows
from ..data import check_int, check_level, check_number, check_seed, check_xmin, select_tail
from ..errors import FitError, HtsrError
from ..models.powerlaw import gamma_posterior
from ..models.stretched import SCALED
from . import models as bm
from . import threshold as th
from ._mcmc import Diagnostics, Sampler, arviz, diagnose, optimized_init, run_nuts, to_idata
from .checks import ppc_padded, ppc_pvalue_fixed, ppc_threshold
from .priors import Gamma, resolve_priors, to_numpyro
from .result import BayesFit, BayesManyFit, GammaPosterior

__all__ = ["BODY_LAWS", "TARGET_ACCEPT_UNKNOWN", "make_sampler", "keys", "run", "thin_draws", "tail_at",
           "padded_tails", "ThresholdInputs", "threshold_inputs", "threshold_start", "one_tail", "one_conjugate",
           "one_threshold", "many_tails", "many_threshold"]

#: Body laws of the unknown-xmin model.
BODY_LAWS = ("stretched_exponential", "lognormal", "exponential")
#: NUTS target acceptance with xmin unknown: the mixture over thresholds has regions of high curvature
#: that the usual 0.8 crosses with divergences and unmixed chains (docs/bayes.md, "Coverage, xmin unknown").
TARGET_ACCEPT_UNKNOWN = 0.95


# ------------------------------------------------------------------ shared steps
def make_sampler(draws, chains, warmup, target_accept, seed) -> Sampler:
    """The NUTS settings, each checked by :mod:`htsr.data` (the error names the argument)."""
    return Sampler(draws=check_int(draws, "draws", minimum=1), chains=check_int(chains, "chains", minimum=1),
                   warmup=None if warmup is None else check_int(warmup, "warmup", minimum=1),
                   target_accept=check_level(target_accept, "target_accept"), seed=check_seed(seed))


def keys(sampler: Sampler, n: int):
    """``n`` keys split from the seed's ``bayes`` stream (:func:`htsr.streams.key`)."""
    return jax.random.split(streams.key(sampler.seed, "bayes"), n)


def run(model, sampler: Sampler, data: dict, static: dict, progress, *, start=None):
    """NUTS on ``model``: ``(draws, k_post, k_ppc)``, the keys left for the post-processing.

    ``start``: constrained starting values; the chains then start from :func:`optimized_init`'s
    points (the key split four ways, ``k_post`` for the thresholds' draws), else from numpyro's
    default (two ways, ``k_post`` None).
    """
    init = k_post = None
    if start is None:
        k_mcmc, k_ppc = keys(sampler, 2)
    else:
        k_mcmc, k_post, k_ppc, k_init = keys(sampler, 4)
        init = optimized_init(model, data, start, k_init, sampler.chains, static=static)
    draws = run_nuts(model, sampler, k_mcmc, data, static=static, init_params=init, progress=progress)
    return draws, k_post, k_ppc


def thin_draws(sampler: Sampler, ppc_draws: int) -> np.ndarray:
    """Indices of the draws of each chain that get a replicated tail: ``ppc_draws`` over all chains, evenly spaced."""
    per_chain = max(1, min(sampler.draws, -(-int(ppc_draws) // sampler.chains)))
    return np.unique(np.round(np.linspace(0, sampler.draws - 1, per_chain)).astype(int))


def _thin_flat(sampler: Sampler, ppc_draws: int) -> np.ndarray:
    """:func:`thin_draws` as indices into the draws of all chains flattened, chain by chain."""
    return (np.arange(sampler.chains)[:, None] * sampler.draws + thin_draws(sampler, ppc_draws)[None, :]).reshape(-1)


def tail_at(x: np.ndarray, xmin, xmax, *, law, discrete: bool, name: str = "data") -> tuple:
    """``(tail, xmin, xmax)``: the points of sorted ``x`` on the fixed range, the ends checked.

    ``xmax`` only for a bounded law (default: the largest value).  Errors are
    :class:`~htsr.errors.FitError`, naming the sample ``name``.
    """
    xmin = check_xmin(xmin, discrete, error=FitError)
    where = "" if name == "data" else f"{name}: "
    if xmin > x[-1]:
        raise FitError(f"{where}xmin={xmin:g} is above the largest value {x[-1]:g}; the tail would be empty")
    if law.bounded:
        xmax = float(x[-1]) if xmax is None else check_number(xmax, "xmax", positive=True, error=FitError)
        if xmax <= xmin:
            raise FitError(f"xmax={xmax:g} must exceed xmin={xmin:g}")
    elif xmax is not None:
        raise FitError(f"xmax is only used by the bounded_power_law model, not {law.name}")
    tail = select_tail(x, xmin, xmax, what=f"{where}xmin={xmin:g}", error=FitError)
    return tail, xmin, xmax


def padded_tails(tails) -> tuple:
    """``(x, counts, mask)``: sorted tails padded to one bucket width (:func:`htsr._jax.pad_rows`), (L, P)."""
    x, counts = pad_rows(tails)
    return x, counts, np.arange(x.shape[1])[None, :] < counts[:, None]


def _padded_tail(tail):
    """One tail padded as by :func:`padded_tails`, as JAX arrays: the values and the mask of the real ones."""
    x, _, mask = padded_tails([tail])
    return jnp.asarray(x[0]), jnp.asarray(mask[0])


@dataclasses.dataclass(frozen=True)
class ThresholdInputs:
    """Whole samples and their xmin candidates, padded for the unknown-xmin models.

    ``x`` (L, P) the sorted samples and ``n`` (L,) their lengths; ``cand`` (L, K) the
    candidate thresholds' indices, padded with the first; ``cprior`` (L, K) their log
    prior masses (-inf at padding); ``body_x0`` (L,) each sample's median, the scale of
    the body law's priors (the body lives on ``[x_1, inf)``, but ``x_1`` is no scale of it);
    ``n_candidates`` (L,) the real candidates of each sample.
    """

    x: np.ndarray
    n: np.ndarray
    cand: np.ndarray
    cprior: np.ndarray
    body_x0: np.ndarray
    n_candidates: np.ndarray

    def arrays(self) -> dict:
        """The traced data of the threshold models."""
        return dict(x=jnp.asarray(self.x), n=jnp.asarray(self.n), cand=jnp.asarray(self.cand),
                    cprior=jnp.asarray(self.cprior), body_x0=jnp.asarray(self.body_x0))


def threshold_inputs(xs, names, *, min_tail: int, max_candidates, xmin_prior: str) -> ThresholdInputs:
    """The candidates of each sorted sample (:func:`htsr.bayes.threshold.candidate_indices`), padded."""
    cands = [th.candidate_indices(x, min_tail=min_tail, max_candidates=max_candidates) for x in xs]
    for name, x, c in zip(names, xs, cands):
        if c.size == 0:
            raise FitError(f"{name}: no xmin candidate leaves min_tail={min_tail} points in the tail of "
                           f"{x.size} values")
    x, n = pad_rows(xs)
    # padded with each sample's first candidate, a valid threshold (its prior mass -inf there)
    cand, sizes = pad_rows(cands, fill="first", dtype=np.int64)
    cprior = np.stack([th.threshold_log_prior(m, c, xmin_prior, width=cand.shape[1]) for m, c in zip(n, cands)])
    return ThresholdInputs(x=x, n=n, cand=cand, cprior=cprior, body_x0=np.array([np.median(v) for v in xs]),
                           n_candidates=sizes)


def threshold_start(x, law, body_law, discrete, *, x0, body_x0) -> dict:
    """Constrained starting values of the threshold model's sites, from the Clauset fit.

    The tail law's MLE above the Clauset xmin (:func:`htsr.fit`) and the body law's MLE
    on the points below it (as a law on ``[x_1, inf)``); a parameter whose MLE is not
    finite, did not converge or ended on its box is left out (it starts at its prior
    median).  ``x0``, ``body_x0``: the scales the model's sites use (a stretched exponential's
    ``lam`` is the site ``lam_scaled = lam * x0**beta``, :func:`htsr.bayes.models.sample_law_params`).
    :func:`~htsr.bayes._mcmc.optimized_init` moves on from here to the mode.
    """
    from ..fitting import fit as clauset_fit

    x = np.asarray(x)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            xmin = float(clauset_fit(x, discrete=discrete).xmin)
    except HtsrError:
        xmin = float(np.quantile(x, 0.9))
    start = {}
    for lw, pts, lo, scale, pre in ((law, x[x >= xmin], xmin, x0, ""), (body_law, x[x < xmin], x[0], body_x0, "body_")):
        if pts.size < 3:
            continue
        # padded to a bucket width, so the splits of many samples share a few compiled shapes
        m = lw.mle(jnp.asarray(pad_batch(pts[None, :], [pts.size])), jnp.asarray([pts.size]), lo, discrete=discrete)
        for k, name in enumerate(lw.param_names):
            v = float(np.asarray(m.params)[0, k])
            if (np.isfinite(v) and bool(np.asarray(m.converged)[0]) and not bool(np.asarray(m.at_boundary)[0, k])
                    and bool(lw.constraints[k].check(v))):
                start[pre + name] = v
        if lw.name == "stretched_exponential":  # the site is lam * x0^beta (needs both)
            lam, beta = start.pop(pre + "lam", None), start.get(pre + "beta")
            if lam is not None and beta is not None:
                start[pre + SCALED] = lam * scale ** beta
    return start


def _numpyro_priors(priors: dict) -> dict:
    """Prior specs as numpyro distributions: pytrees, so they are traced data of the compiled sampler."""
    return {k: to_numpyro(v) for k, v in priors.items()}


# ------------------------------------------------------------------ one sample
def one_tail(x, tail, xmin, xmax, law, pri, sampler, discrete, ppc_draws, progress) -> BayesFit:
    """xmin (and xmax) fixed: NUTS on the tail (:func:`htsr.bayes.models.tail_model`)."""
    m = tail.size
    tj, mj = _padded_tail(tail)
    xm, xM = jnp.float64(xmin), None if xmax is None else jnp.float64(xmax)
    draws, _, k_ppc = run(bm.tail_model, sampler, dict(x=tj, xmin=xm, xmax=xM, priors=_numpyro_priors(pri), mask=mj),
                          dict(law=law, discrete=discrete), progress)
    samples = draws.samples
    thin = thin_draws(sampler, ppc_draws)
    params = {k: jnp.asarray(samples[k][:, thin].reshape(-1)) for k in law.param_names}
    reps, p = ppc_pvalue_fixed(law, params, tj, xm, k_ppc, xmax=xM, discrete=discrete, mask=mj)
    ll = bm.tail_loglik(law, {k: jnp.asarray(samples[k]) for k in law.param_names}, tj, xm, xM, discrete=discrete)
    idata = to_idata(draws, dims={"x": ["tail_point"]}, loglik={"x": np.asarray(ll)[..., :m]}, observed={"x": tail},
                     predictive={"x": np.asarray(reps)[:, :m].reshape(sampler.chains, thin.size, m)})
    diag = diagnose(idata, law.param_names, what=f"the {law.name} tail ({m} points)", sampler=sampler)
    return BayesFit(idata=idata, model=law.name, xmin=xmin, xmax=xmax, discrete=discrete, n=x.size, n_tail=m,
                    method="nuts", seed=sampler.seed, ppc_p=p, diagnostics=diag, var_names=law.param_names)


def one_conjugate(x, tail, xmin, law, pri, sampler, discrete, ppc_draws) -> BayesFit:
    """The closed form (:func:`htsr.models.powerlaw.gamma_posterior`): iid draws of the exact posterior."""
    prior = pri["alpha"]
    if law.name != "power_law" or discrete or not (isinstance(prior, Gamma) and prior.loc == 1.0):
        raise FitError("method='conjugate' needs the continuous power law with a Gamma(shape, rate, loc=1) "
                       f"prior on alpha; got model={law.name!r}, discrete={discrete}, prior={prior!r}")
    exact = GammaPosterior(*gamma_posterior(tail, xmin, prior.shape, prior.rate))
    C, D, m = sampler.chains, sampler.draws, tail.size
    alpha = 1.0 + streams.generator(sampler.seed, "bayes").gamma(exact.shape, 1.0 / exact.rate, size=(C, D))
    (tj, mj), xm = _padded_tail(tail), jnp.float64(xmin)
    ll = np.asarray(bm.tail_loglik(law, {"alpha": jnp.asarray(alpha)}, tj, xm))[..., :m]
    thin = thin_draws(sampler, ppc_draws)
    # the seed's key itself: nothing else of this fit draws from it
    reps, p = ppc_pvalue_fixed(law, {"alpha": jnp.asarray(alpha[:, thin].reshape(-1))}, tj, xm,
                               streams.key(sampler.seed, "bayes"), mask=mj)
    dims = {"x": ["tail_point"]}
    idata = arviz().from_dict(posterior={"alpha": alpha}, log_likelihood={"x": ll}, observed_data={"x": tail},
                              dims=dims)
    idata.add_groups({"posterior_predictive": {"x": np.asarray(reps)[:, :m].reshape(C, thin.size, m)}}, dims=dims)
    idata.posterior.attrs["posterior_alpha_minus_1"] = f"Gamma(shape={exact.shape:.17g}, rate={exact.rate:.17g})"
    diag = Diagnostics(n_divergent=0, max_r_hat=1.0, min_ess_bulk=float(C * D))
    return BayesFit(idata=idata, model=law.name, xmin=xmin, xmax=None, discrete=False, n=x.size, n_tail=m,
                    method="conjugate", seed=sampler.seed, ppc_p=p, diagnostics=diag, exact=exact)


def one_threshold(x, law, body_law, sampler, discrete, priors, body_priors, min_tail, max_candidates, ppc_draws,
                  xmin_prior, progress) -> BayesFit:
    """xmin unknown: the body/tail model of the whole sample (:mod:`htsr.bayes.threshold`)."""
    # the body's parameters are strongly correlated (a truncated law): adapt a dense mass matrix
    sampler = dataclasses.replace(sampler, dense_mass=True)
    n = x.size
    inp = threshold_inputs([x], ["data"], min_tail=min_tail, max_candidates=max_candidates, xmin_prior=xmin_prior)
    x0, body_x0 = float(x[inp.cand[0, 0]]), float(inp.body_x0[0])
    arrays = {k: v[0] for k, v in inp.arrays().items()}
    data = dict(arrays, priors=_numpyro_priors(resolve_priors(law, x0, priors)),
                body_priors=_numpyro_priors(resolve_priors(body_law, body_x0, body_priors)))
    static = dict(law=law, body_law=body_law, discrete=discrete)
    draws, k_post, k_ppc = run(bm.threshold_model, sampler, data, static, progress,
                               start=threshold_start(x, law, body_law, discrete, x0=x0, body_x0=body_x0))
    samples = draws.samples
    C, D = sampler.chains, sampler.draws
    theta = {k: jnp.asarray(samples[k].reshape(C * D)) for k in law.param_names}
    body = {k: jnp.asarray(samples["body_" + k].reshape(C * D)) for k in body_law.param_names}
    xj, nj, cj, mj = (arrays[k] for k in ("x", "n", "cand", "cprior"))
    j, phi, ll = th.posterior_thresholds(law, body_law, theta, body, xj, nj, cj, mj, jax.random.split(k_post, C * D),
                                         discrete=discrete)
    thin = _thin_flat(sampler, ppc_draws)
    reps, hit = ppc_threshold(law, xj, nj, {k: v[thin] for k, v in theta.items()}, j[thin], k_ppc, discrete=discrete)
    j = np.asarray(j).reshape(C, D)
    extra = {"xmin": x[j], "n_tail": n - j, "phi": np.asarray(phi).reshape(C, D)}
    idata = to_idata(draws, extra_posterior=extra, dims={"x": ["point"], "x_tail": ["tail_slot"]},
                     loglik={"x": np.asarray(ll)[:, :n].reshape(C, D, n)}, observed={"x": x},
                     predictive={"x_tail": np.asarray(reps)[:, :n].reshape(C, -1, n)})
    # warn on what is reported (the tail law and xmin); the body's parameters are nuisance
    diag = diagnose(idata, (*law.param_names, "xmin"), what=f"the unknown-xmin {law.name} model ({n} points)",
                    sampler=sampler)
    return BayesFit(idata=idata, model=law.name, xmin=None, xmax=None, discrete=discrete, n=n, n_tail=None,
                    method="nuts", seed=sampler.seed, ppc_p=float(np.mean(np.asarray(hit))), diagnostics=diag,
                    var_names=(*law.param_names, "xmin", "n_tail"), n_candidates=int(inp.n_candidates[0]))


# ------------------------------------------------------------------ many samples
def _many_names(hierarchical: bool) -> tuple:
    """The variables the diagnostics check, and those the summary reports."""
    return (("alpha", "m", "tau"), ("alpha_network", "tau", "alpha")) if hierarchical else (("alpha",), ("alpha",))


def _many_dims(hierarchical: bool, extra: dict) -> dict:
    dims = {"alpha": ["layer"], **extra}
    if hierarchical:
        dims["z"] = ["layer"]
    return dims


def many_tails(tails, xmins, law, alpha_prior, sampler, hierarchical, discrete, ppc_draws, progress) -> BayesManyFit:
    """Every xmin fixed: NUTS on L padded tails (:func:`htsr.bayes.models.many_tail_model`)."""
    padded, counts, mask = padded_tails(tails)
    xj, mj, xminj = jnp.asarray(padded), jnp.asarray(mask), jnp.asarray(xmins)
    draws, _, k_ppc = run(bm.many_tail_model, sampler, dict(x=xj, mask=mj, xmin=xminj, prior=to_numpyro(alpha_prior)),
                          dict(law=law, discrete=discrete, hierarchical=hierarchical), progress)
    C, L = sampler.chains, len(tails)
    thin = thin_draws(sampler, ppc_draws)
    alpha_all = jnp.asarray(draws.samples["alpha"])
    reps, hit = ppc_padded(law, {"alpha": alpha_all[:, thin].reshape(-1, L)}, xj, mj, xminj, k_ppc, discrete=discrete)
    ll = bm.many_tail_loglik(law, alpha_all, xj, mj, xminj, discrete=discrete)
    idata = to_idata(draws, dims=_many_dims(hierarchical, {"x": ["layer", "slot"]}), loglik={"x": np.asarray(ll)},
                     observed={"x": padded}, predictive={"x": np.asarray(reps).reshape(C, thin.size, L, -1)})
    checked, reported = _many_names(hierarchical)
    diag = diagnose(idata, checked, what=f"{L} tails", sampler=sampler)
    return BayesManyFit(idata=idata, hierarchical=hierarchical, xmin=np.asarray(xmins), n_tail=counts,
                        discrete=discrete, seed=sampler.seed, diagnostics=diag, var_names=reported,
                        ppc_p=np.asarray(hit).mean(0))


def many_threshold(xs, law, body_law, sampler, hierarchical, discrete, alpha_prior, body_priors, min_tail,
                   max_candidates, ppc_draws, xmin_prior, progress) -> BayesManyFit:
    """Every xmin unknown: the threshold model per sample (:func:`htsr.bayes.models.many_threshold_model`)."""
    sampler = dataclasses.replace(sampler, dense_mass=True)  # as in one_threshold
    inp = threshold_inputs(xs, [f"samples[{i}]" for i in range(len(xs))], min_tail=min_tail,
                           max_candidates=max_candidates, xmin_prior=xmin_prior)
    arrays = inp.arrays()
    data = dict(arrays, prior=to_numpyro(alpha_prior),
                body_priors=_numpyro_priors(resolve_priors(body_law, inp.body_x0, body_priors)))
    static = dict(law=law, body_law=body_law, discrete=discrete, hierarchical=hierarchical)
    draws, k_post, k_ppc = run(bm.many_threshold_model, sampler, data, static, progress,
                               start=_many_start(xs, inp, law, body_law, discrete, hierarchical))
    samples = draws.samples
    C, D, L = sampler.chains, sampler.draws, len(xs)
    alpha = jnp.asarray(samples["alpha"].reshape(C * D, L))
    body = {k: jnp.asarray(samples["body_" + k].reshape(C * D, L)) for k in body_law.param_names}
    xj, nj, cj, mj = (arrays[k] for k in ("x", "n", "cand", "cprior"))
    j, phi, ll = th.posterior_thresholds_many(law, body_law, {"alpha": alpha}, body, xj, nj, cj, mj,
                                              jax.random.split(k_post, C * D), discrete=discrete)
    j = np.asarray(j)
    thin = _thin_flat(sampler, ppc_draws)
    reps, hit = _ppc_many(law, xj, nj, alpha[thin], jnp.asarray(j[thin]), jax.random.split(k_ppc, L), discrete)
    xmin_draws = np.take_along_axis(np.broadcast_to(inp.x, (C * D, *inp.x.shape)), j[..., None], -1)[..., 0]
    extra = {"xmin": xmin_draws.reshape(C, D, L), "n_tail": (inp.n[None, :] - j).reshape(C, D, L),
             "phi": np.asarray(phi).reshape(C, D, L)}
    dims = _many_dims(hierarchical, {"xmin": ["layer"], "n_tail": ["layer"], "phi": ["layer"], "x": ["layer", "point"],
                                     **{k: ["layer"] for k in samples if k.startswith("body_")}})
    dims["x_tail"] = ["layer", "tail_slot"]
    idata = to_idata(draws, extra_posterior=extra, dims=dims, loglik={"x": np.asarray(ll).reshape(C, D, L, -1)},
                     observed={"x": inp.x}, predictive={"x_tail": np.asarray(reps).reshape(C, -1, L, inp.x.shape[1])})
    checked, reported = _many_names(hierarchical)
    diag = diagnose(idata, checked, what=f"{L} samples with unknown xmin", sampler=sampler)
    return BayesManyFit(idata=idata, hierarchical=hierarchical, xmin=None, n_tail=None, discrete=discrete,
                        seed=sampler.seed, diagnostics=diag, var_names=reported, ppc_p=np.asarray(hit).mean(0))


@functools.partial(jax.jit, static_argnames=("law", "discrete"))
def _ppc_many(law, x, n, alpha, j, keys, discrete):
    one = lambda xl, nl, al, jl, kl: ppc_threshold(law, xl, nl, {"alpha": al}, jl, kl, discrete=discrete)  # noqa: E731
    return jax.vmap(one, in_axes=(0, 0, 1, 1, 0), out_axes=1)(x, n, alpha, j, keys)


def _many_start(xs, inp: ThresholdInputs, law, body_law, discrete, hierarchical) -> dict:
    """Starting values of the unknown-xmin many-sample model: each sample's :func:`threshold_start`."""
    starts = [threshold_start(x, law, body_law, discrete, x0=float(x[c[0]]), body_x0=float(b))
              for x, c, b in zip(xs, inp.cand, inp.body_x0)]
    out = {}
    for name in ["alpha", *sorted({k for s in starts for k in s if k.startswith("body_")})]:
        vals = [s.get(name) for s in starts]
        if all(v is not None for v in vals):
            out[name] = np.asarray(vals, dtype=np.float64)
    if hierarchical and "alpha" in out:  # the non-centred coordinates of the starting alphas
        la = np.log(np.maximum(out.pop("alpha") - 1.0, 1e-3))
        m, tau = float(la.mean()), float(max(la.std(), 0.05))
        out.update(m=m, tau=tau, z=(la - m) / tau)
    return out
