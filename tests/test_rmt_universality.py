"""Universality classes, alpha <-> mu maps, and fitted alpha on generated ESDs."""

from __future__ import annotations

import math

import numpy as np
import pytest

import htsr
from htsr import rmt
from htsr.errors import HtsrError


@pytest.mark.parametrize(
    "mu, key, alpha",
    [(0.5, "VHT", 1.25), (1.99, "VHT", 1.995), (2.0, "MHT", 2.0), (3.5, "MHT", 2.75), (4.0, "WHT", math.nan), (7.0, "WHT", math.nan)],
)
def test_universality_class(mu, key, alpha):
    c = rmt.universality_class(mu)
    assert c.key == key and c.mu_low <= mu < c.mu_high
    assert (math.isnan(c.alpha) and math.isnan(alpha)) or c.alpha == pytest.approx(alpha)


@pytest.mark.parametrize("bad", [0.0, -1.0, float("nan"), float("inf"), "2"])
def test_universality_class_rejects_bad_mu(bad):
    with pytest.raises(HtsrError, match="mu"):
        rmt.universality_class(bad)


def test_asymptotic_inverse_map():
    r = rmt.mu_range(1.5)
    assert r.low == pytest.approx(1.0) and r.high == pytest.approx(1.0) and r.classes == ("VHT",)
    r = rmt.mu_range(2.5)
    assert r.low == pytest.approx(3.0) and r.classes == ("MHT",)
    r = rmt.mu_range(4.2)  # beyond 1 + 4/2: no limiting power-law tail
    assert r.low == pytest.approx(4.0) and r.high == math.inf and r.classes == ("WHT",)
    assert math.isnan(rmt.mu_range(1.0).low)  # alpha = 1 is below every class


def test_measured_relation_band_inverts_to_a_range():
    mu = np.repeat([1.0, 2.0, 3.0, 4.0], 20)
    alpha = 1 + mu / 2 + 0.3 * (mu >= 2) * (mu - 1) + np.tile(np.linspace(-0.1, 0.1, 20), 4)
    rel = rmt.AlphaMuRelation.from_samples(mu, alpha, M=100, Q=2.0, coverage=0.9)
    assert rel.M == 100 and rel.mu.tolist() == [1.0, 2.0, 3.0, 4.0]
    r = rel.mu_range(2.3)  # band at mu=2 is 2.3 +- 0.09
    assert 1.8 < r.low <= 2.0 <= r.high < 2.3 and "MHT" in r.classes
    assert math.isnan(rel.mu_range(9.0).low)
    with pytest.raises(HtsrError, match="same shape"):
        rmt.AlphaMuRelation.from_samples(mu, alpha[:-1])


def test_weightwatcher_rule_for_comparison():
    assert [rmt.weightwatcher_mu4alpha(a) for a in (1.5, 2.5, 4.0)] == [1.0, 2.0, 3.0]


# ------------------------------------------------------------------ done-when: alpha on generated ESDs
@pytest.mark.parametrize("mu", [1.0, 1.5])
def test_fitted_alpha_follows_one_plus_mu_over_two(mu):
    """M=1000, Q=2, seeds 0..4: the mean fitted alpha is within 0.15 of 1 + mu/2."""
    samples = [rmt.esd(rmt.pareto(1000, 2.0, mu, seed=s)) for s in range(5)]
    alphas = np.array([f.alpha for f in htsr.fit_many(samples)])
    assert abs(alphas.mean() - (1 + mu / 2)) < 0.15, alphas
