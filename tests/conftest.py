"""Shared test fixtures.

Compiled kernels are cached per process by JAX, so tests that use the same
padded sizes share them; the persistent cache makes a second run cheaper still.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import htsr

htsr.enable_compilation_cache()


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
