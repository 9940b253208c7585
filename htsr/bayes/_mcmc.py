"""NUTS runs, the arviz InferenceData they become, and their diagnostics."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np
from numpyro.infer import MCMC, NUTS

from ..errors import ConvergenceWarning

__all__ = ["Sampler", "run_nuts", "optimized_init", "to_idata", "diagnose", "arviz"]

#: r_hat above this is reported (Vehtari et al. 2021).
RHAT_MAX = 1.01
#: Optimisation paths ending more than this (+ 0.05 per dimension) nats above the best are not started in.
MODE_TOL = 3.0


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


def run_nuts(model, sampler: Sampler, key, *, init_params=None, **model_kwargs) -> MCMC:
    """Run NUTS on ``model(**model_kwargs)``; the caller holds the x64 context.

    ``init_params``: unconstrained starting points, one per chain (leading axis
    ``chains``), as :func:`optimized_init` returns; default numpyro's ``init_to_uniform``.
    """
    kernel = NUTS(model, target_accept_prob=sampler.target_accept, max_tree_depth=sampler.max_tree_depth,
                  dense_mass=sampler.dense_mass)
    mcmc = MCMC(kernel, num_warmup=sampler.draws if sampler.warmup is None else sampler.warmup,
                num_samples=sampler.draws, num_chains=sampler.chains, chain_method=sampler.chain_method,
                progress_bar=False)
    with warnings.catch_warnings():  # numpyro warns when chains > devices; vectorized is what we ask for
        warnings.simplefilter("ignore", UserWarning)
        mcmc.run(key, **model_kwargs, init_params=init_params, extra_fields=("diverging",))
    return mcmc


def optimized_init(model, model_kwargs, start, key, chains: int, *, paths: int | None = None,
                   spread: float = 1.0, steps: int = 300):
    """Starting points of ``chains`` NUTS chains, in the posterior's main mode, from dispersed optimisations.

    ``start`` (constrained values of some or all latent sites; the others start at
    their prior median) is moved to numpyro's unconstrained space.  ``paths``
    (default ``max(4 chains, 8)``) optimisations start from ``start + U(-spread,
    spread)`` per unconstrained coordinate and each take ``steps`` Adam steps down
    the potential ``U`` (minus the log posterior; step 0.1 decaying geometrically
    to 0.001), keeping the best point visited.  Paths that end more than
    ``MODE_TOL + 0.05 d`` nats (3 + 0.05 per dimension) above the best one are in a
    minor local mode, less than about ``e^-3 = 5%`` of the main mode's height, and
    are dropped: such a mode holds little posterior mass, but a chain that starts
    in it stays there (NUTS cannot cross the valley) and gets the weight of a whole
    chain.  The chains start at distinct surviving end
    points drawn without replacement with weights ``exp(-U)`` (Gumbel top-k, as
    multi-path Pathfinder resamples its optima), with a small jitter where there are
    fewer survivors than chains.  So the chains begin warmup in the region of high
    posterior density, not at one point (Adam stops short of the mode along flat
    directions), and modes of comparable height reached by different paths keep
    their chains, so r_hat still sees them.  One gradient per step and path: cheap
    next to NUTS, and one compilation of the gradient.  Returns a dict of
    (chains, ...) unconstrained arrays for ``MCMC.run(init_params=...)``.
    """
    from jax.flatten_util import ravel_pytree
    from numpyro import handlers
    from numpyro.infer.util import potential_energy, unconstrain_fn

    paths = max(4 * chains, 8) if paths is None else int(paths)
    k_model, k_start, k_pick, k_jit = jax.random.split(key, 4)
    start = {k: jnp.asarray(v, dtype=jnp.float64) for k, v in start.items()}

    @jax.jit  # traced, not run eagerly: eager evaluation of the laws costs one compilation per operation
    def unconstrained_start(k):
        # the latent sites of the model; those without a start begin at their prior median
        tr = handlers.trace(handlers.seed(handlers.substitute(model, data=start), k)).get_trace(**model_kwargs)
        values = {}
        for name, site in tr.items():
            if site["type"] == "sample" and not site["is_observed"]:
                values[name] = start[name] if name in start else jnp.median(
                    site["fn"].sample(jax.random.fold_in(k, len(values)), (201,)), axis=0)
        return unconstrain_fn(model, (), model_kwargs, values)

    flat0, unravel = ravel_pytree(unconstrained_start(k_model))
    d = flat0.shape[0]
    value_and_grad = jax.value_and_grad(lambda v: potential_energy(model, (), model_kwargs, unravel(v)))
    b1, b2, eps = 0.9, 0.999, 1e-8
    lr = 0.1 * (0.01 ** (jnp.arange(steps) / max(steps - 1, 1)))

    def one(v0):
        def step(carry, lr_t):
            v, m, s, t, best, u_best = carry
            u, g = value_and_grad(v)
            better = jnp.isfinite(u) & (u < u_best)
            best, u_best = jnp.where(better, v, best), jnp.where(better, u, u_best)
            g = jnp.where(jnp.isfinite(g), g, 0.0)
            t = t + 1.0
            m = b1 * m + (1.0 - b1) * g
            s = b2 * s + (1.0 - b2) * g * g
            v = v - lr_t * (m / (1.0 - b1 ** t)) / (jnp.sqrt(s / (1.0 - b2 ** t)) + eps)
            return (v, m, s, t, best, u_best), None

        zero = jnp.zeros(d)
        carry = (v0, zero, zero, 0.0, v0, jnp.inf)
        (_, _, _, _, best, u_best), _ = jax.lax.scan(step, carry, lr)
        return best, u_best

    starts = flat0 + jax.random.uniform(k_start, (paths, d), minval=-spread, maxval=spread)
    ends, u = (np.asarray(a) for a in jax.jit(jax.vmap(one))(starts))
    ok = np.isfinite(u)
    if not ok.any():  # nothing finite found: the dispersed starts, as numpyro would use
        return jax.vmap(unravel)(jnp.asarray(starts[:chains]))
    keep = ok & (u <= u[ok].min() + MODE_TOL + 0.05 * d)
    score = np.where(keep, -u + np.asarray(jax.random.gumbel(k_pick, (paths,))), -np.inf)
    order = np.argsort(-score)[: int(keep.sum())]
    pick = order[np.arange(chains) % order.size]
    init = ends[pick]
    dup = np.arange(chains) >= order.size
    init = init + dup[:, None] * 0.05 * np.asarray(jax.random.normal(k_jit, (chains, d)))
    return jax.vmap(unravel)(jnp.asarray(init))


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
