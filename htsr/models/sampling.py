"""Batched draws from a fitted power law (unbounded or bounded), with explicit keys.

The synthetic data sets of the goodness-of-fit test, the Deluca-Corral range
search and the calibration studies all start here, one key per replicate from
a named stream (:mod:`htsr.streams`), so a replicate's numbers depend on its
index, never on batch sizes or order.  The draws are the laws' own samplers
(:mod:`htsr.models.powerlaw`, :mod:`htsr.models.bounded`).
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp

from . import bounded as bd
from . import powerlaw as pl

__all__ = ["law_sample", "law_rows"]


def law_sample(key, fit_params, shape, discrete, bounded):
    """Draws from the power law ``(alpha, xmin, xmax)``: bounded on [xmin, xmax], or unbounded."""
    alpha, xmin, xmax = fit_params
    if bounded:
        return bd.LAW.sample(key, (alpha,), xmin, shape, xmax=xmax, discrete=discrete)
    return pl.LAW.sample(key, (alpha,), xmin, shape, discrete=discrete)


@partial(jax.jit, static_argnames=("n", "discrete", "bounded", "sort"))
def law_rows(keys, params, *, n, discrete, bounded, sort=True):
    """``n`` draws from the fitted law per key (the fixed-range test), sorted unless ``sort=False``."""
    def one(k):
        draws = law_sample(k, params, (n,), discrete, bounded)
        return jnp.sort(draws) if sort else draws

    return jax.vmap(one)(keys)
