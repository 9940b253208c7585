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
    """A plain-text copy of data set ``name`` ("words.txt") of :mod:`htsr.datasets`, for tools that read files."""
    import gzip
    import os
    import tempfile

    from htsr import datasets

    stem = name.split(".")[0]
    out = Path(tempfile.gettempdir()) / f"htsr-datasets-{os.getuid()}" / name
    if not out.exists():
        out.parent.mkdir(parents=True, exist_ok=True)
        with datasets.path(stem).open("rb") as fh:
            tmp = out.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_bytes(gzip.decompress(fh.read()))
            tmp.replace(out)  # atomic: parallel workers never see a half-written file
    return out


@pytest.fixture(scope="session")
def reference():
    """Loader for the datasets of Clauset et al. (2009), from :mod:`htsr.datasets`."""
    from htsr import datasets

    def load(name: str, scale: float = 1.0) -> np.ndarray:
        return datasets.load(name.split(".")[0]) * scale

    return load


def pareto(rng, alpha: float, n: int, xmin: float = 1.0) -> np.ndarray:
    """Continuous power-law sample with density ~ x^-alpha on x >= xmin."""
    return xmin * (1.0 - rng.random(n)) ** (-1.0 / (alpha - 1.0))
