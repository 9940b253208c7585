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
  (:func:`enable_compilation_cache` still turns it on explicitly);
* while it is on, JAX also caches the user's own compilations there, with the
  thresholds lowered to zero (htsr's kernels compile in well under JAX's
  default 1 s threshold).  Results are unaffected: the cache holds compiled
  programs, never numbers.

Padding
-------
Kernels are compiled per input *shape*.  Samples are padded up to one of a few
bucket sizes (:func:`bucket`) and carry their counts of real entries
(:class:`Padded`), so a new sample length reuses an existing compiled kernel.
:func:`pad_batch` is the one padding rule of the package; :func:`pad_rows` and
:func:`padded` build on it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import NamedTuple

import jax
import numpy as np

__all__ = ["x64", "enable_compilation_cache", "bucket", "Padded", "pad_batch", "pad_rows", "padded"]

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


def bucket(n: int, minimum: int = _MIN_BUCKET) -> int:
    """Smallest bucket size >= n.

    Buckets are ``minimum`` (64 by default) and then powers of two times 1,
    1.25, 1.5 or 1.75, so at most ~25% of a padded array is padding and only a
    handful of shapes are ever compiled.  A larger ``minimum`` (a power of two)
    trades padding for fewer compilations over small sizes.
    """
    n = int(n)
    if n <= minimum:
        return int(minimum)
    p = 1 << (n - 1).bit_length() - 1  # largest power of two < n
    for f in (5, 6, 7, 8):
        size = p * f // 4
        if size >= n:
            return size
    raise AssertionError("unreachable")


class Padded(NamedTuple):
    """A batch of sorted samples padded to one width: what every kernel takes.

    Attributes
    ----------
    x : (B, W) array
        Row ``b`` holds its ``counts[b]`` real entries first; the rest repeat a
        real value of the row (:func:`pad_batch`), so padding is a valid point
        of the law being fitted and is masked out of every sum.
    counts : (B,) int64 array
        Real entries per row.
    """

    x: np.ndarray
    counts: np.ndarray


def pad_batch(x, counts, *, width: int | None = None, fill="last", start=None, dtype=np.float64) -> np.ndarray:
    """Pad a (B, P) batch of rows with ``counts`` real entries to a bucket width.

    Row ``b``'s real entries are ``x[b, start[b] : start[b] + counts[b]]``
    (``start`` defaults to 0); they come first in the result and every other
    entry is replaced by ``fill``: ``"last"`` repeats the last real value (rows
    stay sorted), ``"first"`` the first, a number is written as it is.  ``width``
    defaults to ``bucket(P)``.  ``dtype`` is the result's: index arrays keep an
    integer dtype (``dtype=np.int64``) and never pass through float64.  This is
    the one padding rule of the kernels.
    """
    x = np.asarray(x) if dtype is None else np.asarray(x, dtype=dtype)
    counts = np.asarray(counts, dtype=np.int64)
    B, P = x.shape
    W = bucket(P) if width is None else int(width)
    if start is not None:  # each row's window first
        cols = np.minimum(np.arange(W)[None, :] + np.asarray(start, dtype=np.int64)[:, None], P - 1)
        x, P = np.take_along_axis(x, cols, axis=1), W
    if B and W < counts.max():
        raise ValueError(f"width {W} is smaller than the batch's {int(counts.max())} real entries")
    if B == 1 and isinstance(fill, str):  # one row (the scan's index chunks): the same rule, fewer steps
        n = int(counts[0])
        out = np.empty((1, W), dtype=x.dtype)
        out[0, :n] = x[0, :n]
        out[0, n:] = x[0, 0 if fill == "first" else max(n, 1) - 1]
        return out
    if isinstance(fill, str):
        at = np.arange(B) * P
        value = x.reshape(-1).take(at if fill == "first" else at + np.maximum(counts, 1) - 1)
    else:
        value = np.full(B, fill, dtype=x.dtype)
    out = np.empty((B, W), dtype=x.dtype)
    out[...] = value[:, None]
    k = min(P, W)
    if B and counts.min() >= k:  # every row's first k entries are real
        out[:, :k] = x[:, :k]
    else:
        np.copyto(out[:, :k], x[:, :k], where=np.arange(k)[None, :] < counts[:, None])
    return out


def pad_rows(rows, size: int | None = None, *, fill="last", dtype=np.float64) -> Padded:
    """Stack 1-D rows of any lengths into a :class:`Padded` batch of width ``size``
    (default: the bucket of the longest row), padded by :func:`pad_batch`."""
    counts = np.array([len(r) for r in rows], dtype=np.int64)
    if len(rows) == 1 and counts[0]:
        stacked = np.asarray(rows[0])[None, :]
    else:
        stacked = np.zeros((len(rows), max(int(counts.max()), 1)), dtype=dtype)
        for k, r in enumerate(rows):
            stacked[k, : len(r)] = r
    width = bucket(int(counts.max())) if size is None else size
    return Padded(pad_batch(stacked, counts, width=width, fill=fill, dtype=dtype), counts)


def padded(x, counts, *, start=None, width: int | None = None) -> Padded:
    """The :class:`Padded` batch of the rows of ``x`` (B, P): row ``b``'s ``counts[b]``
    entries from ``start[b]`` (default 0), padded to ``width`` (default ``bucket(P)``)
    by :func:`pad_batch`."""
    counts = np.asarray(counts, dtype=np.int64)
    return Padded(pad_batch(x, counts, width=width, start=start), counts)


def _default_cache() -> None:
    if os.environ.get("HTSR_NO_COMPILATION_CACHE", "").strip().lower() in ("1", "true", "yes", "on"):
        return
    enable_compilation_cache()


_default_cache()
