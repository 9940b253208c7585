"""Power laws on binned data (Virkar & Clauset 2014): MLE, bmin scan and Monte Carlo GoF."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy.optimize import minimize_scalar

import htsr
from htsr.errors import DataError, FitError

EDGES = np.concatenate([2.0 ** np.arange(0, 16), [np.inf]])  # log-spaced, open top bin


def pareto(rng, alpha, n, xmin=1.0):
    return xmin * (1.0 - rng.random(n)) ** (-1.0 / (alpha - 1.0))


def numpy_nll(alpha, edges, counts, j):
    """Virkar & Clauset eq. (3.2), written directly (the law restricted to [edges[j], edges[-1]))."""
    e, h = edges[j:], counts[j:]
    s = e ** (1.0 - alpha)  # inf ** negative = 0
    return -np.sum(h * np.log((s[:-1] - s[1:]) / (s[0] - s[-1])))


@pytest.mark.parametrize("edges", [EDGES, 2.0 ** np.arange(0, 17)], ids=["open-top", "closed-top"])
def test_binned_mle_matches_a_direct_optimisation_and_recovers_alpha(edges):
    rng = np.random.default_rng(0)
    x = pareto(rng, 2.5, 5000)
    counts = np.histogram(x, edges)[0]
    fit = htsr.fit_binned(edges, counts, bmin=1.0)
    ref = minimize_scalar(numpy_nll, bounds=(1.05, 6.0), args=(edges, counts, 0), method="bounded",
                          options={"xatol": 1e-10})
    assert fit.alpha == pytest.approx(ref.x, abs=1e-6)
    assert fit.loglik == pytest.approx(-ref.fun, rel=1e-10)
    h = 1e-4  # observed information by central differences of the direct likelihood
    info = (numpy_nll(ref.x + h, edges, counts, 0) - 2 * ref.fun + numpy_nll(ref.x - h, edges, counts, 0)) / h**2
    assert fit.se == pytest.approx(1 / np.sqrt(info), rel=1e-3)
    assert abs(fit.alpha - 2.5) < 2 * fit.se and 0.015 < fit.se < 0.04
    assert fit.n_tail == fit.n == 5000 - (0 if np.isinf(edges[-1]) else int(np.sum(x >= edges[-1])))
    assert json.loads(json.dumps(fit.to_dict()))["alpha"] == fit.alpha


def test_alpha_within_two_standard_errors_over_repeated_samples():
    hits = []
    for seed in range(10):
        x = pareto(np.random.default_rng(100 + seed), 2.2, 3000)
        fit = htsr.fit_binned(EDGES, np.histogram(x, EDGES)[0], bmin=1.0)
        hits.append(abs(fit.alpha - 2.2) < 2 * fit.se)
    assert sum(hits) >= 8  # 95% coverage: 8 or more of 10 with probability 0.99


def test_bmin_scan_finds_the_threshold_of_a_body_plus_tail():
    picks = []
    for seed in range(10):
        rng = np.random.default_rng(seed)
        body = np.exp(rng.uniform(0, np.log(8.0), 3000))  # log-uniform body on [1, 8)
        x = np.concatenate([body, pareto(rng, 2.5, 3000, xmin=8.0)])
        fit = htsr.fit_binned(EDGES, np.histogram(x, EDGES)[0])
        picks.append(fit.bmin)
        assert fit.scanned and np.isinf(fit.D_curve[-1]) and fit.D == np.min(fit.D_curve)
    assert min(picks) == 8.0  # never inside the body
    assert picks.count(8.0) >= 6, picks


def test_gof_is_not_small_under_the_null_and_rejects_a_binned_lognormal():
    rng = np.random.default_rng(1)
    null = htsr.gof_binned(EDGES, np.histogram(pareto(rng, 2.5, 2000), EDGES)[0], reps=64, seed=0)
    assert null.p > 0.1 and null.D_sim.shape == (64,)
    y = np.exp(rng.normal(0.0, 2.0, 4000))
    y = y[y >= 1.0]
    alt = htsr.gof_binned(EDGES, np.histogram(y, EDGES)[0], bmin=1.0, reps=64, seed=0)
    assert alt.p < 0.02 and not alt.fit.scanned
    again = htsr.gof_binned(EDGES, np.histogram(y, EDGES)[0], bmin=1.0, reps=64, seed=0)
    np.testing.assert_array_equal(again.D_sim, alt.D_sim)  # the named stream: same seed, same draws
    assert json.loads(json.dumps(alt.to_dict()))["reps"] == 64


def test_binned_input_errors_name_the_problem():
    counts = np.ones(16)
    with pytest.raises(FitError, match="not a lower bin edge"):
        htsr.fit_binned(EDGES, counts, bmin=3.0)
    with pytest.raises(DataError, match="increase strictly"):
        htsr.fit_binned(EDGES[:-1][::-1], counts[:-1])
    with pytest.raises(DataError, match=r"len\(edges\) == len\(counts\) \+ 1"):
        htsr.fit_binned(EDGES, counts[:-1])
    with pytest.raises(DataError, match="non-negative integers"):
        htsr.fit_binned(EDGES, counts * 0.5)
    with pytest.raises(FitError, match="no bmin leaves 10"):
        htsr.fit_binned(EDGES, np.r_[5.0, np.zeros(15)])
