"""float64 without side effects; no recompilation for a new sample length."""

import jax
import jax.numpy as jnp
import numpy as np
from conftest import pareto

import htsr
from htsr._jax import bucket, pad_rows


def test_user_jax_config_untouched():
    assert not jax.config.jax_enable_x64
    r = htsr.fit(pareto(np.random.default_rng(0), 2.5, 300))
    assert isinstance(r.alpha, float)
    assert jnp.ones(3).dtype == jnp.float32  # the caller's default is still float32
    assert not jax.config.jax_enable_x64


def test_results_are_float64_precision():
    x = pareto(np.random.default_rng(1), 2.5, 500)
    r = htsr.fit(x, xmin=1.0)
    exact = 1 + len(x) / np.sum(np.log(x))
    assert abs(r.alpha - exact) < 1e-13  # float32 would be off by ~1e-6


def test_new_length_in_the_same_bucket_does_not_recompile():
    """JAX reports every trace through its public monitoring events: none for a new length in a
    bucket already compiled (and one for a function never traced, so the listener works)."""
    from jax import monitoring

    rng = np.random.default_rng(2)
    htsr.fit(pareto(rng, 2.5, 700))
    traced = []

    def listen(event, duration, **kwargs):
        if event == "/jax/core/compile/jaxpr_trace_duration":
            traced.append(event)

    monitoring.register_event_duration_secs_listener(listen)
    try:
        for n in (701, 730, 767):
            assert bucket(n) == bucket(700)
            htsr.fit(pareto(rng, 2.5, n))
        assert traced == []
        jax.jit(lambda v: v + 1.0)(jnp.ones(3))
        assert traced
    finally:
        monitoring.unregister_event_duration_listener(listen)


def test_buckets_and_padding():
    sizes = [bucket(n) for n in range(1, 5000)]
    assert all(b >= n for b, n in zip(sizes, range(1, 5000)))
    assert all(b <= max(64, 1.25 * n) + 1 for b, n in zip(sizes, range(1, 5000)))
    assert len(set(sizes)) < 30
    X, n = pad_rows([np.array([1.0, 2.0]), np.array([3.0, 4.0, 5.0])])
    assert X.shape == (2, 64) and n.tolist() == [2, 3]
    assert np.all(np.diff(X, axis=1) >= 0)


def test_import_htsr_does_not_load_heavy_optional_paths():
    """pandas, scipy.stats and scipy.linalg load only when a table, test or ESD needs them."""
    import subprocess
    import sys

    code = ("import sys, htsr; "
            "print([m for m in ('pandas', 'scipy.stats', 'scipy.linalg', 'matplotlib') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
