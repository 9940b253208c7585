"""The JAX Hurwitz zeta against mpmath (at high precision)."""

import mpmath as mp
import numpy as np
import pytest

from htsr._jax import x64
from htsr.special import log_hurwitz_zeta, log_zeta_moments

S = [1.0001, 1.01, 1.5, 2.0, 2.5, 3.7, 7.0, 20.0, 60.0, 200.0]
Q = [1.0, 2.0, 3.0, 7.0, 15.0, 100.0, 1e4, 1e7]


@pytest.fixture(scope="module")
def values():
    grid_s, grid_q = np.meshgrid(S, Q, indexing="ij")
    with x64():
        lz, mean, var = log_zeta_moments(grid_s.ravel(), grid_q.ravel())
        direct = log_hurwitz_zeta(grid_s.ravel(), grid_q.ravel())
    return grid_s.ravel(), grid_q.ravel(), np.asarray(lz), np.asarray(mean), np.asarray(var), np.asarray(direct)


def test_log_zeta_matches_mpmath(values):
    s, q, lz, _, _, direct = values
    mp.mp.dps = 60
    ref = np.array([float(mp.log(mp.zeta(a, b))) for a, b in zip(s, q)])
    np.testing.assert_allclose(lz, ref, rtol=1e-13, atol=1e-13)
    np.testing.assert_array_equal(lz, direct)


def test_moments_match_mpmath_derivatives(values):
    s, q, _, mean, var, _ = values
    mp.mp.dps = 60
    for a, b, m, v in zip(s, q, mean, var):
        f = lambda t: mp.log(mp.zeta(t, b))  # noqa: E731
        ref_mean = -float(mp.diff(f, a))
        ref_var = float(mp.diff(f, a, 2))
        assert m == pytest.approx(ref_mean, rel=1e-12)
        assert v == pytest.approx(ref_var, rel=1e-9, abs=1e-300)


def test_moments_are_those_of_ln_x():
    """E[ln X] and Var[ln X] by direct summation of the pmf."""
    s, q = 2.3, 4.0
    k = np.arange(q, 2e6)
    w = k**-s
    w /= w.sum()
    with x64():
        _, mean, var = log_zeta_moments(s, q)
    lk = np.log(k)
    m = np.sum(w * lk)
    assert float(mean) == pytest.approx(m, rel=2e-4)  # truncated sum misses a tail ~ 2e6^-1.3
    assert float(var) == pytest.approx(np.sum(w * (lk - m) ** 2), rel=2e-3)
