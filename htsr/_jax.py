"""JAX set-up: float64 numerics, the persistent compilation cache, padding.

Float64 without touching the caller's JAX configuration
-------------------------------------------------------
htsr's statistics need float64, but flipping ``jax_enable_x64`` globally would
change the dtypes of the *user's* own JAX code.  Instead every public entry
point runs its kernels inside :func:`x64`, a thread-local context manager
(``jax.enable_x64``).  Arrays handed back to the caller are NumPy arrays, so no
float64 JAX array leaks into a float32 session.

Compilation cache
-----------------
:func:`enable_compilation_cache` points JAX's persistent cache at a directory
(``$HTSR_CACHE_DIR`` or ``~/.cache/htsr/jax``) so that a second process does
not pay the XLA compile again.  The ``htsr`` command calls it (it owns its
process); library users opt in by calling it themselves, because the cache
directory is a process-wide JAX setting.

Padding
-------
Kernels are compiled per input *shape*.  Samples are padded up to one of a few
bucket sizes (:func:`bucket`) and carry a validity mask, so a new sample
length reuses an existing compiled kernel.
"""

from __future__ import annotations

import os
from pathlib import Path

import jax
import numpy as np

__all__ = ["x64", "enable_compilation_cache", "bucket", "pad_rows"]

_MIN_BUCKET = 64


def x64():
    """Context manager under which JAX computes in float64 (thread-local)."""
    return jax.enable_x64(True)


def enable_compilation_cache(path: str | os.PathLike | None = None) -> Path:
    """Turn on JAX's persistent compilation cache for this process.

    Parameters
    ----------
    path : path-like, optional
        Cache directory. Defaults to ``$HTSR_CACHE_DIR`` or ``~/.cache/htsr/jax``.
        If the user has already configured a cache directory, it is kept.

    Returns
    -------
    pathlib.Path
        The directory in use.
    """
    current = jax.config.jax_compilation_cache_dir
    if current and path is None:
        return Path(current)
    if path is None:
        path = os.environ.get("HTSR_CACHE_DIR") or Path.home() / ".cache" / "htsr" / "jax"
    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError:  # read-only home: run without a persistent cache
        return path
    jax.config.update("jax_compilation_cache_dir", str(path))
    # htsr kernels compile in well under the default 1 s threshold; cache them all.
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
    return path


def bucket(n: int) -> int:
    """Smallest bucket size >= n.

    Buckets are 64 and then powers of two times 1, 1.25, 1.5 or 1.75, so at
    most ~25% of a padded array is padding and only a handful of shapes are
    ever compiled.
    """
    n = int(n)
    if n <= _MIN_BUCKET:
        return _MIN_BUCKET
    p = 1 << (n - 1).bit_length() - 1  # largest power of two < n
    for f in (5, 6, 7, 8):
        size = p * f // 4
        if size >= n:
            return size
    raise AssertionError("unreachable")


def pad_rows(rows: list[np.ndarray], size: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Stack 1-D sorted arrays into a (B, size) array, padding each row at the end.

    Padding repeats the row's last value so the padded rows stay sorted; the
    returned counts say how many entries of each row are real.
    """
    counts = np.array([len(r) for r in rows], dtype=np.int64)
    if size is None:
        size = bucket(int(counts.max()))
    out = np.empty((len(rows), size), dtype=np.float64)
    for k, r in enumerate(rows):
        out[k, : len(r)] = r
        out[k, len(r) :] = r[-1]
    return out, counts
