"""NUTS runs (compiled once per model and shape), the arviz InferenceData they become, and their diagnostics."""

from __future__ import annotations

import functools
import warnings
from dataclasses import asdict, dataclass, replace

import jax
import jax.numpy as jnp
import numpy as np
from ..errors import ConvergenceWarning

__all__ = ["Sampler", "Draws", "Diagnostics", "run_nuts", "optimized_init", "to_idata", "diagnose", "arviz"]

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
    seed: int = 0
    dense_mass: bool = False


def arviz():
    """arviz, imported on first use (its import is slow and prints a FutureWarning in 0.23)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        import arviz as az
    return az


@dataclass(frozen=True, eq=False)
class Draws:
    """What a NUTS run returns: constrained draws and sampler statistics, as numpy arrays.

    ``samples``: site name -> (chains, draws, ...) (latent and deterministic sites);
    ``stats``: arviz ``sample_stats`` names (``diverging``, ``lp``, ``energy``,
    ``n_steps``, ``acceptance_rate``, ``step_size``) -> (chains, draws).
    """

    samples: dict
    stats: dict


@dataclass(frozen=True)
class Diagnostics:
    """What a run's sampler statistics say about the reported variables.

    Attributes
    ----------
    n_divergent : int
        Divergent transitions, all chains together.
    max_r_hat : float
        Largest rank-normalised split r_hat (NaN with one chain); above :data:`RHAT_MAX`
        the chains have not mixed.
    min_ess_bulk : float
        Smallest bulk effective sample size.
    """

    n_divergent: int
    max_r_hat: float
    min_ess_bulk: float

    def to_dict(self) -> dict:
        return asdict(self)


def _static_key(static):
    return tuple(sorted((static or {}).items()))


def run_nuts(model, sampler: Sampler, key, data: dict, *, static=None, init_params=None, progress=None) -> Draws:
    """NUTS on ``model(**static, **data)``, ``sampler.chains`` chains vectorised; the caller holds x64.

    ``data`` are the model's array arguments (priors may be among them: numpyro
    distributions are pytrees) and are *traced*: the compiled sampler is cached per
    (model, ``static``, sampler settings) and reused for any data of the same shapes,
    so a study of many fits compiles once (numpyro's ``MCMC`` builds and compiles a
    fresh kernel per call).  ``static``: hashable keyword arguments (laws, flags).
    ``init_params``: unconstrained starting points, one per chain (leading axis
    ``chains``), as :func:`optimized_init` returns; default numpyro's
    ``init_to_uniform`` (uniform on (-2, 2) in unconstrained space).

    Each chain is numpyro's NUTS (``numpyro.infer.hmc.hmc(algo="NUTS")``): ``warmup``
    adaptation steps (step size by dual averaging, diagonal or dense mass matrix by
    windowed adaptation) then ``draws`` kept steps, as ``numpyro.infer.MCMC`` runs it.

    ``progress``: None or a callable ``progress(done, total)`` (:mod:`htsr._progress`),
    ``done`` counting iterations per chain, warmup first (``total = warmup + draws``).
    The iterations run in compiled blocks whose length is a traced argument, so
    reporting between blocks compiles nothing more and changes no draw: ``progress``
    gets ``(0, total)`` once the sampler is compiled (blocks of no iterations compile
    it, so the blocks' times are the sampler's pace), then a call after each of
    :data:`BLOCKS` blocks per phase.  Without ``progress`` each phase is one block.
    """
    # the seed lives in ``key``: runs that differ only in it share the compiled sampler
    run = _nuts_runner(model, _static_key(static), replace(sampler, seed=0), init_params is not None)
    W = sampler.draws if sampler.warmup is None else sampler.warmup
    D, total = sampler.draws, W + sampler.draws
    blocks = BLOCKS if progress is not None else 1
    state, buffers = run.start(key, data, init_params)
    if progress is not None:  # compile the sampler now: a block of no iterations changes nothing
        state, buffers = run.iterate(state, data, buffers, 0, 0, False)
        jax.block_until_ready(buffers)
        progress(0, total)
    done = 0
    for keep, n in ((False, W), (True, D)):
        offset = 0
        for length in _block_lengths(n, blocks):
            state, buffers = run.iterate(state, data, buffers, offset, length, keep)
            offset += length
            done += length
            if progress is not None:
                jax.block_until_ready(buffers)
                progress(done, total)
    samples, stats = run.finish(data, buffers)
    return Draws(samples={k: np.asarray(v) for k, v in samples.items()},
                 stats={k: np.asarray(v) for k, v in stats.items()})


#: Compiled blocks per phase (warmup, draws) when progress is reported.
BLOCKS = 10


def _block_lengths(total: int, blocks: int) -> list[int]:
    """``total`` iterations in at most ``blocks`` near-equal positive blocks."""
    blocks = max(1, min(blocks, total))
    return [len(b) for b in np.array_split(np.arange(total), blocks) if len(b)]


@dataclass(frozen=True)
class _Runner:
    """The compiled pieces of a NUTS run (see :func:`_nuts_runner`)."""

    start: object
    iterate: object
    finish: object


@functools.lru_cache(maxsize=64)
def _nuts_runner(model, static_items, sampler: Sampler, has_init: bool) -> _Runner:
    """Three jitted functions, compiled once per (model, static options, sampler settings) and shapes.

    ``start`` initialises the chains' states (vmapped) and the draw buffers; ``iterate``
    advances every chain ``length`` iterations and, when ``keep``, writes them into the
    buffers from ``offset`` on (warmup and draws are the same NUTS transition: one
    compilation); ``finish`` maps the kept unconstrained draws to the model's
    constrained and deterministic sites.  ``offset``, ``length`` and ``keep`` are traced,
    so a phase run in one block or in ten compiles the same code and gives the same draws.
    """
    from numpyro.infer.hmc import hmc
    from numpyro.infer.util import initialize_model, potential_energy

    mdl = functools.partial(model, **dict(static_items))
    C, D = sampler.chains, sampler.draws
    W = sampler.draws if sampler.warmup is None else sampler.warmup

    def kernels(z, data, key):
        """numpyro's NUTS ``(state, sample_kernel)`` for a chain at ``z``: ``init_kernel`` sets the
        settings ``sample_kernel`` reads (warmup length, tree depth, adaptation) in their closure."""
        # the potential numpyro's initialize_model(..., dynamic_args=True) builds (the models enumerate nothing)
        init_kernel, sample_kernel = hmc(
            potential_fn_gen=lambda **kw: functools.partial(potential_energy, mdl, (), kw), algo="NUTS")
        dense = [tuple(sorted(z))] if sampler.dense_mass else []
        state = init_kernel(z, W, dense_mass=dense, target_accept_prob=sampler.target_accept,
                            max_tree_depth=sampler.max_tree_depth, model_kwargs=data, rng_key=key)
        return state, sample_kernel

    def record(s):
        return s.z, {"diverging": s.diverging, "lp": -s.potential_energy, "energy": s.energy,
                     "n_steps": s.num_steps, "acceptance_rate": s.accept_prob,
                     "step_size": s.adapt_state.step_size}

    def nuts_start(key, data, init):
        k_model, k_chain = jax.random.split(key)
        if has_init:
            z0 = init
        else:
            z0 = initialize_model(jax.random.split(k_model, C), mdl, model_kwargs=data,
                                  dynamic_args=True).param_info.z

        def chain(k, z):
            state, _ = kernels(z, data, k)
            buffers = jax.tree.map(lambda v: jnp.zeros((D, *jnp.shape(v)), jnp.result_type(v)), record(state))
            return state, buffers

        return jax.vmap(chain)(jax.random.split(k_chain, C), z0)

    def nuts_iterate(state, data, buffers, offset, length, keep):
        def chain(s, buf):
            _, sample_kernel = kernels(s.z, data, s.rng_key)  # its new state is unused (and compiled away)

            def step(i, carry):
                t, b = carry
                t = sample_kernel(t, model_kwargs=data)
                k = jnp.minimum(i, D - 1)
                return t, jax.tree.map(lambda a, v: a.at[k].set(jnp.where(keep, v, a[k])), b, record(t))

            return jax.lax.fori_loop(offset, offset + length, step, (s, buf))

        return jax.vmap(chain)(state, buffers)

    def nuts_finish(data, buffers):
        from numpyro.infer.util import constrain_fn

        z, stats = buffers
        post = lambda v: constrain_fn(mdl, (), data, v, return_deterministic=True)  # noqa: E731
        return jax.vmap(jax.vmap(post))(z), stats

    return _Runner(start=jax.jit(nuts_start), iterate=jax.jit(nuts_iterate), finish=jax.jit(nuts_finish))


def optimized_init(model, data, start, key, chains: int, *, static=None, paths: int | None = None,
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
    next to NUTS, and compiled once per (model, ``static``, shapes), with ``data`` and
    ``start`` traced as in :func:`run_nuts`.  Returns a dict of (chains, ...)
    unconstrained arrays for :func:`run_nuts`'s ``init_params``.
    """
    paths = max(4 * chains, 8) if paths is None else int(paths)
    k_run, k_pick, k_jit = jax.random.split(key, 3)
    start = {k: jnp.asarray(v, dtype=jnp.float64) for k, v in start.items()}
    opt = _optimizer(model, _static_key(static), paths, float(spread), int(steps))
    ends, u, starts = opt(k_run, data, start)
    u = np.asarray(u)
    ok = np.isfinite(u)
    if not ok.any():  # nothing finite found: the dispersed starts, as numpyro would use
        return {k: jnp.asarray(np.asarray(v)[:chains]) for k, v in starts.items()}
    keep = ok & (u <= u[ok].min() + MODE_TOL + 0.05 * _dim(ends))
    score = np.where(keep, -u + np.asarray(jax.random.gumbel(k_pick, (paths,))), -np.inf)
    order = np.argsort(-score)[: int(keep.sum())]
    pick = order[np.arange(chains) % order.size]
    dup = np.arange(chains) >= order.size
    out = {}
    for i, (k, v) in enumerate(sorted(ends.items())):
        v = np.asarray(v)[pick]
        jit = 0.05 * np.asarray(jax.random.normal(jax.random.fold_in(k_jit, i), v.shape))
        out[k] = jnp.asarray(v + dup.reshape((-1,) + (1,) * (v.ndim - 1)) * jit)
    return out


def _dim(tree) -> int:
    return int(sum(np.asarray(v)[0].size for v in tree.values()))


@functools.lru_cache(maxsize=64)
def _optimizer(model, static_items, paths: int, spread: float, steps: int):
    from jax.flatten_util import ravel_pytree
    from numpyro import handlers
    from numpyro.infer.util import potential_energy, unconstrain_fn

    mdl = functools.partial(model, **dict(static_items))
    b1, b2, eps = 0.9, 0.999, 1e-8

    def optimize_starts(key, data, start):
        k_model, k_start = jax.random.split(key)
        # the latent sites of the model; those without a start begin at their prior median
        tr = handlers.trace(handlers.seed(handlers.substitute(mdl, data=start), k_model)).get_trace(**data)
        values = {}
        for name, site in tr.items():
            if site["type"] == "sample" and not site["is_observed"]:
                values[name] = start[name] if name in start else jnp.median(
                    site["fn"].sample(jax.random.fold_in(k_model, len(values)), (201,)), axis=0)
        flat0, unravel = ravel_pytree(unconstrain_fn(mdl, (), data, values))
        d = flat0.shape[0]
        value_and_grad = jax.value_and_grad(lambda v: potential_energy(mdl, (), data, unravel(v)))
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
        ends, u = jax.vmap(one)(starts)
        return jax.vmap(unravel)(ends), u, jax.vmap(unravel)(starts)

    return jax.jit(optimize_starts)


def to_idata(draws: Draws, *, extra_posterior=None, loglik=None, predictive=None, observed=None,
             coords=None, dims=None):
    """arviz InferenceData of a NUTS run: ``posterior`` (the draws),
    ``sample_stats``, and the ``log_likelihood``, ``posterior_predictive`` and ``observed_data``
    groups from the dicts given (``extra_posterior``: more posterior variables, e.g. xmin draws).
    """
    az = arviz()
    post = dict(draws.samples)
    if extra_posterior:
        post.update(extra_posterior)
    return az.from_dict(posterior=post, sample_stats=draws.stats, log_likelihood=loglik or None,
                        posterior_predictive=predictive or None,
                        observed_data={k: np.asarray(v) for k, v in (observed or {}).items()} or None,
                        coords=coords, dims=dims)


def diagnose(idata, var_names, *, what: str = "the posterior", stacklevel: int = 4,
             sampler: Sampler | None = None) -> Diagnostics:
    """Divergences, max r_hat and min bulk ESS; a :class:`~htsr.errors.ConvergenceWarning` that says what to do.

    ``sampler``: the run's settings, so the advice names values above them.
    """
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
        if sampler is None:
            more, ta = "more draws and warmup", "a higher target_accept (e.g. 0.95)"
        else:
            w = sampler.draws if sampler.warmup is None else sampler.warmup
            more = f"more draws and warmup (now {sampler.draws} and {w} per chain)"
            ta = (f"a higher target_accept (now {sampler.target_accept:g}, e.g. "
                  f"{0.95 if sampler.target_accept < 0.95 else 0.99:g})")
        warnings.warn(
            f"NUTS on {what}: {'; '.join(problems)}. Do not trust the intervals yet: rerun with {more}, "
            f"{ta} (the command line's --draws, --warmup, --target-accept), or stronger priors; "
            "divergences on a short tail often mean the data cannot identify the parameters.",
            ConvergenceWarning, stacklevel=stacklevel,
        )
    return Diagnostics(n_divergent=div, max_r_hat=r_max, min_ess_bulk=ess_min)

