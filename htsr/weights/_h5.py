"""Keras weights through h5py: ``.h5``/``.weights.h5`` files and ``.keras`` archives.

Every dataset in the file is a tensor, named by its path inside the file
(Keras 3: ``layers/dense/vars/0``; Keras 2: ``model_weights/dense/dense/kernel:0``),
in natural order of the names.  A ``.keras`` archive is a zip holding
``model.weights.h5``; that member is copied to a temporary file (h5py needs
random access) which is removed on close.  Its tensors are named as the model's
``variable.path`` would name them (``d1/kernel`` for a Dense layer ``d1``), in the
model's layer order, from the archive's ``config.json`` read as JSON only
(:func:`htsr.weights._keras.keras_names`); the stored path stays in
``info.stored_name``, and is the name where the mapping is ambiguous (with a
note).  Layout is ``"keras"``.

A file htsr is given never makes it read another file: before any dataset is
listed, every link of the file is checked (``visititems_links``, which does not
follow links) and every dataset's creation properties, and a file holding an
external link (``h5py.ExternalLink``), a dataset with external storage (its
values in raw files elsewhere, e.g. ``/etc/passwd``) or a virtual dataset (its
values mapped from other datasets, possibly in other files) is refused with
:class:`~htsr.errors.WeightsError`.  Soft links resolve inside the file, and
with external links refused they cannot leave it.
"""

from __future__ import annotations

import shutil
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from ..errors import WeightsError
from ._base import Reader, StoredInfo, need, widen
from ._tensor import TensorInfo, classify, natural_key
from ._keras import keras_names, kind_of, read_config

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
        try:
            found = _local_datasets(self._file, h5py, self.source)
        except BaseException as e:
            self.close()
            if isinstance(e, Exception) and not isinstance(e, WeightsError):
                raise WeightsError(f"{self.source}: not a readable HDF5 file: cannot list its contents "
                                   f"({type(e).__name__}: {e})") from None
            raise
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

    def rename(self, names: dict[str, tuple]) -> None:
        """Report datasets under other names, the stored path kept as ``stored_name``.

        ``names`` maps a stored path to ``(name, note, order, variable)``
        (:func:`htsr.weights._keras.keras_names`); rows are sorted by ``order``.
        """
        rows = []
        for position, info in enumerate(self._infos):
            name, note, order, variable = names.get(info.name, (info.name, None, 1 << 30, None))
            kind = kind_of(name, variable or "", info.shape, info.dtype)
            rows.append(((order, position), StoredInfo(name, info.shape, info.dtype, kind, info.layout,
                                                       info.source, stored_name=info.name, note=note)))
        rows.sort(key=lambda r: r[0])
        self._datasets = {new.name: self._datasets[new.stored_name] for _, new in rows}
        self._infos = [new for _, new in rows]

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


def _local_datasets(file, h5py, source: str) -> list:
    """Every dataset of ``file`` as ``(name, dataset)``, refusing anything stored outside it.

    Links are checked first, without following any (an external link is
    refused before HDF5 opens its target); then each dataset's storage
    (external raw files, virtual layout).  No value is read.
    """
    links = []
    file.visititems_links(lambda name, lnk: links.append((name, lnk)))  # raising in there is a SystemError
    for name, lnk in links:
        if isinstance(lnk, h5py.ExternalLink):
            raise WeightsError(f"{source}: htsr refuses HDF5 external links: {name!r} links to "
                               f"{lnk.path!r} in the file {lnk.filename!r}, outside this file")
        if not isinstance(lnk, (h5py.HardLink, h5py.SoftLink)):
            raise WeightsError(f"{source}: htsr refuses HDF5 user-defined links: {name!r} is a "
                               f"{type(lnk).__name__}, which may point outside this file")
    found = []

    def visit(name, obj):
        if isinstance(obj, h5py.Dataset):
            found.append((name, obj))

    file.visititems(visit)
    for name, ds in found:
        external = ds.external
        if external:
            files = ", ".join(repr(str(e[0])) for e in external)
            raise WeightsError(f"{source}: htsr refuses HDF5 external storage: dataset {name!r} points at "
                               f"files outside this file ({files}); a weights file must hold its own values")
        if ds.is_virtual:
            files = sorted({repr(str(m.file_name)) for m in ds.virtual_sources()})
            raise WeightsError(f"{source}: htsr refuses HDF5 virtual datasets: dataset {name!r} maps its "
                               f"values from other datasets (in {', '.join(files)}), possibly outside "
                               "this file; a weights file must hold its own values")
    return found


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
            config = read_config(z)
            tmp = tempfile.TemporaryDirectory(prefix="htsr-keras-")
            target = Path(tmp.name) / "model.weights.h5"
            with z.open(member) as src, open(target, "wb") as dst:
                shutil.copyfileobj(src, dst, 1 << 20)
    except zipfile.BadZipFile as e:
        raise WeightsError(f"{path}: not a readable .keras archive (a zip file): {e}") from None
    reader = H5Reader(target, source=str(path), layout=layout, tmpdir=tmp)
    try:
        reader.rename(keras_names(reader._file, [i.name for i in reader._infos], config))
    except BaseException:
        reader.close()
        raise
    return reader
