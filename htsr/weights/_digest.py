"""A tensor's content digest: sha256 of its bytes as stored, to tell identical tensors apart from changed ones.

``htsr report NEW --baseline BASE`` (:mod:`htsr.report.baseline`) reuses the baseline's row of
every tensor whose digest is the same in both checkpoints.  A safetensors tensor read lazily
(a :class:`~htsr.weights._lazy.MappedTensor`) is hashed from its byte range in the file, 8 MB
at a time, without decoding; any other tensor from its array's bytes (C order).  The stored
dtype (little-endian, ``<f4``; ``bf16`` for bfloat16) and the shape go into the digest too, so the
same bytes read as another dtype or shape are not "identical", and a float32 or float64 tensor has
the same digest from a safetensors file as from an in-memory array of the same values.
"""

from __future__ import annotations

import hashlib

import numpy as np

from ..errors import WeightsError
from ._lazy import STORED, MappedTensor

__all__ = ["tensor_digest"]

_BLOCK = 1 << 23


def tensor_digest(tensor) -> str:
    """sha256 (hex) of a :class:`~htsr.weights.Tensor`'s values as stored, with its dtype and shape.

    Parameters
    ----------
    tensor : Tensor or numpy.ndarray
        From :func:`htsr.weights.load` (``lazy=True`` hashes a safetensors tensor from the
        file's bytes, decoding nothing), or a bare array.
    """
    a = getattr(tensor, "array", tensor)
    h = hashlib.sha256()
    if isinstance(a, MappedTensor):
        label = "bf16" if a.code == "BF16" else np.dtype(STORED[a.code][0]).str
        h.update(f"{label}|{a.shape}|".encode())
        remaining, offset = a.size * np.dtype(STORED[a.code][0]).itemsize, a.offset
        try:
            with open(a.path, "rb") as f:
                f.seek(offset)
                while remaining > 0:
                    block = f.read(min(_BLOCK, remaining))
                    if not block:
                        raise WeightsError(f"{a.path}: tensor {a.name!r} is truncated ({remaining} bytes missing)")
                    h.update(block)
                    remaining -= len(block)
        except OSError as e:
            raise WeightsError(f"{a.path}: cannot read tensor {a.name!r}: {e}") from None
        return h.hexdigest()
    arr = np.asarray(a)
    if arr.dtype.byteorder == ">":
        arr = arr.astype(arr.dtype.newbyteorder("<"))
    arr = np.ascontiguousarray(arr)
    h.update(f"{arr.dtype.str}|{arr.shape}|".encode())
    h.update(memoryview(arr).cast("B"))
    return h.hexdigest()
