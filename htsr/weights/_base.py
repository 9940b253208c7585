"""What every format's reader provides, and helpers they share."""

from __future__ import annotations

import importlib
from dataclasses import dataclass

import numpy as np

from ..errors import WeightsError
from ._tensor import MATRIX_KINDS, TensorInfo

__all__ = ["Reader", "need", "widen", "StoredInfo"]

_EXTRAS = {"torch": "torch", "h5py": "keras", "safetensors": "safetensors"}


class Reader:
    """A weights source opened for reading.

    ``infos()`` lists the tensors in the source's order without reading their
    values; ``read(info)`` reads one tensor; ``close()`` releases files.
    """

    source: str = ""

    def infos(self) -> list[TensorInfo]:  # pragma: no cover - interface
        raise NotImplementedError

    def read(self, info: TensorInfo) -> np.ndarray:  # pragma: no cover - interface
        raise NotImplementedError

    def read_lazy(self, info: TensorInfo):
        """The tensor read on demand (``htsr.weights._lazy.MappedTensor``) where the format
        allows it, else :meth:`read`'s array (the default)."""
        return self.read(info)

    def close(self) -> None:
        pass


def need(module: str, what: str):
    """Import an optional dependency, or raise WeightsError naming the extra to install."""
    try:
        return importlib.import_module(module)
    except ImportError as e:
        extra = _EXTRAS.get(module, module)
        raise WeightsError(f'{what} needs the optional package {module!r}, which is not installed '
                           f'({e}): pip install "htsr[{extra}]"') from None


def widen(a: np.ndarray) -> np.ndarray:
    """Float16 (and other sub-32-bit floats NumPy knows) to float32; everything else unchanged."""
    if a.dtype.kind == "f" and a.dtype.itemsize < 4:
        return a.astype(np.float32)
    return a


@dataclass(frozen=True)
class StoredInfo(TensorInfo):
    """A :class:`TensorInfo` that also keeps what the file itself says of the tensor.

    Attributes
    ----------
    stored_name : str or None
        The tensor's name in the file when htsr reports it under another (GGUF's
        ``blk.0.attn_q.weight`` for ``model.layers.0.self_attn.q_proj.weight``).
    stored_type : str or None
        How the file stores the values when it is not a NumPy dtype (GGML's ``Q4_K``), or
        the operation that uses it (ONNX's ``MatMul``).
    note : str or None
        Why the tensor has no spectrum, when the file says more than its shape and dtype
        (an ONNX constant used only by ``Mul``); :meth:`no_spectrum_reason` returns it.
    """

    stored_name: str | None = None
    stored_type: str | None = None
    note: str | None = None

    def no_spectrum_reason(self) -> str | None:
        if self.note is not None and self.kind not in MATRIX_KINDS:
            return self.note
        return super().no_spectrum_reason()

    def to_dict(self) -> dict:
        return {**super().to_dict(), "stored_name": self.stored_name, "stored_type": self.stored_type,
                "note": self.note}
