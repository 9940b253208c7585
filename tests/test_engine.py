"""The engine under every fit: padding, the spec, refit, the fixed-range fit and the Monte Carlo loop.

Answers come from outside the engine: closed-form MLEs and KS distances written
out with NumPy, root finding with SciPy, the laws' own samplers called with the
stream's keys, and htsr.fit on each synthetic sample.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import optimize

import htsr
from htsr import _jax, streams
from htsr.errors import FitError
from htsr.fitting import FitSpec, fit_padded, refit
from htsr.fitting.fixed_range import fit_range
from htsr.fitting.refit import fixed_range_replicates, run_batches
from htsr.fitting.spec import spec_from_options

from conftest import pareto


@pytest.fixture(scope="module")
def sample():
    rng = np.random.default_rng(21)
    return np.sort(np.concatenate([rng.uniform(0.2, 1.0, 150), pareto(rng, 2.4, 600)]))


def _continuous_d(tail, alpha, xmin):
    """plfit.m's D: max |1 - (xmin/z_i)^(alpha-1) - i/n| over the sorted tail."""
    fitted = 1.0 - (xmin / tail) ** (alpha - 1.0)
    return np.max(np.abs(fitted - np.arange(len(tail)) / len(tail)))


# ------------------------------------------------------------------ padding
def test_pad_batch_rules():
    x = np.array([[1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0]])
    last = _jax.pad_batch(x, [2, 3], width=6)
    np.testing.assert_array_equal(last, [[1, 2, 2, 2, 2, 2], [5, 6, 7, 7, 7, 7]])
    first = _jax.pad_batch(x, [2, 3], width=5, fill="first")
    np.testing.assert_array_equal(first, [[1, 2, 1, 1, 1], [5, 6, 7, 5, 5]])
    zero = _jax.pad_batch(x, [1, 2], width=4, fill=0.0)
    np.testing.assert_array_equal(zero, [[1, 0, 0, 0], [5, 6, 0, 0]])
    window = _jax.pad_batch(x, [2, 1], start=[1, 3], width=3)
    np.testing.assert_array_equal(window, [[2, 3, 3], [8, 8, 8]])
    assert _jax.pad_batch(x, [4, 4]).shape == (2, _jax.bucket(4)) == (2, 64)


def test_integer_padding_never_goes_through_float():
    big = 2**53 + 1  # not representable in float64
    idx = np.array([[big, big + 2, 0]], dtype=np.int64)
    out = _jax.pad_batch(idx, [2], width=5, dtype=np.int64)
    assert out.dtype == np.int64
    assert out.tolist() == [[big, big + 2, big + 2, big + 2, big + 2]]


def test_pad_rows_is_a_padded_batch():
    p = _jax.pad_rows([np.array([3.0, 4.0, 5.0]), np.array([1.0, 2.0])])
    assert isinstance(p, _jax.Padded)
    assert p.counts.tolist() == [3, 2] and p.x.shape == (2, 64)
    assert p.x[1, 1:].tolist() == [2.0] * 63


def test_bucket_floor():
    assert _jax.bucket(10) == 64 and _jax.bucket(10, minimum=4096) == 4096
    assert _jax.bucket(5000, minimum=4096) == _jax.bucket(5000) == 5120


# ------------------------------------------------------------------ the spec
def test_spec_from_options_normalises_and_refuses():
    s = spec_from_options(dict(method="bounded", xmax=None, xmin_candidates=np.array([1, 2])))
    assert (s.xmax_rule, s.xmax, s.xmin_candidates) == ("max", None, (1.0, 2.0))
    assert spec_from_options(dict(method="bounded", xmax="search")).xmax_rule == "search"
    assert spec_from_options(dict(method="bounded", xmax=7)).xmax == 7.0
    with pytest.raises(FitError, match="no xmax"):
        spec_from_options(dict(xmax=3.0))
    with pytest.raises(FitError, match="takes no xmax"):
        FitSpec(method="bounded", xmax=3.0, xmax_rule="max").checked()
    with pytest.raises(FitError, match="both"):
        spec_from_options(dict(min_tail=5), spec=FitSpec())


def test_for_sample_settles_auto():
    s = spec_from_options(dict(discrete="auto"))
    assert s.discrete == "auto"
    assert s.for_sample(np.array([1.0, 2.0, 5.0])).discrete is True
    assert s.for_sample(np.array([1.0, 2.5])).discrete is False
    grid = spec_from_options(dict(discrete="auto", alpha_grid="plfit"))
    with pytest.raises(FitError, match="alpha_grid"):
        grid.for_sample(np.array([1.5, 2.5]))


# ------------------------------------------------------------------ refit and the fixed-range fit
def test_fixed_xmin_fit_is_the_closed_form(sample):
    xmin = 1.3
    tail = sample[sample >= xmin]
    r = htsr.fit(sample, xmin=xmin)
    alpha = 1.0 + len(tail) / np.sum(np.log(tail / xmin))
    assert r.alpha == pytest.approx(alpha, rel=1e-13)
    assert r.sigma == pytest.approx((alpha - 1.0) / np.sqrt(len(tail)), rel=1e-13)
    assert r.D == pytest.approx(_continuous_d(tail, alpha, xmin), abs=1e-14)
    u = htsr.fit(sample, xmin=xmin, estimator="unbiased")
    assert u.alpha == pytest.approx(1.0 + (len(tail) - 1) / np.sum(np.log(tail / xmin)), rel=1e-13)
    assert u.D == r.D  # D is that of the MLE


def test_refit_of_resamples_is_the_single_fit(sample):
    """A fixed-xmin fit and the refit of a batch take the same path: row by row, the same numbers."""
    rng = np.random.default_rng(3)
    rows = np.sort(rng.choice(sample, (6, len(sample))), axis=1)
    for fit in (htsr.fit(sample, xmin=1.3), htsr.fit(sample, xmin=1.3, method="bounded"),
                htsr.fit(sample, xmin=1.3, method="bounded", xmax=9.0), htsr.fit(sample)):
        batch = refit(_jax.pad_rows(list(rows)), fit.spec)
        for b in (0, 5):
            one = htsr.fit(rows[b], spec=fit.spec)
            assert (batch.xmin[b], batch.n_tail[b], batch.xmax[b]) == (one.xmin, one.n_tail, one.xmax)
            assert batch.alpha[b] == pytest.approx(one.alpha, rel=1e-14)
            assert batch.D[b] == pytest.approx(one.D, rel=1e-14)


def test_bounded_fixed_xmin_conditions_on_the_maximum(sample):
    """xmax = the largest value, xmin given: alpha solves the bounded likelihood equation
    from every point but the maximum, on [xmin, max]."""
    xmin = 1.3
    tail = sample[sample >= xmin]
    r = htsr.fit(sample, xmin=xmin, method="bounded")
    t = np.log(tail[:-1] / xmin)
    rr = np.log(tail[-1] / xmin)

    def mean_t(alpha):  # E[ln(x/xmin)] of the bounded law on [xmin, xmax]
        lam = alpha - 1.0
        return 1.0 / lam - rr / np.expm1(lam * rr)

    alpha = optimize.brentq(lambda a: mean_t(a) - t.mean(), 1.0 + 1e-6, 10.0, xtol=1e-14)
    assert r.alpha == pytest.approx(alpha, rel=1e-9)
    assert r.xmax == tail[-1] and r.n_tail == len(tail)


def test_fit_range_refuses_nothing_and_masks_short_rows():
    x = np.array([[1.0, 1.5, 3.0, 9.0], [2.0, 2.0, 2.0, 2.0]])
    out = refit(_jax.padded(x, np.array([4, 4])), FitSpec(xmin=1.0).checked())
    assert np.isfinite(out.alpha[0]) and np.isnan(out.alpha[1]) and np.isnan(out.D[1])
    assert out.n_candidates.tolist() == [1, 0] and out.n_tail.tolist() == [4, 4]
    direct = fit_range(_jax.pad_rows([x[0]]), 1.0)
    assert direct.alpha[0] == out.alpha[0] and direct.D[0] == out.D[0]


def test_fit_padded_per_row_xmax_equals_single_fits(sample):
    rows = np.stack([sample, sample * 1.5])
    xmax = np.array([8.0, 14.0])
    batch = fit_padded(rows, np.full(2, len(sample)), method="bounded", xmax=xmax)
    for b in range(2):
        one = htsr.fit(rows[b], method="bounded", xmax=float(xmax[b]))
        assert (batch.xmin[b], batch.n_tail[b], batch.xmax[b]) == (one.xmin, one.n_tail, one.xmax)
        assert batch.alpha[b] == pytest.approx(one.alpha, rel=1e-14)
        assert batch.D[b] == pytest.approx(one.D, rel=1e-14)
    with pytest.raises(FitError, match="no xmax"):
        fit_padded(rows, np.full(2, len(sample)), xmax=3.0)


def test_hand_made_fit_has_no_curve(sample):
    r = htsr.fit(sample)
    assert len(r.ks_curve().D) == r.n_candidates
    bare = htsr.fitting.PowerLawFit(alpha=2.0, xmin=1.0, xmax=5.0, n=10, n_tail=5, D=0.1, sigma=0.1,
                                     discrete=False, method="clauset")
    with pytest.raises(TypeError, match="htsr.fit"):
        bare.ks_curve()


# ------------------------------------------------------------------ the Monte Carlo loop
def test_run_batches_does_not_depend_on_the_batch_size():
    x = np.sort(pareto(np.random.default_rng(4), 2.5, 300))

    def make_rows(start, stop):
        return np.sort(x[np.asarray([np.random.default_rng(r).integers(0, 300, 300) for r in range(start, stop)])],
                       axis=1)

    def fit_rows(rows):
        return refit(_jax.padded(rows, np.full(len(rows), 300)), FitSpec())

    calls = []
    a = run_batches(11, make_rows, fit_rows, lambda done, total: calls.append((done, total)), batch=4)
    b = run_batches(11, make_rows, fit_rows, batch=16)
    assert calls == [(0, 11), (4, 11), (8, 11), (11, 11)]
    assert type(a).__name__ == "BatchFit" and len(a.alpha) == 11
    for field in ("alpha", "xmin", "D", "n_tail"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))


@pytest.mark.parametrize("opts", [dict(xmin=1.3), dict(xmin=1.3, method="bounded"),
                                  dict(xmin=1.3, method="bounded", xmax=9.0)])
def test_fixed_range_replicates_are_the_law_sampled_with_the_stream(sample, opts):
    """Replicate r: n_tail draws of the fitted law with the stream's key r, refitted by htsr.fit."""
    fit = htsr.fit(sample, **opts)
    sims = fixed_range_replicates(fit, lambda a, b: streams.keys(9, "gof", a, b), 5)
    for r in (0, 4):
        draws = np.sort(fit.sample(streams.keys(9, "gof", r, r + 1)[0], fit.n_tail))
        one = htsr.fit(draws, spec=fit.spec)
        assert sims.D[r] == pytest.approx(one.D, rel=1e-13) and sims.alpha[r] == pytest.approx(one.alpha, rel=1e-13)
    g = htsr.gof(fit, reps=5, seed=9)
    assert g.procedure == "fixed-range"
    np.testing.assert_allclose(g.D_sim, sims.D, rtol=1e-13)


def test_range_search_p_is_a_fixed_range_test_on_its_stream():
    rng = np.random.default_rng(8)
    tail = (1.0 - rng.random(800) * (1.0 - 100.0**-0.5)) ** -2.0  # alpha 1.5 on [1, 100], by inversion
    x = np.concatenate([rng.uniform(0.1, 1.0, 100), tail, 100.0 * (1 - rng.random(30)) ** (-1 / 4.0)])
    f = htsr.fit(x, method="bounded", xmax="search")
    k = f.n_evaluated - 1  # the index of the chosen range among those visited
    reps = f.range_search.reps
    D = []
    for r in range(reps):
        draws = np.sort(f.sample(streams.keys(0, "range_search", r, r + 1, k)[0], f.n_tail))
        D.append(htsr.fit(draws, spec=f.spec).D)
    assert f.range_search.p == np.mean(np.array(D) >= f.D)
    assert f.range_search.p >= f.range_search.p_threshold
