"""NumPy ``.npz`` archives and ``.npy`` files, never unpickled.

Shapes and dtypes come from each member's ``.npy`` header, so listing reads
no values; ``np.load(..., allow_pickle=False)`` reads one array at a time.
NumPy files carry no layout, so ``layout`` defaults to ``"pytorch"``
(``(out, in)``); pass ``layout="keras"`` for ``(in, out)`` kernels.
"""

from __future__ import annotations

import ast
import zipfile
from pathlib import Path

import numpy as np

from ..errors import WeightsError
from ._base import Reader, widen
from ._quant import annotate, dequantize
from ._tensor import TensorInfo, classify

__all__ = ["NpzReader", "NpyReader"]

_MAX_HEADER = 10000  # numpy's own limit (np.load's max_header_size)


def _header(f) -> tuple[tuple[int, ...], np.dtype]:
    fmt = np.lib.format
    version = fmt.read_magic(f)
    if version == (1, 0):
        shape, _, dtype = fmt.read_array_header_1_0(f)
    elif version == (2, 0):
        shape, _, dtype = fmt.read_array_header_2_0(f)
    elif version == (3, 0):
        shape, dtype = _header_3_0(f)
    else:
        raise ValueError(f"unknown .npy format version {version[0]}.{version[1]}")
    return tuple(shape), dtype


def _header_3_0(f) -> tuple[tuple[int, ...], np.dtype]:
    """Version 3.0 (utf-8 field names) has no public reader: 2.0's layout, utf-8 text, numpy's checks."""
    n = int.from_bytes(f.read(4), "little")
    if n > _MAX_HEADER:
        raise ValueError(f"the .npy header claims {n} bytes, more than numpy reads ({_MAX_HEADER})")
    try:
        d = ast.literal_eval(f.read(n).decode("utf-8"))
        shape = d["shape"]
        if not (isinstance(shape, tuple) and all(isinstance(x, int) and x >= 0 for x in shape)):
            raise ValueError(f"shape is not valid: {shape!r:.60}")
        return shape, np.lib.format.descr_to_dtype(d["descr"])
    except (SyntaxError, ValueError, TypeError, KeyError, RecursionError, MemoryError,
            UnicodeDecodeError) as e:
        raise ValueError(f"cannot parse the .npy header: {str(e)[:200]}") from None


class NpzReader(Reader):
    """A ``.npz`` archive (``np.savez`` / ``np.savez_compressed``)."""

    def __init__(self, path, *, layout: str | None = None):
        self.path = Path(path)
        self.source = str(self.path)
        self.layout = layout or "pytorch"
        try:
            self._npz = np.load(self.path, allow_pickle=False)
            if not isinstance(self._npz, np.lib.npyio.NpzFile):
                raise ValueError("not a .npz archive")
            self._infos = []
            for key in self._npz.files:
                with self._npz.zip.open(key + ".npy") as f:
                    shape, dtype = _header(f)
                dt = "object" if dtype.hasobject else dtype.name
                self._infos.append(TensorInfo(key, shape, dt, classify(key, shape, dt),
                                              self.layout, self.source))
        except (OSError, ValueError, zipfile.BadZipFile, KeyError, EOFError) as e:
            raise WeightsError(f"{self.path}: not a readable .npz archive: {e}") from None

    def infos(self) -> list[TensorInfo]:
        return annotate(self._infos, self.path.parent)  # int8 weights paired with their scales

    def read(self, info: TensorInfo) -> np.ndarray:
        if info.dequant is not None:
            return dequantize(info, self.read)
        try:
            return widen(np.asarray(self._npz[info.name]))
        except ValueError as e:
            if "allow_pickle" in str(e) or "Object arrays" in str(e):
                raise WeightsError(f"{self.path}: array {info.name!r} is an object array, which "
                                   "needs pickle to load; htsr reads .npz with allow_pickle=False") from None
            raise WeightsError(f"{self.path}: cannot read array {info.name!r}: {e}") from None
        except Exception as e:
            raise WeightsError(f"{self.path}: cannot read array {info.name!r}: {e}") from None

    def close(self) -> None:
        self._npz.close()


class NpyReader(Reader):
    """A single ``.npy`` array, named after the file (``dense.npy`` -> ``dense``)."""

    def __init__(self, path, *, layout: str | None = None):
        self.path = Path(path)
        self.source = str(self.path)
        self.layout = layout or "pytorch"
        try:
            with open(self.path, "rb") as f:
                shape, dtype = _header(f)
        except (OSError, ValueError, EOFError) as e:
            raise WeightsError(f"{self.path}: not a readable .npy file: {e}") from None
        dt = "object" if dtype.hasobject else dtype.name
        name = self.path.stem
        self._info = TensorInfo(name, shape, dt, classify(name, shape, dt), self.layout, self.source)

    def infos(self) -> list[TensorInfo]:
        return [self._info]

    def read(self, info: TensorInfo) -> np.ndarray:
        try:
            return widen(np.asarray(np.load(self.path, mmap_mode="r", allow_pickle=False)))
        except Exception as e:
            raise WeightsError(f"{self.path}: cannot read array {info.name!r}: {e}") from None
