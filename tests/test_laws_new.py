"""The discrete Poisson tail law (poweRlaw's dispois) and the positive lognormal (powerlaw's lognormal_positive).

The interface checks (support, cdf/ccdf/pmf, sampler, logdensity_fn, priors) run for both in
tests/test_law_interface.py; here: their MLEs against independent optimisations and powerlaw 2.0.0,
the Poisson's refusal of continuous calls, and both through compare_all and plot_models.
"""

from __future__ import annotations

import warnings

import jax
import numpy as np
import pytest
from scipy import optimize, stats

import htsr
from htsr import _jax
from htsr.errors import FitError
from htsr.models import registry


def _mle(law, tail, xmin, discrete=False):
    # padded as htsr.compare pads (4096), so the compiled kernels are shared with the compare test
    X, n = _jax.pad_rows([np.sort(tail)], _jax.bucket(len(tail), minimum=4096))
    return law.mle(X, n, np.array([float(xmin)]), discrete=discrete)


@pytest.fixture(scope="module")
def poisson_tail():
    """Poisson(6) draws kept where >= 4: the truncated law exactly (the interface tests check the sampler)."""
    x = np.random.default_rng(0).poisson(6.0, 1200).astype(np.float64)
    return x[x >= 4.0]


def test_poisson_mle_matches_scipy(poisson_tail):
    x, xmin = poisson_tail, 4.0

    def nll(lam):  # the truncated Poisson through scipy.stats: pmf / P(X >= xmin)
        return -np.sum(stats.poisson.logpmf(x, lam) - stats.poisson.logsf(xmin - 1, lam))

    ref = optimize.minimize_scalar(nll, bounds=(0.1, 50.0), method="bounded", options={"xatol": 1e-12})
    r = _mle(registry.get("poisson"), x, xmin, discrete=True)
    assert r.converged[0] and not r.at_boundary[0, 0]
    assert r.params[0, 0] == pytest.approx(ref.x, rel=1e-7)
    assert r.loglik[0] == pytest.approx(-ref.fun, rel=1e-10)
    h = 1e-4 * ref.x
    info = (nll(ref.x + h) - 2 * ref.fun + nll(ref.x - h)) / h**2
    assert r.se[0, 0] == pytest.approx(1 / np.sqrt(info), rel=1e-4)
    assert abs(r.params[0, 0] - 6.0) < 3 * r.se[0, 0]


def test_poisson_tail_mass_far_above_lam_is_exact():
    """Where P(Poisson(lam) >= xmin) underflows the normaliser is summed directly."""
    law = registry.get("poisson")
    k = np.arange(300.0, 310.0)
    with _jax.x64():
        lp = np.asarray(law.log_pdf(k, (5.0,), 300.0, discrete=True))
    ref = stats.poisson.logpmf(k, 5.0) - np.logaddexp.reduce(stats.poisson.logpmf(np.arange(300, 600), 5.0))
    np.testing.assert_allclose(lp, ref, rtol=1e-10)


def test_poisson_is_discrete_only(poisson_tail):
    law = registry.get("poisson")
    assert law.discrete_only and not registry.get("lognormal").discrete_only
    for call in (lambda: law.log_pdf(5.0, (3.0,), 2.0), lambda: law.cdf(5.0, (3.0,), 2.0),
                 lambda: law.sample(jax.random.PRNGKey(0), (3.0,), 2.0, (3,)),
                 lambda: _mle(law, poisson_tail, 4.0),
                 lambda: htsr.compare(poisson_tail, "power_law", "poisson", xmin=4.0)):
        with pytest.raises(FitError, match="the poisson law is discrete only: pass discrete=True"):
            call()


def test_compare_all_and_plot_models_take_the_new_laws(poisson_tail):
    import matplotlib

    matplotlib.use("Agg")
    from htsr.plot.models import plot_models

    res = htsr.compare_all(poisson_tail, xmin=4.0, discrete=True, alternatives=("poisson",))
    assert list(res.table.index) == ["poisson"]
    assert res.table.loc["poisson", "R"] < 0 and res.table.loc["poisson", "p"] < 1e-3  # Poisson data: Poisson wins
    ax = plot_models(res)
    assert len(ax.lines) == 3  # data, power law, Poisson
    matplotlib.pyplot.close("all")


@pytest.mark.parametrize("mu", [1.0, -2.0], ids=["unconstrained", "on-the-bound"])
def test_lognormal_positive_against_powerlaw_2(mu):
    powerlaw = pytest.importorskip("powerlaw")
    rng = np.random.default_rng(1)
    x = np.exp(rng.normal(mu, 1.5, 3000))
    xmin = 1.0 if mu > 0 else 0.5
    tail = x[x >= xmin]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = powerlaw.Fit(x, xmin=xmin, verbose=0).lognormal_positive
        ref_mu, ref_sigma, ref_ll = ref.mu, ref.sigma, ref.loglikelihood
    r = _mle(registry.get("lognormal_positive"), tail, xmin)
    free = _mle(registry.get("lognormal"), tail, xmin)
    if mu > 0:  # the constraint is inactive: the lognormal's fit, and powerlaw's
        np.testing.assert_allclose(r.params[0], free.params[0], rtol=1e-8)
        np.testing.assert_allclose(r.params[0], [ref_mu, ref_sigma], rtol=2e-4)
        assert r.loglik[0] == pytest.approx(ref_ll, rel=1e-9) and not r.at_boundary[0].any()
    else:  # mu = 0 exactly, sigma from a direct optimisation; powerlaw's optimiser stops short of it
        assert r.params[0, 0] == 0.0 and r.at_boundary[0, 0] and free.params[0, 0] < -1

        def nll(sigma):
            return -np.sum(stats.lognorm.logpdf(tail, sigma) - stats.lognorm.logsf(xmin, sigma))

        s = optimize.minimize_scalar(nll, bounds=(0.1, 10.0), method="bounded", options={"xatol": 1e-12})
        assert r.params[0, 1] == pytest.approx(s.x, rel=1e-6)
        assert r.loglik[0] == pytest.approx(-s.fun, rel=1e-10)
        assert 0 <= ref_mu < 1e-3 and r.loglik[0] >= ref_ll  # powerlaw: mu 4e-7, loglik 0.07 lower
