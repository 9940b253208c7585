"""Special functions in JAX, float64, differentiable where the fits need it.

Hurwitz zeta
------------
``zeta(s, q) = sum_{k>=0} (q + k)^-s`` for ``s > 1``, ``q > 0``, by the
Euler-Maclaurin formula: ``_N_DIRECT`` explicit terms, the integral of the
remainder, and ``len(_BERNOULLI)`` Bernoulli corrections,

    zeta(s, q) = sum_{k<N} (q+k)^-s + (q+N)^(1-s)/(s-1) + (q+N)^-s / 2
                 + sum_j B_2j/(2j)! * s(s+1)...(s+2j-2) * (q+N)^(-s-2j+1).

With N = 16 and eight corrections the relative error is below 1e-15 for
1 < s <= 200 and q >= 1 (checked against mpmath in the tests).  Everything is
computed relative to ``q^-s`` and returned as a logarithm, so huge ``s`` or
``q`` neither overflow nor underflow.  The function is smooth in ``s``, so
``jax.grad`` gives the derivatives the discrete power-law MLE needs
(:func:`log_zeta_moments`).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

__all__ = ["log_hurwitz_zeta", "log_zeta_moments"]

_N_DIRECT = 16
# B_2j / (2j)! for j = 1..8
_BERNOULLI = (
    1.0 / 6 / 2,
    -1.0 / 30 / 24,
    1.0 / 42 / 720,
    -1.0 / 30 / 40320,
    5.0 / 66 / 3628800,
    -691.0 / 2730 / 479001600,
    7.0 / 6 / 87178291200,
    -3617.0 / 510 / 20922789888000,
)


def log_hurwitz_zeta(s, q):
    """log of the Hurwitz zeta function, elementwise and broadcasting.

    Parameters
    ----------
    s : array_like
        Exponent, ``s > 1``.
    q : array_like
        Offset, ``q > 0`` (``q >= 1`` for the documented accuracy).

    Returns
    -------
    jax.Array
        ``log(zeta(s, q))``.
    """
    s = jnp.asarray(s)
    q = jnp.asarray(q)
    lq = jnp.log(q)
    k = jnp.arange(_N_DIRECT, dtype=q.dtype)
    # explicit terms, scaled by q^s
    direct = jnp.sum(
        jnp.exp(-s[..., None] * (jnp.log(q[..., None] + k) - lq[..., None])), axis=-1
    )
    qn = q + _N_DIRECT
    lr = jnp.log(qn) - lq  # log((q+N)/q)
    base = jnp.exp(-s * lr)  # ((q+N)/q)^-s
    tail = base * qn / (s - 1.0) + 0.5 * base
    # Bernoulli corrections: B_2j/(2j)! * (s)_(2j-1) * (q+N)^(-s-2j+1)
    poch = s  # (s)_1
    power = base / qn  # scaled (q+N)^(-s-1)
    corr = jnp.zeros_like(base)
    inv_qn2 = 1.0 / (qn * qn)
    for j, b in enumerate(_BERNOULLI):
        corr = corr + b * poch * power
        poch = poch * (s + 2 * j + 1) * (s + 2 * j + 2)
        power = power * inv_qn2
    return -s * lq + jnp.log(direct + tail + corr)


def log_zeta_moments(s, q):
    """``log zeta(s, q)`` and the first two moments of ``ln X``.

    For the discrete power law ``P(X = x) = x^-s / zeta(s, q)`` on the integers
    ``x >= q``:

    * ``mean = E[ln X] = -d/ds log zeta(s, q)``
    * ``var  = Var[ln X] = d^2/ds^2 log zeta(s, q)``

    ``mean`` is what the MLE matches to the sample mean of ``ln x``; ``var`` is
    the Fisher information per observation.

    Returns
    -------
    (log_zeta, mean, var) : tuple of jax.Array
    """
    s = jnp.asarray(s)
    q = jnp.asarray(q)

    def f(t):
        return log_hurwitz_zeta(t, q)

    def df(t):
        return jax.jvp(f, (t,), (jnp.ones_like(t),))

    (lz, d1), (_, d2) = jax.jvp(df, (s,), (jnp.ones_like(s),))
    return lz, -d1, d2
