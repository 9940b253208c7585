"""PyTorch checkpoints, modules and state dicts.

A checkpoint is opened with ``torch.load(path, weights_only=True,
map_location="cpu")`` (memory-mapped when the file is in the zip format), so
unpickling can build tensors and plain containers but never run code: a
checkpoint that needs more (a pickled ``nn.Module``, a custom class) is
refused with :class:`~htsr.errors.WeightsError`.

A checkpoint holding a dict with a ``state_dict``, ``model_state_dict``,
``model`` or ``module`` entry (Lightning, many training scripts) is read from
that entry, so optimizer state is not reported as layers.  Nested dicts and
lists of tensors are flattened with ``.`` between the keys.  Tensors that
share storage with an earlier one (tied weights) carry ``tied_to``.
"""

from __future__ import annotations

import json
import pickle
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from ..errors import WeightsError
from ._base import Reader, need
from ._quant import annotate, dequantize
from ._tensor import TensorInfo, classify, natural_key

__all__ = ["TorchReader", "ShardedTorchReader", "load_checkpoint", "is_torch_tensor"]

_WRAPPERS = ("state_dict", "model_state_dict", "model", "module")


def is_torch_tensor(x) -> bool:
    return type(x).__module__.startswith("torch") and hasattr(x, "untyped_storage")


def load_checkpoint(path: Path):
    """``torch.load`` with ``weights_only=True``; refusals become WeightsError."""
    torch = need("torch", f"reading the PyTorch checkpoint {path}")
    try:
        try:
            return torch.load(path, map_location="cpu", weights_only=True, mmap=True)
        except RuntimeError as e:
            if "mmap" not in str(e):  # legacy (non-zip) files cannot be memory-mapped
                raise
            return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as e:
        if "weights only" not in str(e).lower():
            raise WeightsError(f"{path}: not a readable PyTorch checkpoint (the pickle is broken: "
                               f"{str(e).strip().splitlines()[0] if str(e).strip() else e!r})") from None
        detail = next((ln.strip() for ln in str(e).splitlines()
                       if "Unsupported" in ln or "GLOBAL" in ln), str(e).splitlines()[0])
        raise WeightsError(
            f"{path}: refused: torch.load(weights_only=True) would not unpickle it ({detail}). "
            "htsr reads checkpoints only with weights_only=True, which builds tensors and plain "
            "containers and refuses anything that needs arbitrary code to run while unpickling "
            "(a custom class, a pickled nn.Module). Save a state dict instead "
            "(torch.save(model.state_dict(), path)) or convert it to safetensors.") from None
    except Exception as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else ""
        raise WeightsError(f"{path}: not a readable PyTorch checkpoint "
                           f"({type(e).__name__}: {first})") from None


def _unwrap(obj):
    if isinstance(obj, Mapping):
        for key in _WRAPPERS:
            inner = obj.get(key)
            if isinstance(inner, Mapping) and has_tensor(inner):
                return inner
    return obj


def has_tensor(obj) -> bool:
    if is_torch_tensor(obj):
        return True
    if isinstance(obj, Mapping):
        return any(has_tensor(v) for v in obj.values())
    if isinstance(obj, (list, tuple)):
        return any(has_tensor(v) for v in obj)
    return False


def _flatten(obj, prefix: str = ""):
    if is_torch_tensor(obj):
        yield prefix, obj
    elif isinstance(obj, Mapping):
        for k, v in obj.items():
            yield from _flatten(v, f"{prefix}.{k}" if prefix else str(k))
    elif isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            yield from _flatten(v, f"{prefix}.{i}" if prefix else str(i))


def to_numpy(t) -> np.ndarray:
    """A torch tensor as NumPy on the CPU; 16-bit and 8-bit floats widened to float32."""
    t = t.detach()
    if t.is_quantized:
        t = t.dequantize()
    t = t.cpu()
    if t.is_floating_point() and t.element_size() < 4:
        t = t.float()
    return t.numpy()


class TorchReader(Reader):
    """Tensors from a loaded checkpoint, a state dict or an ``nn.Module``."""

    def __init__(self, obj, *, source: str, layout: str | None = None):
        self.source = source
        self.layout = layout or "pytorch"
        self._tensors = {}
        self._infos = []
        seen = {}
        for name, t in _flatten(_unwrap(obj)):
            self._tensors[name] = t
            key = _storage_key(t)
            tied = seen.get(key) if key is not None else None
            if key is not None and tied is None:
                seen[key] = name
            dtype = str(t.dtype).removeprefix("torch.")
            shape = tuple(int(s) for s in t.shape)
            self._infos.append(TensorInfo(name, shape, dtype, classify(name, shape, dtype),
                                          self.layout, source, tied))

    def infos(self) -> list[TensorInfo]:
        """The tensors, fp8/int8 weights paired with their scales (htsr.weights._quant)."""
        path = Path(self.source)
        return annotate(self.stored_infos(), path.parent if path.is_file() else None)

    def stored_infos(self) -> list[TensorInfo]:
        """The tensors as stored, in the checkpoint's order."""
        return list(self._infos)

    def read(self, info: TensorInfo) -> np.ndarray:
        if info.dequant is not None:  # fp8/int weights: scales applied, integers as floats
            return dequantize(info, self.read)
        try:
            return to_numpy(self._tensors[info.name])
        except Exception as e:
            raise WeightsError(f"{self.source}: cannot read tensor {info.name!r}: {e}") from None

    def close(self) -> None:
        self._tensors = {}


def _storage_key(t):
    try:
        if t.numel() == 0:
            return None
        return (t.untyped_storage().data_ptr(), t.storage_offset(), tuple(t.shape), tuple(t.stride()))
    except Exception:
        return None


class ShardedTorchReader(Reader):
    """``pytorch_model.bin.index.json`` and its shards, one shard in memory at a time."""

    def __init__(self, index: Path, *, layout: str | None = None):
        from ._safetensors import weight_map_of

        self.source = str(index)
        self.layout = layout or "pytorch"
        wm = weight_map_of(index)
        missing = sorted({f for f in wm.values() if not (index.parent / f).is_file()})
        if missing:
            raise WeightsError(f"{index}: {len(missing)} shard(s) listed in its weight_map are "
                               f"missing: {', '.join(missing[:5])}")
        self._dir = index.parent
        self._shards = sorted(set(wm.values()))
        self._where = wm
        self._current: tuple[str, TorchReader] | None = None
        self._infos = []
        for shard in self._shards:  # shapes need each shard opened once (memory-mapped)
            r = self._open(shard)
            names = {i.name: i for i in r.stored_infos()}
            for name in sorted((n for n, s in wm.items() if s == shard), key=natural_key):
                if name not in names:
                    raise WeightsError(f"{index}: its weight_map puts tensor {name!r} in {shard}, "
                                       "which does not hold it")
                self._infos.append(names[name])

    def _open(self, shard: str) -> TorchReader:
        if self._current is None or self._current[0] != shard:
            path = self._dir / shard
            self._current = (shard, TorchReader(load_checkpoint(path), source=str(path),
                                                layout=self.layout))
        return self._current[1]

    def infos(self) -> list[TensorInfo]:
        return annotate(list(self._infos), self._dir)

    def read(self, info: TensorInfo) -> np.ndarray:
        if info.dequant is not None:  # its scales may sit in another shard
            return dequantize(info, self.read)
        return self._open(self._where[info.name]).read(info)

    def close(self) -> None:
        self._current = None


def module_state(obj) -> tuple[object, str]:
    """The state dict of an ``nn.Module`` and a description of it."""
    return obj.state_dict(), f"<torch module {type(obj).__name__}>"


def index_is_torch(path: Path) -> bool:
    try:
        wm = json.loads(path.read_text(encoding="utf-8")).get("weight_map", {})
        return any(str(v).endswith((".bin", ".pt", ".pth")) for v in wm.values())
    except Exception:
        return False
