"""Every registered law through the one interface (htsr.models.law.Law), the same checks for all.

A law added to the registry is tested here as soon as it is registered: support and
constraints give -inf, cdf/ccdf/log_pdf agree with one another, the sampler follows the
cdf, and logdensity_fn is the sum of log_pdf (and differentiable).
"""

from __future__ import annotations

import math
import pickle

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import stats

from htsr import _jax
from htsr.models import registry
from htsr.models.law import uniform_open

# (params, xmin, xmax) per law: continuous and discrete use the same values
CASES = {
    "power_law": ((2.5,), 2.0, None),
    "bounded_power_law": ((1.5,), 2.0, 60.0),
    "exponential": ((0.4,), 2.0, None),
    "stretched_exponential": ((0.8, 0.6), 2.0, None),
    "lognormal": ((0.5, 1.0), 2.0, None),
    "power_law_cutoff": ((1.8, 0.05), 2.0, None),
    "lognormal_positive": ((0.5, 1.0), 2.0, None),
    "poisson": ((3.0,), 2.0, None),  # discrete only: the continuous calls raise (tests/test_laws_new.py)
}


def test_the_registry_holds_eight_laws_and_every_case_is_covered():
    assert set(registry.LAWS) == set(CASES)
    for law in registry.LAWS.values():  # a registered law travels (to a Dask worker, say) as itself
        assert pickle.loads(pickle.dumps(law)) is law
    assert registry.get("truncated_power_law") is registry.LAWS["power_law_cutoff"]
    assert registry.get("bounded").bounded and not registry.get("power_law").bounded
    assert registry.is_nested("power_law_cutoff", "power_law")
    with pytest.raises(ValueError, match="unknown model 'nope'"):
        registry.get("nope")


@pytest.fixture(params=[(name, d) for name in CASES for d in (False, True)
                        if d or not registry.get(name).discrete_only],
                ids=lambda p: f"{p[0]}-{'discrete' if p[1] else 'continuous'}")
def case(request):
    name, discrete = request.param
    params, xmin, xmax = CASES[name]
    return registry.get(name), params, xmin, xmax, discrete


def _eval(law, what, x, params, xmin, xmax, discrete):
    with _jax.x64():
        return np.asarray(getattr(law, what)(jnp.asarray(x, dtype=jnp.float64), params, xmin, xmax=xmax,
                                             discrete=discrete))


def test_support_and_constraints_give_minus_inf(case):
    law, params, xmin, xmax, discrete = case
    outside = [xmin - 1.0, xmin * 0.5] + ([xmax + 1.0] if law.bounded else [])
    if discrete:
        outside.append(xmin + 0.5)
    assert np.all(_eval(law, "log_pdf", outside, params, xmin, xmax, discrete) == -np.inf)
    inside = _eval(law, "log_pdf", [xmin, xmin + 3.0], params, xmin, xmax, discrete)
    assert np.all(np.isfinite(inside))
    for k, c in enumerate(law.constraints):
        if math.isinf(c.lower) and math.isinf(c.upper):
            continue
        bad = list(params)
        bad[k] = c.lower - 1.0 if not math.isinf(c.lower) else c.upper + 1.0
        assert np.all(_eval(law, "log_pdf", [xmin + 1.0], tuple(bad), xmin, xmax, discrete) == -np.inf)


def test_cdf_ccdf_and_density_agree(case):
    law, params, xmin, xmax, discrete = case
    top = xmax if law.bounded else xmin * 20
    if discrete:
        k = np.arange(xmin, top)
        pmf = np.exp(_eval(law, "log_pdf", k, params, xmin, xmax, discrete))
        cdf = _eval(law, "cdf", k, params, xmin, xmax, discrete)
        ccdf = _eval(law, "ccdf", k, params, xmin, xmax, discrete)
        np.testing.assert_allclose(np.cumsum(pmf), cdf, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(ccdf, 1.0 - np.concatenate([[0.0], cdf[:-1]]), rtol=1e-9, atol=1e-12)
    else:
        x = np.geomspace(xmin * 1.001, top * 0.999, 40)
        cdf = _eval(law, "cdf", x, params, xmin, xmax, discrete)
        ccdf = _eval(law, "ccdf", x, params, xmin, xmax, discrete)
        np.testing.assert_allclose(cdf + ccdf, 1.0, atol=1e-12)
        h = 1e-6 * x
        slope = (_eval(law, "cdf", x + h, params, xmin, xmax, discrete)
                 - _eval(law, "cdf", x - h, params, xmin, xmax, discrete)) / (2 * h)
        np.testing.assert_allclose(slope, np.exp(_eval(law, "log_pdf", x, params, xmin, xmax, discrete)),
                                   rtol=1e-5)
    # outside the support
    assert _eval(law, "cdf", [xmin - 1.0], params, xmin, xmax, discrete)[0] == 0.0
    assert _eval(law, "ccdf", [xmin - 1.0], params, xmin, xmax, discrete)[0] == 1.0
    if law.bounded:
        assert _eval(law, "ccdf", [xmax + 1.0], params, xmin, xmax, discrete)[0] == 0.0
        assert _eval(law, "cdf", [xmax + 1.0], params, xmin, xmax, discrete)[0] == 1.0


def test_sampler_follows_the_cdf(case):
    law, params, xmin, xmax, discrete = case
    with _jax.x64():
        draws = np.asarray(law.sample(jax.random.PRNGKey(3), params, xmin, (4000,), xmax=xmax, discrete=discrete))
    assert np.all(draws >= xmin) and (not law.bounded or np.all(draws <= xmax))
    if discrete:
        assert np.all(draws == np.round(draws))
        k = np.arange(xmin, xmin + 6)
        pmf = np.exp(_eval(law, "log_pdf", k, params, xmin, xmax, discrete))
        freq = np.array([(draws == v).mean() for v in k])
        assert np.all(np.abs(freq - pmf) <= 5 * np.sqrt(pmf * (1 - pmf) / draws.size) + 1e-3)
    else:
        p = stats.kstest(draws, lambda t: _eval(law, "cdf", t, params, xmin, xmax, discrete)).pvalue
        assert p > 1e-3


def test_logdensity_fn_is_the_sum_of_log_pdf_and_has_a_gradient(case):
    law, params, xmin, xmax, discrete = case
    with _jax.x64():
        data = law.sample(jax.random.PRNGKey(5), params, xmin, (50,), xmax=xmax, discrete=discrete)
        mask = jnp.arange(50) < 40
        fn = law.logdensity_fn(data, mask, xmin, xmax=xmax, discrete=discrete)
        named = dict(zip(law.param_names, (jnp.asarray(p, dtype=jnp.float64) for p in params)))
        total = float(fn(named))
        expect = float(jnp.sum(law.log_pdf(data[:40], params, xmin, xmax=xmax, discrete=discrete)))
        grad = jax.grad(fn)(named)
    assert total == pytest.approx(expect, rel=1e-12)
    assert all(np.isfinite(float(g)) for g in grad.values())


@pytest.mark.parametrize("name", ["power_law", "bounded_power_law"])
def test_power_law_mles_through_the_interface_are_the_closed_forms(name):
    law = registry.get(name)
    x = np.sort((1 - np.random.default_rng(0).random(300)) ** (-1 / 1.5)) * 2.0
    x = x[x <= 1e4]
    r = law.mle(x[None, :], np.array([len(x)]), np.array([2.0]), xmax=np.array([1e4]) if law.bounded else None)
    if not law.bounded:
        assert r.params[0, 0] == pytest.approx(1 + len(x) / np.sum(np.log(x / 2.0)), rel=1e-13)
    assert r.loglik[0] == pytest.approx(np.sum(_eval(law, "log_pdf", x, (r.params[0, 0],), 2.0,
                                                     1e4 if law.bounded else None, False)), rel=1e-12)


def test_uniform_draws_and_power_law_samples_are_safe_in_float32():
    """The lowest uniform draw is float32's tiny, not float64's (which is 0 in float32)."""
    u = uniform_open(jax.random.PRNGKey(0), (200_000,))
    assert u.dtype == jnp.float32 and float(u.min()) > 0
    x = registry.get("power_law").sample(jax.random.PRNGKey(1), (2.5,), 1.0, (200_000,))
    e = registry.get("exponential").sample(jax.random.PRNGKey(1), (0.5,), 1.0, (200_000,))
    assert bool(jnp.all(jnp.isfinite(x))) and bool(jnp.all(jnp.isfinite(e)))


# ---------------------------------------------------------------- default priors, carried by the laws
@pytest.mark.parametrize("name", list(CASES))
def test_every_law_carries_a_default_prior_inside_each_constraint(name):
    """One prior per parameter (the stretched exponential's lam as the dimensionless lam * x0^beta,
    keyed SCALED), and every draw of it satisfies the parameter's constraint."""
    pytest.importorskip("numpyro")
    from htsr.models.stretched import SCALED

    law = registry.get(name)
    priors = law.default_priors(7.0)
    as_param = {k: "lam" if k == SCALED else k for k in priors}
    assert sorted(as_param.values()) == sorted(law.param_names)
    for k, prior in priors.items():
        with _jax.x64():
            draws = prior.numpyro().sample(jax.random.PRNGKey(0), (2000,))
            inside = law.constraints[law.param_names.index(as_param[k])].check(draws)
        assert bool(jnp.all(inside)), k


def test_prior_specs_are_the_numpyro_families_scipy_knows():
    """Each family's log density against scipy.stats with the documented parameters (rate = 1/scale,
    Gamma's loc a shift), and the power law's default prior alpha - 1 ~ Gamma(2, rate 0.5)."""
    pytest.importorskip("numpyro")
    from htsr.models.prior import Exponential, Gamma, HalfNormal, LogNormal, Normal

    x = np.array([1.3, 2.0, 4.5, 11.0])
    cases = [(Gamma(2.0, 0.5, loc=1.0), stats.gamma(2.0, loc=1.0, scale=2.0)),
             (Gamma(3.0, 2.0), stats.gamma(3.0, scale=0.5)),
             (Normal(2.0, 3.0), stats.norm(2.0, 3.0)),
             (HalfNormal(5.0), stats.halfnorm(scale=5.0)),
             (LogNormal(0.5, 2.0), stats.lognorm(2.0, scale=np.exp(0.5))),
             (Exponential(4.0), stats.expon(scale=0.25))]
    with _jax.x64():
        for prior, ref in cases:
            np.testing.assert_allclose(np.asarray(prior.numpyro().log_prob(x)), ref.logpdf(x), rtol=1e-10,
                                       err_msg=repr(prior))
    assert registry.get("power_law").default_priors(1.0) == {"alpha": Gamma(2.0, 0.5, loc=1.0)}
