"""The unknown-xmin model: a body law below a threshold, a tail law above it, xmin marginalised.

The construction
----------------
For a sorted sample ``x_1 <= ... <= x_n`` and a threshold ``c`` (one of the
candidate values, below), the density of *one observation* is the two-piece
mixture joined by mass::

    p(x | c) = (1 - phi) * b(x) / B(c)    for x_1 <= x < c      (body)
             =      phi  * t(x | c)       for x >= c            (tail)

with ``t(. | c)`` the tail law (the power law by default) on ``[c, inf)``,
``b`` the body law (a lognormal, by default) on ``[x_1, inf)`` and
``B(c) = P_b(X < c)``, so the body piece is the body law truncated to
``[x_1, c)``.  Every candidate ``c`` thus gives a density of the *whole*
sample, and the likelihoods of different thresholds are comparable: this is a
valid model of the data, unlike a tail-only likelihood whose data change with
``c``.

The tail fraction ``phi ~ Beta(a, b)`` (``a = b = 1``) is integrated out in
closed form (the sample splits into ``n_t`` tail and ``n_b`` body points)::

    int phi^n_t (1 - phi)^n_b dBeta(phi; a, b) = B(a + n_t, b + n_b) / B(a, b)

and the threshold is summed out exactly (log-sum-exp) under its prior
(:func:`threshold_log_prior`; default: the tail size ``n_t`` log-uniform
between ``min_tail`` and ``n``), so NUTS moves only in the continuous
parameters (the tail law's and the body law's) on a smooth posterior.  xmin, ``n_tail`` and
``phi`` are drawn afterwards from their exact conditional posteriors, draw by
draw (``p(c | params, x)`` is the softmax of the K terms; ``phi | c`` is
``Beta(a + n_t, b + n_b)``).

Cost: O(n + K) per log-density evaluation, whatever K.  Both laws are
truncation families, so the tail law on ``[c, inf)`` is the law on
``[x_ref, inf)`` conditioned on ``X >= c``::

    log t(x | c) = log t(x | x_ref) - log P_t(X >= c | x_ref)

and the tail sum for every candidate is one suffix sum of
``Law.log_pdf(x, theta, x_ref)`` (``x_ref`` the smallest candidate) minus
``n_t log Law.ccdf(c, theta, x_ref)``; the body sum is a prefix sum of
``Law.log_pdf(x, body, x_1)`` minus ``n_b log Law.cdf``.  Only the law
interface is called: no density is written here.

Candidates are the distinct observed values leaving at least ``min_tail``
points at or above them (the Clauset convention that xmin is an observed
value), thinned to at most ``max_candidates`` evenly spaced in rank.

Why the body law matters: where the body joins the tail smoothly (Clauset's
exponential-body construction matches the tail's density *and* log-slope at
xmin) the data barely locate the threshold, and a body law that cannot follow
the true body hands its upper part to the tail law.  The default body, the
stretched exponential (Weibull; the exponential is its ``beta = 1`` case), and
the log-uniform tail-size prior give 90% intervals of alpha that cover at the
nominal rate on that construction; the lognormal body, or a uniform prior over
the (rank-spaced) candidates, put xmin too low and undercover (docs/bayes.md,
"Coverage").
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
from jax.scipy.special import betaln, logsumexp

from .._jax import pad_batch

__all__ = ["candidate_indices", "threshold_log_prior", "THRESHOLD_PRIORS", "log_weights", "marginal_loglik",
           "pointwise_loglik", "posterior_thresholds", "posterior_thresholds_many", "MASS_PRIOR"]

#: Beta(a, b) prior of the tail fraction phi.
MASS_PRIOR = (1.0, 1.0)
_TINY = 1e-300


def candidate_indices(x: np.ndarray, *, min_tail: int, max_candidates: int | None = None,
                      xmin_range=None) -> np.ndarray:
    """First index of each distinct value of sorted ``x`` that leaves >= ``min_tail`` points in the tail."""
    x = np.asarray(x)
    n = x.size
    first = np.flatnonzero(np.r_[True, x[1:] != x[:-1]])
    keep = (n - first) >= min_tail
    if xmin_range is not None:
        keep &= (x[first] >= xmin_range[0]) & (x[first] <= xmin_range[1])
    idx = first[keep]
    if max_candidates is not None and idx.size > max_candidates:
        idx = idx[np.unique(np.round(np.linspace(0, idx.size - 1, max_candidates)).astype(int))]
    return idx


#: Threshold priors: ``"log_tail"`` (default), the tail size ``n_tail`` log-uniform;
#: ``"uniform"``, every candidate alike.
THRESHOLD_PRIORS = ("log_tail", "uniform")


def threshold_log_prior(n: int, cand: np.ndarray, kind: str = "log_tail", width: int | None = None) -> np.ndarray:
    """Log prior masses (K,) of the candidate thresholds ``x[cand]``, normalised; ``-inf`` padding up to ``width``.

    ``"log_tail"``: the tail size ``n_t = n - j`` is log-uniform, each candidate
    carrying the mass of its cell in ``log n_t`` (cells end halfway, in ``log n_t``,
    between neighbouring candidates, and at the extreme candidates); scale-free
    (a tail of 10 to 20 points is as likely a priori as one of 100 to 200), and
    the same prior whatever the thinning of the candidates.  ``"uniform"``: ``1/K``
    each, which, with candidates evenly spaced in rank, is uniform in ``n_t`` and
    puts most of the mass on large tails (low thresholds).
    """
    cand = np.asarray(cand)
    K = cand.size
    if kind == "uniform" or K == 1:
        w = np.full(K, -np.log(K))
    else:
        lt = np.log(n - cand.astype(np.float64))  # decreasing
        mid = 0.5 * (lt[1:] + lt[:-1])
        edges = np.concatenate([[lt[0]], mid, [lt[-1]]])
        cell = edges[:-1] - edges[1:]
        w = np.log(cell / cell.sum())
    if width is not None and width > K:
        w = pad_batch(w[None, :], [K], width=width, fill=-np.inf)[0]  # no prior mass at padding
    return w


def _log_below(law, params, c, x0, discrete):
    """log P_body(X < c) (``c - 1`` inclusive for integers), floored at log(1e-300) so gradients stay finite."""
    return jnp.log(jnp.maximum(law.cdf(c - 1.0 if discrete else c, params, x0, discrete=discrete), _TINY))


def log_weights(tail_law, body_law, theta, body, x, n, cand, cprior, *, discrete=False, mass=MASS_PRIOR):
    """The K terms ``log p(x, c_k | theta, body) = log pi(c_k) + log p(x | c_k, ...)`` (phi integrated out).

    ``x`` (P,) sorted and padded, ``n`` its real length, ``cand`` (K,) candidate
    indices into ``x`` (ascending, ``cand[0]`` the smallest), ``cprior`` (K,) their
    log prior masses (:func:`threshold_log_prior`), ``-inf`` at padding.
    """
    idx = jnp.arange(x.shape[0])
    real = idx < n
    j0 = cand[0]
    xref = x[j0]
    lt = tail_law.log_pdf(x, theta, xref, discrete=discrete)
    lt = jnp.where(real & (idx >= j0), lt, 0.0)
    suffix = jnp.cumsum(lt[::-1])[::-1]
    xc = x[cand]
    n_t = n - cand
    surv = tail_law.ccdf(xc, theta, xref, discrete=discrete)
    tail = suffix[cand] - n_t * jnp.log(jnp.maximum(surv, _TINY))

    x0 = x[0]
    lb = jnp.where(real, body_law.log_pdf(x, body, x0, discrete=discrete), 0.0)
    prefix = jnp.concatenate([jnp.zeros(1), jnp.cumsum(lb)])
    below = _log_below(body_law, body, xc, x0, discrete)
    body_term = prefix[cand] - cand * below

    a, b = mass
    mass_term = betaln(a + n_t, b + cand) - betaln(a, b)
    ok = jnp.isfinite(cprior) & (surv > _TINY) & ((cand == 0) | (below > jnp.log(_TINY)))
    return jnp.where(ok, cprior + tail + body_term + mass_term, -jnp.inf)


@functools.partial(jax.jit, static_argnames=("tail_law", "body_law", "discrete"))
def marginal_loglik(tail_law, body_law, theta, body, x, n, cand, cprior, *, discrete=False):
    """``log p(x | theta, body)``: threshold (prior ``cprior`` over the candidates) and phi summed out.

    Jitted so that numpyro's eager first pass through the model compiles it once
    instead of once per operation; inside NUTS it is inlined.
    """
    return logsumexp(log_weights(tail_law, body_law, theta, body, x, n, cand, cprior, discrete=discrete))


def pointwise_loglik(tail_law, body_law, theta, body, x, n, j, phi, *, discrete=False):
    """log p(x_i | c = x_j, phi, theta, body) for each (padded) point; padding gives 0."""
    idx = jnp.arange(x.shape[0])
    xk, x0 = x[j], x[0]
    lt = jnp.log(phi) + tail_law.log_pdf(x, theta, xk, discrete=discrete)
    lb = (jnp.log1p(-phi) + body_law.log_pdf(x, body, x0, discrete=discrete)
          - _log_below(body_law, body, xk, x0, discrete))
    return jnp.where(idx < n, jnp.where(idx >= j, lt, lb), 0.0)


def draw_threshold(key, lw, cand, n, mass=MASS_PRIOR):
    """One draw of (candidate index j, phi) from their conditional posterior given the K terms."""
    k1, k2 = jax.random.split(key)
    k = jax.random.categorical(k1, lw)
    j = cand[k]
    n_t = n - j
    phi = jax.random.beta(k2, mass[0] + n_t, mass[1] + j)
    return j, jnp.clip(phi, 1e-12, 1.0 - 1e-12)


@functools.partial(jax.jit, static_argnames=("tail_law", "body_law", "discrete"))
def posterior_thresholds(tail_law, body_law, theta, body, x, n, cand, cprior, keys, *, discrete=False):
    """Per posterior draw: the threshold index ``j``, ``phi`` and the pointwise log-likelihood (S, P).

    ``theta``/``body``: dicts of (S,) draws; ``keys`` (S, 2).  Compiled once per laws and shapes.
    """
    def per_draw(args):
        key, t, b = args
        lw = log_weights(tail_law, body_law, t, b, x, n, cand, cprior, discrete=discrete)
        j, phi = draw_threshold(key, lw, cand, n)
        return j, phi, pointwise_loglik(tail_law, body_law, t, b, x, n, j, phi, discrete=discrete)

    return jax.lax.map(per_draw, (keys, theta, body), batch_size=256)


@functools.partial(jax.jit, static_argnames=("tail_law", "body_law", "discrete"))
def posterior_thresholds_many(tail_law, body_law, theta, body, x, n, cand, cprior, keys, *, discrete=False):
    """:func:`posterior_thresholds` for L padded samples: draws (S, L), data (L, P), (L,), (L, K), (L, K)."""
    L = x.shape[0]

    def per_draw(args):
        key, t, b = args

        def layer(k, tl, bl, xl, nl, cl, ml):
            lw = log_weights(tail_law, body_law, tl, bl, xl, nl, cl, ml, discrete=discrete)
            jl, phi = draw_threshold(k, lw, cl, nl)
            return jl, phi, pointwise_loglik(tail_law, body_law, tl, bl, xl, nl, jl, phi, discrete=discrete)

        return jax.vmap(layer)(jax.random.split(key, L), t, b, x, n, cand, cprior)

    return jax.lax.map(per_draw, (keys, theta, body), batch_size=128)
