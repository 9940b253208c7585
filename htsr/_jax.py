"""JAX set-up: float64 numerics, the persistent compilation cache, padding.

Float64 without touching the caller's JAX configuration
-------------------------------------------------------
htsr's statistics need float64, but flipping ``jax_enable_x64`` globally would
change the dtypes of the *user's* own JAX code.  Instead every public entry
point runs its kernels inside :func:`x64`, a thread-local context manager
(``jax.enable_x64``).  Arrays handed back to the caller are NumPy arrays, so no
float64 JAX array leaks into a float32 session.

Compilation cache (on by default)
---------------------------------
:func:`enable_compilation_cache` points JAX's persistent cache at a directory
(``$HTSR_CACHE_DIR`` or ``~/.cache/htsr/jax``) so that a second process does
not pay the XLA compile again.  It runs when this module is first imported
(that is, on the first fit, not on ``import htsr``), for the ``htsr`` command
and for library users alike: a fresh process running ``htsr.gof(x, reps=100)``
otherwise spends most of its time compiling (docs/benchmarks.md has the
numbers).  The cache directory is a process-wide JAX setting, so:

* a cache directory the user has configured already is kept, untouched;
* ``HTSR_NO_COMPILATION_CACHE=1`` in the environment turns the default off
  (``htsr.enable_compilation_cache()`` still turns it on explicitly);
* while it is on, JAX also caches the user's own compilations there, with the
  thresholds lowered to zero (htsr's kernels compile in well under JAX's
  default 1 s threshold).  Results are unaffected: the cache holds compiled
  programs, never numbers.

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

__all__ = ["x64", "enable_compilation_cache", "bucket", "pad_rows", "pad_batch"]

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
    stacked = np.zeros((len(rows), int(counts.max())), dtype=np.float64)
    for k, r in enumerate(rows):
        stacked[k, : len(r)] = r
    return pad_batch(stacked, counts, width=bucket(int(counts.max())) if size is None else size), counts


def pad_batch(x, counts, *, width: int | None = None, fill: str = "last") -> np.ndarray:
    """Pad a (B, P) batch of rows with ``counts`` real entries to a bucket width.

    Entries past ``counts[b]`` (and the new columns) are replaced by a real value
    of the row, so every padded entry is a valid point of the law being fitted
    (masked out of every sum): ``fill="last"`` repeats the last real value (rows
    stay sorted), ``"first"`` the first.  ``width`` defaults to
    ``bucket(P)``; this is the one padding rule of the kernels.
    """
    x = np.asarray(x, dtype=np.float64)
    counts = np.asarray(counts, dtype=np.int64)
    B, P = x.shape
    W = bucket(P) if width is None else int(width)
    if W < P:
        raise ValueError(f"width {W} is smaller than the batch's {P} columns")
    rows = np.arange(B)
    at = np.zeros(B, dtype=np.int64) if fill == "first" else np.maximum(counts, 1) - 1
    padded = np.pad(x, ((0, 0), (0, W - P)))
    return np.where(np.arange(W)[None, :] < counts[:, None], padded, x[rows, at][:, None])


def _default_cache() -> None:
    if os.environ.get("HTSR_NO_COMPILATION_CACHE", "").strip().lower() in ("1", "true", "yes", "on"):
        return
    enable_compilation_cache()


_default_cache()
