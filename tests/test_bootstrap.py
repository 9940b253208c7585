"""Nonparametric bootstrap of the whole fit: draws, percentile and BCa intervals."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import pareto

import htsr
from htsr.errors import HtsrError
from htsr.inference import bootstrap
from htsr.inference.bootstrap import Interval, bca_interval, param_intervals, percentile_interval


@pytest.fixture(scope="module")
def sample():
    rng = np.random.default_rng(3)
    return np.concatenate([pareto(rng, 2.5, 600), rng.uniform(0.3, 1.0, 150)])


@pytest.fixture(scope="module")
def result(sample):
    return bootstrap(sample, reps=100, seed=5)


def test_draws_and_intervals(result, sample):
    fit = htsr.fit(sample)
    assert result.fit.alpha == fit.alpha and result.reps == 100
    for k in ("alpha", "xmin", "n_tail"):
        d = result.draws[k]
        assert d.shape == (100,) and np.all(np.isfinite(d))
        lo, hi = result.intervals[k].percentile
        s = np.sort(d)  # 95% of 100 draws: each end lies between the 3rd and 4th draw from its side
        assert s[2] <= lo <= s[3] and s[-4] <= hi <= s[-3]
        blo, bhi = result.intervals[k].bca
        assert d.min() <= blo <= bhi <= d.max()
        assert result.intervals[k].bca.method == "bca" and result.intervals[k].percentile.method == "percentile"
    assert np.all(np.isin(result.draws["xmin"], sample))  # xmin is always an observed value
    lo, hi = result.intervals["alpha"].percentile
    assert lo < fit.alpha < hi
    assert result.standard_error["alpha"] == pytest.approx(np.std(result.draws["alpha"], ddof=1))
    # on the draws 0, 1, ..., 100 the 90% interval is the draws 5 and 95; NaN draws are left out
    lo, hi = percentile_interval(np.r_[np.arange(101.0), np.nan], 0.9)
    assert (lo, hi) == (pytest.approx(5.0, abs=1e-9), pytest.approx(95.0, abs=1e-9))


def test_reproducible_and_serialisable(result, sample):
    again = bootstrap(sample, reps=100, seed=5)
    for k in result.draws:
        np.testing.assert_array_equal(result.draws[k], again.draws[k])
    d = result.to_dict()
    assert set(d) == {"level", "reps", "seed", "alpha", "xmin", "n_tail"}
    assert set(d["alpha"]) == {"estimate", "se", "percentile", "bca", "interval", "interval_method"}
    assert d["alpha"]["interval_method"] == result.intervals["alpha"].chosen.method
    assert "BCa" in repr(result) and "alpha" in repr(result)
    assert list(result.table().index) == ["alpha", "xmin", "n_tail"]


def test_bca_reduces_to_percentile_for_symmetric_unbiased_draws():
    rng = np.random.default_rng(0)
    draws = rng.standard_normal(20001)
    est = np.median(draws)
    jack = np.linspace(-1, 1, 50)  # symmetric: zero acceleration
    lo, hi = bca_interval(draws, est, jack, 0.9)
    plo, phi = percentile_interval(draws, 0.9)
    assert lo == pytest.approx(plo, abs=1e-6) and hi == pytest.approx(phi, abs=1e-6)


def test_bca_shifts_with_median_bias():
    draws = np.arange(1000.0)
    lo, hi = bca_interval(draws, 700.0, np.linspace(-1, 1, 50), 0.9)  # estimate above the median
    plo, phi = percentile_interval(draws, 0.9)
    assert lo > plo and hi > phi


def test_bca_that_excludes_its_estimate_falls_back_to_percentile_and_says_so():
    draws = np.arange(1000.0)
    jack = np.linspace(-1, 1, 50)
    est = 996.3  # above 99.6% of the draws: z0 = 2.65 pushes both BCa quantiles above it
    lo, hi = bca_interval(draws, est, jack, 0.95)
    assert lo > est  # the raw BCa interval excludes the estimate
    ivs = param_intervals(draws, est, jack, 0.95, name="alpha")
    assert ivs.chosen == percentile_interval(draws, 0.95) and ivs.chosen.method == "percentile"
    assert ivs.bca.method == "bca" and est not in ivs.bca  # the BCa interval is kept as it is, under its name
    note = ivs.note
    assert "excludes the estimate" in note and "alpha" in note and "percentile" in note
    assert "excludes the estimate too" in note  # the percentile interval [24.98, 974] does not hold 996.3
    ivs = param_intervals(draws, 700.0, jack, 0.9)  # an ordinary bias correction is kept
    assert ivs.note is None and ivs.chosen == bca_interval(draws, 700.0, jack, 0.9)


def test_bca_is_undefined_when_every_draw_lies_on_one_side():
    """All draws above the estimate: no median-bias correction exists; BCa is None, never a relabelled percentile."""
    draws = np.arange(10.0, 110.0)
    assert bca_interval(draws, 5.0, np.linspace(-1, 1, 20), 0.9) is None
    ivs = param_intervals(draws, 5.0, np.linspace(-1, 1, 20), 0.9, name="xmin")
    assert ivs.bca is None and ivs.chosen.method == "percentile" and "undefined" in ivs.note
    assert isinstance(ivs.chosen, Interval) and tuple(ivs.chosen) == (ivs.chosen.low, ivs.chosen.high)


def test_report_gives_no_interval_where_bca_and_percentile_both_exclude_the_estimate():
    """The percentile fallback [24.98, 974] does not hold 996.3 either: the layer gets no interval, and why."""
    from htsr.report.intervals import summarize_draws
    from htsr.report.options import IntervalSpec

    draws = np.arange(1000.0)
    for ci in ("bca", "percentile"):
        s = summarize_draws(996.3, draws, np.linspace(-1, 1, 50), IntervalSpec(level=0.95, ci=ci))
        assert np.isnan(s["alpha_lo"]) and np.isnan(s["alpha_hi"])
        assert s["interval_note"].startswith("no interval: the bootstrap does not cover the estimate")
    s = summarize_draws(700.0, draws, np.linspace(-1, 1, 50), IntervalSpec(level=0.9, ci="bca"))
    assert (s["alpha_lo"], s["alpha_hi"]) == tuple(bca_interval(draws, 700.0, np.linspace(-1, 1, 50), 0.9))
    assert s["interval_note"] == ""


@pytest.mark.parametrize("method", ["percentile", "bca"])
def test_alpha_interval_covers_truth_at_nominal_rate(method, coverage_runs):
    cover = np.mean([lo <= 2.5 <= hi for lo, hi in coverage_runs[method]])
    # 120 data sets, nominal 90%: binomial sd 0.027
    assert 0.82 <= cover <= 0.97, cover


@pytest.fixture(scope="module")
def coverage_runs():
    """90% intervals for alpha from 120 pure power-law samples (n = 150, xmin known)."""
    rng = np.random.default_rng(21)
    out = {"percentile": [], "bca": []}
    for k in range(120):
        r = bootstrap(pareto(rng, 2.5, 150), xmin=1.0, reps=200, seed=k, level=0.9, jackknife_groups=30)
        for m in out:
            out[m].append(tuple(getattr(r.intervals["alpha"], m)))
    return out


def test_scanned_xmin_coverage():
    """With xmin rescanned on each resample (the full procedure), 80% intervals still cover."""
    rng = np.random.default_rng(22)
    hits = []
    for k in range(40):
        r = bootstrap(pareto(rng, 2.5, 200), reps=100, seed=k, level=0.8, jackknife_groups=20)
        lo, hi = r.intervals["alpha"].percentile
        hits.append(lo <= 2.5 <= hi)
    assert np.mean(hits) >= 0.6


def test_bounded_bootstrap():
    rng = np.random.default_rng(9)
    x = np.concatenate([rng.uniform(0.1, 1, 100), rng.uniform(1, 10, 400)])  # alpha = 0 on [1, 10]
    r = bootstrap(x, method="bounded", xmin=1.0, xmax=10.0, reps=100, seed=0)
    lo, hi = r.intervals["alpha"].chosen
    assert lo < 0.0 < hi and r.fit.method == "bounded"
    # the bootstrap standard error matches the Fisher information of the bounded law at alpha = 0
    # (Var[ln X] of the uniform on [1, 10], n = 400): sd(alpha_hat) = 1 / sqrt(n Var[ln X])
    t = np.log(10.0)
    var_log = (10 * t**2 - 2 * 10 * t + 2 * 10 - 2) / 9 - ((10 * t - 10 + 1) / 9) ** 2
    assert r.standard_error["alpha"] == pytest.approx(1 / np.sqrt(400 * var_log), rel=0.2)


@pytest.mark.parametrize("kwargs", [dict(reps=0), dict(level=1.0), dict(seed=-2), dict(jackknife_groups=1)])
def test_bad_arguments(sample, kwargs):
    with pytest.raises(HtsrError):
        bootstrap(sample, **kwargs)


def test_refits_keep_the_unbiased_estimator_with_xmin_fixed():
    """A fixed-xmin Clauset fit with estimator="unbiased": every refit reports
    1 + (n_tail - 1)/sum, like the fit itself (not the MLE)."""
    import jax

    from htsr import _jax
    from htsr.inference._resample import refit_rows
    from htsr.models import powerlaw as pl

    with _jax.x64():
        x = np.sort(np.asarray(pl.sample(jax.random.PRNGKey(2), 2.5, 1.0, (400,))))
    f = htsr.fit(x, xmin=1.0, estimator="unbiased")
    rows = np.sort(np.stack([x, x[::-1]]), axis=1)
    got = refit_rows(rows, f).alpha
    assert got == pytest.approx([f.alpha, f.alpha], rel=1e-12)
