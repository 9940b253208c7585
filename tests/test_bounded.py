"""The bounded power law: density, power sums, MLE, sampler, and the bounded fitter."""

from __future__ import annotations

import jax
import mpmath as mp
import numpy as np
import pytest
from scipy import integrate, optimize, stats

import htsr
from htsr import _jax
from htsr.errors import FitError
from htsr.fitting.fixed_range import fit_range
from htsr.models import bounded as bd


def _draw(seed, alpha, xmin, xmax, shape, discrete=False):
    with _jax.x64():
        return np.asarray(bd.sample(jax.random.PRNGKey(seed), alpha, xmin, xmax, shape, discrete=discrete))


# ------------------------------------------------------------------ the law
@pytest.mark.parametrize("s", [-150.0, -20.0, -1.5, 0.0, 0.5, 1.0, 1.7, 3.0, 40.0, 200.0])
@pytest.mark.parametrize("a,b", [(1, 1), (1, 20), (1, 40), (3, 5000), (100, 30000)])
def test_log_power_sum_matches_mpmath(s, a, b):
    mp.mp.dps = 30
    ref = float(mp.log(mp.fsum(mp.mpf(k) ** (-s) for k in range(a, b + 1))))
    with _jax.x64():
        got = float(bd.log_power_sum(s, float(a), float(b)))
    assert got == pytest.approx(ref, rel=1e-13, abs=1e-13)


def test_log_power_sum_empty_range():
    with _jax.x64():
        assert float(bd.log_power_sum(2.0, 5.0, 4.0)) == -np.inf


@pytest.mark.parametrize("alpha", [-3.0, 0.5, 1.0, 1.0 + 1e-9, 2.5, 9.0])
def test_continuous_density_normalised_and_cdf(alpha):
    xmin, xmax = 2.0, 300.0
    with _jax.x64():
        pdf = lambda t: float(np.exp(bd.log_pdf(t, alpha, xmin, xmax)))  # noqa: E731
        total = integrate.quad(pdf, xmin, xmax, points=[4, 20], limit=200)[0]
        part = integrate.quad(pdf, xmin, 17.0, limit=200)[0]
        c = float(bd.cdf(17.0, alpha, xmin, xmax))
        cc = float(bd.ccdf(17.0, alpha, xmin, xmax))
    assert total == pytest.approx(1.0, rel=1e-9)
    assert c == pytest.approx(part, rel=1e-8, abs=1e-14)
    assert c + cc == pytest.approx(1.0, rel=1e-12)


def test_alpha_one_is_the_continuous_limit():
    with _jax.x64():
        at1 = float(bd.log_pdf(7.0, 1.0, 1.0, 50.0))
        near = [float(bd.log_pdf(7.0, 1.0 + e, 1.0, 50.0)) for e in (1e-5, -1e-5)]
    assert at1 == pytest.approx(-np.log(7.0) - np.log(np.log(50.0)), rel=1e-14)
    assert near[0] == pytest.approx(at1, abs=1e-4) and near[1] == pytest.approx(at1, abs=1e-4)


@pytest.mark.parametrize("alpha", [-1.0, 0.5, 2.0, 6.0])
def test_discrete_pmf_sums_to_one_and_cdf(alpha):
    k = np.arange(3, 401, dtype=float)
    with _jax.x64():
        p = np.exp(np.asarray(bd.log_pdf(k, alpha, 3.0, 400.0, discrete=True)))
        c = float(bd.cdf(20.0, alpha, 3.0, 400.0, discrete=True))
        cc = float(bd.ccdf(21.0, alpha, 3.0, 400.0, discrete=True))
    assert p.sum() == pytest.approx(1.0, rel=1e-12)
    assert c == pytest.approx(p[k <= 20].sum(), rel=1e-12)
    assert c + cc == pytest.approx(1.0, rel=1e-12)


@pytest.mark.parametrize("alpha", [-2.0, 0.5, 1.0, 2.5, 7.0])
def test_continuous_sampler_follows_cdf(alpha):
    x = _draw(1, alpha, 1.0, 100.0, (4000,))
    assert x.min() >= 1.0 and x.max() <= 100.0
    with _jax.x64():
        res = stats.kstest(x, lambda t: np.asarray(bd.cdf(t, alpha, 1.0, 100.0)))
    assert res.pvalue > 1e-3


@pytest.mark.parametrize("alpha", [0.5, 2.5])
def test_discrete_sampler_follows_pmf(alpha):
    x = _draw(2, alpha, 2.0, 30.0, (20000,), discrete=True)
    k = np.arange(2, 31)
    with _jax.x64():
        p = np.exp(np.asarray(bd.log_pdf(k.astype(float), alpha, 2.0, 30.0, discrete=True)))
    obs = np.array([(x == v).sum() for v in k])
    assert obs.sum() == len(x)
    chi2 = stats.chisquare(obs, p * len(x))
    assert chi2.pvalue > 1e-3


# ------------------------------------------------------------------ MLE
@pytest.mark.parametrize("discrete", [False, True])
@pytest.mark.parametrize("alpha", [-1.0, 0.7, 1.0, 3.0, 12.0])
def test_mle_maximises_the_likelihood(alpha, discrete):
    xmin, xmax = (2.0, 60.0)
    x = _draw(3, alpha, xmin, xmax, (300,), discrete=discrete)
    with _jax.x64():
        if discrete:
            a = float(bd.discrete_mle(np.mean(np.log(x)), xmin, xmax))
        else:
            a = float(bd.continuous_mle(np.mean(np.log(x / xmin)), np.log(xmax / xmin)))

        def nll(t):
            return -float(np.sum(bd.log_pdf(x, t, xmin, xmax, discrete=discrete)))

        best = optimize.minimize_scalar(nll, bracket=(a - 0.5, a, a + 0.5), tol=1e-12).x
        assert a == pytest.approx(best, abs=1e-5)
        assert nll(a) <= nll(a + 1e-4) and nll(a) <= nll(a - 1e-4)


def test_mle_extreme_exponents():
    with _jax.x64():
        r = np.log(10.0)
        for alpha in (-60.0, 0.0, 1.0, 80.0):
            lam, rr = mp.mpf(alpha) - 1, mp.mpf(r)
            # the exact E[ln(x/xmin)] of the law on [xmin, xmax], in extended precision
            mean_t = float(rr / 2 if lam == 0 else 1 / lam - rr / mp.expm1(lam * rr))
            assert float(bd.continuous_mle(mean_t, r)) == pytest.approx(alpha, rel=1e-10, abs=1e-10)


def _range_fit_bias(alpha, ratio, n, reps, discrete=False, seed=0):
    xmin, xmax = (1.0, ratio) if not discrete else (5.0, 5.0 * ratio)
    x = np.sort(_draw(seed, alpha, xmin, xmax, (reps, n), discrete=discrete), axis=1)
    res = fit_range(_jax.padded(x, np.full(reps, n)), xmin, xmax, discrete=discrete)
    err = res.alpha - alpha
    return err.mean(), err.std(ddof=1) / np.sqrt(reps), res


@pytest.mark.parametrize("alpha", [0.5, 1.0, 2.0, 3.0, 5.0])
@pytest.mark.parametrize("ratio", [10.0, 1000.0])
def test_bounded_mle_unbiased_on_truncated_samples(alpha, ratio):
    reps, n = 400, 500
    seed = int(10 * alpha + ratio)
    mean_err, sem, res = _range_fit_bias(alpha, ratio, n, reps, seed=seed)
    # the exact MLE: unbiased up to its O(1/n) bias, which the theory predicts
    with _jax.x64():
        bias = float(bd.continuous_bias(alpha, np.log(ratio), n))
    assert abs(bias) < 0.01
    assert abs(mean_err - bias) < 2.0 * sem
    # the bias-corrected estimator: no bias within two standard errors of the mean
    xmin, xmax = 1.0, ratio
    x = np.sort(_draw(seed, alpha, xmin, xmax, (reps, n)), axis=1)
    corr = fit_range(_jax.padded(x, np.full(reps, n)), xmin, xmax, estimator="unbiased").alpha
    assert abs(np.mean(corr - alpha)) < 2.0 * np.std(corr, ddof=1) / np.sqrt(reps)
    # the Fisher standard error matches the spread of the estimates
    assert np.std(res.alpha - alpha) == pytest.approx(np.median(res.sigma), rel=0.15)


@pytest.mark.parametrize("alpha", [0.5, 1.0, 2.5, 4.0, 6.0])
@pytest.mark.parametrize("ratio", [10.0, 1000.0])
def test_sample_max_as_xmax_is_unbiased_after_correction(alpha, ratio):
    """The default xmax rule (the largest observation) with xmin known: the MLE
    given the maximum, bias-corrected, has no bias (the finite-size study's
    xmin-known protocol), where ignoring xmax (Clauset) is biased for small alpha."""
    reps, n = 2000, 500
    x = np.sort(_draw(int(100 * alpha + ratio), alpha, 1.0, ratio, (reps, n)), axis=1)
    counts = np.full(reps, n)
    corr = fit_range(_jax.padded(x, counts), 1.0, x[:, -1], given=1, estimator="unbiased").alpha
    err = corr - alpha
    assert abs(err.mean()) < 2.0 * err.std(ddof=1) / np.sqrt(reps)
    one = htsr.fit(x[0], method="bounded", xmin=1.0, estimator="unbiased")
    assert one.alpha == pytest.approx(corr[0], rel=1e-12) and one.xmax == x[0, -1]
    if alpha <= 1.0:
        clauset = fit_range(_jax.padded(x, counts), 1.0).alpha
        assert np.mean(clauset - alpha) > 0.25  # +0.29 at alpha 1, ratio 1000


def test_discrete_bounded_mle_unbiased():
    mean_err, sem, _ = _range_fit_bias(1.0, 100.0, 500, 200, discrete=True, seed=7)
    assert abs(mean_err) < 2.0 * sem + 1e-3


# ------------------------------------------------------------------ the fitter
@pytest.fixture(scope="module")
def truncated_sample():
    rng = np.random.default_rng(11)
    tail = _draw(4, 1.6, 1.0, 50.0, (800,))
    return np.concatenate([rng.uniform(0.2, 1.0, 200), tail])


def test_bounded_scan_equals_exhaustive(truncated_sample):
    a = htsr.fit(truncated_sample, method="bounded")
    b = htsr.fit(truncated_sample, method="bounded", exhaustive=True)
    assert (a.xmin, a.alpha, a.D, a.n_tail) == (b.xmin, b.alpha, b.D, b.n_tail)
    assert a.n_evaluated < a.n_candidates
    assert a.xmax == truncated_sample.max() and a.method == "bounded"
    curve = a.ks_curve()
    assert curve.D.min() == pytest.approx(a.D, rel=1e-12)
    assert curve.xmin[np.argmin(curve.D)] == a.xmin


def test_bounded_fit_recovers_alpha_where_clauset_is_biased(truncated_sample):
    bounded = htsr.fit(truncated_sample, method="bounded", xmin=1.0)
    clauset = htsr.fit(truncated_sample, xmin=1.0)
    assert abs(bounded.alpha - 1.6) < 3 * bounded.sigma
    assert clauset.alpha > bounded.alpha + 3 * bounded.sigma  # ignoring xmax inflates alpha
    assert bounded.n_tail == 800 and bounded.tail.max() <= bounded.xmax


def test_scanned_alpha_is_the_conditional_mle(truncated_sample):
    """xmax = the largest value: alpha is the MLE given the tail's extremes (points between them)."""
    scanned = htsr.fit(truncated_sample, method="bounded")
    tail = scanned.tail
    r = np.log(scanned.xmax / scanned.xmin)
    with _jax.x64():
        expect = float(bd.continuous_mle(np.mean(np.log(tail[1:-1] / scanned.xmin)), r))
    assert scanned.alpha == pytest.approx(expect, rel=1e-12)
    # a fixed range [xmin, xmax] uses every point in it; D agrees with the scan's definition
    fixed = htsr.fit(truncated_sample, method="bounded", xmin=scanned.xmin, xmax=scanned.xmax)
    with _jax.x64():
        full = float(bd.continuous_mle(np.mean(np.log(tail / scanned.xmin)), r))
    assert fixed.alpha == pytest.approx(full, rel=1e-12)
    assert abs(fixed.alpha - scanned.alpha) < 0.5 * scanned.sigma


def test_three_point_candidate_gets_its_own_fit():
    """Regression: a conditional candidate with nt = 3 (one point inside the range)
    used to be scanned with placeholder alpha = 1 and r = 1, so its D could be tiny
    and win the scan (2 of 1000 fits at alpha 4, xmax/xmin 10, n 500)."""
    from htsr.fitting import bounded_kernels as BK
    from htsr.fitting import fit_padded

    with _jax.x64():
        x = np.sort(_draw(11, 4.0, 1.0, 10.0, (1000, 500)), axis=1)
        n = np.full(len(x), 500)
        _, alpha, r = BK.continuous_alpha(x, n, np.log(x[:, -1]), conditional=True)
        # the three-point candidate: the MLE from its single interior point
        t = np.log(x[:, -2] / x[:, -3])
        rr = np.log(x[:, -1] / x[:, -3])
        expect = np.asarray(bd.continuous_mle(t, rr))
    np.testing.assert_allclose(np.asarray(alpha)[:, -3], expect, rtol=1e-10)
    np.testing.assert_allclose(np.asarray(r)[:, -3], rr, rtol=1e-12)
    fits = fit_padded(x, n, method="bounded")
    # a 3-point tail has D >= 1/3 (its top point sits at ECDF 2/3, model CDF 1): never the minimum here
    assert fits.n_tail.min() > 3
    assert np.all(fits.D < 1.0 / 3.0)


def test_unbiased_estimator_counts_the_points_the_mle_used(truncated_sample):
    """estimator="unbiased" corrects with the MLE's own sample size: n_tail - 2 for the
    scanned conditional fit, n_tail - 1 with xmin fixed, n_tail with both ends fixed;
    fit_many and the bootstrap's refits apply the same correction."""
    mle = htsr.fit(truncated_sample, method="bounded")
    unb = htsr.fit(truncated_sample, method="bounded", estimator="unbiased")
    r = np.log(mle.xmax / mle.xmin)
    with _jax.x64():
        expect = mle.alpha - float(bd.continuous_bias(mle.alpha, r, mle.n_tail - 2.0))
    assert unb.estimator == "unbiased" and unb.alpha == pytest.approx(expect, rel=1e-12)
    assert (unb.xmin, unb.D, unb.n_tail) == (mle.xmin, mle.D, mle.n_tail)
    many = htsr.fit_many([truncated_sample], method="bounded", estimator="unbiased")[0]
    assert many.estimator == "unbiased" and many.alpha == pytest.approx(unb.alpha, rel=1e-12)
    for kw, drop in ((dict(xmin=1.0), 1.0), (dict(xmin=1.0, xmax=50.0), 0.0)):
        m = htsr.fit(truncated_sample, method="bounded", **kw)
        u = htsr.fit(truncated_sample, method="bounded", estimator="unbiased", **kw)
        with _jax.x64():
            e = m.alpha - float(bd.continuous_bias(m.alpha, np.log(m.xmax / m.xmin), m.n_tail - drop))
        assert u.alpha == pytest.approx(e, rel=1e-12)
    # bootstrap refits use the fit's estimator: draws centre on the corrected alpha
    bm = htsr.bootstrap(mle, reps=60, seed=3)
    bu = htsr.bootstrap(unb, reps=60, seed=3)
    shift = np.nanmean(bm.draws["alpha"] - bu.draws["alpha"])
    assert 0.0 < shift < 0.05 and shift == pytest.approx(mle.alpha - unb.alpha, rel=0.5)


def test_user_xmax_drops_points_above(truncated_sample):
    f = htsr.fit(truncated_sample, method="bounded", xmax=20.0, xmin=1.0)
    assert f.xmax == 20.0 and f.n_tail == int(np.sum((truncated_sample >= 1.0) & (truncated_sample <= 20.0)))
    many = htsr.fit_many([truncated_sample, truncated_sample[::2]], method="bounded")
    assert many[0].alpha == pytest.approx(htsr.fit(truncated_sample, method="bounded").alpha, rel=1e-12)


def test_discrete_bounded_scan_equals_exhaustive():
    rng = np.random.default_rng(5)
    x = np.concatenate([rng.integers(1, 4, 150), _draw(6, 0.8, 4.0, 120.0, (600,), discrete=True)])
    a = htsr.fit(x, method="bounded", discrete=True)
    b = htsr.fit(x, method="bounded", discrete=True, exhaustive=True)
    assert (a.xmin, a.alpha, a.D) == (b.xmin, b.alpha, b.D)
    assert a.xmax - a.xmin >= 2 and abs(a.alpha - 0.8) < 4 * a.sigma


def test_range_search_finds_the_truncation():
    rng = np.random.default_rng(8)
    body = rng.uniform(0.1, 1.0, 200)
    tail = _draw(9, 1.5, 1.0, 100.0, (1500,))
    beyond = 100.0 * (1 - rng.random(40)) ** (-1 / 4.0)  # a steeper law past xmax
    f = htsr.fit(np.concatenate([body, tail, beyond]), method="bounded", xmax="search")
    assert f.range_search.p >= 0.1
    assert 0.5 <= f.xmin <= 2.0 and 50.0 <= f.xmax <= 400.0
    assert abs(f.alpha - 1.5) < 0.1
    # the bias-corrected estimator: same range, alpha corrected with every point in it
    u = htsr.fit(np.concatenate([body, tail, beyond]), method="bounded", xmax="search", estimator="unbiased")
    assert (u.xmin, u.xmax, u.n_tail, u.D, u.estimator) == (f.xmin, f.xmax, f.n_tail, f.D, "unbiased")
    with _jax.x64():
        e = f.alpha - float(bd.continuous_bias(f.alpha, np.log(f.xmax / f.xmin), f.n_tail))
    assert u.alpha == pytest.approx(e, rel=1e-12)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(xmax=10.0), "method='bounded'"),
        (dict(method="bounded", xmax="widest"), "xmax"),
        (dict(method="bounded", xmax=-1.0), "xmax"),
        (dict(method="bounded", xmax=0.01), "smallest"),
        (dict(method="bounded", estimator="unbiased", discrete=True), "continuous"),
        (dict(method="bounded", xmin=5.0, xmax=2.0), "below xmax"),
        (dict(method="nope"), "method"),
    ],
)
def test_bad_options(truncated_sample, kwargs, match):
    with pytest.raises(FitError, match=match):
        htsr.fit(truncated_sample, **kwargs)


def test_discrete_xmax_must_be_integer():
    with pytest.raises(FitError, match="integer xmax"):
        htsr.fit(np.arange(1, 50), method="bounded", discrete=True, xmax=30.5)
