"""What every format's reader provides, and helpers they share."""

from __future__ import annotations

import importlib

import numpy as np

from ..errors import WeightsError
from ._tensor import TensorInfo

__all__ = ["Reader", "need", "widen"]

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
