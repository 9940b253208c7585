"""What the speed-ups of intervals, compilation and calibration keep: the same numbers.

Each shortcut here is checked against the plain computation it replaces, to the bit.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from htsr import _jax, streams
from htsr.calibration import calibrate
from htsr.calibration.cells import run_cell
from htsr.calibration.grid import make_grid
from htsr.fitting import kernels as K
from htsr.fitting.prune import _smallest_per_row
from htsr.inference import _resample as R


@pytest.mark.parametrize("seed", range(5))
def test_smallest_per_row_dense_is_the_lexsort(seed):
    rng = np.random.default_rng(seed)
    for _ in range(40):
        B, P = int(rng.integers(2, 30)), int(rng.integers(1, 40))
        rows, cols = np.nonzero(rng.random((B, P)) < rng.random())
        key = rng.integers(0, 4, rows.size).astype(float)  # many ties: the earlier entry wins
        plain = _smallest_per_row(key.copy(), rows, B, 4)
        dense = _smallest_per_row(key.copy(), rows, B, 4, cols, P)
        np.testing.assert_array_equal(dense, plain)


@pytest.mark.parametrize("n", [1, 2, 64, 65, 379, 384, 1000])
def test_bucketed_resample_indices_are_randints(n):
    with _jax.x64():
        keys = streams.keys(11, "bootstrap", 0, 20)
        exact = np.asarray(jax.vmap(lambda k: jax.random.randint(k, (n,), 0, n))(keys))
        np.testing.assert_array_equal(np.asarray(R.resample_indices(keys, n=n)), exact)


def test_exact_width_gives_the_same_maximum():
    rng = np.random.default_rng(2)
    P = 2048
    x = np.sort(rng.pareto(1.5, (3, P)) + 1.0, axis=1)
    n = np.array([P, P - 7, 900], dtype=np.int32)
    with _jax.x64():
        lx, alpha = K.continuous_alpha(x, n)
        bs = jnp.asarray(np.repeat(np.arange(3), 4), dtype=jnp.int32)
        js = jnp.asarray(np.tile([0, 100, 700, 880], 3), dtype=jnp.int32)
        a, lxj, nt = alpha[bs, js][:, None], lx[bs, js][:, None], (jnp.asarray(n)[bs] - js)[:, None]

        def dev(pos):
            return K._cont_dev(lx[bs[:, None], jnp.minimum(js[:, None] + pos, P - 1)], lxj, a, pos, nt)

        whole = K.blocked_max(dev, nt, P, peak=True)
        steps = K.blocked_max(dev, nt, K.exact_width(P), peak=True)
    assert K.exact_width(P) < P
    np.testing.assert_array_equal(np.asarray(steps[0]), np.asarray(whole[0]))
    np.testing.assert_array_equal(np.asarray(steps[1]), np.asarray(whole[1]))


def test_calibrate_in_process_is_run_cell_per_cell():
    """The in-process study queues the next cells' replicates while fitting this one: same numbers."""
    ds = calibrate("pareto", mu=[1.5, 3.0], M=40, Q=2, reps=3, estimators=("clauset",), seed=5)
    grid = make_grid("pareto", mu=[1.5, 3.0], M=40, Q=2, reps=3, estimators=("clauset",), seed=5)
    for mu in (1.5, 3.0):
        ref = run_cell(grid, {"mu": mu, "M": 40, "Q": 2.0})
        got = ds["alpha_hat"].sel(mu=mu, M=40, Q=2.0, estimator="clauset").values
        np.testing.assert_array_equal(got, ref["alpha_hat"][0])
