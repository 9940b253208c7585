"""Tensors read from their file on demand, a block of rows at a time.

A :class:`MappedTensor` stands for a tensor stored contiguously in a file (a
safetensors tensor of dtype BF16, F16, F32 or F64): it knows the file, the
byte offset, the stored dtype and the shape, and reads nothing until asked.
``numpy.asarray(t)`` reads all of it, widened as the eager readers widen it
(bf16 and f16 to float32, exactly); :meth:`MappedTensor.long_blocks` yields
the matrix in float64 blocks of its long side, so that a Gram matrix
``sum_b B_b^T B_b`` (:func:`htsr.rmt.layer_esd`) is accumulated without a
float32 or float64 copy of the whole matrix: peak memory is the Gram matrix
plus a few blocks of ``block_bytes``, whatever the size of the tensor.

* A tall matrix (rows >= columns, stored row-major) is read by row blocks: each
  block is one contiguous byte range of the file, read with ``numpy.fromfile``
  and widened to float64 (bf16 through its exact float32 value).
* A wide matrix (rows < columns) has its Gram matrix on the row side,
  ``sum_c C_c C_c^T`` over column blocks, which are not contiguous in the file:
  its stored values are read once as they are stored (2 bytes per entry for
  bf16, a quarter of float64), and each column block is widened from them.

Nothing here keeps a file open, so a tensor can be pickled and sent to a
Dask worker that sees the same path.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import WeightsError

__all__ = ["MappedTensor", "BLOCK_BYTES", "STORED"]

#: Bytes of float64 per block that :meth:`MappedTensor.long_blocks` yields (about 8 MB).
BLOCK_BYTES = 1 << 23
#: safetensors dtype code -> (dtype as stored in the file, dtype read into)
STORED = {"BF16": ("<u2", np.float32), "F16": ("<f2", np.float32), "F32": ("<f4", np.float32),
          "F64": ("<f8", np.float64)}


def _widen(raw: np.ndarray, code: str, dtype) -> np.ndarray:
    """Stored values -> ``dtype`` (bf16 bits via their exact float32 value)."""
    if code == "BF16":
        raw = (raw.astype(np.uint32) << 16).view(np.float32)
    return raw.astype(dtype, copy=False)


class MappedTensor:
    """A tensor in a file, read on demand: rows, long-side blocks, or all of it.

    Parameters
    ----------
    path : str or Path
        The file.
    offset : int
        Byte offset of the first entry.
    code : {"BF16", "F16", "F32", "F64"}
        The stored dtype (safetensors' code), little-endian.
    shape : tuple of int
        The tensor's shape (row-major).
    name : str
        The tensor's name, for messages.

    Attributes
    ----------
    shape, ndim, size, dtype
        As the array ``numpy.asarray(self)`` would have them (``dtype`` is float32
        for bf16, f16 and f32, float64 for f64).
    """

    def __init__(self, path, offset: int, code: str, shape, name: str = ""):
        if code not in STORED:
            raise WeightsError(f"{path}: tensor {name!r} of dtype {code} cannot be read block by block")
        self.path, self.offset, self.code, self.name = str(path), int(offset), code, name
        self.shape = tuple(int(s) for s in shape)
        self._stored, self.dtype = np.dtype(STORED[code][0]), np.dtype(STORED[code][1])

    # ---------------------------------------------------------------- array-like
    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64))

    @property
    def nbytes(self) -> int:
        return self.size * self.dtype.itemsize

    def __len__(self) -> int:
        return self.shape[0]

    def __repr__(self) -> str:
        return f"MappedTensor({self.name!r}, shape={self.shape}, stored={self.code}, {Path(self.path).name})"

    def __array__(self, dtype=None, copy=None):
        a = self._read(0, self.size).reshape(self.shape)
        return a if dtype is None else a.astype(dtype, copy=False)

    # ---------------------------------------------------------------- reading
    @property
    def _cols(self) -> int:
        return int(np.prod(self.shape[1:], dtype=np.int64)) if self.ndim > 1 else 1

    def _raw(self, start: int, count: int) -> np.ndarray:
        """``count`` stored entries from entry ``start``, as stored."""
        try:
            raw = np.fromfile(self.path, dtype=self._stored, count=count,
                              offset=self.offset + start * self._stored.itemsize)
        except OSError as e:
            raise WeightsError(f"{self.path}: cannot read tensor {self.name!r}: {e}") from None
        if raw.size != count:
            raise WeightsError(f"{self.path}: tensor {self.name!r} is truncated: {raw.size} of {count} "
                               "entries could be read")
        return raw

    def _read(self, start: int, count: int, dtype=None) -> np.ndarray:
        return _widen(self._raw(start, count), self.code, self.dtype if dtype is None else dtype)

    def rows(self, start: int, stop: int, dtype=np.float64) -> np.ndarray:
        """Rows ``start:stop`` of the tensor seen as ``(shape[0], -1)``, in ``dtype`` (C order)."""
        stop = min(stop, self.shape[0])
        c = self._cols
        return self._read(start * c, max(stop - start, 0) * c, dtype).reshape(-1, c)

    def _row_step(self, block_bytes: int) -> int:
        return max(1, block_bytes // (8 * max(self._cols, 1)))

    def row_blocks(self, block_bytes: int = BLOCK_BYTES, dtype=np.float64):
        """The rows of ``(shape[0], -1)`` in blocks of about ``block_bytes`` of float64."""
        step = self._row_step(block_bytes)
        for r in range(0, self.shape[0], step):
            yield self.rows(r, r + step, dtype)

    def long_blocks(self, block_bytes: int = BLOCK_BYTES):
        """Float64 blocks ``B_b`` of the long side of a 2-D tensor: ``sum_b B_b^T B_b`` is its smaller Gram matrix.

        Rows of a tall matrix (C order), or columns of a wide one, transposed (so each
        block is ``(b, rows)`` in Fortran order); each block about ``block_bytes``.
        """
        if self.ndim != 2:
            raise WeightsError(f"{self.path}: tensor {self.name!r} of shape {self.shape} is not a matrix")
        n, m = self.shape
        if n >= m:
            yield from self.row_blocks(block_bytes)
            return
        raw = self._raw(0, self.size).reshape(n, m)  # the stored values: 2 bytes an entry for bf16
        step = max(1, block_bytes // (8 * n))
        for c in range(0, m, step):
            yield _widen(raw[:, c:c + step], self.code, np.float64).T  # (b, n), Fortran order: no copy

    def count_nonfinite(self) -> tuple[int, int]:
        """``(n_nan, n_inf)``, counted block by block."""
        n_nan = n_inf = 0
        for b in self.row_blocks(dtype=self.dtype):
            n_nan += int(np.count_nonzero(np.isnan(b)))
            n_inf += int(np.count_nonzero(np.isinf(b)))
        return n_nan, n_inf

    def max_abs(self) -> float:
        """The largest absolute entry (NaN when one is NaN), block by block."""
        top = 0.0
        for b in self.row_blocks(dtype=self.dtype):
            if b.size:
                top = float(np.max([top, np.max(np.abs(b))]))  # NaN propagates, as np.max does
        return top
