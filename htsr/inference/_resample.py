"""Shared machinery of the Monte Carlo procedures: synthetic data and refits.

Rows are drawn with keys of a named stream (:mod:`htsr.streams`), one key per
replicate, so a result depends on the seed and the number of replicates only,
never on the batch size.  Synthetic tails come from the models' own samplers
(:func:`htsr.models.powerlaw.sample`, :func:`htsr.models.bounded.sample`);
every refit is the engine's (:func:`htsr.fitting.refit.refit`), and the loop
is its :func:`~htsr.fitting.refit.run_batches`.
"""

from __future__ import annotations

import functools
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from .. import _jax
from ..data import check_int
from ..fitting.refit import BATCH, fixed_range_replicates, refit, run_batches  # noqa: F401 (used by gof/bootstrap)
from ..fitting.result import BatchFit, PowerLawFit
from ..models.sampling import law_rows, law_sample  # noqa: F401 (re-exported for gof)


def check_reps(reps, name="reps") -> int:
    return check_int(reps, name, minimum=1)


@partial(jax.jit, static_argnames=("n", "cap", "discrete", "bounded"))
def semiparametric_rows(keys, body, n_body, p_tail, params, *, n, cap, discrete, bounded):
    """Clauset et al. (2009) section 4.1 synthetic data sets, one sorted row per key.

    Each row has ``n`` points: ``n_tail ~ Binomial(n, p_tail)`` from the fitted
    law and ``n - n_tail`` drawn uniformly with replacement from ``body[:n_body]``
    (the observations below xmin).  Only ``cap`` tail draws are made per row
    (:func:`tail_cap`); the second output flags rows with ``n_tail > cap``, which
    the caller redraws with ``cap = n``.
    """

    def one(key):
        kb, ki, kt = jax.random.split(key, 3)
        nt = jax.random.binomial(kb, n, p_tail)
        idx = jax.random.randint(ki, (n,), 0, jnp.maximum(n_body, 1))
        tail = law_sample(kt, params, (cap,), discrete, bounded)
        at = jnp.arange(n)
        return jnp.sort(jnp.where(at < nt, tail[jnp.minimum(at, cap - 1)], body[idx])), nt > cap

    return jax.vmap(one)(keys)


@functools.cache
def _law_rows_kernel(law, discrete: bool, n: int, cap: int):
    def one(key, body, n_body, p_tail, params, xmin):
        kb, ki, kt = jax.random.split(key, 3)
        nt = jax.random.binomial(kb, n, p_tail)
        idx = jax.random.randint(ki, (n,), 0, jnp.maximum(n_body, 1))
        tail = law.sample(kt, params, xmin, (cap,), discrete=discrete)
        at = jnp.arange(n)
        return jnp.sort(jnp.where(at < nt, tail[jnp.minimum(at, cap - 1)], body[idx])), nt > cap

    return jax.jit(jax.vmap(one, in_axes=(0, None, None, None, None, None)))


def law_semiparametric_rows(keys, law, body, n_body, p_tail, params, xmin, *, n, cap, discrete):
    """:func:`semiparametric_rows` for any registered law: ``n_tail ~ Binomial(n, p_tail)`` draws from
    ``law`` (``law.sample`` with ``params``, a tuple in ``law.param_names`` order, above ``xmin``), the
    rest drawn with replacement from ``body[:n_body]``; sorted rows and the ``n_tail > cap`` flags."""
    params = tuple(jnp.asarray(p, dtype=jnp.float64) for p in params)
    return _law_rows_kernel(law, bool(discrete), int(n), int(cap))(keys, body, n_body, p_tail, params,
                                                                   jnp.asarray(xmin, dtype=jnp.float64))


@functools.cache
def _law_tail_kernel(law, discrete: bool, width: int):
    return jax.jit(jax.vmap(lambda k, params, xmin: law.sample(k, params, xmin, (width,), discrete=discrete),
                            in_axes=(0, None, None)))


def law_tail_rows(keys, law, params, xmin, *, n, discrete):
    """``n`` draws from ``law`` above ``xmin`` per key, sorted (NumPy): the fixed-xmin test's synthetic tails.

    Drawn at the bucket width and cut to ``n`` (the same numbers with JAX's partitionable
    Threefry; one compiled sampler per bucket, see :func:`resample_indices`)."""
    params = tuple(jnp.asarray(p, dtype=jnp.float64) for p in params)
    rows = _law_tail_kernel(law, bool(discrete), _jax.bucket(n))(keys, params, jnp.asarray(xmin, dtype=jnp.float64))
    return np.sort(np.asarray(rows)[:, :n], axis=1)


def tail_cap(n: int, p: float) -> int:
    """Tail draws per synthetic set: mean + 10 sd of Binomial(n, p) + 16, at most n.

    A function of (n, p) only, so replicates stay independent of the batch size.
    """
    return int(min(n, _jax.bucket(int(n * p + 10.0 * np.sqrt(n * p * (1 - p)) + 16))))


def resample_indices(keys, *, n):
    """Nonparametric bootstrap: ``n`` indices drawn with replacement from ``range(n)``, per key (NumPy).

    ``jax.random.randint(key, (n,), 0, n)`` for each key.  With JAX's partitionable
    Threefry (``jax_threefry_partitionable``, the default) each draw depends on its
    key and its position only, so the first ``n`` of ``bucket(n)`` draws are those
    same indices: one compiled sampler serves every sample size of a bucket (a
    report's layers of 379 to 384 eigenvalues compile it once, not four times).
    """
    if jax.config.jax_threefry_partitionable:  # cut on the host: no slicing program per n
        return np.asarray(_bucketed_indices(keys, n, width=_jax.bucket(n)))[:, :n]
    return np.asarray(_exact_indices(keys, n=n))


@partial(jax.jit, static_argnames=("width",))
def _bucketed_indices(keys, n, *, width):
    return jax.vmap(lambda k: jax.random.randint(k, (width,), 0, n))(keys)


@partial(jax.jit, static_argnames=("n",))
def _exact_indices(keys, *, n):
    return jax.vmap(lambda k: jax.random.randint(k, (n,), 0, n))(keys)


def resample_rows(keys, x, *, n):
    """Nonparametric bootstrap: ``n`` draws with replacement from ``x``, sorted, per key (a NumPy array).

    The draws are JAX's (:func:`resample_indices`); the gather and the sort are NumPy's,
    several times faster than XLA's sort on CPU, with the same result.
    """
    idx = np.asarray(resample_indices(keys, n=n))
    return np.sort(np.asarray(x, dtype=np.float64)[idx], axis=1)


def fixed_xmin(fit: PowerLawFit) -> bool:
    return fit.spec.fixed_xmin


def refit_rows(rows, fit: PowerLawFit, *, fixed_range: bool | None = None) -> BatchFit:
    """Refit each sorted row (B, n) the way ``fit`` was made: the engine on ``fit.spec``.

    A fixed xmin (and xmax) stays fixed; otherwise xmin is rescanned with the same
    restrictions, and a bounded fit keeps its rule for xmax (fixed, or each row's
    maximum).  ``fixed_range`` overrides: True holds ``fit.xmin`` fixed, False rescans.
    """
    rows = np.asarray(rows, dtype=np.float64)
    if fixed_range is None:
        fixed_range = fixed_xmin(fit)
    spec = fit.spec.replace(xmin=fit.xmin if fixed_range else None)
    return refit(_jax.padded(rows, np.full(rows.shape[0], rows.shape[1])), spec)
