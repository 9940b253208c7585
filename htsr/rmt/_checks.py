"""Argument validation shared by the RMT modules (errors name the argument)."""

from __future__ import annotations

import math
import numbers

import numpy as np

from ..errors import DataError, HtsrError

__all__ = ["check_Q", "check_positive", "resolve_shape", "check_batch", "finite_array"]


def _is_real(x) -> bool:
    return isinstance(x, numbers.Real) and not isinstance(x, bool)


def check_Q(Q, name: str = "Q") -> float:
    """Aspect ratio Q = N/M as a float >= 1."""
    if not _is_real(Q) or not math.isfinite(Q):
        raise HtsrError(f"{name} must be a finite real number >= 1, got {Q!r}")
    if Q < 1:
        raise HtsrError(
            f"{name} = N/M must be >= 1 (transpose the matrix so that N >= M), got {Q!r}"
        )
    return float(Q)


def check_positive(x, name: str) -> float:
    """A finite real number > 0."""
    if not _is_real(x) or not math.isfinite(x) or x <= 0:
        raise HtsrError(f"{name} must be a finite real number > 0, got {x!r}")
    return float(x)


def _check_int(x, name: str, minimum: int) -> int:
    if isinstance(x, bool) or not isinstance(x, numbers.Integral) or x < minimum:
        raise HtsrError(f"{name} must be an integer >= {minimum}, got {x!r}")
    return int(x)


def resolve_shape(M, Q=None, N=None) -> tuple[int, int]:
    """(N, M) from M and exactly one of Q (N = round(Q M)) or N; requires N >= M."""
    M = _check_int(M, "M", 1)
    if (Q is None) == (N is None):
        raise HtsrError("give exactly one of Q (so that N = round(Q*M)) or N")
    if Q is not None:
        Q = check_Q(Q)
        N = int(round(Q * M))
    else:
        N = _check_int(N, "N", 1)
        if N < M:
            raise HtsrError(f"N must be >= M (generators return tall N x M matrices), got N={N}, M={M}")
    return N, M


def check_batch(batch) -> int | None:
    if batch is None:
        return None
    return _check_int(batch, "batch", 1)


def finite_array(x, name: str, *, min_ndim: int = 0, max_ndim: int | None = None) -> np.ndarray:
    """A float64 NumPy array with no NaN or inf (DataError otherwise)."""
    if isinstance(x, (str, bytes)):
        raise DataError(f"{name} must be numbers, not a string")
    try:
        arr = np.asarray(x)
    except (TypeError, ValueError) as exc:
        raise DataError(f"{name} could not be read as an array of numbers: {exc}") from None
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == np.bool_):
        raise DataError(f"{name} must be real numbers, got dtype {arr.dtype}")
    if np.iscomplexobj(arr):
        raise DataError(f"{name} must be real, got complex dtype {arr.dtype}")
    if arr.ndim < min_ndim or (max_ndim is not None and arr.ndim > max_ndim):
        want = f"{min_ndim}" if max_ndim == min_ndim else f"{min_ndim} to {max_ndim}"
        raise DataError(f"{name} must have {want} dimensions, got shape {arr.shape}")
    if arr.size == 0:
        raise DataError(f"{name} is empty (shape {arr.shape})")
    bad = ~np.isfinite(arr)
    if bad.any():
        raise DataError(f"{name} contains {int(bad.sum())} NaN or infinite value(s) out of {arr.size}")
    return arr
