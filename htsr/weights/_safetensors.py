"""safetensors files, single or sharded, read one tensor at a time.

The header (an 8-byte little-endian length, then JSON) is parsed here, so a
truncated or corrupt file is refused with a message that says which check
failed before anything is read, and ``safetensors.safe_open`` checks the file
too.  Each tensor (or one slice of a stack) is then read from its byte range
(little-endian, as the format stores it).  bfloat16 (which NumPy lacks) is
widened to float32 exactly (a bfloat16 is the top half of
a float32); float8 goes through ``ml_dtypes`` (installed with JAX).  Nothing
needs PyTorch.  ``read_lazy`` gives a float matrix as a
:class:`~htsr.weights._lazy.MappedTensor`, read from the file block by block
(``htsr.weights.load(..., lazy=True)``, what the report uses).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from ..errors import WeightsError
from ._base import Reader, need, widen
from ._lazy import STORED, MappedTensor
from ._hub import within_model
from ._quant import NotedInfo, annotate, dequantize
from ._tensor import TensorInfo, classify, natural_key

__all__ = ["SafetensorsReader", "ShardedSafetensorsReader", "byte_ranges", "encode", "ENCODABLE"]

# safetensors dtype code -> (name, bytes per element)
_DTYPES = {
    "F64": ("float64", 8), "F32": ("float32", 4), "F16": ("float16", 2), "BF16": ("bfloat16", 2),
    "F8_E4M3": ("float8_e4m3fn", 1), "F8_E5M2": ("float8_e5m2", 1),
    "I64": ("int64", 8), "I32": ("int32", 4), "I16": ("int16", 2), "I8": ("int8", 1),
    "U64": ("uint64", 8), "U32": ("uint32", 4), "U16": ("uint16", 2), "U8": ("uint8", 1),
    "BOOL": ("bool", 1),
}
_KERAS_FORMATS = {"tf", "flax", "jax", "keras"}


def _layout_of(metadata: dict, layout: str | None) -> str:
    if layout is not None:
        return layout
    return "keras" if str(metadata.get("format", "")).lower() in _KERAS_FORMATS else "pytorch"


def _header(path: Path) -> tuple[dict, dict, int]:
    """(entries, metadata, data_start) from a safetensors file, checked against its size."""
    size = path.stat().st_size
    if size < 8:
        raise WeightsError(f"{path}: {size} bytes is too short to be a safetensors file "
                           "(truncated or not safetensors)")
    with open(path, "rb") as f:
        n = int.from_bytes(f.read(8), "little")
        if n > size - 8:
            raise WeightsError(f"{path}: corrupt or truncated safetensors file: the header claims "
                               f"{n} bytes but the file has only {size - 8} after the length field")
        raw = f.read(n)
    try:
        header = json.loads(raw.decode("utf-8"))
        if not isinstance(header, dict):
            raise ValueError("the header is not a JSON object")
    except (UnicodeDecodeError, ValueError) as e:
        raise WeightsError(f"{path}: corrupt safetensors file: its header is not valid JSON ({e})") from None
    except RecursionError:
        raise WeightsError(f"{path}: corrupt safetensors file: its JSON header is nested too deeply "
                           "to parse (Python's json stops near 1000 levels; a real header has 3)") from None
    metadata = header.pop("__metadata__", None) or {}
    data_start = 8 + n
    for name, e in header.items():
        try:
            code, shape, (begin, end) = e["dtype"], tuple(int(s) for s in e["shape"]), e["data_offsets"]
        except (KeyError, TypeError, ValueError):
            raise WeightsError(f"{path}: corrupt safetensors file: header entry {name!r} lacks "
                               "dtype, shape or data_offsets") from None
        if data_start + end > size:
            raise WeightsError(f"{path}: truncated safetensors file: tensor {name!r} ends at byte "
                               f"{data_start + end} but the file has {size} bytes")
        width = _DTYPES.get(code, (None, None))[1]
        if width is not None and end - begin != int(np.prod(shape, dtype=np.int64)) * width:
            raise WeightsError(f"{path}: corrupt safetensors file: tensor {name!r} has shape {shape} "
                               f"of {code} but {end - begin} bytes of data")
        e["shape"] = shape
    return header, metadata, data_start


class SafetensorsReader(Reader):
    """One ``.safetensors`` file."""

    def __init__(self, path, *, layout: str | None = None):
        self.path = Path(path)
        self.source = str(self.path)
        self._entries, self.metadata, self._data_start = _header(self.path)
        self.layout = _layout_of(self.metadata, layout)
        self._handle = None
        self._check_with_library()

    def _check_with_library(self):
        st = need("safetensors", "reading a .safetensors file")
        try:
            self._handle = st.safe_open(self.source, framework="numpy")
        except Exception as e:  # SafetensorError is a bare Exception subclass
            raise WeightsError(f"{self.path}: corrupt safetensors file: {e}") from None

    def infos(self) -> list[TensorInfo]:
        """The tensors, fp8/int8 weights paired with their scales (htsr.weights._quant)."""
        return annotate(self.stored_infos(), self.path.parent)

    def stored_infos(self) -> list[TensorInfo]:
        """The tensors as the header lists them, in natural order of names."""
        out = []
        for name in sorted(self._entries, key=natural_key):
            e = self._entries[name]
            dtype = _DTYPES.get(e["dtype"], (e["dtype"],))[0]
            out.append(TensorInfo(name, e["shape"], dtype, classify(name, e["shape"], dtype),
                                  self.layout, self.source))
        return out

    def read(self, info: TensorInfo) -> np.ndarray:
        if info.dequant is not None:  # fp8/int weights: scales applied, integers as floats
            return dequantize(info, self.read)
        e = self._entries[info.name]
        if e["dtype"] not in _DTYPES:
            raise WeightsError(f"{self.path}: tensor {info.name!r} has dtype {e['dtype']}, which htsr cannot read")
        return self._decode(info.name, e["dtype"], self._data_start + e["data_offsets"][0], tuple(e["shape"]),
                            f"tensor {info.name!r}")

    def _decode(self, name: str, code: str, offset: int, shape: tuple, what: str) -> np.ndarray:
        """The ``shape`` entries of dtype ``code`` from byte ``offset``: bf16 and fp8 widened to float32
        exactly, float16 to float32, other dtypes as stored (native byte order)."""
        n = int(np.prod(shape, dtype=np.int64))
        dtype = _DTYPES[code][0]
        try:
            if code == "BF16":
                bits = np.fromfile(self.path, dtype="<u2", count=n, offset=offset)
                return (bits.astype(np.uint32) << 16).view(np.float32).reshape(shape)
            if code in ("F8_E4M3", "F8_E5M2"):
                ml = need("ml_dtypes", f"reading the float8 tensor {name!r} in {self.path}")
                raw = np.fromfile(self.path, dtype=np.uint8, count=n, offset=offset)
                return raw.view(getattr(ml, dtype)).astype(np.float32).reshape(shape)
            raw = np.fromfile(self.path, dtype=np.dtype(dtype).newbyteorder("<"), count=n, offset=offset)
            return widen(raw.astype(raw.dtype.newbyteorder("="), copy=False)).reshape(shape)
        except WeightsError:
            raise
        except Exception as exc:
            raise WeightsError(f"{self.path}: cannot read {what}: {exc}") from None

    def read_lazy(self, info: TensorInfo):
        """A :class:`~htsr.weights._lazy.MappedTensor` for a stored float tensor (BF16, F16, F32, F64)
        of two or more dimensions, read on demand block by block; :meth:`read`'s array otherwise."""
        e = self._entries.get(info.name)
        if (e is None or getattr(info, "dequant", None) is not None or e["dtype"] not in STORED
                or len(e["shape"]) < 2 or tuple(e["shape"]) != tuple(info.shape)):
            return self.read(info)
        return MappedTensor(self.path, self._data_start + e["data_offsets"][0], e["dtype"], e["shape"], info.name)

    def read_slice(self, info: TensorInfo, k: int) -> np.ndarray:
        """``read(info)[k]`` reading only that slice's bytes (one expert of a stack ``[E, a, b]``)."""
        if getattr(info, "dequant", None) is not None:  # one expert, with its own scales
            return dequantize(info, self.read, k, self.read_slice)
        e = self._entries[info.name]
        code, shape = e["dtype"], tuple(e["shape"])
        if code not in _DTYPES or len(shape) < 2:
            return np.ascontiguousarray(self.read(info)[k])
        if not 0 <= k < shape[0]:
            raise WeightsError(f"{self.path}: tensor {info.name!r} has {shape[0]} slices, no slice {k}")
        n = int(np.prod(shape[1:], dtype=np.int64))
        offset = self._data_start + e["data_offsets"][0] + k * n * _DTYPES[code][1]
        return self._decode(info.name, code, offset, shape[1:], f"slice {k} of tensor {info.name!r}")

    def close(self) -> None:
        self._handle = None


class ShardedSafetensorsReader(Reader):
    """Several ``.safetensors`` shards: listed by an index JSON's ``weight_map``, or all in a folder."""

    def __init__(self, shards: list[Path], *, index: Path | None = None, layout: str | None = None):
        self.source = str(index if index is not None else shards[0].parent)
        self._files = {p.name: SafetensorsReader(p, layout=layout) for p in shards}
        self._where: dict[str, str] = {}
        self._unindexed: dict[str, str] = {}
        if index is not None:
            self._from_index(index)
        else:
            for shard, r in self._files.items():
                for name in r._entries:
                    if name in self._where:
                        raise WeightsError(f"{self.source}: tensor {name!r} is in both "
                                           f"{self._where[name]} and {shard}")
                    self._where[name] = shard

    @classmethod
    def from_index(cls, index, *, layout: str | None = None) -> "ShardedSafetensorsReader":
        index = Path(index)
        weight_map = weight_map_of(index)
        missing = sorted({f for f in weight_map.values() if not (index.parent / f).is_file()})
        if missing:
            raise WeightsError(f"{index}: {len(missing)} shard(s) listed in its weight_map are "
                               f"missing: {', '.join(missing[:5])}")
        shards = [index.parent / f for f in sorted(set(weight_map.values()))]
        return cls(shards, index=index, layout=layout)

    def _from_index(self, index: Path) -> None:
        for name, shard in weight_map_of(index).items():
            if name not in self._files[shard]._entries:
                raise WeightsError(f"{index}: its weight_map puts tensor {name!r} in {shard}, "
                                   "which does not hold it")
            self._where[name] = shard
        for shard, r in self._files.items():  # in a shard, not in the index: listed, never read
            for name in r._entries:
                if name not in self._where:
                    self._unindexed.setdefault(name, shard)

    def infos(self) -> list[TensorInfo]:
        """Every tensor of the index (scales paired across shards), then those the index omits."""
        by_name = {}
        for r in self._files.values():
            by_name.update({i.name: i for i in r.stored_infos()})
        for name, shard in self._unindexed.items():
            i = by_name[name]
            by_name[name] = NotedInfo(name, i.shape, i.dtype, "other", i.layout, i.source,
                                      note=f"in shard {shard} but not in the index: not read",
                                      group="not in the index")
        folder = Path(self.source) if Path(self.source).is_dir() else Path(self.source).parent
        return annotate([by_name[n] for n in sorted({*self._where, *self._unindexed}, key=natural_key)], folder)

    def read(self, info: TensorInfo) -> np.ndarray:
        if info.dequant is not None:  # its scales may sit in another shard
            return dequantize(info, self.read)
        if info.name not in self._where:
            raise WeightsError(f"{self.source}: tensor {info.name!r} is in shard "
                               f"{self._unindexed.get(info.name)} but not in the index: not read")
        return self._files[self._where[info.name]].read(info)

    def read_lazy(self, info: TensorInfo):
        """See :meth:`SafetensorsReader.read_lazy`."""
        if getattr(info, "dequant", None) is not None or info.name not in self._where:
            return self.read(info)
        return self._files[self._where[info.name]].read_lazy(info)

    def read_slice(self, info: TensorInfo, k: int) -> np.ndarray:
        """``read(info)[k]``, reading only that slice (see :meth:`SafetensorsReader.read_slice`)."""
        if getattr(info, "dequant", None) is not None:  # its scales may sit in another shard
            return dequantize(info, self.read, k, self.read_slice)
        if info.name not in self._where:
            return np.ascontiguousarray(self.read(info)[k])
        return self._files[self._where[info.name]].read_slice(info, k)

    def close(self) -> None:
        for r in self._files.values():
            r.close()


def weight_map_of(index: Path) -> dict[str, str]:
    try:
        data = json.loads(index.read_text(encoding="utf-8"))
        wm = data["weight_map"]
        if not isinstance(wm, dict) or not all(isinstance(v, str) for v in wm.values()):
            raise ValueError("weight_map is not a mapping of tensor names to shard files")
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as e:
        raise WeightsError(f"{index}: not a usable shard index (needs a JSON object with a "
                           f"'weight_map'): {e!r}") from None
    except RecursionError:
        raise WeightsError(f"{index}: not a usable shard index: its JSON is nested too deeply to parse "
                           "(Python's json stops near 1000 levels; a real index has 2)") from None
    for shard in wm.values():
        if os.path.basename(shard) != shard:
            raise WeightsError(f"{index}: shard {shard!r} is not a file name beside the index")
    for shard in sorted(set(wm.values())):  # a link out of the folder (a Hugging Face snapshot's blobs aside)
        if (index.parent / shard).exists() and not within_model(index.parent / shard, index.parent):
            raise WeightsError(f"{index}: refused: shard {shard!r} is a link to "
                               f"{(index.parent / shard).resolve()}, outside the index's folder")
    return wm


def byte_ranges(path) -> dict[str, tuple[str, tuple[int, ...], int, int]]:
    """Each tensor of a safetensors file as ``(dtype code, shape, begin, end)``, absolute byte
    offsets in the file, after the header checks of :class:`SafetensorsReader`."""
    entries, _, start = _header(Path(path))
    return {name: (e["dtype"], e["shape"], start + e["data_offsets"][0], start + e["data_offsets"][1])
            for name, e in entries.items()}


#: the float dtype codes :func:`encode` writes
ENCODABLE = ("F64", "F32", "F16", "BF16")


def encode(array, code: str) -> bytes:
    """``array`` as the little-endian bytes safetensors stores for dtype ``code`` (one of
    :data:`ENCODABLE`), each value rounded to the nearest of that dtype (bfloat16 through
    ``ml_dtypes``, installed with JAX)."""
    a = np.asarray(array, dtype=np.float64)
    if code == "BF16":
        ml = need("ml_dtypes", "writing a bfloat16 tensor")
        return a.astype(ml.bfloat16).view(np.uint16).astype("<u2").tobytes()
    if code not in ENCODABLE:
        raise WeightsError(f"cannot write dtype {code} (only {', '.join(ENCODABLE)})")
    return a.astype(np.dtype(_DTYPES[code][0]).newbyteorder("<")).tobytes()
