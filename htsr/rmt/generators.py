"""Random weight matrices in JAX: Gaussian, heavy-tailed (Pareto, Student-t), spiked.

Every generator returns a float64 NumPy array of shape ``(N, M)`` with
``N >= M``, or ``(batch, N, M)`` when ``batch`` is given.  The shape is set
either by ``M`` and the aspect ratio ``Q`` (``N = round(Q * M)``) or by ``M``
and ``N`` directly.

Randomness is explicit: ``seed`` is an integer or a JAX PRNG key
(``jax.random.key(0)`` or ``jax.random.PRNGKey(0)``).  The same seed and the
same arguments give the same matrix on every call; a batch is drawn in one
JAX call, so ``batch=5`` is *not* the same as five calls with seeds 0..4.
The kernels are ``jit``-compiled per shape and run in float64 under
:func:`htsr._jax.x64` (the caller's JAX configuration is not touched).
"""

from __future__ import annotations

from functools import partial
from typing import Sequence

import jax
import jax.numpy as jnp
import numpy as np

from .. import _jax, streams
from ..data import check_int, check_number, check_ratio
from ..errors import HtsrError

__all__ = ["gaussian", "pareto", "student_t", "spiked", "spike_location", "spike_threshold"]


def _key(seed):
    """A PRNG key from an existing key, or from an integer seed (the ``rmt`` stream of :mod:`htsr.streams`)."""
    if isinstance(seed, jax.Array):
        return seed
    try:
        return streams.key(seed, "rmt")
    except HtsrError as exc:
        raise HtsrError(f"{exc} (or a JAX PRNG key)") from None


def _shape(M, Q, N, batch) -> tuple[int, ...]:
    """``(N, M)`` or ``(batch, N, M)``, from ``M`` and exactly one of ``Q`` (``N = round(Q M)``) or ``N >= M``."""
    M = check_int(M, "M", minimum=1)
    if (Q is None) == (N is None):
        raise HtsrError("give exactly one of Q (so that N = round(Q*M)) or N")
    if Q is not None:
        N = int(round(check_ratio(Q) * M))
    else:
        N = check_int(N, "N", minimum=1)
        if N < M:
            raise HtsrError(f"N must be >= M (generators return tall N x M matrices), got N={N}, M={M}")
    return (N, M) if batch is None else (check_int(batch, "batch", minimum=1), N, M)


def _heavy(name, M, Q, N, batch, mu, scale) -> tuple[tuple[int, ...], float, float]:
    """The shape, ``mu`` and ``scale`` of a heavy-tailed generator, checked."""
    if mu is None:
        raise HtsrError(f"{name}() needs the tail index mu > 0")
    return _shape(M, Q, N, batch), check_number(mu, "mu", positive=True), check_number(scale, "scale", positive=True)


def _out(x) -> np.ndarray:
    return np.array(x, dtype=np.float64)  # a writable NumPy copy, never a JAX array


# ------------------------------------------------------------------ kernels (pure, jit)
@partial(jax.jit, static_argnums=(1,))
def _normal_kernel(key, shape, sigma):
    return sigma * jax.random.normal(key, shape, dtype=jnp.float64)


@partial(jax.jit, static_argnums=(1, 4))
def _pareto_kernel(key, shape, mu, scale, symmetric):
    # one 64-bit word per entry: its top 53 bits make u in (0, 1], its bit 0 the sign
    # (independent bits of the same Threefry word; half the draws of a uniform plus a
    # Rademacher, and the sampler is JAX's cost in a calibration study)
    bits = jax.random.bits(key, shape, dtype=jnp.uint64)
    u = ((bits >> 11) + 1).astype(jnp.float64) * (2.0 ** -53)  # k / 2**53, k = 1 .. 2**53: exact
    mag = scale * jnp.exp(jnp.log(u) * (-1.0 / mu))  # u**(-1/mu) >= 1: |w| >= scale (log, not pow or log1p: cheaper)
    if not symmetric:
        return mag
    signed = jax.lax.bitcast_convert_type(mag, jnp.uint64) | (bits << 63)  # mag > 0: bit 0 becomes its sign bit
    return jax.lax.bitcast_convert_type(signed, jnp.float64)


@partial(jax.jit, static_argnums=(1,))
def _t_kernel(key, shape, df, scale):
    return scale * jax.random.t(key, df, shape, dtype=jnp.float64)


def _haar_columns(key, shape):
    """Orthonormal columns, Haar-distributed: QR of a Gaussian with sign-fixed R."""
    q, r = jnp.linalg.qr(jax.random.normal(key, shape, dtype=jnp.float64))
    d = jnp.sign(jnp.diagonal(r, axis1=-2, axis2=-1))
    return q * jnp.where(d == 0, 1.0, d)[..., None, :]


@partial(jax.jit, static_argnums=(1,))
def _spiked_kernel(key, shape, strengths, sigma):
    k_noise, k_u, k_v = jax.random.split(key, 3)
    *lead, N, M = shape
    k = strengths.shape[0]
    G = jax.random.normal(k_noise, shape, dtype=jnp.float64)
    U = _haar_columns(k_u, (*lead, N, k))
    V = _haar_columns(k_v, (*lead, M, k))
    signal = jnp.einsum("...ik,k,...jk->...ij", U, strengths, V)
    return sigma * (G + jnp.sqrt(N) * signal)


# ------------------------------------------------------------------ public API
def gaussian(M: int, Q: float | None = None, *, N: int | None = None, sigma: float = 1.0,
             seed=0, batch: int | None = None) -> np.ndarray:
    """Gaussian random matrix: entries i.i.d. ``Normal(0, sigma**2)``.

    The ESD of ``X = W^T W / N`` tends to the Marchenko-Pastur law with ratio
    ``Q = N/M`` and variance ``sigma**2`` (see :func:`htsr.rmt.mp_pdf`).

    Parameters
    ----------
    M : int
        Number of columns (the smaller dimension).
    Q : float, optional
        Aspect ratio ``N/M >= 1``; ``N = round(Q * M)``.  Give ``Q`` or ``N``.
    N : int, optional
        Number of rows, ``N >= M``.
    sigma : float
        Standard deviation of each entry.
    seed : int or JAX PRNG key
    batch : int, optional
        Draw this many independent matrices at once.

    Returns
    -------
    numpy.ndarray
        float64, shape ``(N, M)`` or ``(batch, N, M)``.
    """
    shape = _shape(M, Q, N, batch)
    sigma = check_number(sigma, "sigma", positive=True)
    with _jax.x64():
        return _out(_normal_kernel(_key(seed), shape, sigma))


def pareto(M: int, Q: float | None = None, mu: float | None = None, *, N: int | None = None,
           scale: float = 1.0, symmetric: bool = True, seed=0, batch: int | None = None) -> np.ndarray:
    """Heavy-tailed random matrix with Pareto entries of tail index ``mu``.

    Each entry is ``w = s * scale * U**(-1/mu)`` with ``U ~ Uniform(0, 1]`` and an
    independent random sign ``s = +-1`` (each with probability 1/2), so
    ``P(|w| > t) = (t / scale)**(-mu)`` for ``t >= scale``: the classical Pareto
    law with minimum ``scale`` and index ``mu``, made symmetric.  ``|w|`` has a
    finite variance only for ``mu > 2`` (``scale**2 * mu / (mu - 2)``).  With
    ``symmetric=False`` the sign is dropped (all entries >= ``scale``; note that
    the non-zero mean then adds a rank-one spike to the ESD).  This is the
    model of Martin & Mahoney's universality classes (``mu < 2``, ``2 < mu < 4``,
    ``mu > 4``; see :func:`htsr.rmt.universality_class`).

    ``numpy.random.pareto(mu)`` used in the seed blog posts draws the shifted
    (Lomax) law ``U**(-1/mu) - 1``: the same tail index, a different bulk.

    Parameters
    ----------
    M, Q, N, seed, batch :
        As in :func:`gaussian`.  ``mu`` may be passed positionally after ``Q``.
    mu : float
        Tail index, > 0.
    scale : float
        Minimum of ``|w|``.
    symmetric : bool
        Attach a random sign (default) or not.
    """
    shape, mu, scale = _heavy("pareto", M, Q, N, batch, mu, scale)
    with _jax.x64():
        return _out(_pareto_kernel(_key(seed), shape, mu, scale, bool(symmetric)))


def student_t(M: int, Q: float | None = None, mu: float | None = None, *, N: int | None = None,
              scale: float = 1.0, seed=0, batch: int | None = None) -> np.ndarray:
    """Heavy-tailed random matrix with Student-t entries, ``mu`` degrees of freedom.

    Each entry is ``scale * T`` with ``T`` a standard Student-t variable with
    ``nu = mu`` degrees of freedom, density proportional to
    ``(1 + t**2 / mu)**(-(mu + 1) / 2)``.  Its tail index is ``mu``:
    ``P(|T| > t) ~ C t**(-mu)``.  Unlike :func:`pareto` the density is smooth
    and unimodal at 0; variance ``scale**2 * mu / (mu - 2)`` for ``mu > 2``.

    Parameters are as in :func:`pareto`.
    """
    shape, mu, scale = _heavy("student_t", M, Q, N, batch, mu, scale)
    with _jax.x64():
        return _out(_t_kernel(_key(seed), shape, mu, scale))


def spiked(M: int, Q: float | None = None, spikes: Sequence[float] = (), *, N: int | None = None,
           sigma: float = 1.0, seed=0, batch: int | None = None) -> np.ndarray:
    """Low-rank signal plus Gaussian noise ("spiked" model).

    ``W = sigma * (G + sqrt(N) * sum_k s_k u_k v_k^T)`` where ``G`` has i.i.d.
    ``Normal(0, 1)`` entries, ``s_k`` are the spike strengths and
    ``u_k`` (length N) and ``v_k`` (length M) are orthonormal sets drawn from the
    Haar measure, independently of ``G``.  In ``X = W^T W / N`` each spike with
    ``s_k > Q**(-1/4)`` (:func:`spike_threshold`) produces, as N, M grow, an
    eigenvalue outside the Marchenko-Pastur bulk at
    ``sigma**2 (1 + s_k**2)(1/Q + s_k**2) / s_k**2`` (:func:`spike_location`;
    Benaych-Georges & Nadakuditi 2012); weaker spikes are absorbed by the bulk.

    Parameters
    ----------
    spikes : sequence of float
        Spike strengths ``s_k > 0`` (at most M of them); empty gives pure noise.
    M, Q, N, sigma, seed, batch :
        As in :func:`gaussian`.
    """
    shape = _shape(M, Q, N, batch)
    sigma = check_number(sigma, "sigma", positive=True)
    s = np.atleast_1d(np.asarray(spikes, dtype=np.float64))
    if s.ndim != 1 or s.size > shape[-1] or not np.all(np.isfinite(s)) or np.any(s <= 0):
        raise HtsrError(f"spikes must be at most M={shape[-1]} finite strengths > 0, got {spikes!r}")
    if s.size == 0:
        return gaussian(M, Q, N=N, sigma=sigma, seed=seed, batch=batch)
    with _jax.x64():
        return _out(_spiked_kernel(_key(seed), shape, jnp.asarray(s), sigma))


def spike_threshold(Q: float) -> float:
    """Smallest spike strength ``Q**(-1/4)`` that separates from the MP bulk (BBP transition)."""
    return check_ratio(Q) ** -0.25


def spike_location(strength, Q: float, sigma2: float = 1.0) -> np.ndarray:
    """Asymptotic eigenvalue of ``X = W^T W / N`` produced by a spike of :func:`spiked`.

    ``sigma2 (1 + s**2)(1/Q + s**2) / s**2`` for ``s > Q**(-1/4)``, and the bulk
    edge ``sigma2 (1 + Q**-0.5)**2`` below that threshold (where the formula
    meets the edge).
    """
    Q = check_ratio(Q)
    s = np.asarray(strength, dtype=np.float64)
    s2 = np.maximum(s, Q**-0.25) ** 2
    return sigma2 * (1.0 + s2) * (1.0 / Q + s2) / s2
