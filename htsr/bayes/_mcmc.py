"""NUTS runs, the arviz InferenceData they become, and their diagnostics."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import jax
import numpy as np
from numpyro.infer import MCMC, NUTS

from ..errors import ConvergenceWarning

__all__ = ["Sampler", "run_nuts", "to_idata", "diagnose", "arviz"]

#: r_hat above this is reported (Vehtari et al. 2021).
RHAT_MAX = 1.01


@dataclass(frozen=True)
class Sampler:
    """NUTS settings: ``draws`` and ``warmup`` per chain, ``chains`` run vectorised on one device."""

    draws: int = 1000
    warmup: int | None = None  # default: draws
    chains: int = 4
    target_accept: float = 0.8
    max_tree_depth: int = 10
    chain_method: str = "vectorized"
    seed: int = 0
    dense_mass: bool = False


def arviz():
    """arviz, imported on first use (its import is slow and prints a FutureWarning in 0.23)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        import arviz as az
    return az


def run_nuts(model, sampler: Sampler, key, **model_kwargs) -> MCMC:
    """Run NUTS on ``model(**model_kwargs)``; the caller holds the x64 context."""
    kernel = NUTS(model, target_accept_prob=sampler.target_accept, max_tree_depth=sampler.max_tree_depth,
                  dense_mass=sampler.dense_mass)
    mcmc = MCMC(kernel, num_warmup=sampler.draws if sampler.warmup is None else sampler.warmup,
                num_samples=sampler.draws, num_chains=sampler.chains, chain_method=sampler.chain_method,
                progress_bar=False)
    with warnings.catch_warnings():  # numpyro warns when chains > devices; vectorized is what we ask for
        warnings.simplefilter("ignore", UserWarning)
        mcmc.run(key, **model_kwargs, extra_fields=("diverging",))
    return mcmc


def to_idata(mcmc, *, log_likelihood: bool, extra_posterior=None, loglik=None, predictive=None,
             observed=None, coords=None, dims=None):
    """``arviz.from_numpyro(mcmc)`` plus the groups a factor-based model cannot produce itself.

    ``extra_posterior``/``loglik``/``predictive``: dicts of (chains, draws, ...) arrays for
    the posterior (xmin draws), log_likelihood and posterior_predictive groups; ``observed``
    for observed_data where the model has no observed site.
    """
    az = arviz()
    idata = az.from_numpyro(mcmc, log_likelihood=log_likelihood, coords=coords, dims=dims)
    groups = {}
    if loglik:
        groups["log_likelihood"] = loglik
    if predictive:
        groups["posterior_predictive"] = predictive
    for name in [*groups, *(["observed_data"] if observed else [])]:
        if name in idata.groups():
            del idata[name]
    if groups:
        idata.add_groups(groups, coords=coords, dims=dims)
    if observed:
        obs = az.dict_to_dataset({k: np.asarray(v) for k, v in observed.items()}, coords=coords, dims=dims,
                                 default_dims=[])
        idata.add_groups(observed_data=obs)
    if extra_posterior:
        extra = az.dict_to_dataset(extra_posterior, coords=coords, dims=dims)
        idata.posterior = idata.posterior.assign({k: extra[k] for k in extra.data_vars})
    return idata


def diagnose(idata, var_names, *, what: str = "the posterior", stacklevel: int = 4) -> dict:
    """Divergences and max r_hat; a :class:`~htsr.errors.ConvergenceWarning` that says what to do."""
    az = arviz()
    div = int(np.asarray(idata.sample_stats["diverging"]).sum()) if "diverging" in idata.sample_stats else 0
    nchains = idata.posterior.sizes["chain"]
    if nchains > 1:
        rhat = az.rhat(idata, var_names=list(var_names))
        r_max = float(max(np.nanmax(np.asarray(rhat[v])) for v in rhat.data_vars))
    else:
        r_max = float("nan")
    ess = az.ess(idata, var_names=list(var_names))
    ess_min = float(min(np.nanmin(np.asarray(ess[v])) for v in ess.data_vars))
    problems = []
    if div:
        total = idata.posterior.sizes["chain"] * idata.posterior.sizes["draw"]
        problems.append(f"{div} divergent transition(s) of {total}")
    if r_max > RHAT_MAX:
        problems.append(f"r_hat up to {r_max:.3f} (> {RHAT_MAX})")
    if problems:
        warnings.warn(
            f"NUTS on {what}: {'; '.join(problems)}. Do not trust the intervals yet: rerun with more "
            "draws and warmup, a higher target_accept (e.g. 0.95), or stronger priors; divergences on a "
            "short tail often mean the data cannot identify the parameters.",
            ConvergenceWarning, stacklevel=stacklevel,
        )
    return {"n_divergent": div, "max_r_hat": r_max, "min_ess_bulk": ess_min}


def split_keys(key, n):
    return jax.random.split(key, n)
