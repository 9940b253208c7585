"""Keras weights through h5py: ``.h5``/``.weights.h5`` files and ``.keras`` archives.

Every dataset in the file is a tensor, named by its path inside the file
(Keras 3: ``layers/dense/vars/0``; Keras 2: ``model_weights/dense/dense/kernel:0``),
in natural order of the names.  A ``.keras`` archive is a zip holding
``model.weights.h5``; that member is copied to a temporary file (h5py needs
random access) which is removed on close.  Layout is ``"keras"``.
"""

from __future__ import annotations

import shutil
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from ..errors import WeightsError
from ._base import Reader, need, widen
from ._tensor import TensorInfo, classify, natural_key

__all__ = ["H5Reader", "open_keras"]


class H5Reader(Reader):
    """An HDF5 file of weights."""

    def __init__(self, path, *, source: str | None = None, layout: str | None = None, tmpdir=None):
        h5py = need("h5py", f"reading the Keras/HDF5 file {source or path}")
        self.path = Path(path)
        self.source = source or str(self.path)
        self.layout = layout or "keras"
        self._tmpdir = tmpdir
        try:
            self._file = h5py.File(self.path, "r")
        except Exception as e:
            self._cleanup()
            raise WeightsError(f"{self.source}: not a readable HDF5 file: {e}") from None
        found = []

        def visit(name, obj):
            if isinstance(obj, h5py.Dataset):
                found.append((name, obj))

        self._file.visititems(visit)
        self._datasets = {}
        self._infos = []
        for name, ds in sorted(found, key=lambda t: natural_key(t[0])):
            dtype = ds.dtype.name if ds.dtype.kind in "biufc" else "object"
            shape = tuple(int(s) for s in ds.shape) if ds.shape is not None else ()
            self._datasets[name] = ds
            self._infos.append(TensorInfo(name, shape, dtype, classify(name, shape, dtype),
                                          self.layout, self.source))

    def infos(self) -> list[TensorInfo]:
        return list(self._infos)

    def read(self, info: TensorInfo) -> np.ndarray:
        try:
            return widen(np.asarray(self._datasets[info.name][()]))
        except Exception as e:
            raise WeightsError(f"{self.source}: cannot read dataset {info.name!r}: {e}") from None

    def _cleanup(self):
        if self._tmpdir is not None:
            self._tmpdir.cleanup()
            self._tmpdir = None

    def close(self) -> None:
        try:
            self._file.close()
        finally:
            self._cleanup()


def open_keras(path: Path, *, layout: str | None = None) -> H5Reader:
    """The ``model.weights.h5`` inside a ``.keras`` archive."""
    need("h5py", f"reading the Keras file {path}")
    try:
        with zipfile.ZipFile(path) as z:
            members = z.namelist()
            member = next((m for m in members if m.rsplit("/", 1)[-1] == "model.weights.h5"), None)
            if member is None:
                raise WeightsError(f"{path}: a .keras archive without model.weights.h5 "
                                   f"(it holds {', '.join(members[:8]) or 'nothing'})")
            tmp = tempfile.TemporaryDirectory(prefix="htsr-keras-")
            target = Path(tmp.name) / "model.weights.h5"
            with z.open(member) as src, open(target, "wb") as dst:
                shutil.copyfileobj(src, dst, 1 << 20)
    except zipfile.BadZipFile as e:
        raise WeightsError(f"{path}: not a readable .keras archive (a zip file): {e}") from None
    return H5Reader(target, source=str(path), layout=layout, tmpdir=tmp)
