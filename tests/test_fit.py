"""The Clauset power-law fit: known answers, published tables, and the exact scan."""

import warnings

import numpy as np
import pytest
from conftest import pareto
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import htsr


def brute_force(x, discrete=False):
    """plfit.m, transcribed literally (continuous and discrete), for small samples.

    Returns (xmin, alpha, D) of the candidate with the smallest D.
    """
    from scipy import optimize, special

    x = np.sort(np.asarray(x, float))
    best = (None, None, np.inf)
    for xmin in np.unique(x)[:-1]:
        z = x[x >= xmin]
        n = len(z)
        if discrete:
            nll = lambda a: a * np.sum(np.log(z)) + n * np.log(special.zeta(a, xmin))  # noqa: E731
            a = optimize.minimize_scalar(nll, bounds=(1.0001, 50), method="bounded",
                                         options={"xatol": 1e-10}).x
            k = np.arange(xmin, z[-1] + 1)
            fit = np.cumsum(k**-a) / special.zeta(a, xmin)
            cdi = np.cumsum(np.bincount((z - xmin).astype(int), minlength=len(k))) / n
            d = np.max(np.abs(fit - cdi))
        else:
            a = 1 + n / np.sum(np.log(z / xmin))
            cx = np.arange(n) / n
            cf = 1 - (xmin / z) ** (a - 1)
            d = np.max(np.abs(cf - cx))
        if d < best[2]:
            best = (xmin, a, d)
    return best


# --------------------------------------------------------------- known answers
def test_fixed_xmin_continuous_closed_form():
    x = np.array([1.0, 1.2, 1.5, 2.0, 3.0, 5.0, 8.0, 13.0])
    r = htsr.fit(x, xmin=1.5)
    z = x[x >= 1.5]
    a = 1 + len(z) / np.sum(np.log(z / 1.5))
    assert r.alpha == pytest.approx(a, rel=1e-14)
    assert r.sigma == pytest.approx((a - 1) / np.sqrt(len(z)), rel=1e-14)
    assert r.n_tail == 6 and r.n == 8 and r.xmax == 13.0
    cf = 1 - (1.5 / z) ** (a - 1)
    assert r.D == pytest.approx(np.max(np.abs(cf - np.arange(6) / 6)), rel=1e-12)
    u = htsr.fit(x, xmin=1.5, estimator="unbiased")
    assert u.alpha == pytest.approx(1 + 5 / np.sum(np.log(z / 1.5)), rel=1e-14)


def test_fixed_xmin_between_data_points():
    """A user-given xmin need not be observed; D is measured from it."""
    x = np.array([1.0, 2.0, 3.0, 5.0, 8.0, 13.0])
    r = htsr.fit(x, xmin=2.5)
    z = x[x >= 2.5]
    a = 1 + len(z) / np.sum(np.log(z / 2.5))
    cf = 1 - (2.5 / z) ** (a - 1)
    assert r.D == pytest.approx(np.max(np.abs(cf - np.arange(len(z)) / len(z))), rel=1e-12)


def test_fixed_xmin_discrete_matches_brute_force_D():
    rng = np.random.default_rng(5)
    x = np.floor(pareto(rng, 2.5, 400, 1.0))
    r = htsr.fit(x, xmin=3, discrete=True)
    from scipy import special

    z = x[x >= 3]
    k = np.arange(3, z.max() + 1)
    fit = np.cumsum(k**-r.alpha) / special.zeta(r.alpha, 3)
    cdi = np.cumsum(np.bincount((z - 3).astype(int), minlength=len(k))) / len(z)
    assert r.D == pytest.approx(np.max(np.abs(fit - cdi)), rel=1e-9)


@pytest.mark.parametrize("seed", range(4))
def test_scan_matches_literal_plfit_continuous(seed):
    rng = np.random.default_rng(seed)
    x = np.concatenate([rng.uniform(0.1, 1, 100), pareto(rng, 2.0 + seed / 2, 200)])
    x = np.round(x, 2)  # ties included
    xmin, alpha, D = brute_force(x)
    r = htsr.fit(x)
    assert r.xmin == xmin
    assert r.alpha == pytest.approx(alpha, rel=1e-12)
    assert r.D == pytest.approx(D, rel=1e-9)


@pytest.mark.parametrize("seed", range(3))
def test_scan_matches_literal_plfit_discrete(seed):
    rng = np.random.default_rng(10 + seed)
    x = np.concatenate([rng.integers(1, 5, 80), np.floor(pareto(rng, 2.2 + seed / 3, 250, 3.0))])
    xmin, alpha, D = brute_force(x, discrete=True)
    r = htsr.fit(x, discrete=True)
    assert r.xmin == xmin
    assert r.alpha == pytest.approx(alpha, abs=1e-6)
    assert r.D == pytest.approx(D, abs=1e-7)


# ------------------------------------------------- pruned scan == exhaustive
@pytest.mark.parametrize(
    "kind", ["pareto", "lognormal", "ties", "exponential", "mixture", "discrete", "discrete-ties"]
)
def test_pruned_scan_equals_exhaustive(kind):
    rng = np.random.default_rng(42)
    n = 3000
    discrete = kind.startswith("discrete")
    x = {
        "pareto": lambda: pareto(rng, 2.5, n),
        "lognormal": lambda: rng.lognormal(0, 2, n),
        "ties": lambda: np.round(pareto(rng, 1.7, n), 1),
        "exponential": lambda: rng.exponential(1, n),
        "mixture": lambda: np.concatenate([rng.lognormal(0, 1, n // 2), pareto(rng, 3.0, n // 2, 3)]),
        "discrete": lambda: np.floor(pareto(rng, 2.1, n, 1.0)),
        "discrete-ties": lambda: rng.geometric(0.05, n).astype(float),
    }[kind]()
    fast = htsr.fit(x, discrete=discrete)
    slow = htsr.fit(x, discrete=discrete, exhaustive=True)
    assert fast.xmin == slow.xmin
    assert fast.alpha == pytest.approx(slow.alpha, rel=1e-10)
    assert fast.D == slow.D
    assert fast.n_evaluated < slow.n_evaluated == slow.n_candidates
    curve = fast.ks_curve()
    assert curve.xmin[np.argmin(curve.D)] == fast.xmin
    assert np.min(curve.D) == fast.D


# ------------------------------------------------------- agreement: powerlaw
@pytest.mark.parametrize("alpha, n, seed", [(1.6, 2000, 0), (2.5, 3000, 1), (3.5, 2000, 2), (2.2, 5000, 3)])
def test_agrees_with_powerlaw_package(alpha, n, seed):
    powerlaw = pytest.importorskip("powerlaw")
    rng = np.random.default_rng(seed)
    # a non-power-law body below a power-law tail, continuous and without ties
    x = np.concatenate([rng.uniform(0.2, 1.0, n // 3), pareto(rng, alpha, n - n // 3)])
    assert len(np.unique(x)) == len(x)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = powerlaw.Fit(x, parameter_ranges={"alpha": [1, 10]}, verbose=0)
    r = htsr.fit(x)
    assert r.xmin == ref.xmin
    assert r.alpha == pytest.approx(ref.alpha, rel=1e-8)
    assert r.D == pytest.approx(ref.D, rel=1e-8)
    assert r.sigma == pytest.approx(ref.sigma, rel=1e-8)


# -------------------------------------------- Clauset et al. 2009, Table 6.1
# (dataset, scale, discrete, xmin, alpha to published digits, digits, n_tail)
TABLE_6_1 = [
    ("words.txt", 1, True, 7, 1.95, 2, 2958),
    ("terrorism.txt", 1, True, 12, 2.4, 1, 547),
    ("blackouts.txt", 1e-3, False, 230, 2.3, 1, 59),
    ("cities.txt", 1e-3, False, 52.46, 2.37, 2, 580),
    ("flares.txt", 1, False, 323, 1.79, 2, 1711),
    # published n_tail is 211, but the shipped data has 521 points >= 6324 (see docs/fitting.md)
    ("fires.txt", 1, False, 6324, 2.2, 1, 521),
]


@pytest.mark.parametrize("name, scale, discrete, xmin, alpha, digits, n_tail", TABLE_6_1,
                         ids=[row[0] for row in TABLE_6_1])
def test_clauset_table_6_1(reference, name, scale, discrete, xmin, alpha, digits, n_tail):
    r = htsr.fit(reference(name, scale), discrete=discrete)
    assert round(r.xmin, 2) == xmin
    assert round(r.alpha, digits) == alpha
    assert r.n_tail == n_tail


# ------------------------------------------------------------------ options
def continuous_ks_curve(x):
    """plfit.m's continuous scan, transcribed: (xmin, D, n_tail) for every candidate."""
    x = np.sort(np.asarray(x, float))
    cands = np.unique(x)[:-1]
    D, nt = np.empty(len(cands)), np.empty(len(cands), int)
    for i, xmin in enumerate(cands):
        z = x[x >= xmin]
        n = len(z)
        a = 1 + n / np.sum(np.log(z / xmin))
        D[i] = np.max(np.abs(1 - (xmin / z) ** (a - 1) - np.arange(n) / n))
        nt[i] = n
    return cands, D, nt


def test_xmin_range_and_candidates_and_min_tail():
    """Each restriction gives the smallest D of a literal plfit scan over the allowed candidates."""
    rng = np.random.default_rng(3)
    x = np.concatenate([rng.uniform(0.1, 1, 300), pareto(rng, 2.5, 700)])
    xm, D, nt = continuous_ks_curve(x)

    def best(allowed):
        i = np.flatnonzero(allowed)[np.argmin(D[allowed])]
        return xm[i], D[i]

    for r, allowed in [
        (htsr.fit(x), np.ones(len(xm), bool)),
        (htsr.fit(x, xmin_range=(2.0, 5.0)), (xm >= 2) & (xm <= 5)),
        (htsr.fit(x, min_tail=900), nt >= 900),
    ]:
        xmin, d = best(allowed)
        assert r.xmin == xmin and r.D == pytest.approx(d, rel=1e-9)
    assert 2.0 <= htsr.fit(x, xmin_range=(2.0, 5.0)).xmin <= 5.0
    cands = np.sort(x)[[10, 400, 600]]
    r = htsr.fit(x, xmin_candidates=cands)
    xmin, d = best(np.isin(xm, cands))
    assert r.n_candidates == 3 and r.xmin == xmin and r.D == pytest.approx(d, rel=1e-9)
    assert htsr.fit(x, min_tail=900).n_tail >= 900


def test_discrete_auto_is_explicit():
    x = np.floor(pareto(np.random.default_rng(1), 2.5, 500))
    assert htsr.fit(x).discrete is False
    assert htsr.fit(x, discrete="auto").discrete is True
    assert htsr.fit(x + 0.5, discrete="auto").discrete is False
    assert htsr.fit(x, discrete=np.True_).discrete is True
    with pytest.raises(htsr.FitError, match="True or False"):
        htsr.fit_many([x, x], discrete="auto")


def test_unbiased_estimator_is_unbiased():
    """E[1 + (n-1)/S] = alpha exactly for a pure power law (S ~ Gamma(n, alpha-1))."""
    rng = np.random.default_rng(0)
    est = [htsr.fit(pareto(rng, 2.5, 20), xmin=1.0, estimator="unbiased").alpha for _ in range(400)]
    mle = [htsr.fit(pareto(rng, 2.5, 20), xmin=1.0).alpha for _ in range(400)]
    sem = np.std(est) / np.sqrt(len(est))
    assert abs(np.mean(est) - 2.5) < 3 * sem
    assert np.mean(mle) - 2.5 > 0.04  # the MLE's bias (alpha-1)/(n-1) = 0.079 at n=20


def test_result_object():
    r = htsr.fit(pareto(np.random.default_rng(2), 2.5, 500))
    d = r.to_dict()
    for key in ("alpha", "xmin", "xmax", "n", "n_tail", "D", "sigma", "discrete", "method"):
        assert key in d
    assert isinstance(d["n"], int) and isinstance(d["alpha"], float) and d["method"] == "clauset"
    with pytest.raises(AttributeError):
        r.alpha = 3.0
    assert "alpha=" in repr(r) and "xmin=" in repr(r)
    assert np.all(r.tail >= r.xmin) and len(r.tail) == r.n_tail


# ------------------------------------------------------------------ batches
def test_fit_many_matches_individual_fits():
    rng = np.random.default_rng(8)
    samples = [pareto(rng, a, n) for a, n in [(2.0, 300), (2.5, 1000), (3.0, 77), (1.8, 2500)]]
    many = htsr.fit_many(samples)
    for s, m in zip(samples, many):
        one = htsr.fit(s)
        assert (m.xmin, m.n_tail) == (one.xmin, one.n_tail)
        assert m.alpha == pytest.approx(one.alpha, rel=1e-13)
    # padded array + counts
    X = np.zeros((4, 2500))
    for b, s in enumerate(samples):
        X[b, : len(s)] = s
    padded = htsr.fit_many(X, counts=[len(s) for s in samples])
    assert [p.xmin for p in padded] == [m.xmin for m in many]
    discrete = htsr.fit_many([np.floor(s) for s in samples], discrete=True)
    assert discrete[1].xmin == htsr.fit(np.floor(samples[1]), discrete=True).xmin


def test_fit_padded_many_rows_in_groups():
    """More rows than one kernel group holds: results equal row-by-row fits."""
    rng = np.random.default_rng(9)
    X = np.sort(pareto(rng, 2.5, (70, 4000)), axis=1)
    b = htsr.fitting.fit_padded(X, np.full(70, 4000))
    for i in (0, 33, 69):
        r = htsr.fit(X[i])
        assert b.xmin[i] == r.xmin and b.alpha[i] == pytest.approx(r.alpha, rel=1e-13)


# --------------------------------------------------------------- properties
# Values on a logarithmic grid 10^(k/100), 1 to 1e14: ties are possible, but distinct
# values differ by at least 2.3%.  Closer distinct values make the property false in
# floating point, not in the scan: values one ulp apart can merge under rescaling, and a
# tail spanning a relative 1e-6 has alpha ~ 1e6, so last-bit changes in log(c x) move D
# at the 1e-9 level (both found by hypothesis on unrestricted floats).
grid_values = st.lists(st.integers(0, 1400), min_size=5, max_size=60).filter(lambda v: len(set(v)) >= 3)


@settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(grid_values, st.sampled_from([0.001, 0.5, 3.0, 1024.0]), st.randoms(use_true_random=False))
def test_scaling_and_permutation(ks, c, rnd):
    x = 10.0 ** (np.array(ks) / 100.0)
    base = htsr.fit(x)
    perm = x.copy()
    rnd.shuffle(perm)
    p = htsr.fit(perm)
    assert (p.xmin, p.alpha, p.D) == (base.xmin, base.alpha, base.D)
    s = htsr.fit(c * x)
    if s.xmin != pytest.approx(c * base.xmin, rel=1e-12):
        # only a tie in D (to rounding) may move the argmin under rescaling
        assert abs(s.D - base.D) < 1e-9
    else:
        assert s.alpha == pytest.approx(base.alpha, rel=1e-9)
        assert s.D == pytest.approx(base.D, rel=1e-9, abs=1e-12)
