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
* ``None`` (or None entries) is an error, not NaN.  A NumPy masked array has
  its masked entries **dropped with a** :class:`~htsr.errors.DataAlteredWarning`
  that states how many (a masked value is never fitted).
* A file holding a 2-D array (a weight matrix, say) is refused: its entries
  are not a sample of a spectrum.  An ``(n, 1)`` or ``(1, n)`` array is a
  sample.

Options (numbers, integers, choices) are checked here too, by the ``check_*``
functions, so that every error names the argument that was wrong; arrays that
are not a sample (a weight matrix, a stack of kernels) by :func:`as_array`.
"""

from __future__ import annotations

import io
import os
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from .errors import DataAlteredWarning, DataError, HtsrError

__all__ = ["as_sample", "as_array", "load_values", "check_int", "check_number", "check_ratio", "check_values",
           "check_bool", "check_level", "check_choice", "check_seed", "check_interval", "check_xmin", "check_tail",
           "select_tail", "check_output", "to_plain"]


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
    if data is None:
        raise DataError(f"{name} is None; pass a one-dimensional array of numbers")
    if isinstance(data, (str, bytes)):
        raise DataError(f"{name} must be numbers, not a string")
    if isinstance(data, np.ma.MaskedArray):
        data = _unmask(data, name, stacklevel + 1)
    try:
        arr = np.asarray(data)
    except (TypeError, ValueError) as exc:  # ragged nested lists and the like
        raise DataError(f"{name} could not be read as an array of numbers: {exc}") from None
    if arr.dtype == object:
        none = np.vectorize(lambda v: v is None, otypes=[bool])(arr) if arr.size else np.zeros(0, bool)
        if none.any():
            raise DataError(f"{name} contains {int(none.sum())} None value(s) "
                            f"{_where(none.ravel())}; every entry must be a number")
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
    _refuse_subnormal(arr, name)
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


def _refuse_subnormal(arr: np.ndarray, name: str) -> None:
    """Positive values below the smallest normal float64 (about 2.2e-308) are refused.

    They carry fewer significant bits, and the compiled kernels flush them to zero
    (XLA on CPU), so a fit would run on zeros: D = 0 at the smallest value and a wrong
    alpha, silently.  Rescaling them inside htsr would put xmin, xmax and the data of
    every result in units the user never gave; multiplying by a power of two is exact,
    so the message says which one makes every value normal.
    """
    tiny = np.finfo(np.float64).tiny
    sub = (arr > 0) & (arr < tiny)
    if not sub.any():
        return
    pos = arr[arr > 0]
    lo, hi = float(pos.min()), float(pos.max())
    # data * 2**shift: the smallest value near 1, the largest kept below 2**1000
    shift = min(-int(np.floor(np.log2(lo))), 1000 - int(np.ceil(np.log2(hi))))
    if np.ldexp(lo, shift) >= tiny:
        fix = (f"rescale it by a power of two, np.ldexp({name}, {shift}) (= {name} * 2**{shift}, exact in binary: "
               "alpha is unchanged, xmin and xmax scale by the same factor)")
    else:
        fix = f"its values span more than float64 holds at full precision; drop the values below {tiny:.3g}"
    raise DataError(
        f"{name} has {int(sub.sum())} subnormal value(s) of {arr.size} (positive but below {tiny:.3g}, the "
        f"smallest normal float64; smallest {lo:.3g}) {_where(sub)}: they have lost precision and the "
        f"compiled kernels treat them as zero; {fix}"
    )


def _unmask(data: np.ma.MaskedArray, name: str, stacklevel: int) -> np.ndarray:
    """Masked entries are dropped (never fitted), with a warning that says how many."""
    mask = np.ma.getmaskarray(data)
    if data.ndim != 1:
        raise DataError(f"{name} must be one-dimensional, got a masked array of shape {data.shape}")
    k = int(mask.sum())
    if k:
        warnings.warn(
            f"dropped {k} masked value(s) of {data.size} ({100.0 * k / data.size:.3g}%) from {name}",
            DataAlteredWarning,
            stacklevel=stacklevel + 1,
        )
    return np.asarray(data.data)[~mask]


def as_array(x, name: str, *, min_ndim: int = 0, max_ndim: int | None = None) -> np.ndarray:
    """``x`` as a NumPy array of real numbers, dtype kept, with ``min_ndim`` to ``max_ndim``
    dimensions (``None``: any) and no NaN or inf: a matrix, a stack of them, or an array of
    arguments, where :func:`as_sample` is for a one-dimensional sample.

    Raises
    ------
    DataError
        A string, non-numeric or complex values, the wrong number of dimensions, an empty
        array, NaN or inf (the message says how many).
    """
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
        if sum(d > 1 for d in arr.shape) > 1:
            raise DataError(
                f"{source} holds a {arr.ndim}-D array of shape {arr.shape}, not a 1-D sample; "
                "for the spectrum of a weight matrix compute its eigenvalues first "
                "(htsr.rmt.esd(W) in Python) and fit those"
            )
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


# ------------------------------------------------------------------ options
# Every public function checks its options here, at the boundary, so that a
# bad option is an HtsrError naming the argument, never a bare int()/float() error.
def _is_real_scalar(value) -> bool:
    return (not isinstance(value, (bool, np.bool_, str, bytes)) and np.ndim(value) == 0
            and isinstance(value, (int, float, np.integer, np.floating)))


def check_int(value, name: str, *, minimum: int | None = None, maximum: int | None = None,
              error=None) -> int:
    """``value`` as an int; an integer-valued float (``1000.0``) is accepted, bools are not."""
    error = error or HtsrError
    bound = "" if minimum is None else f" >= {minimum}"
    if not _is_real_scalar(value) or not np.isfinite(value) or int(value) != value:
        raise error(f"{name} must be an integer{bound}, got {value!r}")
    v = int(value)
    if minimum is not None and v < minimum:
        raise error(f"{name} must be an integer{bound}, got {value!r}")
    if maximum is not None and v > maximum:
        raise error(f"{name} must be an integer <= {maximum}, got {value!r}")
    return v


def check_number(value, name: str, *, positive: bool = False, minimum: float | None = None,
                 above: float | None = None, allow_none: bool = False, error=None) -> float | None:
    """``value`` as a finite float; ``positive``: > 0, ``minimum``: >= it, ``above``: > it;
    ``None`` passes when ``allow_none``."""
    error = error or HtsrError
    if value is None and allow_none:
        return None
    what = "a positive finite number" if positive else "a finite number"
    if not _is_real_scalar(value) or not np.isfinite(value) or (positive and value <= 0):
        raise error(f"{name} must be {what}, got {value!r}")
    if minimum is not None and value < minimum:
        raise error(f"{name} must be >= {minimum:g}, got {value!r}")
    if above is not None and value <= above:
        raise error(f"{name} must be > {above:g}, got {value!r}")
    return float(value)


def check_ratio(value, name: str = "Q", *, error=None) -> float:
    """An aspect ratio ``Q = N/M >= 1`` of an ``N x M`` matrix (a wide matrix is transposed first)."""
    error = error or HtsrError
    q = check_number(value, name, error=error)
    if q < 1:
        raise error(f"{name} must be >= 1 (Q = N/M with N >= M: transpose a wide matrix), got {value!r}")
    return q


def check_values(value, name: str, check, *, error=None) -> tuple:
    """One value or a sequence of values as a non-empty tuple of distinct values, each one
    passed through ``check(v)`` (which names ``name`` in its errors, e.g. :func:`check_number`)."""
    error = error or HtsrError
    if value is None or isinstance(value, (str, bytes)):
        raise error(f"{name} must be one value or a sequence of values, got {value!r}")
    if isinstance(value, (Iterator, set, frozenset)):  # NumPy would make them one object
        value = list(value)
    out = tuple(check(v) for v in np.atleast_1d(np.asarray(value, dtype=object)).ravel())
    if not out:
        raise error(f"{name} is empty: give at least one value")
    if len(set(out)) != len(out):
        raise error(f"{name} has repeated values: {list(out)}")
    return out


def check_level(value, name: str = "level", *, error=None) -> float:
    """An interval level (coverage) strictly between 0 and 1."""
    error = error or HtsrError
    level = check_number(value, name, error=error)
    if not 0 < level < 1:
        raise error(f"{name} must be in (0, 1), got {value!r}")
    return level


def check_bool(value, name: str, *, error=None) -> bool:
    """``value`` as a bool (Python or NumPy bool only: ``"yes"`` and ``1`` are refused)."""
    if not isinstance(value, (bool, np.bool_)):
        raise (error or HtsrError)(f"{name} must be True or False, got {value!r}")
    return bool(value)


def check_choice(value, name: str, choices, *, error=None) -> str:
    """``value`` if it is one of ``choices`` (strings)."""
    if not isinstance(value, str) or value not in choices:
        listed = ", ".join(repr(c) for c in choices)
        raise (error or HtsrError)(f"{name} must be one of {listed}, got {value!r}")
    return value


def check_seed(seed) -> int:
    """A non-negative integer seed below 2**63."""
    return check_int(seed, "seed", minimum=0, maximum=2**63 - 1)


def check_interval(value, name: str, *, error=None) -> tuple[float, float]:
    """``(low, high)`` with finite numbers, low <= high."""
    error = error or HtsrError
    try:
        lo, hi = value
    except (TypeError, ValueError):
        raise error(f"{name} must be a pair (low, high), got {value!r}") from None
    lo = check_number(lo, f"{name}[0]", error=error)
    hi = check_number(hi, f"{name}[1]", error=error)
    if not lo <= hi:
        raise error(f"{name} must be (low, high) with low <= high, got {value!r}")
    return lo, hi


def check_xmin(xmin, discrete: bool, *, error=None) -> float:
    """A positive finite xmin; an integer >= 1 for a discrete law."""
    error = error or HtsrError
    xmin = check_number(xmin, "xmin", positive=True, error=error)
    if discrete and (xmin != np.round(xmin) or xmin < 1):
        raise error(f"a discrete power law needs an integer xmin >= 1, got {xmin!r}")
    return xmin


def check_tail(tail: np.ndarray, what: str, *, error=None) -> None:
    """At least two distinct values in ``tail`` (sorted), or an error saying what ``what`` left."""
    if tail.size < 2 or tail[0] == tail[-1]:
        raise (error or HtsrError)(
            f"{what} leaves {tail.size} point(s) with {len(np.unique(tail))} distinct value(s) "
            "in the tail; at least two distinct values are needed to fit alpha"
        )


def select_tail(x: np.ndarray, xmin: float, xmax: float | None = None, *, what: str | None = None,
                error=None) -> np.ndarray:
    """The points of the sorted sample ``x`` in ``[xmin, xmax]`` (``xmax=None``: no upper end),
    checked by :func:`check_tail` (``what`` names the range in the error; default from the ends)."""
    hi = np.inf if xmax is None else xmax
    lo_i, hi_i = np.searchsorted(x, xmin, side="left"), np.searchsorted(x, hi, side="right")
    tail = x[lo_i:hi_i]
    if what is None:
        what = f"xmin={xmin:g}" + ("" if xmax is None else f", xmax={xmax:g}")
    check_tail(tail, what, error=error)
    return tail


def check_output(path, name: str, *, folder: bool = False, create: bool = False, error=None) -> Path:
    """Make sure ``path`` can be written, before any work is done: a result is never
    computed only to be lost to a bad output path.

    Refused, with one line naming ``name``: a file where a folder is needed (or a
    folder where a file is), a path under a regular file, a place that cannot be
    written to.  Missing folders are fine: the nearest existing one must be
    writable, and they are created now with ``create`` (``path`` itself when
    ``folder``, else its parent) or by the writer when it writes, so that an
    error in between leaves no empty folder behind.
    """
    error = error or HtsrError
    path = Path(path)
    where = path if folder else path.parent
    if folder and path.exists() and not path.is_dir():
        raise error(f"{name} {str(path)!r} is a file, not a folder")
    if not folder and path.is_dir():
        raise error(f"{name} {str(path)!r} is a folder; give a file name")
    above = next((a for a in (where, *where.parents) if a.exists()), Path("."))
    if not above.is_dir():
        raise error(f"cannot write {name} {str(path)!r}: {str(above)!r} is a file, not a folder")
    if not os.access(above, os.W_OK | os.X_OK) or (not folder and path.exists() and not os.access(path, os.W_OK)):
        raise error(f"cannot write {name} {str(path)!r}: permission denied")
    if create:
        try:
            where.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise error(f"cannot create the folder {str(where)!r} for {name}: {exc.strerror or exc}") from None
    return path


def to_plain(value):
    """JSON-safe plain Python values: NumPy scalars unwrapped, NaN/inf as None (strict JSON
    has no NaN), tuples as lists, recursively through dicts and sequences."""
    if isinstance(value, dict):
        return {k: to_plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_plain(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value
