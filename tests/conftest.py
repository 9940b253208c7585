"""Shared test fixtures.

Compiled kernels are cached per process by JAX, so tests that use the same
padded sizes share them.

The pytest process itself runs without the persistent compilation cache: in two
full runs on this machine (2026-12-02), after about 85% of the suite, JAX
segfaulted while *reading* a cached executable (jax/_src/compilation_cache.py,
get_executable_and_time, in tests/test_spec.py's bootstrap), and never when the
same tests ran in smaller groups. The cause is not known. Subprocesses the tests
start (the CLI, notebook kernels, Dask workers) still get htsr's default, the
cache on, which tests/test_validation.py checks.
"""

from __future__ import annotations

from pathlib import Path

import os

import numpy as np
import pytest

_had = os.environ.get("HTSR_NO_COMPILATION_CACHE")
os.environ["HTSR_NO_COMPILATION_CACHE"] = "1"  # read once, when htsr._jax is first imported
import htsr  # noqa: E402
import htsr._jax  # noqa: E402,F401

if _had is None:  # children get the default again
    del os.environ["HTSR_NO_COMPILATION_CACHE"]
else:
    os.environ["HTSR_NO_COMPILATION_CACHE"] = _had


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
