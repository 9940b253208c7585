"""Large samples: memory that does not grow with the row length, and an exact
branch-and-bound D (htsr.fitting.search) checked against brute force.

Fits of 10^6 and 10^7 points are timed in docs/benchmarks.md, not here.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conftest import pareto

import htsr
from htsr import _jax
from htsr.errors import HtsrError
from htsr.fitting import bounded_kernels as BK
from htsr.fitting import kernels as K
from htsr.fitting import prune as R
from htsr.fitting import scan as S
from htsr.fitting import search as Q
from htsr.fitting import fit_padded

# ------------------------------------------------------------ memory per call
P_LARGE = _jax.bucket(2_000_000)
ROW_BYTES = 8 * P_LARGE


def _f64(*shape):
    return jax.ShapeDtypeStruct(shape, jnp.float64)


def _i32(*shape):
    return jax.ShapeDtypeStruct(shape, jnp.int32)


def _scan_calls():
    """Every kernel the scan calls on rows of length P_LARGE, with the shapes the scan gives it."""
    P, row = P_LARGE, _f64(1, P_LARGE)
    m0, (m1,), budget = S.CONTINUOUS_BOUNDS
    c1, cw = R.pairs_per_call(m1, budget), R.pairs_per_call(R.HINTS * 9, budget)
    levels = Q.plan_levels(P)
    H, E = levels.items[-1], R.exact_pairs(P)
    d0, (d1,), dbudget = S.DISCRETE_BOUNDS
    dc, dH, dE = R.pairs_per_call(d1, dbudget), S.DISCRETE_ITEMS[-1], R.exact_pairs(P, 1 << 13)
    disc = (row,) * 5 + (_i32(1),)
    return {
        "coarse bound": (K.continuous_lower_bound, (row, row, _i32(1), _i32(1, P)), {"m": m0}),
        "spread bound": (K.continuous_refined_bound, (row, row, _i32(1), _i32(c1), _i32(c1)), {"m": m1}),
        "window bound": (K.continuous_window_bound, (row, row, _i32(1), _i32(cw), _i32(cw), _i32(cw, R.HINTS)), {}),
        "block points": (K.continuous_block_points, (row, row, _i32(1)) + (_i32(H),) * 3 + (_i32(),),
                         {"f": levels.fanout}),
        "exact D": (K.continuous_exact_d, (row, row, _i32(1), _i32(E), _i32(E)), {}),
        "bounded coarse": (BK.continuous_lower_bound, (row, row, row, _i32(1), _i32(1, P)), {"m": m0}),
        "bounded exact D": (BK.continuous_exact_d, (row, row, row, _i32(1), _i32(E), _i32(E)), {}),
        "discrete coarse": (K.discrete_lower_bound, disc + (_i32(1, P),), {"m": d0}),
        "discrete spread": (K.discrete_refined_bound, disc + (_i32(dc), _i32(dc)), {"m": d1}),
        "discrete block points": (K.discrete_block_points, disc + (_i32(dH),) * 3 + (_i32(),), {"f": 8}),
        "discrete exact D": (K.discrete_exact_d, disc + (_i32(dE), _i32(dE)), {}),
    }


@pytest.mark.parametrize("name", list(_scan_calls()))
def test_no_kernel_allocates_pairs_times_row(name):
    """The scan once gathered a full row per (sample, candidate) pair, (chunk, P) per
    call, and bounds as (B, P, 64): gigabytes at P ~ 10^6.  Compiled for a row of 2e6
    points, no kernel needs scratch memory beyond a couple of rows and a fixed block."""
    fn, args, kw = _scan_calls()[name]
    with _jax.x64():
        temp = fn.lower(*args, **kw).compile().memory_analysis().temp_size_in_bytes
    assert temp < 2 * ROW_BYTES + 32 * 2**20, \
        f"{name}: {temp / 2**20:.0f} MiB of scratch for a {ROW_BYTES / 2**20:.0f} MiB row"


def test_pair_kernels_do_not_grow_with_the_row():
    """Bounds and branch-and-bound blocks of pairs use memory independent of P."""
    for name in ("spread bound", "window bound", "block points", "exact D"):
        fn, args, kw = _scan_calls()[name]
        with _jax.x64():
            temp = fn.lower(*args, **kw).compile().memory_analysis().temp_size_in_bytes
        assert temp < 32 * 2**20, (name, temp)


# ------------------------------------------------ branch and bound is exact
def _continuous_setup(x):
    X, n = _jax.pad_rows([np.sort(x)])
    n = n.astype(np.int32)
    lx, alpha = K.continuous_alpha(X, n)
    return S.continuous_scan_kernels(lx, alpha, n, X.shape[1]), lx, alpha, n


def _brute(lx, alpha, n, js):
    return np.concatenate([np.asarray(K.continuous_exact_d(lx, alpha, n, np.zeros(8, np.int32), js[s:s + 8]))
                           for s in range(0, len(js), 8)])


@pytest.fixture(scope="module")
def bnb_case():
    rng = np.random.default_rng(4)
    x = np.concatenate([rng.uniform(0.1, 1.0, 3000), pareto(rng, 2.3, 9000)])
    with _jax.x64():
        scan, lx, alpha, n = _continuous_setup(x)
        js = np.sort(rng.choice(int(n[0]) - 2, 64, replace=False)).astype(np.int32)
        D = _brute(lx, alpha, n, js)
    return scan, js, D


@pytest.mark.parametrize("max_items", [1 << 20, 16])
def test_branch_and_bound_equals_brute_force(bnb_case, max_items):
    scan, js, D = bnb_case
    bs = np.zeros_like(js)
    assert len(scan.levels.steps) >= 4  # the search really descends through levels
    with _jax.x64():
        value, exact, _ = Q.branch_and_bound(scan.points, scan.levels, bs, js, scan.last[bs],
                                             np.inf, max_items=max_items)
    assert exact.all()
    np.testing.assert_allclose(value, D, rtol=0, atol=1e-15)


def test_branch_and_bound_with_a_cap_and_hints(bnb_case):
    scan, js, D = bnb_case
    bs = np.zeros_like(js)
    cap = np.full(len(js), np.median(D))
    with _jax.x64():
        _, _, arg = Q.branch_and_bound(scan.points, scan.levels, bs[:4], js[:4], scan.last[bs[:4]], np.inf)
        hints = np.tile(np.r_[arg[:2], -1, -1], (len(js), 1))
        value, exact, _ = Q.branch_and_bound(scan.points, scan.levels, bs, js, scan.last[bs], cap, hints)
    assert np.array_equal(exact, D <= cap)
    np.testing.assert_allclose(value[exact], D[exact], rtol=0, atol=1e-15)
    assert np.all(value[~exact] > cap[~exact]) and np.all(value[~exact] <= D[~exact] + 1e-15)


@pytest.mark.parametrize("kind", ["pareto", "ties", "mixture", "discrete", "discrete-ties", "bounded",
                                  "bounded-discrete"])
def test_search_path_equals_exhaustive_on_small_samples(kind, monkeypatch):
    """The branch-and-bound path (used for rows longer than SEARCH_MIN_P), forced on
    3000 points of every kind of data: the exhaustive scan's xmin, alpha and D."""
    monkeypatch.setattr(R, "SEARCH_MIN_P", 64)
    rng = np.random.default_rng(42)
    n = 3000
    x = {
        "pareto": lambda: pareto(rng, 2.5, n),
        "ties": lambda: np.round(pareto(rng, 1.7, n), 1),
        "mixture": lambda: np.concatenate([rng.lognormal(0, 1, n // 2), pareto(rng, 3.0, n // 2, 3)]),
        "discrete": lambda: np.floor(pareto(rng, 2.1, n, 1.0)),
        "discrete-ties": lambda: rng.geometric(0.05, n).astype(float),
        "bounded": lambda: np.concatenate([rng.uniform(0.2, 1.0, n // 4), np.exp(rng.uniform(0, 4, n - n // 4))]),
        "bounded-discrete": lambda: np.floor(np.concatenate([rng.uniform(1, 4, n // 4),
                                                             np.exp(rng.uniform(1.5, 6, n - n // 4))])),
    }[kind]()
    opts = {"discrete": "discrete" in kind, "method": "bounded" if kind.startswith("bounded") else "clauset"}
    fast = htsr.fit(x, **opts)
    slow = htsr.fit(x, exhaustive=True, **opts)
    assert (fast.xmin, fast.D) == (slow.xmin, slow.D)
    assert fast.alpha == pytest.approx(slow.alpha, rel=1e-10)
    assert fast.n_evaluated < slow.n_evaluated


# ------------------------------------------- large fits against references
def _window(fit, x, k=60):
    u = np.unique(x)
    i = np.searchsorted(u, fit.xmin)
    return (u[max(i - k, 0)], u[min(i + k, len(u) - 2)])


@pytest.mark.parametrize("kind", ["continuous", "bounded", "discrete"])
def test_large_fit_matches_exhaustive_scan_near_its_xmin(kind):
    """At n = 2e5 (a deep search plan, hints, growing calls) the pruned scan's xmin
    is the exhaustive scan's over the 120 candidates around it."""
    rng = np.random.default_rng(9)
    n = 200_000
    body = rng.lognormal(0.0, 1.0, n // 4)
    opts = {"continuous": {}, "bounded": {"method": "bounded"}, "discrete": {"discrete": True}}[kind]
    if kind == "discrete":
        x = np.floor(np.concatenate([body * 300, pareto(rng, 1.8, n - n // 4, 1000.0)]))
    elif kind == "bounded":
        x = np.concatenate([body, np.exp(rng.uniform(np.log(3.0), np.log(300.0), n - n // 4))])
    else:
        x = np.concatenate([body, pareto(rng, 2.5, n - n // 4, 3.0)])
    fast = htsr.fit(x, **opts)
    lo, hi = _window(fast, x)
    near = htsr.fit(x, xmin_range=(lo, hi), **opts)
    slow = htsr.fit(x, xmin_range=(lo, hi), exhaustive=True, **opts)
    assert fast.xmin == near.xmin == slow.xmin
    assert fast.D == near.D == slow.D
    assert fast.alpha == pytest.approx(slow.alpha, rel=1e-10)
    assert fast.n_evaluated < 100 < fast.n_candidates


def test_large_fit_D_against_numpy():
    """The scan's D at its xmin, recomputed in NumPy (float64 throughout: an int32 /
    int32 division in JAX is float32, which once cost the bounded D six digits).
    The scan's D uses the alpha of its suffix sums, the fit reports alpha from
    direct sums: they agree to ~1e-12, hence the tolerance."""
    rng = np.random.default_rng(12)
    x = np.concatenate([rng.uniform(0.2, 1.0, 20_000), np.exp(rng.uniform(0.0, np.log(50.0), 80_000))])
    for fit in (htsr.fit(x), htsr.fit(x, method="bounded")):
        z = np.sort(x[x >= fit.xmin])
        t = np.log(z / fit.xmin)
        if fit.method == "bounded":  # conditional on the largest point: xmax = z[-1]
            lam, r = fit.alpha - 1.0, t[-1]
            F = np.expm1(-lam * t) / np.expm1(-lam * r)
        else:
            F = -np.expm1(-(fit.alpha - 1.0) * t)
        D = np.max(np.abs(F - np.arange(len(z)) / len(z)))
        assert fit.D == pytest.approx(D, rel=1e-9), fit.method


# ------------------------------------------------------------------ progress
def _rows(rng, k, n):
    return np.sort(np.stack([np.concatenate([rng.uniform(0, 1, n // 3), pareto(rng, 2.5, n - n // 3)])
                             for _ in range(k)]), axis=1)


@pytest.mark.parametrize("opts", [{}, {"discrete": True}, {"method": "bounded"}])
def test_progress_counts_every_candidate_once(opts):
    rng = np.random.default_rng(3)
    x = _rows(rng, 3, 3000)
    if opts.get("discrete"):
        x = np.floor(10 * x) + 1
    calls = []
    fit = fit_padded(x, np.full(3, 3000), progress=lambda done, total: calls.append((done, total)), **opts)
    done, total = np.array(calls).T
    assert np.all(np.diff(done) >= 0) and np.all(total == total[0])
    assert calls[-1][0] == calls[-1][1]
    if not opts:  # every distinct value but the largest is a candidate
        assert total[0] == sum(len(np.unique(r)) - 1 for r in x) == fit.n_candidates.sum()
    plain = fit_padded(x, np.full(3, 3000), **opts)
    assert np.array_equal(plain.xmin, fit.xmin) and np.array_equal(plain.D, fit.D)


def test_progress_true_is_silent_off_a_terminal(capsys):
    x = _rows(np.random.default_rng(1), 1, 2000)
    fit_padded(x, np.array([2000]), progress=True)
    fit_padded(x, np.array([2000]), progress=False)
    assert capsys.readouterr().err == ""


def test_progress_rejects_other_values():
    x = _rows(np.random.default_rng(1), 1, 500)
    with pytest.raises(HtsrError, match="progress"):
        fit_padded(x, np.array([500]), progress="yes")
