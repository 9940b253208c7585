"""Shared machinery of the Monte Carlo procedures: keys, synthetic data, batched refits.

Every replicate ``r`` of a stream ``tag`` draws from its own key
``fold_in(fold_in(PRNGKey(seed), tag), r)`` (tag 0: GoF, 1: bootstrap), so
a result depends on the seed and the number of replicates only, never on the
batch size.  Synthetic tails come from the models' own samplers
(:func:`htsr.models.powerlaw.sample`, :func:`htsr.models.bounded.sample`).
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from .. import _jax
from ..data import check_int
from ..data import check_seed as _check_seed
from ..fitting.batch import fit_padded
from ..fitting.bounded_scan import fit_range_padded
from ..fitting.result import PowerLawFit
from ..models.sampling import law_rows, law_sample, replicate_keys  # noqa: F401 (re-exported for gof/bootstrap)

#: Replicates per call of the batched fitter (bounded memory, one compiled shape).
BATCH = 256


def check_reps(reps, name="reps") -> int:
    return check_int(reps, name, minimum=1)


def check_seed(seed) -> int:
    return _check_seed(seed)


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
        tail = jnp.concatenate([tail, jnp.zeros(n - cap, tail.dtype)])
        return jnp.sort(jnp.where(jnp.arange(n) < nt, tail, body[idx])), nt > cap

    return jax.vmap(one)(keys)


def tail_cap(n: int, p: float) -> int:
    """Tail draws per synthetic set: mean + 10 sd of Binomial(n, p) + 16, at most n.

    A function of (n, p) only, so replicates stay independent of the batch size.
    """
    return int(min(n, _jax.bucket(int(n * p + 10.0 * np.sqrt(n * p * (1 - p)) + 16))))


@partial(jax.jit, static_argnames=("n",))
def resample_rows(keys, x, *, n):
    """Nonparametric bootstrap: ``n`` draws with replacement from ``x``, sorted, per key."""
    return jax.vmap(lambda k: jnp.sort(x[jax.random.randint(k, (n,), 0, n)]))(keys)


def fixed_xmin(fit: PowerLawFit) -> bool:
    return fit.spec.fixed_xmin


def refit_rows(rows, fit: PowerLawFit, *, fixed_range: bool | None = None):
    """Refit each sorted row (B, n) the way ``fit`` was made; returns a dict of (B,) arrays.

    A fixed xmin (and xmax) stays fixed; otherwise xmin is rescanned with the same
    restrictions, and a bounded fit keeps its rule for xmax (fixed, or each row's maximum).
    """
    rows = np.asarray(rows, dtype=np.float64)
    B, n = rows.shape
    if fixed_range is None:
        fixed_range = fixed_xmin(fit)
    if fixed_range:
        lo = fit.xmin
        hi = fit.xmax if fit.bounded else np.inf
        keep = (rows >= lo) & (rows <= hi)
        counts = keep.sum(axis=1)
        start = np.argmax(keep, axis=1)  # rows are sorted: the tail is contiguous
        ok = counts >= 2
        tails = np.zeros((B, max(int(counts.max()), 2)))
        for b in range(B):
            t = rows[b, start[b] : start[b] + counts[b]]
            if len(t) == 0:
                t = np.array([lo])
            tails[b, : len(t)] = t
            tails[b, len(t) :] = t[-1]
        distinct = tails[:, 0] != tails[np.arange(B), np.maximum(counts, 1) - 1]
        ok &= distinct
        rule_max = fit.bounded and fit.spec.xmax_rule == "max"
        if rule_max:  # xmax is re-estimated as each resample's largest value
            hi_rows = tails[np.arange(B), np.maximum(counts, 1) - 1]
        res = fit_range_padded(tails, np.maximum(counts, 2), fit.xmin,
                               (hi_rows if rule_max else fit.xmax) if fit.bounded else None,
                               discrete=fit.discrete, conditional=rule_max and not fit.discrete,
                               alpha_grid=fit.spec.alpha_grid,
                               estimator=fit.estimator)
        nan = np.where(ok, 1.0, np.nan)
        return dict(alpha=res.alpha * nan, xmin=np.full(B, fit.xmin), n_tail=counts,
                    D=res.D * nan, sigma=res.sigma * nan)
    xmax = None
    if fit.bounded:
        xmax = fit.xmax if fit.spec.xmax_rule == "fixed" else None
    batch = fit_padded(rows, np.full(B, n), discrete=fit.discrete, method=fit.method, xmax=xmax,
                       estimator=fit.estimator, **fit.spec.scan_kwargs())
    return dict(alpha=batch.alpha, xmin=batch.xmin, n_tail=batch.n_tail, D=batch.D, sigma=batch.sigma)


def run_batches(total: int, make_rows, refit, progress=None, batch: int = BATCH):
    """Generate and refit ``total`` replicates in batches; concatenate the outputs."""
    outs = []
    done = 0
    if progress is not None:
        progress(0, total)
    while done < total:
        stop = min(done + batch, total)
        with _jax.x64():  # always a full batch of keys: one compiled shape; extra rows dropped
            rows = np.asarray(make_rows(done, done + batch))[: stop - done]
        outs.append(refit(rows))
        done = stop
        if progress is not None:
            progress(done, total)
    return {k: np.concatenate([o[k] for o in outs]) for k in outs[0]}
