"""Goodness of fit, bootstrap and the xmin scan under any registered law; the four distances.

Distances are checked against independent implementations (scipy.stats.kstest,
scipy.stats.goodness_of_fit's Anderson-Darling statistic, direct NumPy
formulas); the scan against a construction with a known threshold; the GoF's
calibration (uniform p under the null) and power on small studies.  The full
calibration study is benchmarks/gof_calibration_laws.py (docs/validation.md).
"""

from __future__ import annotations

import jax
import numpy as np
import pytest
from scipy import stats

import htsr
from htsr import _jax
from htsr.errors import FitError
from htsr.fitting.distances import DISTANCES, tail_distance
from htsr.fitting.law_fit import LawSpec, refit_law, scan_laws
from htsr.inference import _resample as R
from htsr.models import registry

LN = stats.lognorm(s=0.8, scale=np.exp(1.0))  # the lognormal mu = 1, sigma = 0.8
XMIN = 2.0


def _ln_tail(n, seed):
    """n draws of the lognormal (1, 0.8) above XMIN (inversion with scipy), sorted."""
    u = np.random.default_rng(seed).random(n)
    return np.sort(LN.isf(u * LN.sf(XMIN)))


def _cond_cdf(z):
    return (LN.cdf(z) - LN.cdf(XMIN)) / LN.sf(XMIN)


def _distance(law, z, params, xmin, distance, discrete=False):
    with _jax.x64():
        return float(jax.jit(lambda z: tail_distance(registry.get(law), z, len(z), params, xmin, distance=distance,
                                                     discrete=discrete))(z))


@pytest.fixture(scope="module")
def tail():
    return np.concatenate([[XMIN], _ln_tail(199, 1)])  # the tail starts at its xmin, as in a scan


def test_ks_and_kuiper_match_scipy_and_numpy(tail):
    m = len(tail)
    F = _cond_cdf(tail)
    i = np.arange(1, m + 1)
    d_plus, d_minus = np.max(i / m - F), np.max(F - (i - 1) / m)
    ks = _distance("lognormal", tail, (1.0, 0.8), XMIN, "ks")
    assert ks == pytest.approx(stats.kstest(tail, _cond_cdf).statistic, rel=1e-10, abs=1e-12)
    assert _distance("lognormal", tail, (1.0, 0.8), XMIN, "kuiper") == pytest.approx(d_plus + d_minus, rel=1e-10)


def test_anderson_darling_matches_scipy(tail):
    """A^2 over the points above xmin (P > 0) against scipy's goodness_of_fit statistic on P(z) ~ U(0, 1)."""
    u = _cond_cdf(tail[tail > XMIN])
    ref = stats.goodness_of_fit(stats.uniform, u, known_params=dict(loc=0.0, scale=1.0), statistic="ad",
                                n_mc_samples=1, rng=0).statistic
    m = len(u)
    j = np.arange(1, m + 1)
    direct = -m - np.sum((2 * j - 1) * (np.log(u) + np.log1p(-u[::-1]))) / m
    got = _distance("lognormal", tail, (1.0, 0.8), XMIN, "ad")
    assert got == pytest.approx(ref, rel=1e-8) and got == pytest.approx(direct, rel=1e-8)


def test_reweighted_ks_matches_its_definition(tail):
    """D* = max |S - P| / sqrt(P (1 - P)) over both sides of each jump with 0 < P < 1 (Clauset et al. 3.3)."""
    m = len(tail)
    F = _cond_cdf(tail)
    i = np.arange(1, m + 1)
    ok = (F > 0) & (F < 1)
    w = np.sqrt(F[ok] * (1 - F[ok]))
    ref = max(np.max(np.abs(i[ok] / m - F[ok]) / w), np.max(np.abs((i[ok] - 1) / m - F[ok]) / w))
    assert _distance("lognormal", tail, (1.0, 0.8), XMIN, "reweighted_ks") == pytest.approx(ref, rel=1e-10)


def test_discrete_ks_is_the_supremum_over_integers():
    """Discrete laws: the sup over every integer k >= xmin of |S(k) - P(X <= k)|, brute force."""
    rng = np.random.default_rng(3)
    z = np.sort(np.floor(rng.exponential(6.0, 150)) + 3.0)
    law = registry.get("exponential")
    ks = np.arange(3.0, z.max() + 1)
    with _jax.x64():
        P = np.asarray(law.cdf(ks, (0.15,), 3.0, discrete=True))
    S = np.searchsorted(z, ks, side="right") / len(z)
    assert _distance("exponential", z, (0.15,), 3.0, "ks", discrete=True) == pytest.approx(np.max(np.abs(S - P)),
                                                                                            abs=1e-8)
    V = np.max(S - P) + np.max(P - np.r_[0.0, S[:-1]].clip(0))  # D- just before each value
    assert _distance("exponential", z, (0.15,), 3.0, "kuiper", discrete=True) >= np.max(np.abs(S - P))
    assert _distance("exponential", z, (0.15,), 3.0, "kuiper", discrete=True) <= V + 1e-12


def _glued(n, seed, t=4.0, mu=1.0, sigma=0.6, lam=0.05):
    """A nearly flat exponential body on (0, t) and a steep lognormal tail above t, the density continuous at t."""
    rng = np.random.default_rng(seed)
    ln = stats.lognorm(s=sigma, scale=np.exp(mu))
    a = lam * np.exp(-lam * t) / -np.expm1(-lam * t)  # body density at t, per unit body mass
    b = ln.pdf(t) / ln.sf(t)  # tail density at t, per unit tail mass
    nt = rng.binomial(n, a / (a + b))  # continuity: (1 - q) a = q b
    tail = ln.isf(rng.random(nt) * ln.sf(t))
    body = -np.log1p(rng.random(n - nt) * np.expm1(-lam * t)) / lam
    return np.concatenate([body, tail]), nt


def test_lognormal_scan_finds_the_glued_threshold():
    """Recorded (n = 2,000, seeds 0-4): xmin = 3.86, 3.36, 3.63, 3.58, 4.32 for the true 4; median within 15%."""
    found = []
    for seed in range(5):
        x, n_true = _glued(2000, seed)
        f = htsr.fit_model(x, "lognormal", xmin="scan")
        assert f.xmin_scanned and f.scan.chosen == f.xmin and f.D == pytest.approx(np.nanmin(f.scan.D))
        found.append(f.xmin)
    assert abs(np.median(found) / 4.0 - 1) < 0.15, found
    d = f.to_dict()
    assert d["distance"] == "ks" and d["xmin_scanned"] is True


def test_full_scan_is_the_exact_argmin_and_grid_agrees():
    x = _ln_tail(120, 5)
    full = htsr.fit_model(x, "lognormal", xmin="scan", grid=None)
    assert len(full.scan.D) == full.scan.xmin.size and np.nanargmin(full.scan.D) == np.argmax(full.scan.xmin ==
                                                                                              full.xmin)
    coarse = htsr.fit_model(x, "lognormal", xmin="scan", grid=20)
    assert coarse.D >= full.D - 1e-15 and len(coarse.scan.D) < len(full.scan.D)


@pytest.mark.parametrize("name", scan_laws())
def test_gof_and_bootstrap_run_for_every_registered_law(name):
    """Every law of the registry (new ones included): fit at a fixed xmin, its GoF and bootstrap."""
    discrete = bool(getattr(registry.get(name), "discrete_only", False))
    base = np.floor(_ln_tail(150, 7) * 3) if discrete else _ln_tail(150, 7)
    f0 = htsr.fit_model(base, name, xmin=float(base[0]), discrete=discrete)
    law = registry.get(name)
    params = tuple(f0.params[k] for k in law.param_names)
    with _jax.x64():  # data from the fitted law itself (the sampler the test uses, compiled once)
        x = R.law_tail_rows(jax.random.split(jax.random.PRNGKey(0), 1), law, params, f0.xmin, n=150,
                            discrete=discrete)[0]
    f = htsr.fit_model(x, name, xmin=f0.xmin, discrete=discrete)
    assert np.allclose(f.pointwise.sum(), f.loglik, rtol=1e-9)
    g = htsr.gof(f, reps=16, seed=1)
    assert g.procedure == "fixed-range" and g.D_sim.shape == (16,) and 0 <= g.p <= 1 and np.isfinite(g.D)
    assert g.to_dict()["model"] == name
    b = htsr.bootstrap(f, reps=16, seed=1, jackknife_groups=16)
    assert b.params == (*law.param_names, "xmin", "n_tail")
    assert np.all(b.draws["xmin"] == f.xmin)


def test_default_power_law_path_unchanged():
    x = _ln_tail(300, 9)
    a, b = htsr.gof(x, reps=8, seed=2), htsr.gof(x, reps=8, seed=2, model="power_law", distance="ks")
    assert np.array_equal(a.D_sim, b.D_sim) and a.p == b.p and "model" not in a.to_dict()


def test_gof_is_calibrated_and_has_power():
    """40 samples x 50 replicates at a fixed xmin: the p-values of the true law are uniform
    (recorded: KS D = 0.12, p_KS = 0.57, mean p 0.467, P(p < 0.1) = 0.15); a power law
    (300 points) tested as an exponential is rejected (recorded: p = 0, 0, 0)."""
    ps = []
    for s in range(40):
        ps.append(htsr.gof(_ln_tail(200, 100 + s), model="lognormal", xmin=XMIN, reps=50, seed=s).p)
    ks = stats.kstest(ps, "uniform")
    assert ks.pvalue > 0.01, (ks, ps)
    assert 0.3 < np.mean(ps) < 0.7
    rng = np.random.default_rng(11)
    for s in range(3):  # a power law (alpha = 2.5) above xmin = 2, 300 points, tested as a lognormal and exponential
        x = XMIN * (1 - rng.random(300)) ** (-1 / 1.5)
        assert htsr.gof(x, model="exponential", xmin=XMIN, reps=50, seed=s).p < 0.05


def test_bootstrap_of_a_law_is_reproducible_and_covers():
    x = _ln_tail(300, 21)
    a = htsr.bootstrap(x, model="lognormal", xmin=XMIN, reps=64, seed=3, jackknife_groups=8)
    b = htsr.bootstrap(x, model="lognormal", xmin=XMIN, reps=64, seed=3, jackknife_groups=8)
    assert np.array_equal(a.draws["mu"], b.draws["mu"])
    # the bootstrap standard error of sigma agrees with the Fisher one (same sampling distribution)
    assert a.standard_error["sigma"] == pytest.approx(a.fit.se["sigma"], rel=0.35)
    assert set(a.to_dict()) >= {"mu", "sigma", "xmin", "n_tail", "model"}


@pytest.mark.parametrize("bad, match", [
    (dict(distance="cramer"), "distance"),
    (dict(model="lognormal", xmin="abc"), "xmin"),
    (dict(model="lognormal", method="bounded"), "method"),
    (dict(model="nope"), "unknown model"),
])
def test_bad_options_are_refused(bad, match):
    with pytest.raises(FitError, match=match):
        htsr.gof(_ln_tail(50, 0), reps=2, **bad)


def test_ad_refused_for_discrete_data():
    with pytest.raises(FitError, match="continuous"):
        LawSpec("exponential", discrete=True, distance="ad").checked()
    assert set(DISTANCES) == {"ks", "kuiper", "ad", "reweighted_ks"}


def test_engine_refits_a_batch_like_single_fits():
    rows = np.stack([_ln_tail(120, s) for s in range(3)])
    spec = LawSpec("lognormal", xmin=XMIN).checked()
    batch = refit_law(_jax.padded(rows, np.full(3, 120)), spec)
    one = htsr.fit_model(rows[1], "lognormal", xmin=XMIN)
    assert batch.params[1] == pytest.approx([one.params["mu"], one.params["sigma"]], rel=1e-8)
    assert batch.D[1] == pytest.approx(one.D, rel=1e-10)


def test_options_that_would_be_ignored_are_errors():
    """fit_model's scan options without xmin='scan', and another law or distance for a fit
    already made, raise instead of being ignored; a compare() fit (its tail alone) refuses a
    semi-parametric test, which needs the body."""
    x = _ln_tail(300, 3)
    with pytest.raises(htsr.FitError, match="apply to xmin='scan'"):
        htsr.fit_model(x, "lognormal", xmin_range=(2, 5))
    f = htsr.fit_model(x, "lognormal", xmin=XMIN)
    with pytest.raises(htsr.FitError, match="cannot be tested as model='exponential'"):
        htsr.gof(f, model="exponential", reps=4)
    with pytest.raises(htsr.FitError, match="refit with htsr.fit_model"):
        htsr.gof(f, distance="ad", reps=4)
    tail_only = htsr.compare(x, "power_law", "lognormal", xmin=XMIN).model2
    with pytest.raises(htsr.FitError, match="needs the whole sample"):
        htsr.gof(tail_only, reps=4, procedure="semi-parametric")
