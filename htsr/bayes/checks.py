"""Posterior predictive checks (KS distance) and model comparison by PSIS-LOO.

Posterior predictive p-value
----------------------------
For each (thinned) posterior draw ``theta_s`` a tail of the observed size is
replicated from the law at ``theta_s`` (``Law.sample``), and the KS distance
of the replicate and of the observed tail to the law's CDF at ``theta_s`` are
compared (Gelman, Meng & Stern 1996, realised discrepancies)::

    p = mean_s [ D(x_rep_s, theta_s) >= D(x_obs, theta_s) ]

Small p (< 0.1) says the tail law does not describe the data.  With xmin
unknown, each draw uses its own threshold and the tail above it.  For integer
data, D compares the empirical and model CDFs on both sides of each value.

PSIS-LOO
--------
:func:`loo_compare` fits every law on the *same* tail (xmin fixed, by default
at the Clauset fit of :func:`htsr.fit`), and ranks them with
``arviz.compare`` (expected log pointwise predictive density, Vehtari, Gelman &
Gabry 2017).  The Pareto-k of each point is reported: k > 0.7 means the LOO
estimate for that point is unreliable.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import jax
import jax.numpy as jnp
import numpy as np

__all__ = ["ks_distance", "ppc_pvalue_fixed", "ppc_padded", "ppc_threshold", "LooComparison"]


def ks_distance(law, params, y, valid, xmin, *, xmax=None, discrete=False):
    """KS distance of the entries of ``y`` where ``valid`` to ``law`` at ``params`` (jit/vmap-able)."""
    m = jnp.sum(valid)
    ys = jnp.sort(jnp.where(valid, y, jnp.inf))
    inside = jnp.arange(ys.shape[0]) < m
    safe = jnp.where(inside, ys, xmin)
    right = jnp.searchsorted(ys, ys, side="right") / m
    left = jnp.searchsorted(ys, ys, side="left") / m
    F = law.cdf(safe, params, xmin, xmax=xmax, discrete=discrete)
    F_minus = 1.0 - law.ccdf(safe, params, xmin, xmax=xmax, discrete=discrete)
    d = jnp.maximum(jnp.abs(right - F), jnp.abs(left - F_minus))
    return jnp.max(jnp.where(inside, d, 0.0))


def ppc_pvalue_fixed(law, params, tail, xmin, key, *, xmax=None, discrete=False, mask=None):
    """Replicated tails (S, P) and the KS posterior predictive p-value, for S posterior draws ``params``.

    ``mask``: which entries of ``tail`` are real (a padded tail; replicates are NaN at padding).
    """
    mask = jnp.ones(tail.shape[0], dtype=bool) if mask is None else mask
    reps, hit = _ppc_fixed(law, params, tail, mask, xmin, xmax, key, discrete=discrete)
    return reps, float(np.mean(np.asarray(hit)))


@functools.partial(jax.jit, static_argnames=("law", "discrete"))
def _ppc_fixed(law, params, tail, mask, xmin, xmax, key, *, discrete):
    # one compilation per law and padded shape; the tail, xmin, xmax and the draws are traced
    P = tail.shape[0]
    S = next(iter(params.values())).shape[0]
    keys = jax.random.split(key, S)
    reps = jax.vmap(lambda k, p: law.sample(k, p, xmin, (P,), xmax=xmax, discrete=discrete))(keys, params)
    d_obs = jax.vmap(lambda p: ks_distance(law, p, tail, mask, xmin, xmax=xmax, discrete=discrete))(params)
    d_rep = jax.vmap(lambda r, p: ks_distance(law, p, r, mask, xmin, xmax=xmax, discrete=discrete))(reps, params)
    return jnp.where(mask, reps, jnp.nan), d_rep >= d_obs


@functools.partial(jax.jit, static_argnames=("law", "discrete"))
def ppc_padded(law, params, x, mask, xmin, key, *, discrete=False):
    """Replicates of L padded tails and their KS comparisons (the many-sample check).

    ``params``: dict of (S, L) draws; ``x``, ``mask``: (L, P) padded tails; ``xmin``: (L,).
    Returns ``reps`` (S, L, P), a replicated tail of each layer's size per draw (NaN at
    padding), and ``hit`` (S, L), ``D(rep) >= D(obs)``; ``hit.mean(0)`` is each layer's p-value.
    """
    S, L = next(iter(params.values())).shape
    P = x.shape[1]

    def one(k, p, xl, ml, x0):
        rep = law.sample(k, p, x0, (P,), discrete=discrete)
        d_obs = ks_distance(law, p, xl, ml, x0, discrete=discrete)
        d_rep = ks_distance(law, p, rep, ml, x0, discrete=discrete)
        return jnp.where(ml, rep, jnp.nan), d_rep >= d_obs

    keys = jax.random.split(key, S * L).reshape(S, L, -1)
    per_layer = jax.vmap(one, in_axes=(0, 0, 0, 0, 0))
    return jax.vmap(per_layer, in_axes=(0, 0, None, None, None))(keys, params, x, mask, xmin)


@functools.partial(jax.jit, static_argnames=("law", "discrete"))
def ppc_threshold(law, x, n, theta, j, key, *, discrete=False):
    """Replicated tails above each draw's threshold (unknown xmin) and their KS comparisons.

    ``x`` (P,) the sorted (padded) sample of real length ``n``; ``theta`` dict of (S,)
    tail-law draws; ``j`` (S,) each draw's threshold index (xmin = ``x[j]``).  Returns
    ``reps`` (S, P), sorted, NaN past the draw's ``n - j`` tail points, and ``hit`` (S,).
    """
    idx = jnp.arange(x.shape[0])

    def one(k, t, jj):
        xk = x[jj]
        rep = law.sample(k, t, xk, (x.shape[0],), discrete=discrete)
        rep_ok = idx < n - jj
        d_obs = ks_distance(law, t, x, (idx >= jj) & (idx < n), xk, discrete=discrete)
        d_rep = ks_distance(law, t, rep, rep_ok, xk, discrete=discrete)
        return jnp.where(rep_ok, jnp.sort(jnp.where(rep_ok, rep, jnp.inf)), jnp.nan), d_rep >= d_obs

    return jax.vmap(one)(jax.random.split(key, j.shape[0]), theta, j)


@dataclass(frozen=True, eq=False)
class LooComparison:
    """PSIS-LOO ranking of tail laws on one tail.

    Attributes
    ----------
    table : pandas.DataFrame
        ``arviz.compare`` output (rank, elpd_loo, p_loo, elpd_diff, weight, se, dse, ...).
    pareto_k : dict
        Law name -> Pareto-k of each tail point.
    fits : dict
        Law name -> :class:`~htsr.bayes.result.BayesFit`.
    xmin : float
    """

    table: object
    pareto_k: dict
    fits: dict = field(repr=False)
    xmin: float = float("nan")

    @property
    def best(self) -> str:
        return str(self.table.index[0])

    def k_summary(self) -> dict:
        """Law -> (max Pareto-k, number of points with k > 0.7)."""
        return {m: (float(np.max(k)), int(np.sum(k > 0.7))) for m, k in self.pareto_k.items()}

    def to_dict(self) -> dict:
        return {"xmin": self.xmin, "best": self.best, "table": self.table.reset_index().to_dict("records"),
                "pareto_k": {m: {"max": a, "n_above_0.7": b} for m, (a, b) in self.k_summary().items()}}
