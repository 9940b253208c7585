"""The Monte Carlo goodness-of-fit p-value (Clauset et al. 2009, section 4.1)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

import htsr
from htsr import streams
from htsr.errors import HtsrError
from htsr.inference import gof, reps_for_precision
from htsr.inference import _resample as R

from conftest import pareto


@pytest.fixture(scope="module")
def null_sample():
    rng = np.random.default_rng(0)
    return np.concatenate([pareto(rng, 2.5, 400), rng.uniform(0.3, 1.0, 100)])


def test_reproducible_from_seed(null_sample):
    a = gof(null_sample, reps=40, seed=3)
    b = gof(null_sample, reps=40, seed=3)
    c = gof(null_sample, reps=40, seed=4)
    np.testing.assert_array_equal(a.D_sim, b.D_sim)
    assert not np.array_equal(a.D_sim, c.D_sim)
    assert a.p == np.mean(a.D_sim >= a.D) and a.D == htsr.fit(null_sample).D
    assert a.p_se == pytest.approx(np.sqrt(a.p * (1 - a.p) / 40))
    assert a.procedure == "semi-parametric" and len(a.D_sim) == 40
    d = a.to_dict()
    assert set(d) == {"p_value", "p_value_se", "D", "reps", "seed", "procedure"}
    assert "p=" in repr(a)


def test_replicates_do_not_depend_on_how_many_are_drawn(null_sample):
    """Replicate r depends on the seed and r only (the documented stream), not on the size of the
    batch it is refitted in: a shorter run is the start of a longer one."""
    a = gof(null_sample, reps=30, seed=1)
    b = gof(null_sample, reps=7, seed=1)
    np.testing.assert_array_equal(a.D_sim[:7], b.D_sim)


def test_synthetic_sets_follow_section_4_1(null_sample):
    """Body resampled from the observed values below xmin, tail from the fitted law."""
    fit = htsr.fit(null_sample)
    body = fit.data[fit.data < fit.xmin]
    n = fit.n
    pad = np.concatenate([body, np.full(n - len(body), fit.xmin)])
    from htsr import _jax

    with _jax.x64():
        rows, over = R.semiparametric_rows(
            streams.keys(0, "gof", 0, 200), pad, len(body), fit.n_tail / n,
            (np.float64(fit.alpha), np.float64(fit.xmin), np.float64(np.inf)),
            n=n, cap=R.tail_cap(n, fit.n_tail / n), discrete=False, bounded=False)
    rows = np.asarray(rows)
    assert not np.asarray(over).any()
    below = rows < fit.xmin
    assert np.all(np.isin(rows[below], body))  # every body point is an observed one
    n_tail = (~below).sum(axis=1)  # Binomial(n, n_tail/n)
    assert abs(n_tail.mean() - fit.n_tail) < 4 * np.sqrt(n * 0.25 / 200)
    tail = rows[~below]
    ks = stats.kstest(tail, lambda t: 1 - (t / fit.xmin) ** (1 - fit.alpha))
    assert ks.pvalue > 1e-3


def test_p_uniform_under_the_null_fixed_range():
    """Kolmogorov test on 300 p-values of pure power-law samples, xmin known (a parametric bootstrap)."""
    rng = np.random.default_rng(13)
    ps = [gof(pareto(rng, 3.0, 80), xmin=1.0, reps=60, seed=k).p for k in range(300)]
    assert stats.kstest(ps, "uniform").pvalue > 0.01


def test_semiparametric_p_not_anticonservative_under_the_null():
    """With xmin rescanned the test is valid but conservative at small n (docs/uncertainty.md):
    never too many small p-values under the null."""
    rng = np.random.default_rng(12)
    ps = np.array([gof(pareto(rng, 2.5, 60), reps=40, seed=k).p for k in range(150)])
    assert np.mean(ps <= 0.1) <= 0.1 + 2 * np.sqrt(0.09 / 150)
    assert 0.45 < ps.mean() < 0.65


def test_small_under_a_lognormal_alternative():
    x = np.random.default_rng(1).lognormal(0.0, 1.5, 2000)
    g = gof(x, reps=50, seed=0)
    assert g.p <= 0.06


def test_bounded_model():
    rng = np.random.default_rng(4)
    from htsr import _jax
    import jax
    from htsr.models import bounded as bd

    with _jax.x64():
        tail = np.asarray(bd.sample(jax.random.PRNGKey(0), 1.2, 1.0, 30.0, (600,)))
    x = np.concatenate([rng.uniform(0.2, 1.0, 100), tail])
    g = gof(x, method="bounded", reps=30, seed=0)
    assert g.procedure == "semi-parametric" and g.fit.method == "bounded"
    assert g.p > 0.05
    fixed = gof(x, method="bounded", xmin=1.0, reps=30, seed=0)
    assert fixed.procedure == "fixed-range"
    # the unbounded law is rejected on the same data
    assert gof(x, reps=30, seed=0).p < 0.05


def _numpy_discrete_bootstrap_D(alpha, xmin, n, reps, rng, kmax=10**6):
    """An independent parametric bootstrap (numpy/scipy only) of the fixed-xmin discrete KS distance.

    Each replicate: ``n`` draws from p(k) = k^-alpha / zeta(alpha, xmin), k >= xmin, by
    inversion of the exact CDF tabulated to ``kmax`` (the mass beyond is < 1e-8 here);
    alpha refitted by maximising the exact likelihood (scipy's Hurwitz zeta); D the
    largest CDF gap over the integers xmin..max, as plfit.m computes it.
    """
    from scipy import optimize, special

    k = np.arange(xmin, kmax + 1.0)
    cdf = np.cumsum(k**-alpha) / special.zeta(alpha, xmin)
    out = np.empty(reps)
    for r in range(reps):
        z = k[np.minimum(np.searchsorted(cdf, rng.random(n), side="right"), len(k) - 1)]
        s = np.sum(np.log(z))
        a = optimize.minimize_scalar(lambda t, s=s: t * s + n * np.log(special.zeta(t, xmin)),
                                     bounds=(1.0001, 20.0), method="bounded", options={"xatol": 1e-9}).x
        kk = np.arange(xmin, z.max() + 1.0)
        model = np.cumsum(kk**-a) / special.zeta(a, xmin)
        emp = np.cumsum(np.bincount((z - xmin).astype(int), minlength=len(kk))) / n
        out[r] = np.max(np.abs(model - emp))
    return out


def test_discrete_fixed_xmin_D_distribution_matches_a_numpy_bootstrap():
    """Discrete, xmin given: htsr's synthetic KS distances have the distribution of an
    independent numpy/scipy parametric bootstrap at the same (alpha, xmin, n_tail), and
    the p-values agree within their Monte Carlo errors."""
    x = np.random.default_rng(2).zipf(2.5, 1000).astype(float)
    reps = 400
    g = gof(x, discrete=True, xmin=2, reps=reps, seed=0)
    assert g.procedure == "fixed-range" and g.fit.discrete and g.fit.xmin == 2.0
    ref = _numpy_discrete_bootstrap_D(g.fit.alpha, 2.0, g.fit.n_tail, reps, np.random.default_rng(5))
    assert np.all(np.isfinite(g.D_sim))
    assert stats.ks_2samp(g.D_sim, ref).pvalue > 1e-3
    p_ref = np.mean(ref >= g.D)
    pbar = (g.p + p_ref) / 2
    assert abs(g.p - p_ref) <= 3 * np.sqrt(2 * pbar * (1 - pbar) / reps) + 1e-9


def test_discrete_synthetic_sets_follow_section_4_1():
    """Discrete semi-parametric sets: the body is resampled from observed values below
    xmin and the tail has the exact discrete power-law mass k^-alpha / zeta(alpha, xmin)."""
    from scipy import special

    from htsr import _jax

    rng = np.random.default_rng(2)
    x = np.concatenate([rng.integers(1, 5, 150), np.floor(pareto(rng, 2.3, 350, 4.0))])
    fit = htsr.fit(x, discrete=True)
    assert fit.xmin > 1 and fit.n_tail < fit.n
    body = fit.data[fit.data < fit.xmin]
    n = fit.n
    pad = np.concatenate([body, np.full(n - len(body), fit.xmin)])
    with _jax.x64():
        rows, over = R.semiparametric_rows(
            streams.keys(0, "gof", 0, 300), pad, len(body), fit.n_tail / n,
            (np.float64(fit.alpha), np.float64(fit.xmin), np.float64(np.inf)),
            n=n, cap=R.tail_cap(n, fit.n_tail / n), discrete=True, bounded=False)
    rows = np.asarray(rows)
    assert not np.asarray(over).any()
    below = rows < fit.xmin
    assert np.all(np.isin(rows[below], body))
    tail = rows[~below]
    assert np.all(tail == np.round(tail))
    ks = np.arange(fit.xmin, fit.xmin + 8)
    pmf = ks**-fit.alpha / special.zeta(fit.alpha, fit.xmin)
    obs = np.array([np.sum(tail == k) for k in ks] + [np.sum(tail > ks[-1])])
    expected = np.append(pmf, 1 - pmf.sum()) * tail.size
    assert stats.chisquare(obs, expected).pvalue > 1e-3


def test_blackouts_published_p(reference):
    """Table 6.1: blackouts p = 0.62 (cheap: n = 211)."""
    g = gof(reference("blackouts.txt", 1e-3), reps=200, seed=0)
    assert abs(g.p - 0.62) < 3 * np.sqrt(0.62 * 0.38 / 200) + 0.01


def test_reps_for_precision():
    assert reps_for_precision(0.01) == 2500
    assert reps_for_precision(0.05) == 100


@pytest.mark.parametrize("kwargs", [dict(reps=0), dict(reps=1.5), dict(seed=-1), dict(seed=1.5),
                                    dict(procedure="exact")])
def test_bad_arguments(null_sample, kwargs):
    with pytest.raises(HtsrError):
        gof(null_sample, **kwargs)
