"""The Monte Carlo goodness-of-fit p-value (Clauset et al. 2009, section 4.1)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

import htsr
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


def test_replicates_do_not_depend_on_batch_size(null_sample, monkeypatch):
    a = gof(null_sample, reps=30, seed=1)
    monkeypatch.setattr(R, "BATCH", 7)
    b = gof(null_sample, reps=30, seed=1)
    np.testing.assert_array_equal(a.D_sim, b.D_sim)


def test_synthetic_sets_follow_section_4_1(null_sample):
    """Body resampled from the observed values below xmin, tail from the fitted law."""
    fit = htsr.fit(null_sample)
    body = fit.data[fit.data < fit.xmin]
    n = fit.n
    pad = np.concatenate([body, np.full(n - len(body), fit.xmin)])
    from htsr import _jax

    with _jax.x64():
        rows, over = R.semiparametric_rows(
            R.replicate_keys(0, 0, 200), pad, len(body), fit.n_tail / n,
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


def test_discrete(reference):
    x = np.random.default_rng(2).zipf(2.5, 300).astype(float)
    g = gof(x, discrete=True, reps=20, seed=0)
    assert g.fit.discrete and 0.0 <= g.p <= 1.0 and g.p > 0.01
    assert np.all(np.isfinite(g.D_sim))


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
