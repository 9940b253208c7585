"""``htsr.bayes.fit`` and ``loo_compare``: validation, then a model of :mod:`htsr.bayes.models` under NUTS."""

from __future__ import annotations

import dataclasses
import warnings

import jax
import jax.numpy as jnp
import numpy as np

from .._jax import bucket, pad_batch, x64
from .._progress import resolve as resolve_progress
from ..data import as_sample, check_bool, check_choice, check_int, check_number, check_seed, check_tail, check_xmin
from ..errors import FitError, HtsrError
from ..errors import SmallSampleWarning
from ..fitting.api import MIN_TAIL
from ..models import registry
from . import models as bm
from . import threshold as th
from ._mcmc import Sampler, arviz, diagnose, optimized_init, run_nuts, to_idata
from .checks import LooComparison, ppc_pvalue_fixed, ppc_threshold
from .conjugate import gamma_posterior
from .priors import SCALED, Gamma, resolve_priors, to_numpyro
from .result import BayesFit

__all__ = ["fit", "loo_compare"]

BODY_LAWS = ("stretched_exponential", "lognormal", "exponential")
#: NUTS target acceptance of the unknown-xmin model (a mixture over thresholds, with regions of high
#: curvature): on 200 samples of Clauset's construction, 0.95 against 0.8 cut fits with r_hat > 1.01
#: from 41 to 23 and fits with divergences from 25 to 1, same coverage, 1.45x the time (docs/bayes.md).
TARGET_ACCEPT_UNKNOWN = 0.95


def make_sampler(draws, chains, warmup, target_accept, seed) -> Sampler:
    draws = check_int(draws, "draws", minimum=1)
    chains = check_int(chains, "chains", minimum=1)
    warmup = None if warmup is None else check_int(warmup, "warmup", minimum=1)
    ta = check_number(target_accept, "target_accept")
    if not 0.0 < ta < 1.0:
        raise HtsrError(f"target_accept must be in (0, 1), got {target_accept!r}")
    return Sampler(draws=draws, warmup=warmup, chains=chains, target_accept=ta, seed=check_seed(seed))


def thin_draws(sampler: Sampler, ppc_draws: int) -> np.ndarray:
    per_chain = max(1, min(sampler.draws, -(-int(ppc_draws) // sampler.chains)))
    return np.unique(np.round(np.linspace(0, sampler.draws - 1, per_chain)).astype(int))


def _tail_of(x, xmin, xmax, discrete, law):
    xmin = check_xmin(xmin, discrete, error=FitError)
    if xmin > x[-1]:
        raise FitError(f"xmin={xmin:g} is above the largest value {x[-1]:g}; the tail would be empty")
    if law.bounded:
        xmax = float(x[-1]) if xmax is None else check_number(xmax, "xmax", positive=True, error=FitError)
        if xmax <= xmin:
            raise FitError(f"xmax={xmax:g} must exceed xmin={xmin:g}")
    elif xmax is not None:
        raise FitError(f"xmax is only used by the bounded_power_law model, not {law.name}")
    tail = x[(x >= xmin) & (x <= (np.inf if xmax is None else xmax))]
    check_tail(tail, f"xmin={xmin:g}", error=FitError)
    return tail, xmin, xmax


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
        target_accept = TARGET_ACCEPT_UNKNOWN if xmin is None else 0.8
    sampler = make_sampler(draws, chains, warmup, target_accept, seed)
    ppc_draws = check_int(ppc_draws, "ppc_draws", minimum=1)
    progress = resolve_progress(progress, "NUTS")
    with x64():
        if xmin is None:
            if law.bounded or method == "conjugate":
                raise FitError(f"xmin=None (unknown) needs an unbounded law and method='nuts', got "
                               f"model={law.name!r}, method={method!r}")
            body_law = registry.get(check_choice(body, "body", BODY_LAWS))
            min_tail = check_int(min_tail, "min_tail", minimum=2)
            return _fit_threshold(x, law, body_law, sampler, discrete, priors, body_priors, min_tail,
                                  max_candidates, ppc_draws,
                                  check_choice(xmin_prior, "xmin_prior", th.THRESHOLD_PRIORS), progress)
        tail, xmin, xmax = _tail_of(x, xmin, xmax, discrete, law)
        if tail.size < MIN_TAIL:  # the threshold htsr.fit warns at
            warnings.warn(f"the tail at xmin={xmin:g} has {tail.size} point(s): below {MIN_TAIL} tail points the "
                          f"posterior of {', '.join(law.param_names)} says more about the prior than the data",
                          SmallSampleWarning, stacklevel=2)
        pri = resolve_priors(law, xmin, priors)
        if method == "conjugate":
            return _fit_conjugate(x, tail, xmin, law, pri, sampler, discrete, ppc_draws)
        return _fit_tail(x, tail, xmin, xmax, law, pri, sampler, discrete, ppc_draws, progress)


def _fit_tail(x, tail, xmin, xmax, law, pri, sampler, discrete, ppc_draws, progress=None) -> BayesFit:
    k_mcmc, k_ppc = jax.random.split(jax.random.PRNGKey(sampler.seed))
    m = tail.size
    tj, mask = _padded(tail)
    xm, xM = jnp.float64(xmin), None if xmax is None else jnp.float64(xmax)
    draws = run_nuts(bm.tail_model, sampler, k_mcmc,
                     dict(x=tj, xmin=xm, xmax=xM, priors=numpyro_priors(pri), mask=mask),
                     static=dict(law=law, discrete=discrete), progress=progress)
    samples = draws.samples
    thin = thin_draws(sampler, ppc_draws)
    params = {k: jnp.asarray(samples[k][:, thin].reshape(-1)) for k in law.param_names}
    reps, p = ppc_pvalue_fixed(law, params, tj, xm, k_ppc, xmax=xM, discrete=discrete, mask=mask)
    ll = bm.tail_loglik(law, {k: jnp.asarray(samples[k]) for k in law.param_names}, tj, xm, xM, discrete=discrete)
    dims = {"x": ["tail_point"]}
    idata = to_idata(draws, dims=dims, loglik={"x": np.asarray(ll)[..., :m]}, observed={"x": tail},
                     predictive={"x": np.asarray(reps)[:, :m].reshape(sampler.chains, thin.size, m)})
    diag = diagnose(idata, law.param_names, what=f"the {law.name} tail ({tail.size} points)",
                    sampler=sampler)
    return BayesFit(idata=idata, model=law.name, xmin=xmin, xmax=xmax, discrete=discrete, n=x.size,
                    n_tail=tail.size, method="nuts", seed=sampler.seed, ppc_p=p, diagnostics=diag,
                    var_names=law.param_names)


def _fit_conjugate(x, tail, xmin, law, pri, sampler, discrete, ppc_draws) -> BayesFit:
    prior = pri["alpha"]
    if law.name != "power_law" or discrete or not (isinstance(prior, Gamma) and prior.loc == 1.0):
        raise FitError("method='conjugate' needs the continuous power law with a Gamma(shape, rate, loc=1) "
                       f"prior on alpha; got model={law.name!r}, discrete={discrete}, prior={prior!r}")
    a, b = gamma_posterior(tail, xmin, prior.shape, prior.rate)
    rng = np.random.default_rng(sampler.seed)
    alpha = 1.0 + rng.gamma(a, 1.0 / b, size=(sampler.chains, sampler.draws))
    m = tail.size
    tj, mask = _padded(tail)
    xm = jnp.float64(xmin)
    ll = np.asarray(bm.tail_loglik(law, {"alpha": jnp.asarray(alpha)}, tj, xm))[..., :m]
    thin = thin_draws(sampler, ppc_draws)
    k_ppc = jax.random.PRNGKey(sampler.seed)
    reps, p = ppc_pvalue_fixed(law, {"alpha": jnp.asarray(alpha[:, thin].reshape(-1))}, tj, xm, k_ppc,
                               mask=mask)
    az = arviz()
    dims = {"x": ["tail_point"]}
    idata = az.from_dict(posterior={"alpha": alpha}, log_likelihood={"x": ll},
                         observed_data={"x": tail}, dims=dims)
    idata.add_groups({"posterior_predictive": {"x": np.asarray(reps)[:, :m].reshape(sampler.chains, thin.size, m)}},
                     dims=dims)
    idata.posterior.attrs["posterior_alpha_minus_1"] = f"Gamma(shape={a:.17g}, rate={b:.17g})"
    diag = {"n_divergent": 0, "max_r_hat": 1.0, "min_ess_bulk": float(sampler.chains * sampler.draws),
            "gamma_shape": a, "gamma_rate": b, "exact_mean": 1.0 + a / b, "exact_sd": float(np.sqrt(a) / b)}
    return BayesFit(idata=idata, model=law.name, xmin=xmin, xmax=None, discrete=False, n=x.size,
                    n_tail=tail.size, method="conjugate", seed=sampler.seed, ppc_p=p, diagnostics=diag)


def _fit_threshold(x, law, body_law, sampler, discrete, priors, body_priors, min_tail, max_candidates,
                   ppc_draws, xmin_prior, progress=None) -> BayesFit:
    # the body's parameters are strongly correlated (a truncated law): adapt a dense mass matrix
    sampler = dataclasses.replace(sampler, dense_mass=True)
    n = x.size
    cand = th.candidate_indices(x, min_tail=min_tail, max_candidates=max_candidates)
    if cand.size == 0:
        raise FitError(f"no xmin candidate leaves min_tail={min_tail} points in the tail of {n} values")
    x0, body_x0 = float(x[cand[0]]), float(np.median(x))
    pri = resolve_priors(law, x0, priors)
    # the body's scale priors are centred on the sample's median: the body law lives on [x_1, inf),
    # but x_1 (the smallest value) is no scale of it
    bpri = resolve_priors(body_law, body_x0, body_priors)
    # padded to bucket sizes (masked), so samples of similar size share one compiled sampler
    xj, _ = _padded(x)
    K = bucket(cand.size)
    cj = jnp.asarray(pad_batch(cand[None, :], [cand.size], width=K, fill="first")[0].astype(np.int64))
    mj = jnp.asarray(th.threshold_log_prior(n, cand, xmin_prior, width=K))
    nj = jnp.asarray(n)
    k_mcmc, k_post, k_ppc, k_init = jax.random.split(jax.random.PRNGKey(sampler.seed), 4)
    data = dict(x=xj, n=nj, cand=cj, cprior=mj, body_x0=jnp.float64(body_x0), priors=numpyro_priors(pri),
                body_priors=numpyro_priors(bpri))
    static = dict(law=law, body_law=body_law, discrete=discrete)
    init = optimized_init(bm.threshold_model, data,
                          threshold_start(x, law, body_law, discrete, x0=x0, body_x0=body_x0), k_init,
                          sampler.chains, static=static)
    draws = run_nuts(bm.threshold_model, sampler, k_mcmc, data, static=static, init_params=init, progress=progress)
    samples = draws.samples
    C, D = sampler.chains, sampler.draws
    theta = {k: jnp.asarray(samples[k].reshape(C * D)) for k in law.param_names}
    body = {k: jnp.asarray(samples["body_" + k].reshape(C * D)) for k in body_law.param_names}
    j, phi, ll = th.posterior_thresholds(law, body_law, theta, body, xj, nj, cj, mj,
                                         jax.random.split(k_post, C * D), discrete=discrete)
    thin = (np.arange(C)[:, None] * D + thin_draws(sampler, ppc_draws)[None, :]).reshape(-1)
    reps, hit = ppc_threshold(law, xj, nj, {k: v[thin] for k, v in theta.items()}, j[thin], k_ppc,
                              discrete=discrete)
    p = float(np.mean(np.asarray(hit)))
    j = np.asarray(j).reshape(C, D)
    extra = {"xmin": x[j], "n_tail": n - j, "phi": np.asarray(phi).reshape(C, D)}
    dims = {"x": ["point"], "x_tail": ["tail_slot"]}
    idata = to_idata(draws, extra_posterior=extra, dims=dims,
                     loglik={"x": np.asarray(ll)[:, :n].reshape(C, D, n)}, observed={"x": x},
                     predictive={"x_tail": np.asarray(reps)[:, :n].reshape(C, -1, n)})
    # warn on what is reported (the tail law and xmin); the body's parameters are nuisance
    diag = diagnose(idata, (*law.param_names, "xmin"), what=f"the unknown-xmin {law.name} model ({n} points)",
                    sampler=sampler)
    diag["n_candidates"] = int(cand.size)
    return BayesFit(idata=idata, model=law.name, xmin=None, xmax=None, discrete=discrete, n=n, n_tail=None,
                    method="nuts", seed=sampler.seed, ppc_p=p, diagnostics=diag,
                    var_names=(*law.param_names, "xmin", "n_tail"))


def _padded(values: np.ndarray):
    """A sorted sample padded to its bucket width (``htsr._jax.pad_batch``) and the mask of its real entries.

    Samples of similar length then share one compiled sampler and post-processing.
    """
    v = jnp.asarray(pad_batch(values[None, :], [values.size])[0])
    return v, jnp.arange(v.shape[0]) < values.size


def numpyro_priors(priors: dict) -> dict:
    """Prior specs as numpyro distributions: pytrees, so they are traced data of the compiled sampler."""
    return {k: to_numpyro(v) for k, v in priors.items()}


def threshold_start(x, law, body_law, discrete, prefix="", *, x0, body_x0):
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
    for lw, pts, x0, pre in ((law, x[x >= xmin], xmin, prefix), (body_law, x[x < xmin], x[0], prefix + "body_")):
        if pts.size < 3:
            continue
        # padded to a bucket width, so the splits of many samples share a few compiled shapes
        m = lw.mle(jnp.asarray(pad_batch(pts[None, :], [pts.size])), jnp.asarray([pts.size]), x0,
                   discrete=discrete)
        for k, name in enumerate(lw.param_names):
            v = float(np.asarray(m.params)[0, k])
            if (np.isfinite(v) and bool(np.asarray(m.converged)[0]) and not bool(np.asarray(m.at_boundary)[0, k])
                    and bool(lw.constraints[k].check(v))):
                start[pre + name] = v
        if lw.name == "stretched_exponential":  # the site is lam * x0^beta (needs both)
            lam, beta = start.pop(pre + "lam", None), start.get(pre + "beta")
            if lam is not None and beta is not None:
                start[pre + SCALED] = lam * (x0 if pre == prefix else body_x0) ** beta
    return start


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
