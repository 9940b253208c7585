"""The power-law model: densities, sampler, and the MLEs against known answers."""

import jax
import numpy as np
import pytest
from scipy import integrate, optimize, special, stats

from htsr._jax import x64
from htsr.models import powerlaw as pl


def test_continuous_density_normalised_and_cdf_consistent():
    with x64():
        f = lambda x: float(np.exp(pl.log_pdf(x, 2.7, 3.0)))  # noqa: E731
        total, _ = integrate.quad(f, 3.0, np.inf)
        part, _ = integrate.quad(f, 3.0, 10.0)
        assert total == pytest.approx(1.0, rel=1e-10)
        assert part == pytest.approx(float(pl.cdf(10.0, 2.7, 3.0)), rel=1e-10)
        assert float(pl.ccdf(10.0, 2.7, 3.0)) == pytest.approx(1 - part, rel=1e-10)


def test_discrete_pmf_sums_to_one_and_cdf_consistent():
    with x64():
        k = np.arange(5.0, 200001.0)
        pmf = np.exp(np.asarray(pl.log_pdf(k, 2.5, 5.0, discrete=True)))
        # the sum up to 2e5 misses P(X > 2e5) = ccdf(2e5 + 1)
        rest = float(pl.ccdf(200001.0, 2.5, 5.0, discrete=True))
        assert pmf.sum() + rest == pytest.approx(1.0, rel=1e-12)
        assert np.cumsum(pmf)[20] == pytest.approx(float(pl.cdf(25.0, 2.5, 5.0, discrete=True)), rel=1e-12)


@pytest.mark.parametrize("discrete", [False, True])
def test_sampler_follows_the_law(discrete):
    alpha, xmin = 2.4, 3.0
    with x64():
        x = np.asarray(pl.sample(jax.random.PRNGKey(1), alpha, xmin, (20000,), discrete=discrete))
        assert x.min() >= xmin
        if discrete:
            assert np.all(x == np.round(x))
            # exact chi-square goodness of fit on the first few integers + rest
            ks = np.arange(3, 12)
            p = np.exp(np.asarray(pl.log_pdf(ks.astype(float), alpha, xmin, discrete=True)))
            obs = np.array([np.sum(x == k) for k in ks] + [np.sum(x >= 12)])
            exp = np.append(p, 1 - p.sum()) * len(x)
            assert stats.chisquare(obs, exp).pvalue > 1e-3
        else:
            cdf = lambda v: np.asarray(pl.cdf(v, alpha, xmin))  # noqa: E731
            assert stats.kstest(x, cdf).pvalue > 1e-3


def test_continuous_mle_closed_form():
    x = np.array([1.0, 1.5, 2.0, 4.0, 10.0])
    s = np.sum(np.log(x / 1.0))
    with x64():
        assert float(pl.continuous_mle(s, 5)) == pytest.approx(1 + 5 / s, rel=1e-15)
        assert float(pl.continuous_mle(s, 5, unbiased=True)) == pytest.approx(1 + 4 / s, rel=1e-15)
        assert float(pl.continuous_sigma(2.5, 100)) == pytest.approx(0.15)


@pytest.mark.parametrize("alpha, xmin", [(1.8, 1.0), (2.5, 1.0), (2.2, 2.0), (3.5, 5.0)])
def test_discrete_mle_is_the_exact_likelihood_maximum(alpha, xmin):
    """Against a direct maximisation of the exact (scipy zeta) likelihood."""
    with x64():
        x = np.asarray(pl.sample(jax.random.PRNGKey(7), alpha, xmin, (3000,), discrete=True))
        ahat = float(pl.discrete_mle(np.mean(np.log(x)), xmin))
    nll = lambda a: a * np.sum(np.log(x)) + len(x) * np.log(special.zeta(a, xmin))  # noqa: E731
    ref = optimize.minimize_scalar(nll, bounds=(1.05, 8), method="bounded", options={"xatol": 1e-12}).x
    assert ahat == pytest.approx(ref, abs=1e-6)
    # the score vanishes at the htsr estimate
    h = 1e-6
    score = (nll(ahat + h) - nll(ahat - h)) / (2 * h)
    assert abs(score) < 1e-2


def test_discrete_mle_beats_the_half_integer_approximation_at_xmin_1():
    """The xmin-1/2 approximation (Clauset eq. 3.7) is far off at xmin=1; the exact MLE is not."""
    with x64():
        x = np.asarray(pl.sample(jax.random.PRNGKey(3), 2.5, 1.0, (50000,), discrete=True))
        exact = float(pl.discrete_mle(np.mean(np.log(x)), 1.0))
        sigma = float(pl.discrete_sigma(exact, 1.0, len(x)))
    approx = 1 + len(x) / np.sum(np.log(x / 0.5))
    assert abs(exact - 2.5) < 4 * sigma
    assert abs(approx - 2.5) > 0.3


def test_discrete_sigma_matches_observed_information():
    alpha, xmin, n = 2.3, 2.0, 1000
    with x64():
        s = float(pl.discrete_sigma(alpha, xmin, n))
    # observed information of the exact log-likelihood: n * d2/da2 log zeta
    h = 1e-4
    lz = lambda a: np.log(special.zeta(a, xmin))  # noqa: E731
    info = n * (lz(alpha + h) - 2 * lz(alpha) + lz(alpha - h)) / h**2
    assert s == pytest.approx(1 / np.sqrt(info), rel=1e-5)


@pytest.mark.parametrize("discrete", [False, True])
def test_sampler_terminates_and_stays_finite_for_alpha_near_one(discrete):
    """At alpha = 1.01 about 0.1% of draws lie beyond 1e300: they are capped, not inf, and
    the discrete bisection (whose gaps exceed 2^53 up there) still terminates."""
    with x64():
        x = np.asarray(pl.sample(jax.random.PRNGKey(0), 1.01, 1.0, (5000,), discrete=discrete))
    assert np.all(np.isfinite(x)) and x.max() <= pl.X_MAX and x.min() >= 1.0
    assert 0 < np.mean(x >= 1e300) < 0.01
    # below the cap the law is right: P(X >= 1e10) = 1e10^-0.01 ~ 0.79
    assert np.mean(x >= 1e10) == pytest.approx(10 ** -0.1, abs=0.03)
