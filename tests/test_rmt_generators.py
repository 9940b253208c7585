"""Generators of htsr.rmt: shapes, exact entry laws, reproducibility, MP limit, spikes."""

from __future__ import annotations

import jax
import numpy as np
import pytest
from scipy import stats

from htsr import rmt
from htsr.errors import HtsrError


# ------------------------------------------------------------------ shapes and seeds
def test_shape_from_Q_and_from_N():
    assert rmt.gaussian(10, 2.5).shape == (25, 10)
    assert rmt.gaussian(10, 1.26).shape == (13, 10)  # N = round(Q M)
    assert rmt.gaussian(10, N=17).shape == (17, 10)
    assert rmt.pareto(8, 2, 1.5, batch=3).shape == (3, 16, 8)
    assert rmt.student_t(8, N=9, mu=3.0, batch=2).shape == (2, 9, 8)
    assert rmt.spiked(8, 2, [3.0], batch=2).shape == (2, 16, 8)
    W = rmt.gaussian(5, 2)
    assert isinstance(W, np.ndarray) and W.dtype == np.float64 and W.flags.writeable


@pytest.mark.parametrize(
    "call",
    [
        lambda: rmt.gaussian(10, 2, seed=7),
        lambda: rmt.pareto(10, 2, 1.0, seed=7, batch=2),
        lambda: rmt.student_t(10, 2, 3.0, seed=7),
        lambda: rmt.spiked(10, 2, [2.0, 3.0], seed=7),
    ],
)
def test_reproducible_from_seed(call):
    np.testing.assert_array_equal(call(), call())


def test_seeds_and_keys():
    a, b = rmt.gaussian(20, 2, seed=0), rmt.gaussian(20, 2, seed=1)
    assert not np.allclose(a, b)
    key = jax.random.PRNGKey(3)
    np.testing.assert_array_equal(rmt.gaussian(20, 2, seed=key), rmt.gaussian(20, 2, seed=3))
    batch = rmt.gaussian(20, 2, seed=0, batch=4)
    assert len({float(m[0, 0]) for m in batch}) == 4  # independent members


@pytest.mark.parametrize(
    "call, words",
    [
        (lambda: rmt.gaussian(10, 0.5), "Q"),
        (lambda: rmt.gaussian(10, float("nan")), "Q"),
        (lambda: rmt.gaussian(10, N=5), "N must be >= M"),
        (lambda: rmt.gaussian(10), "exactly one of Q"),
        (lambda: rmt.gaussian(10, 2, N=20), "exactly one of Q"),
        (lambda: rmt.gaussian(0, 2), "M must be an integer"),
        (lambda: rmt.gaussian(10, 2, sigma=-1.0), "sigma"),
        (lambda: rmt.gaussian(10, 2, batch=0), "batch"),
        (lambda: rmt.gaussian(10, 2, seed="a"), "seed"),
        (lambda: rmt.pareto(10, 2, 0.0), "mu"),
        (lambda: rmt.pareto(10, 2, -1.0), "mu"),
        (lambda: rmt.pareto(10, 2), "mu"),
        (lambda: rmt.student_t(10, 2, float("nan")), "mu"),
        (lambda: rmt.spiked(4, 2, [1.0, -2.0]), "spikes"),
        (lambda: rmt.spiked(2, 2, [1.0, 1.0, 1.0]), "spikes"),
    ],
)
def test_bad_arguments_raise_named_errors(call, words):
    with pytest.raises(HtsrError, match=words):
        call()


# ------------------------------------------------------------------ entry laws
def test_gaussian_entries_have_variance_sigma2():
    w = rmt.gaussian(300, 2, sigma=2.5, seed=1).ravel()
    assert stats.kstest(w, stats.norm(scale=2.5).cdf).pvalue > 1e-3


def test_pareto_entries_follow_symmetric_pareto():
    W = rmt.pareto(300, 2, 1.7, scale=0.5, seed=2)
    w = W.ravel()
    assert np.abs(w).min() >= 0.5
    assert stats.kstest(np.abs(w), stats.pareto(1.7, scale=0.5).cdf).pvalue > 1e-3
    assert abs(np.mean(w > 0) - 0.5) < 0.01  # symmetric sign
    assert (rmt.pareto(50, 2, 1.7, symmetric=False) >= 1.0).all()


def test_student_t_entries():
    w = rmt.student_t(300, 2, 3.0, scale=2.0, seed=3).ravel()
    assert stats.kstest(w, stats.t(3.0, scale=2.0).cdf).pvalue > 1e-3


# ------------------------------------------------------------------ spectra
@pytest.fixture(scope="module")
def gaussian_esds():
    return {Q: rmt.esd(rmt.gaussian(1000, Q, seed=11)) for Q in (1, 2, 4)}


@pytest.mark.parametrize("Q", [1, 2, 4])
def test_gaussian_esd_matches_mp_cdf(gaussian_esds, Q):
    D = stats.kstest(gaussian_esds[Q], lambda x: rmt.mp_cdf(x, Q)).statistic
    assert D < 0.02


def test_sigma_scales_the_esd():
    ev = rmt.esd(rmt.gaussian(400, 2, sigma=3.0, seed=4))
    assert stats.kstest(ev, lambda x: rmt.mp_cdf(x, 2, 9.0)).statistic < 0.03


def test_spikes_land_where_predicted():
    Q, s = 2.0, np.array([2.0, 3.0])
    ev = rmt.esd(rmt.spiked(800, Q, s, sigma=1.5, seed=5))
    predicted = rmt.spike_location(s, Q, sigma2=2.25)
    np.testing.assert_allclose(ev[-2:], predicted, rtol=0.06)
    assert ev[-3] < rmt.mp_edges(Q, 2.25)[1] * 1.03  # the rest stays in the bulk
    assert rmt.spike_location(rmt.spike_threshold(Q), Q) == pytest.approx(rmt.mp_edges(Q)[1])
