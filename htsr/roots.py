"""The numerical workhorses of the laws: one bracketed Newton, one bisection inverter.

Both are pure, jit- and vmap-able JAX loops whose state is a NamedTuple, and
both work elementwise on arrays (each element its own problem; the loop runs
until every element is done, finished elements are frozen).

* :func:`bracketed_newton` solves ``g(x) = 0`` for a *decreasing* ``g``
  inside a bracket that always holds the root: a Newton step when it lands
  inside the bracket, bisection otherwise.  The MLEs of the discrete power
  law, of the bounded law (continuous and discrete) are score equations
  ``E_alpha[ln X] = mean(ln x)`` of exactly this shape.
* :func:`widen` and :func:`bisect_integers` / :func:`bisect_log` invert a
  CCDF: the samplers of every law draw ``U`` and search the answer ``x`` with
  a predicate ``above(t)`` that is True where the answer exceeds ``t``.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp

__all__ = ["NewtonState", "BisectState", "bracketed_newton", "widen", "bisect_integers", "bisect_log"]


class NewtonState(NamedTuple):
    """State of :func:`bracketed_newton`.

    x : current iterate; lo, hi : bracket (the root is in [lo, hi]);
    done : element converged; step : iterations taken (scalar).
    """

    x: jax.Array
    lo: jax.Array
    hi: jax.Array
    done: jax.Array
    step: jax.Array


def bracketed_newton(fn, x0, lo, hi, *, rtol: float = 1e-14, width_atol: float = 0.0,
                     width_rtol: float = 0.0, max_steps: int = 100):
    """Root of a decreasing function by Newton steps safeguarded by bisection.

    Parameters
    ----------
    fn : callable
        ``fn(x) -> (g, slope)`` with ``g`` decreasing in ``x`` and ``slope = -dg/dx > 0``.
    x0, lo, hi : arrays (broadcast together)
        Start and a bracket ``lo <= root <= hi``.
    rtol : float
        Stop an element when a step moves it by at most ``rtol * max(1, |x|)``.
    width_atol, width_rtol : float
        ... or when its bracket is narrower than ``width_atol + width_rtol * |hi|``.
    max_steps : int

    Returns
    -------
    NewtonState (``x`` is the root).
    """
    x0, lo, hi = jnp.broadcast_arrays(*(jnp.asarray(v, dtype=jnp.result_type(float)) for v in (x0, lo, hi)))

    def cond(s: NewtonState):
        return jnp.any(~s.done) & (s.step < max_steps)

    def body(s: NewtonState) -> NewtonState:
        g, slope = fn(s.x)
        lo_n = jnp.where(g > 0, s.x, s.lo)
        hi_n = jnp.where(g > 0, s.hi, s.x)
        newton = s.x + g / jnp.maximum(slope, 1e-300)
        inside = (newton > lo_n) & (newton < hi_n)
        x_n = jnp.where(inside, newton, 0.5 * (lo_n + hi_n))
        x_n = jnp.where(g == 0, s.x, x_n)
        conv = ((jnp.abs(x_n - s.x) <= rtol * jnp.maximum(1.0, jnp.abs(s.x))) | (g == 0)
                | (hi_n - lo_n <= width_atol + width_rtol * jnp.abs(hi_n)))
        keep = s.done
        return NewtonState(jnp.where(keep, s.x, x_n), jnp.where(keep, s.lo, lo_n),
                           jnp.where(keep, s.hi, hi_n), s.done | conv, s.step + 1)

    start = NewtonState(x0, lo, hi, jnp.zeros(x0.shape, dtype=bool), jnp.asarray(0))
    return jax.lax.while_loop(cond, body, start)


class BisectState(NamedTuple):
    """State of the bisections: the answer is in ``(lo, hi]``; ``step`` counts iterations."""

    lo: jax.Array
    hi: jax.Array
    step: jax.Array


def widen(above, hi, *, factor: float = 4.0, cap: float = jnp.inf):
    """Raise ``hi`` by ``factor`` until ``above(hi)`` is False everywhere (or ``hi`` reaches ``cap``)."""

    def needs(h):
        return above(h) & (h < cap)

    return jax.lax.while_loop(lambda h: jnp.any(needs(h)),
                              lambda h: jnp.where(needs(h), jnp.minimum(h * factor, cap), h), hi)


def bisect_integers(above, lo, hi, *, max_steps: int = 1100) -> jax.Array:
    """The smallest integer ``k`` in ``(lo, hi]`` with ``above(k)`` False.

    ``lo`` and ``hi`` are integers with ``above(lo)`` True and ``above(hi)``
    False.  Stops at a unit bracket, where float64 cannot split the bracket any
    further (values beyond 2^53), or after ``max_steps``.  Returns ``hi``.
    """

    def mid(s):
        return jnp.floor((s.lo + s.hi) / 2.0)

    def cond(s: BisectState):
        m = mid(s)
        return (s.step < max_steps) & jnp.any((s.hi - s.lo > 1.0) & (m > s.lo) & (m < s.hi))

    def body(s: BisectState) -> BisectState:
        m = mid(s)
        up = above(m)
        return BisectState(jnp.where(up, m, s.lo), jnp.where(up, s.hi, m), s.step + 1)

    lo, hi = jnp.broadcast_arrays(lo, hi)
    return jax.lax.while_loop(cond, body, BisectState(lo, hi, jnp.asarray(0))).hi


def bisect_log(above, lo, hi, *, max_steps: int = 100) -> jax.Array:
    """``x`` in ``[lo, hi]`` (positive) where ``above`` turns False, by bisection on ``log x``
    down to the last bit of ``log x``; returns the geometric midpoint of the final bracket."""

    def cond(s: BisectState):
        return jnp.any(s.hi - s.lo > 4e-16 * jnp.maximum(1.0, jnp.abs(s.lo))) & (s.step < max_steps)

    def body(s: BisectState) -> BisectState:
        m = 0.5 * (s.lo + s.hi)
        up = above(jnp.exp(m))
        return BisectState(jnp.where(up, m, s.lo), jnp.where(up, s.hi, m), s.step + 1)

    lo, hi = jnp.broadcast_arrays(jnp.log(lo), jnp.log(hi))
    s = jax.lax.while_loop(cond, body, BisectState(lo, hi, jnp.asarray(0)))
    return jnp.exp(0.5 * (s.lo + s.hi))
