"""The plfit-compatible alpha grid (``alpha_grid``): Clauset's integer-data procedure.

plfit.m / plpva.m maximise the discrete likelihood over alpha in 1.50:0.01:3.50.
These tests check the grid maximiser against a brute-force one, the whole scan
against a literal transcription of plfit.m's INTS branch, and that the
goodness-of-fit refits use the grid too.
"""

import numpy as np
import pytest
from scipy import optimize, special

import htsr
from htsr import _jax
from htsr.errors import FitError
from htsr.fitting import refit
from htsr.inference import gof
from htsr.models import powerlaw as pl

from conftest import pareto

GRID = np.array(pl.PLFIT_ALPHA_GRID)


def literal_plfit_ints(x, vec=GRID):
    """plfit.m, integer branch, transcribed: grid MLE per candidate, D over xmin..max.

    ``vec=None``: the exact MLE instead (the likelihood maximised by scipy over alpha).
    """
    x = np.sort(np.asarray(x, float))
    best = (None, None, np.inf)
    for xmin in np.unique(x)[:-1]:
        z = x[x >= xmin]
        if vec is None:
            s, n = np.sum(np.log(z)), len(z)
            a = optimize.minimize_scalar(lambda t, s=s, n=n, q=xmin: t * s + n * np.log(special.zeta(t, q)),
                                         bounds=(1.0001, 50.0), method="bounded", options={"xatol": 1e-10}).x
        else:
            L = -vec * np.sum(np.log(z)) - len(z) * np.log(special.zeta(vec, xmin))
            a = vec[np.argmax(L)]
        k = np.arange(xmin, z[-1] + 1)
        fit = np.cumsum(k**-a) / special.zeta(a, xmin)
        cdi = np.cumsum(np.bincount((z - xmin).astype(int), minlength=len(k))) / len(z)
        d = np.max(np.abs(fit - cdi))
        if d < best[2]:
            best = (xmin, a, d)
    return best


def grid_argmax(x, xmin, vec):
    """The grid point of largest exact discrete likelihood (scipy's Hurwitz zeta), tail x >= xmin."""
    z = x[x >= xmin]
    return vec[np.argmax(-vec * np.sum(np.log(z)) - len(z) * np.log(special.zeta(vec, xmin)))]


def test_plfit_grid_constant():
    assert len(GRID) == 201 and GRID[0] == 1.5 and GRID[-1] == 3.5
    assert np.allclose(np.diff(GRID), 0.01)


@pytest.mark.parametrize("alpha", [1.3, 1.75, 2.0, 2.64, 3.2, 4.5])
def test_grid_mle_is_the_grid_argmax(alpha):
    """Inside the grid, the best grid point; outside, the nearer end."""
    rng = np.random.default_rng(int(alpha * 100))
    for xmin in (1.0, 4.0):
        z = np.floor(pareto(rng, alpha, 400, xmin))
        mean = np.mean(np.log(z))
        with _jax.x64():
            exact = float(pl.discrete_mle(mean, xmin))
            snapped = float(pl.discrete_grid_mle(exact, mean, xmin, GRID))
        L = -GRID * mean - np.log(special.zeta(GRID, xmin))
        assert snapped == GRID[np.argmax(L)]
        assert abs(snapped - np.clip(exact, 1.5, 3.5)) <= 0.01


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_scan_matches_literal_plfit_ints(seed):
    rng = np.random.default_rng(40 + seed)
    x = np.concatenate([rng.integers(1, 6, 150), np.floor(pareto(rng, 1.8 + 0.4 * seed, 300, 3.0))])
    xmin, alpha, D = literal_plfit_ints(x)
    for exhaustive in (False, True):
        r = htsr.fit(x, discrete=True, alpha_grid="plfit", exhaustive=exhaustive)
        assert (r.xmin, r.alpha) == (xmin, alpha)
        assert r.D == pytest.approx(D, rel=1e-10, abs=1e-14)


def test_words_plfit_numbers(reference):
    """Clauset et al. Table 6.1, words: xmin = 7, n_tail = 2958 and plfit's alpha 1.95 (a grid
    point).  Both scans are checked against numpy/scipy transcriptions of plfit.m over
    all 272 candidates: the grid one (as plfit.m) and the exact-MLE one."""
    x = reference("words.txt")
    r = htsr.fit(x, discrete=True, alpha_grid="plfit")
    exact = htsr.fit(x, discrete=True)
    assert (r.xmin, r.n_tail, round(r.alpha, 2)) == (7.0, 2958, 1.95)  # published
    g_xmin, g_alpha, g_D = literal_plfit_ints(x)
    assert (r.xmin, r.alpha) == (g_xmin, g_alpha) and r.D == pytest.approx(g_D, rel=1e-9)
    e_xmin, e_alpha, e_D = literal_plfit_ints(x, vec=None)
    assert exact.xmin == e_xmin == 7.0 and exact.n_tail == 2958
    assert exact.alpha == pytest.approx(e_alpha, abs=1e-6) and exact.D == pytest.approx(e_D, abs=1e-8)
    # the grid point is 0.0027 off the MLE, which raises D by 13%
    assert abs(exact.alpha - r.alpha) < 0.005 and r.D > 1.1 * exact.D
    fixed = htsr.fit(x, discrete=True, xmin=7, alpha_grid="plfit")
    assert fixed.alpha == grid_argmax(x, 7.0, GRID) and fixed.D == pytest.approx(g_D, rel=1e-9)


def test_words_published_p_value_with_the_plfit_grid(reference):
    """Table 6.1 publishes p = 0.49 for words (2,500 replicates of plpva.m).

    With plpva's alpha grid the semi-parametric p reproduces it; the exact MLE
    gives about 0.68 (docs/uncertainty.md).  400 replicates: se ~ 0.025.
    """
    fit = htsr.fit(reference("words.txt"), discrete=True, alpha_grid="plfit")
    g = gof(fit, reps=400, seed=0)
    tol = 2 * np.sqrt(g.p_se**2 + 0.49 * 0.51 / 2500)
    assert abs(g.p - 0.49) <= tol, (g.p, tol)


def test_refits_use_the_grid():
    rng = np.random.default_rng(7)
    x = np.concatenate([rng.integers(1, 4, 100), np.floor(pareto(rng, 2.3, 300, 3.0))])
    fit = htsr.fit(x, discrete=True, alpha_grid="plfit")
    rows = np.sort(np.stack([rng.choice(x, len(x)) for _ in range(6)]), axis=1)
    for fixed in (False, True):
        spec = (fit if not fixed else htsr.fit(x, discrete=True, xmin=fit.xmin, alpha_grid="plfit")).spec
        out = refit(_jax.pad_rows(list(rows)), spec)  # the bootstrap's refit
        a = out.alpha[np.isfinite(out.alpha)]
        assert a.size and np.all(np.isin(np.round(a, 10), np.round(GRID, 10)))
    assert fit.spec.alpha_grid == pl.PLFIT_ALPHA_GRID


def test_custom_grid_and_outside_alpha():
    rng = np.random.default_rng(3)
    x = np.floor(pareto(rng, 4.2, 500, 2.0))
    r = htsr.fit(x, discrete=True, xmin=2, alpha_grid="plfit")
    assert r.alpha == 3.5 == grid_argmax(x, 2.0, GRID)  # the MLE (~4.2) is beyond plfit's grid: clamped
    custom = np.arange(2.0, 6.0001, 0.5)
    r2 = htsr.fit(x, discrete=True, xmin=2, alpha_grid=custom)
    assert r2.alpha == grid_argmax(x, 2.0, custom) and r2.alpha in (4.0, 4.5)


@pytest.mark.parametrize("kwargs, match", [
    (dict(discrete=False), "discrete power law"),
    (dict(discrete=True, method="bounded"), "method='clauset'"),
    (dict(discrete=True, alpha_grid="matlab"), "'plfit'"),
    (dict(discrete=True, alpha_grid=[2.0, 1.9]), "increasing"),
    (dict(discrete=True, alpha_grid=[1.0, 2.0]), "> 1"),
    (dict(discrete=True, alpha_grid=[[2.0, 3.0]]), "1-D"),
    (dict(discrete=True, alpha_grid=[]), "non-empty"),
    (dict(discrete=True, alpha_grid=[2.0, np.nan]), "finite"),
])
def test_bad_alpha_grid(kwargs, match):
    kwargs = dict(dict(alpha_grid="plfit"), **kwargs)
    x = np.array([1, 1, 2, 3, 5, 8, 13, 21], float)
    with pytest.raises(FitError, match=match):
        htsr.fit(x, **kwargs)
