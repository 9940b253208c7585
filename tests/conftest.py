"""Shared test fixtures.

Compiled kernels are cached per process by JAX, so tests that use the same
padded sizes share them; the persistent cache makes a second run cheaper still.

Every compiled XLA executable keeps a few memory mappings until JAX's caches are
cleared. One pytest process running the whole suite reached the kernel's limit of
65,530 mappings (``vm.max_map_count``) at about 85% of the suite and segfaulted
inside XLA (compiling or loading a kernel in tests/test_spec.py); at 20% it
already held 29,000. So the caches are cleared after each test module
(:func:`_free_compiled_kernels`): kernels are shared within a module, and a
module that needs one again reads it from the persistent cache.
"""

from __future__ import annotations

import gc
from pathlib import Path

import numpy as np
import pytest

import htsr
from htsr._jax import enable_compilation_cache

enable_compilation_cache()


@pytest.fixture(autouse=True, scope="module")
def _free_compiled_kernels():
    yield
    import jax

    jax.clear_caches()
    gc.collect()


def reference_path(name: str) -> Path:
    import powerlaw

    return Path(powerlaw.__file__).parent / "reference_data" / name


@pytest.fixture(scope="session")
def reference():
    """Loader for the datasets of Clauset et al. (2009) shipped by `powerlaw`."""

    def load(name: str, scale: float = 1.0) -> np.ndarray:
        return np.loadtxt(reference_path(name)) * scale

    return load


def pareto(rng, alpha: float, n: int, xmin: float = 1.0) -> np.ndarray:
    """Continuous power-law sample with density ~ x^-alpha on x >= xmin."""
    return xmin * (1.0 - rng.random(n)) ** (-1.0 / (alpha - 1.0))
