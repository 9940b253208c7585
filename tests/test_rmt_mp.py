"""Marchenko-Pastur law, its fit, spike counting, and Tracy-Widom (beta = 1)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import integrate

from htsr import rmt
from htsr.errors import DataError, HtsrError


@pytest.mark.parametrize("Q, sigma2", [(1.0, 1.0), (1.5, 0.3), (2.0, 1.0), (4.0, 2.0), (10.0, 1.0)])
def test_mp_density_integrates_to_one(Q, sigma2):
    a, b = rmt.mp_edges(Q, sigma2)
    total, err = integrate.quad(lambda x: rmt.mp_pdf(x, Q, sigma2), a, b, limit=200)
    assert total == pytest.approx(1.0, abs=1e-8)
    assert rmt.mp_cdf(b, Q, sigma2) == 1.0 and rmt.mp_cdf(a, Q, sigma2) == 0.0


@pytest.mark.parametrize("Q", [1.0, 1.3, 3.0])
def test_mp_cdf_is_the_integral_of_the_pdf(Q):
    a, b = rmt.mp_edges(Q, 1.7)
    for x in np.linspace(a, b, 7)[1:-1]:
        ref = integrate.quad(lambda t: rmt.mp_pdf(t, Q, 1.7), a, x, limit=200)[0]
        assert rmt.mp_cdf(x, Q, 1.7) == pytest.approx(ref, abs=1e-9)


def test_mp_edges_quantiles_and_support():
    assert rmt.mp_edges(4.0) == pytest.approx((0.25, 2.25))
    assert rmt.mp_edges(1.0, 2.0) == pytest.approx((0.0, 8.0))
    p = np.linspace(0, 1, 11)
    np.testing.assert_allclose(rmt.mp_cdf(rmt.mp_quantile(p, 2.0, 0.5), 2.0, 0.5), p, atol=1e-12)
    assert rmt.mp_pdf(np.array([-1.0, 5.0]), 2.0).tolist() == [0.0, 0.0]
    assert rmt.mp_pdf(0.0, 1.0) == np.inf
    with pytest.raises(HtsrError, match="Q"):
        rmt.mp_pdf(1.0, 0.5)
    with pytest.raises(HtsrError, match="sigma2"):
        rmt.mp_cdf(1.0, 2.0, sigma2=0.0)
    with pytest.raises(DataError, match="NaN"):
        rmt.mp_cdf([1.0, np.nan], 2.0)


# ------------------------------------------------------------------ fit and spikes
def test_fit_mp_recovers_sigma2_despite_spikes_and_a_tail():
    Q = 2.0
    W = rmt.spiked(600, Q, [2.5, 3.0, 4.0], sigma=1.3, seed=1)
    W[:5, :30] += 40.0 * rmt.pareto(30, N=30, mu=1.0, seed=2)[:5]  # a few huge entries: a tail
    fit = rmt.fit_mp(rmt.esd(W), Q)
    assert fit.sigma2 == pytest.approx(1.69, rel=0.03)
    assert fit.n_spikes >= 3 and fit.soft_rank < 0.2
    assert set(fit.to_dict()) >= {"sigma2", "n_spikes", "lambda_plus", "soft_rank", "threshold"}
    assert "MPFit(" in repr(fit)


def test_fit_mp_is_scale_equivariant_weightwatcher_convention():
    W = rmt.gaussian(300, 2.0, seed=3)
    a, b = rmt.fit_mp(rmt.esd(W), 2.0), rmt.fit_mp(rmt.esd(W, normalize=False), 2.0)
    assert b.sigma2 == pytest.approx(600 * a.sigma2, rel=1e-10)
    assert b.n_spikes == a.n_spikes and b.soft_rank == pytest.approx(a.soft_rank)


def test_planted_spikes_are_counted():
    Q = 2.0
    spikes = [2.0, 2.5, 3.5]  # eigenvalues ~5.6, 6.9, 12.9 vs edge 2.9
    E = rmt.esd(rmt.spiked(300, Q, spikes, seed=4, batch=5))
    assert [rmt.fit_mp(e, Q).n_spikes for e in E] == [3] * 5


def test_pure_noise_has_no_spikes_in_95_percent_of_seeds():
    Q = 2.0
    E = rmt.esd(rmt.gaussian(150, Q, seed=5, batch=60))
    counts = np.array([rmt.fit_mp(e, Q).n_spikes for e in E])
    assert np.mean(counts == 0) >= 0.95


def test_soft_rank_and_errors():
    ev = np.array([0.5, 1.0, 1.5, 10.0])
    assert rmt.soft_rank(ev, 4.0, 1.0) == pytest.approx(2.25 / 10.0)
    with pytest.raises(HtsrError, match="Q"):
        rmt.fit_mp(ev, 0.9)
    with pytest.raises(DataError, match="at least 2"):
        rmt.fit_mp([1.0], 2.0)
    with pytest.raises(HtsrError, match="confidence"):
        rmt.fit_mp(ev, 2.0, confidence=1.5)
    fixed = rmt.fit_mp(ev, 4.0, sigma2=1.0)
    assert fixed.sigma2 == 1.0 and fixed.lambda_plus == pytest.approx(2.25)


# ------------------------------------------------------------------ Tracy-Widom
def test_tw1_quantiles_match_johnstone_table():
    # Johnstone (2001) Table 1 / Bornemann (2010): 0.90 -> 0.4501, 0.95 -> 0.9793, 0.99 -> 2.0234
    np.testing.assert_allclose(rmt.tw1_quantile([0.90, 0.95, 0.99]), [0.4501, 0.9793, 2.0234], atol=2e-4)
    q = rmt.tw1_quantile(0.3)
    assert rmt.tw1_cdf(q) == pytest.approx(0.3, abs=1e-11)


def test_tw1_moments_match_published_values():
    x, w = np.polynomial.legendre.leggauss(200)
    lo, hi = -10.0, 12.0
    s, ws = (hi - lo) / 2 * x + (hi + lo) / 2, w * (hi - lo) / 2
    F = rmt.tw1_cdf(s)
    mean = hi - np.sum(ws * F)  # integration by parts
    var = hi**2 - np.sum(ws * 2 * s * F) - mean**2
    assert mean == pytest.approx(-1.2065335745820, abs=1e-9)
    assert var == pytest.approx(1.607781034581, abs=1e-8)
    assert rmt.tw1_sf(1.0) == pytest.approx(1 - rmt.tw1_cdf(1.0), abs=1e-14)


def test_wishart_edge_formula():
    e = rmt.wishart_edge(100, 200, sigma2=2.0)
    a, b = np.sqrt(199.0), 10.0
    assert e.center == pytest.approx(2.0 * (a + b) ** 2 / 200)
    assert e.scale == pytest.approx(2.0 * (a + b) * (1 / a + 1 / b) ** (1 / 3) / 200)
    assert e.threshold(0.99) == pytest.approx(e.center + 2.0234 * e.scale, rel=1e-4)
    with pytest.raises(HtsrError):
        rmt.wishart_edge(200, 100)
