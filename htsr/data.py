"""Validation and coercion of every input, in one place.

Everything a user hands to htsr passes through here before it reaches a
kernel.  The rules:

* The input must be a non-empty, one-dimensional collection of real numbers.
  Anything else is a :class:`~htsr.errors.DataError` that says what was wrong.
* NaN and +-inf are errors, never silently dropped: the message says how many
  there are and where the first ones are.
* A power-law tail lives on x > 0.  Non-positive values (the exact zeros of a
  rank-deficient spectrum, for example) are **dropped with a**
  :class:`~htsr.errors.DataAlteredWarning` that states how many.
* With ``discrete=True`` every value must be an integer.
"""

from __future__ import annotations

import io
import sys
import warnings
from pathlib import Path

import numpy as np

from .errors import DataAlteredWarning, DataError

__all__ = ["as_sample", "load_values"]


def _where(mask: np.ndarray, limit: int = 5) -> str:
    idx = np.flatnonzero(mask)
    shown = ", ".join(str(int(i)) for i in idx[:limit])
    more = f", ... ({len(idx) - limit} more)" if len(idx) > limit else ""
    return f"at index {shown}{more}"


def as_sample(
    data,
    *,
    discrete: bool = False,
    min_points: int = 2,
    name: str = "data",
    stacklevel: int = 3,
) -> np.ndarray:
    """Validate ``data`` and return it as a sorted float64 array of positive values.

    Parameters
    ----------
    data : array_like
        One-dimensional real values.
    discrete : bool
        Require integer values.
    min_points : int
        Fewest positive values accepted.
    name : str
        How the input is called in error messages.

    Returns
    -------
    numpy.ndarray
        Sorted, float64, strictly positive.

    Raises
    ------
    DataError
        Non-numeric, not one-dimensional, empty, NaN/inf, non-integer values
        with ``discrete=True``, or fewer than ``min_points`` positive values.
    """
    if isinstance(data, (str, bytes)):
        raise DataError(f"{name} must be numbers, not a string")
    try:
        arr = np.asarray(data)
    except (TypeError, ValueError) as exc:  # ragged nested lists and the like
        raise DataError(f"{name} could not be read as an array of numbers: {exc}") from None
    if arr.dtype == object or not (
        np.issubdtype(arr.dtype, np.number) or arr.dtype == np.bool_
    ):
        try:
            arr = arr.astype(np.float64)
        except (TypeError, ValueError):
            raise DataError(f"{name} contains non-numeric values (dtype {arr.dtype})") from None
    if np.iscomplexobj(arr):
        raise DataError(f"{name} must be real numbers, got complex values")
    arr = np.asarray(arr, dtype=np.float64)
    if arr.ndim == 0:
        arr = arr.reshape(1)
    if arr.ndim != 1:
        raise DataError(f"{name} must be one-dimensional, got shape {arr.shape}")
    if arr.size == 0:
        raise DataError(f"{name} is empty")
    nan = np.isnan(arr)
    if nan.any():
        raise DataError(f"{name} contains {int(nan.sum())} NaN value(s) {_where(nan)}")
    inf = np.isinf(arr)
    if inf.any():
        raise DataError(f"{name} contains {int(inf.sum())} infinite value(s) {_where(inf)}")
    if discrete:
        frac = arr != np.round(arr)
        if frac.any():
            raise DataError(
                f"discrete=True but {name} has {int(frac.sum())} non-integer value(s) {_where(frac)}"
            )
    nonpos = arr <= 0
    if nonpos.any():
        k = int(nonpos.sum())
        if k == arr.size:
            raise DataError(f"{name} has no positive values (all {k} are <= 0)")
        warnings.warn(
            f"dropped {k} non-positive value(s) of {arr.size} ({100.0 * k / arr.size:.3g}%) "
            f"from {name}: a power-law tail lives on x > 0",
            DataAlteredWarning,
            stacklevel=stacklevel,
        )
        arr = arr[~nonpos]
    if arr.size < min_points:
        raise DataError(f"{name} has {arr.size} positive value(s); at least {min_points} are needed")
    arr = np.sort(arr)
    if arr[0] == arr[-1]:
        raise DataError(f"{name} is constant (every value is {arr[0]:g}); a power law cannot be fitted")
    return arr


def load_values(source: str | Path) -> np.ndarray:
    """Read numbers from a file: ``.npy``, or text with one or more numbers per line.

    Text may be separated by whitespace and/or commas; blank lines and lines
    starting with ``#`` are ignored.  ``"-"`` reads text from standard input.

    Raises
    ------
    DataError
        Missing or unreadable file, no numbers in it, or a token that is not a number
        (the message gives the line and the token).
    """
    source = str(source)
    if source == "-":
        text = sys.stdin.read()
        return _parse_text(text, "<stdin>")
    path = Path(source)
    if not path.exists():
        raise DataError(f"no such file: {source}")
    if path.is_dir():
        raise DataError(f"{source} is a directory, not a data file")
    if path.suffix == ".npy":
        try:
            arr = np.load(path, allow_pickle=False)
        except (ValueError, OSError) as exc:
            raise DataError(f"{source} is not a readable .npy file: {exc}") from None
        if arr.size == 0:
            raise DataError(f"{source} holds an empty array")
        return np.asarray(arr).ravel()
    try:
        text = path.read_text()
    except UnicodeDecodeError:
        raise DataError(f"{source} is not a text file of numbers (and not .npy)") from None
    except OSError as exc:
        raise DataError(f"cannot read {source}: {exc.strerror}") from None
    return _parse_text(text, source)


def _parse_text(text: str, label: str) -> np.ndarray:
    values: list[float] = []
    for lineno, line in enumerate(io.StringIO(text), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        for token in line.replace(",", " ").split():
            try:
                values.append(float(token))
            except ValueError:
                raise DataError(f"{label}, line {lineno}: {token!r} is not a number") from None
    if not values:
        raise DataError(f"{label} contains no numbers")
    return np.asarray(values, dtype=np.float64)
