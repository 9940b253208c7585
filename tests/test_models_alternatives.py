"""Alternative tail laws: special functions, normalisations, samplers, MLEs, standard errors.

Kernels are shared: every fit here runs on one padded tail of width 4096 (the
width :func:`htsr.compare` uses), so each law compiles once per session.
"""

from __future__ import annotations

import logging

import jax
import mpmath as mp
import numpy as np
import pytest
from scipy import integrate, special, stats

from htsr import _jax
from htsr.models import TailMLE, registry
from htsr.models import powerlaw as pl
from htsr.special import log_expint, log_gauss_laplace, log_upper_gamma

WIDTH = 4096
exponential, stretched, lognormal, cutoff = (registry.get(name) for name in (
    "exponential", "stretched_exponential", "lognormal", "power_law_cutoff"))
LAWS = {
    "exponential": (exponential, (0.05,)),
    "stretched_exponential": (stretched, (0.5, 0.6)),
    "lognormal": (lognormal, (2.0, 1.5)),
    "power_law_cutoff": (cutoff, (1.7, 0.01)),
}
XMIN = 10.0


def fit_one(law, tail, xmin, discrete):
    """Fit one tail with the shared (1, 4096) kernel."""
    X, n = _jax.pad_rows([np.sort(tail)], WIDTH)
    r = law.mle(X, n, np.array([xmin]), discrete=discrete)
    return TailMLE(*(a[0] for a in r))


# --------------------------------------------------------------------- special functions
def test_log_expint_matches_mpmath_including_negative_gamma_argument():
    mp.mp.dps = 40
    s = np.array([-1.0, -0.5, 0.0, 0.5, 1.0 - 1e-9, 1.0, 1.5, 2.0, 2.0 + 1e-7, 2.5, 3.0, 7.3, 30.0])
    z = np.array([1e-14, 1e-8, 1e-4, 0.01, 0.3, 1.0, 1.999, 2.0, 2.5, 5.0, 20.0, 100.0, 700.0, 5000.0])
    S, Z = np.meshgrid(s, z)
    with _jax.x64():
        got = np.asarray(log_expint(S, Z))
        lg = np.asarray(log_upper_gamma(-0.7, np.array([1e-6, 0.5, 3.0, 50.0])))
    ref = np.vectorize(lambda a, b: float(mp.log(mp.expint(a, b))))(S, Z)
    np.testing.assert_allclose(got, ref, rtol=1e-13, atol=1e-13)
    ref_g = [float(mp.log(mp.gammainc(-0.7, b))) for b in (1e-6, 0.5, 3.0, 50.0)]
    np.testing.assert_allclose(lg, ref_g, rtol=1e-13)


_expint_grad = jax.jit(jax.grad(lambda p: log_expint(p[0], p[1])))
_expint_hess = jax.jit(jax.hessian(lambda p: log_expint(p[0], p[1])))


@pytest.mark.parametrize("s,z", [(1.5, 0.01), (2.0, 0.5), (2.0, 3.0), (1.0, 1e-6), (-0.5, 1.0)])
def test_log_expint_derivatives(s, z):
    mp.mp.dps = 40
    with _jax.x64():
        h = np.asarray(_expint_hess(np.array([s, z])))
        g = np.asarray(_expint_grad(np.array([s, z])))

    def f(a, b):
        return mp.log(mp.expint(a, b))

    np.testing.assert_allclose(g, [float(mp.diff(f, (s, z), (1, 0))), float(mp.diff(f, (s, z), (0, 1)))], rtol=1e-10)
    ref_h = [[float(mp.diff(f, (s, z), (2, 0))), float(mp.diff(f, (s, z), (1, 1)))],
             [float(mp.diff(f, (s, z), (1, 1))), float(mp.diff(f, (s, z), (0, 2)))]]
    np.testing.assert_allclose(h, ref_h, rtol=1e-8)


def test_log_gauss_laplace_exact_in_the_power_law_limit():
    mp.mp.dps = 50

    def ref(c, b):
        c, b = mp.mpf(c), mp.mpf(b)
        sig = 1 / mp.sqrt(2 * b)
        t = c * sig
        return mp.log(sig) + mp.log(mp.erfc(t / mp.sqrt(2)) / 2) + t * t / 2 + mp.log(mp.sqrt(2 * mp.pi))

    f = jax.jit(log_gauss_laplace)
    df = jax.jit(jax.grad(log_gauss_laplace, argnums=1))
    d2f = jax.jit(jax.grad(jax.grad(log_gauss_laplace, argnums=1), argnums=1))
    for c in (-3.0, 0.1, 2.9, 5.0, 50.0):
        for b in (1e-12, 1e-6, 0.1, 10.0):
            with _jax.x64():
                v, d, d2 = float(f(c, b)), float(df(c, b)), float(d2f(c, b))
            assert v == pytest.approx(float(ref(c, b)), rel=1e-13, abs=1e-14)
            assert d == pytest.approx(float(mp.diff(lambda bb, c=c: ref(c, bb), b)), rel=1e-9)
            assert d2 == pytest.approx(float(mp.diff(lambda bb, c=c: ref(c, bb), b, 2)), rel=1e-7)


# --------------------------------------------------------------------- densities
def test_continuous_densities_match_scipy_and_mpmath():
    x = np.array([10.0, 13.0, 40.0, 300.0])
    with _jax.x64():
        ln = np.asarray(lognormal.log_pdf(x, (2.0, 1.5), XMIN))
        st = np.asarray(stretched.log_pdf(x, (0.5, 0.6), XMIN))
        ex = np.asarray(exponential.log_pdf(x, (0.05,), XMIN))
        cu = np.asarray(cutoff.log_pdf(x, (1.7, 0.01), XMIN))
        cu_ccdf = np.asarray(cutoff.ccdf(x, (1.7, 0.01), XMIN))
    ref_ln = stats.lognorm.logpdf(x, 1.5, scale=np.exp(2.0)) - stats.lognorm.logsf(XMIN, 1.5, scale=np.exp(2.0))
    # Weibull form: S(x) = exp(-lam x^beta)  <=>  weibull_min(c=beta, scale=lam^(-1/beta))
    w = stats.weibull_min(0.6, scale=0.5 ** (-1 / 0.6))
    ref_st = w.logpdf(x) - w.logsf(XMIN)
    ref_ex = np.log(0.05) - 0.05 * (x - XMIN)
    mp.mp.dps = 30
    norm = mp.mpf(0.01) ** (1.7 - 1) * mp.gammainc(1 - 1.7, 0.01 * XMIN)
    ref_cu = [float(-1.7 * mp.log(v) - 0.01 * v - mp.log(norm)) for v in x]
    ref_cc = [float(mp.gammainc(1 - 1.7, 0.01 * v) / mp.gammainc(1 - 1.7, 0.01 * XMIN)) for v in x]
    np.testing.assert_allclose(ln, ref_ln, rtol=1e-12)
    np.testing.assert_allclose(st, ref_st, rtol=1e-12)
    np.testing.assert_allclose(ex, ref_ex, rtol=1e-14)
    np.testing.assert_allclose(cu, ref_cu, rtol=1e-13)
    np.testing.assert_allclose(cu_ccdf, ref_cc, rtol=1e-12)


@pytest.mark.parametrize("name", list(LAWS))
def test_continuous_pdf_integrates_to_one_and_cdf_is_its_integral(name):
    law, par = LAWS[name]
    log_pdf = jax.jit(lambda t: law.log_pdf(t, par, XMIN))
    with _jax.x64():
        def pdf(t):
            return float(np.exp(log_pdf(t)))

        total = integrate.quad(pdf, XMIN, np.inf, limit=200, epsabs=1e-13)[0]
        part = integrate.quad(pdf, XMIN, 37.0, epsabs=1e-13)[0]
        cdf37 = float(law.cdf(37.0, par, XMIN))
        ccdf37 = float(law.ccdf(37.0, par, XMIN))
        ccdf0 = float(law.ccdf(XMIN, par, XMIN))
    assert total == pytest.approx(1.0, abs=1e-9)
    assert cdf37 == pytest.approx(part, abs=1e-10)
    assert cdf37 + ccdf37 == pytest.approx(1.0, abs=1e-14)
    assert ccdf0 == pytest.approx(1.0, abs=1e-14)


DISCRETE_CASES = [
    (exponential, (0.05,), 7.0),
    (stretched, (0.5, 0.6), 7.0),
    (stretched, (3.0, 0.1), 1.0),
    (lognormal, (2.0, 1.5), 7.0),
    (lognormal, (-20.0, 4.0), 12.0),
    (cutoff, (1.7, 0.01), 7.0),
    (cutoff, (2.3, 1e-4), 1.0),
    (cutoff, (-0.5, 0.3), 3.0),
]


@pytest.mark.parametrize("law,par,xmin", DISCRETE_CASES, ids=lambda v: getattr(v, "name", None))
def test_discrete_normalisation_matches_brute_force_sum(law, par, xmin):
    """Exact log-sum-exp over K terms + Euler-Maclaurin tail vs a direct sum of 2e6 terms
    (plus the integral beyond, negligible or exact for these laws)."""
    k = np.arange(xmin, xmin + 2_000_000.0)
    with _jax.x64():
        lp = np.asarray(law.log_pdf(k, par, xmin, discrete=True))
        rest = float(law.ccdf(k[-1] + 1.0, par, xmin, discrete=True))
        c5 = np.asarray(law.ccdf(k[:5], par, xmin, discrete=True))
        cdf4 = float(law.cdf(k[4], par, xmin, discrete=True))
    total = np.exp(special.logsumexp(lp)) + rest
    assert total == pytest.approx(1.0, abs=1e-12)
    np.testing.assert_allclose(c5, [1.0 - np.exp(lp[:j]).sum() for j in range(5)], atol=1e-13)
    assert cdf4 == pytest.approx(np.exp(lp[:5]).sum(), abs=1e-13)


def test_discrete_cutoff_tends_to_hurwitz_zeta_power_law():
    k = np.array([5.0, 6.0, 50.0, 1e4])
    with _jax.x64():
        cu = np.asarray(cutoff.log_pdf(k, (2.2, 1e-12), 5.0, discrete=True))
        ref = np.asarray(pl.log_pdf(k, 2.2, 5.0, discrete=True))
    np.testing.assert_allclose(cu, ref, rtol=1e-9)


# --------------------------------------------------------------------- MLE
def test_exponential_mle_and_standard_error_closed_forms():
    rng = np.random.default_rng(1)
    x = 5.0 + rng.exponential(20.0, 800)
    k = 5.0 + np.floor(rng.exponential(20.0, 800))
    r = fit_one(exponential, x, 5.0, False)
    rd = fit_one(exponential, k, 5.0, True)
    lam = 1.0 / np.mean(x - 5.0)
    lam_d = np.log1p(1.0 / np.mean(k - 5.0))
    assert r.params[0] == pytest.approx(lam, rel=1e-12)
    assert r.se[0] == pytest.approx(lam / np.sqrt(800), rel=1e-9)
    assert rd.params[0] == pytest.approx(lam_d, rel=1e-12)
    assert rd.se[0] == pytest.approx(2 * np.sinh(lam_d / 2) / np.sqrt(800), rel=1e-9)
    assert r.converged and rd.converged and not r.at_boundary.any()


@pytest.fixture(scope="module")
def recovery():
    """12 replicate samples of 1000 points per law and kind, drawn with the law's own sampler."""
    out = {}
    for name, (law, par) in LAWS.items():
        for discrete in (False, True):
            draw = jax.jit(lambda key, law=law, par=par, d=discrete: law.sample(key, par, XMIN, (12_000,), discrete=d))
            with _jax.x64():
                xs = np.asarray(draw(jax.random.PRNGKey(7))).reshape(12, 1000)
            fits = [fit_one(law, row, XMIN, discrete) for row in xs]
            out[name, discrete] = (xs, fits)
    return out


@pytest.mark.parametrize("discrete", [False, True])
@pytest.mark.parametrize("name", list(LAWS))
def test_parameter_recovery_and_standard_errors(recovery, name, discrete):
    par = LAWS[name][1]
    fits = recovery[name, discrete][1]
    assert all(f.converged and not f.at_boundary.any() for f in fits)
    est = np.array([f.params for f in fits])
    se = np.array([f.se for f in fits])
    z = (est - np.array(par)) / se
    # unbiased within sampling error, and the observed-information SE matches the spread
    assert np.all(np.abs(z.mean(axis=0)) < 3.0 / np.sqrt(len(fits)) + 0.3)
    spread = est.std(axis=0, ddof=1) / se.mean(axis=0)
    assert np.all((spread > 0.55) & (spread < 1.6)), spread


@pytest.mark.parametrize("discrete", [False, True])
@pytest.mark.parametrize("name", list(LAWS))
def test_sampler_follows_the_law(recovery, name, discrete):
    law, par = LAWS[name]
    x = recovery[name, discrete][0].ravel()
    assert x.min() >= XMIN
    if discrete:
        assert np.all(x == np.round(x))
        ks = np.arange(XMIN, XMIN + 6.0)
        with _jax.x64():
            pmf = np.exp(np.asarray(law.log_pdf(ks, par, XMIN, discrete=True)))
        freq = np.array([(x == k).mean() for k in ks])
        sd = np.sqrt(pmf * (1 - pmf) / x.size)
        assert np.all(np.abs(freq - pmf) < 4.5 * sd)
    else:
        with _jax.x64():
            u = np.asarray(law.cdf(x, par, XMIN))
        assert stats.kstest(u, "uniform").pvalue > 1e-3


def test_batch_of_tails_is_one_kernel_and_matches_single_fits(recovery, caplog):
    """Five tails are fitted by one compiled kernel on the padded (5, 1024) block (jax.log_compiles
    names every compilation: none of a single row); a second batch of the same padded shape with
    other data and other counts compiles nothing; and the batch equals the single fits."""
    xs = recovery["lognormal", False][0]

    def compiled(fn):
        caplog.clear()
        with caplog.at_level(logging.WARNING), jax.log_compiles():
            out = fn()
        return out, [r.getMessage() for r in caplog.records if r.getMessage().startswith("Compiling")]

    batch, first = compiled(lambda: lognormal.mle(xs[:5], np.full(5, 1000), np.full(5, XMIN)))
    other, second = compiled(lambda: lognormal.mle(xs[5:10], np.array([1000, 990, 950, 1000, 900]),
                                                   np.full(5, XMIN)))
    assert len(first) <= 1 and all("float64[5,1024]" in m for m in first), first  # 0: compiled earlier
    assert second == []
    single = np.array([f.params for f in recovery["lognormal", False][1][:5]])
    np.testing.assert_allclose(batch.params, single, rtol=1e-7)
    assert batch.params.shape == (5, 2) and batch.pointwise.shape[0] == 5
    # the shorter counts really were used: row 4 is the fit of its first 900 points only
    last = fit_one(lognormal, xs[9, :900], XMIN, False)
    np.testing.assert_allclose(other.params[4], last.params, rtol=1e-7)


def test_alternatives_reach_at_least_the_power_law_on_power_law_data():
    """Each of lognormal, stretched exponential and cutoff contains the power law as a
    limit or special case: their maximised likelihood can never be lower.  On pure
    power-law data the fits go to that limit and say so, without crashing."""
    rng = np.random.default_rng(3)
    x = np.sort(10.0 * (1 - rng.random(1500)) ** (-1 / 1.5))
    n = x.size
    alpha = 1 + n / np.sum(np.log(x / 10.0))
    with _jax.x64():
        l_pl = float(np.sum(pl.log_pdf(x, alpha, 10.0)))
    for law in (lognormal, stretched, cutoff):
        f = fit_one(law, x, 10.0, False)
        assert np.isfinite(f.loglik) and f.converged
        assert f.loglik >= l_pl - 1e-6 * abs(l_pl)
        if f.at_boundary.any():
            assert np.all(np.isnan(f.se))
        else:
            assert np.all(np.isfinite(f.se))


def test_two_point_tail_does_not_crash():
    for law in (exponential, stretched, lognormal, cutoff):
        f = fit_one(law, np.array([10.0, 11.0]), 10.0, False)
        assert np.isfinite(f.loglik)
