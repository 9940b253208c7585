"""The front door: ``load``, ``list_tensors``, ``get``; format detection."""

from __future__ import annotations

import difflib
import os
import sys
import zipfile
from collections.abc import Iterable, Mapping
from pathlib import Path

from ..errors import WeightsError
from ..kinds import KINDS, check_layout
from ._base import Reader
from ._tensor import Tensor, TensorInfo

__all__ = ["load", "list_tensors", "get", "open_reader", "TensorStream", "FORMATS"]

#: Suffixes each format is recognised by (contents are sniffed when the suffix says nothing).
FORMATS = {
    "safetensors": (".safetensors",),
    "torch": (".pt", ".pth", ".bin", ".ckpt"),
    "npz": (".npz",),
    "npy": (".npy",),
    "keras": (".keras",),
    "h5": (".h5", ".hdf5"),
    "gguf": (".gguf",),
    "onnx": (".onnx",),
}
_HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"


def _format_of(path: Path) -> str:
    name = path.name.lower()
    if name.endswith(".safetensors.index.json"):
        return "safetensors-index"
    if name.endswith(".index.json"):
        return "torch-index"
    for fmt, suffixes in FORMATS.items():
        if name.endswith(suffixes):
            return fmt
    return _sniff(path)


def _sniff(path: Path) -> str:
    size = path.stat().st_size
    if size == 0:
        raise WeightsError(f"{path}: the file is empty")
    with open(path, "rb") as f:
        head = f.read(16)
    if head.startswith(_HDF5_MAGIC):
        return "h5"
    if head.startswith(b"GGUF"):
        return "gguf"
    if head.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(path) as z:
                names = z.namelist()
        except zipfile.BadZipFile:
            names = []
        if any(n.rsplit("/", 1)[-1] == "model.weights.h5" for n in names):
            return "keras"
        if names and all(n.endswith(".npy") for n in names):
            return "npz"
        if any(n.endswith("data.pkl") for n in names):
            return "torch"
    if head.startswith(b"\x93NUMPY"):
        return "npy"
    if len(head) >= 9 and int.from_bytes(head[:8], "little") < size and head[8:9] == b"{":
        return "safetensors"
    if head[:1] == b"\x80":  # a pickle: PyTorch's legacy format
        return "torch"
    raise WeightsError(
        f"{path}: unknown weights format (suffix {path.suffix or 'none'!r}, contents not "
        "recognised); htsr reads .safetensors (and *.safetensors.index.json), .pt/.pth/.bin/.ckpt, "
        ".npz, .npy, .keras, .h5/.hdf5, .gguf, .onnx, or a directory holding them")


def _open_path(path: Path, layout: str | None) -> Reader:
    if not path.exists():
        raise WeightsError(f"{path}: no such file or directory")
    if path.is_dir():
        return _open_dir(path, layout)
    fmt = _format_of(path)
    if fmt == "safetensors":
        from ._safetensors import SafetensorsReader
        return SafetensorsReader(path, layout=layout)
    if fmt == "safetensors-index":
        from ._safetensors import ShardedSafetensorsReader
        return ShardedSafetensorsReader.from_index(path, layout=layout)
    if fmt == "torch-index":
        from ._torch import ShardedTorchReader
        return ShardedTorchReader(path, layout=layout)
    if fmt == "torch":
        from ._torch import TorchReader, load_checkpoint
        return TorchReader(load_checkpoint(path), source=str(path), layout=layout)
    if fmt == "npz":
        from ._numpy import NpzReader
        return NpzReader(path, layout=layout)
    if fmt == "npy":
        from ._numpy import NpyReader
        return NpyReader(path, layout=layout)
    if fmt == "gguf":
        from ._gguf import GGUFReader
        return GGUFReader(path, layout=layout)
    if fmt == "onnx":
        from ._onnx import OnnxReader
        return OnnxReader(path, layout=layout)
    from ._h5 import H5Reader, open_keras
    return open_keras(path, layout=layout) if fmt == "keras" else H5Reader(path, layout=layout)


def _open_dir(path: Path, layout: str | None) -> Reader:
    """A model folder: safetensors first (index, then shards), then ONNX, PyTorch, Keras, NumPy, GGUF."""
    from ._hub import within_model

    files = sorted(p for p in path.iterdir() if p.is_file())
    idx = sorted((p for p in files if p.name.endswith(".safetensors.index.json")),
                 key=lambda p: p.name != "model.safetensors.index.json")
    if idx:  # the index reader refuses a shard linked out of its folder
        if not within_model(idx[0], path):
            raise WeightsError(f"{idx[0]}: refused: a link to {idx[0].resolve()}, outside the folder {path}")
        return _open_path(idx[0], layout)
    for p in files:  # a weight file linked out of the folder is refused (a Hugging Face snapshot's blobs aside)
        weights = p.name.lower().endswith((*(s for group in FORMATS.values() for s in group), ".index.json"))
        if weights and not within_model(p, path):
            raise WeightsError(f"{p}: refused: a link to {p.resolve()}, outside the folder {path}")
    st = [p for p in files if p.name.endswith(".safetensors")]
    if len(st) == 1:
        return _open_path(st[0], layout)
    if st:
        from ._safetensors import ShardedSafetensorsReader
        return ShardedSafetensorsReader(st, layout=layout)
    for p in files:
        if p.name.endswith((".bin.index.json", ".pt.index.json", ".pth.index.json")):
            return _open_path(p, layout)
    # ONNX before PyTorch: an ONNX model's external data is often named *.bin
    for group in (FORMATS["onnx"], FORMATS["torch"], FORMATS["keras"] + FORMATS["h5"], FORMATS["npz"],
                  FORMATS["gguf"]):
        found = [p for p in files if p.name.lower().endswith(group)]
        if len(found) == 1:
            return _open_path(found[0], layout)
        if len(found) > 1:
            raise WeightsError(f"{path}: holds {len(found)} weight files of one format and no index "
                               f"({', '.join(p.name for p in found[:5])}); name the file to read")
    raise WeightsError(f"{path}: the directory holds no weight files (looked for *.safetensors, "
                       "model.safetensors.index.json, *.pt/.pth/.bin/.ckpt, *.keras, *.h5, *.npz, *.gguf, "
                       "*.onnx)")


def open_reader(source, *, layout: str | None = None, sep: str = "/", revision: str | None = None) -> Reader:
    """A :class:`Reader` for any source :func:`load` accepts (files are opened, values not read)."""
    check_layout(layout, allow_none=True, error=WeightsError)
    from ._hub import resolve_source
    source = resolve_source(source, revision=revision)  # a Hugging Face repo id: its cached snapshot folder
    if isinstance(source, (str, os.PathLike)):
        return _open_path(Path(source).expanduser(), layout)
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(source, torch.nn.Module):
        from ._torch import TorchReader, module_state
        state, desc = module_state(source)
        return TorchReader(state, source=desc, layout=layout)
    keras = sys.modules.get("keras")  # never imported here: a Keras object exists only if keras is loaded
    if keras is not None and isinstance(source, getattr(getattr(keras, "layers", None), "Layer", ())):
        from ._keras import KerasModelReader
        return KerasModelReader(source, layout=layout)
    if isinstance(source, (Mapping, list, tuple)) or _is_pytree(source):
        from ._torch import TorchReader, has_tensor
        if has_tensor(source):
            return TorchReader(source, source=f"<state dict of {type(source).__name__}>", layout=layout)
        from ._pytree import PytreeReader
        return PytreeReader(source, sep=sep, layout=layout)
    raise WeightsError(f"cannot read weights from an object of type {type(source).__name__}; pass a "
                       "path (file or directory), a Hugging Face repo id, a torch.nn.Module, a Keras model, "
                       "a state dict, or a pytree "
                       "(nested dicts) of arrays")


def _is_pytree(obj) -> bool:
    if "jax" not in sys.modules:
        return False
    import jax

    leaves = jax.tree_util.tree_leaves(obj)
    return not (len(leaves) == 1 and leaves[0] is obj)


def _open(source, layout, sep, revision, expand: bool, fused: str) -> Reader:
    """:func:`open_reader`, wrapped so experts and fused parts are matrices of their own (``_arch``)."""
    from ._arch import ArchReader
    from ._lora import LoraMerged

    if isinstance(source, LoraMerged):  # a base model with a LoRA adapter merged in
        reader, where = source.open(lambda s: open_reader(s, layout=layout, sep=sep, revision=revision)), source.base
    else:
        reader, where = open_reader(source, layout=layout, sep=sep, revision=revision), source
    path = None
    read_from = getattr(reader, "base_source", reader.source)  # a merged LoRA: the base model's files
    if isinstance(where, (str, os.PathLike)) and Path(read_from).exists():
        path = read_from  # the config.json beside these weights (a repo id's snapshot folder too)
    return ArchReader(reader, path=path, expand=expand, fused=fused)


def _select(reader: Reader, names, kinds) -> list[TensorInfo]:
    infos = reader.infos()
    if names is not None and hasattr(reader, "views"):  # a name may be an expert or a fused part
        listed = {i.name for i in infos}
        infos = infos + [i for i in reader.views() if i.name not in listed]
    if kinds is not None:
        kinds = (kinds,) if isinstance(kinds, str) else tuple(kinds)
        bad = [k for k in kinds if k not in KINDS]
        if bad:
            raise WeightsError(f"unknown kind(s) {bad}; kinds are {', '.join(KINDS)}")
        infos = [i for i in infos if i.kind in kinds]
    if names is not None:
        names = [names] if isinstance(names, str) else list(names)
        have = {i.name for i in infos}
        missing = [n for n in names if n not in have]
        if missing:
            everything = [i.name for i in reader.infos()]
            close = difflib.get_close_matches(missing[0], everything, n=3)
            hint = f" (did you mean {', '.join(map(repr, close))}?)" if close else ""
            where = " of the kinds asked for" if kinds is not None else ""
            raise WeightsError(f"{reader.source}: no tensor{where} named {missing[0]!r}{hint}"
                               f"{f'; {len(missing) - 1} more missing' if len(missing) > 1 else ''}; "
                               f"it holds {len(everything)} tensors")
        wanted = set(names)
        infos = [i for i in infos if i.name in wanted]
    return infos


class TensorStream:
    """An iterator of :class:`Tensor`, one read per step; ``len()`` is known up front.

    ``infos`` lists what will come (no values read).  The source's files are
    closed when the stream is exhausted, on :meth:`close`, or on leaving a
    ``with`` block.
    """

    def __init__(self, reader: Reader, infos: list[TensorInfo], *, lazy: bool = False):
        self._reader = reader
        self._read = reader.read_lazy if lazy else reader.read
        self.infos = tuple(infos)
        self.source = reader.source
        self._next = 0
        self._closed = False

    def __len__(self) -> int:
        return len(self.infos)

    def __iter__(self):
        return self

    def __next__(self) -> Tensor:
        if self._closed or self._next >= len(self.infos):
            self.close()
            raise StopIteration
        info = self.infos[self._next]
        self._next += 1
        return Tensor(info.name, self._read(info), info.kind, info)

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._reader.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        try:
            self.close()
        except Exception:
            pass

    def __repr__(self) -> str:
        return f"TensorStream({self.source!r}, {len(self)} tensors, {self._next} read)"


def load(source, *, names: Iterable[str] | str | None = None, kinds: Iterable[str] | str | None = None,
         layout: str | None = None, sep: str = "/", revision: str | None = None, expand: bool = False,
         fused: str = "split", lazy: bool = False) -> TensorStream:
    """Read the tensors of a model, one at a time.

    Parameters
    ----------
    source : path or object
        A file (``.safetensors``, ``*.safetensors.index.json``, ``.pt``/``.pth``/
        ``.bin``/``.ckpt``, ``pytorch_model.bin.index.json``, ``.npz``, ``.npy``,
        ``.keras``, ``.h5``/``.hdf5``, ``.gguf``, ``.onnx``; other names are recognised by their
        contents), a model directory, a ``torch.nn.Module``, a Keras 3 model or
        layer (rows named by ``variable.path``: ``d1/kernel``), a state dict, or
        a JAX/Flax pytree of arrays.  A string that is no existing path but has the
        form of a Hugging Face repo id (``org/name``) is read from the local Hugging
        Face cache, never downloaded (``htsr[hub]``; docs/weights.md).
    names : str or iterable of str, optional
        Read only these tensors (exact names).  A name the source lacks is a
        :class:`~htsr.errors.WeightsError` that suggests close matches.
    kinds : str or iterable of str, optional
        Read only tensors of these kinds (see :func:`htsr.weights.classify`),
        e.g. ``htsr.weights.MATRIX_KINDS``.  Tensors left out are never read.
    layout : {"pytorch", "keras"}, optional
        Override the layout the format implies (NumPy files have none).
    sep : str
        Joins the keys of an in-memory pytree (default ``"/"``).
    revision : str, optional
        For a repo id: the branch, tag or commit hash to read (default ``"main"``).
        With any other source it is an error.
    expand : bool
        ``False`` (default): tensors as stored.  ``True``: a stack of experts ``[E, a, b]``
        (kind ``"experts"``) comes as ``E`` matrices ``name[e]``, and fused projections
        (``c_attn``, ``query_key_value``, ``Wqkv``, ``qkv_proj``, ``gate_up_proj``) as their
        parts ``name[q]``, ``[k]``, ``[v]`` / ``[gate]``, ``[up]`` where the ``config.json``
        beside the weights makes the split unambiguous (docs/llm.md).  Whatever ``expand``,
        ``names`` may name such parts.
    fused : {"split", "keep"}
        With ``expand``: split fused projections (default) or keep them whole.
    lazy : bool
        ``True``: a float matrix of a safetensors file comes as a ``MappedTensor``
        (``htsr.weights._lazy``) that reads nothing until asked: ``numpy.asarray(t.array)``
        reads it whole, ``t.array.long_blocks()`` block by block (what ``htsr.rmt.layer_esd``
        and the report use: bounded memory, docs/benchmarks.md).  Other formats give arrays.

    Returns
    -------
    TensorStream
        Yields :class:`Tensor` (unpacks as ``name, array, kind``) in the
        source's order (natural order of names for safetensors and HDF5).

    Raises
    ------
    WeightsError
        At the call, not at the first step, for a missing path, an empty
        directory, an unknown format, a corrupt or truncated file, a refused
        pickle, a missing optional dependency, or a missing name.
    """
    reader = _open(source, layout, sep, revision, expand, fused)
    try:
        infos = _select(reader, names, kinds)
    except BaseException:
        reader.close()
        raise
    return TensorStream(reader, infos, lazy=lazy)


def list_tensors(source, *, layout: str | None = None, sep: str = "/",
                 revision: str | None = None, expand: bool = False, fused: str = "split") -> list[TensorInfo]:
    """Every tensor's name, shape, stored dtype, kind and layout, reading no values (``expand``,
    ``fused``: as :func:`load`)."""
    reader = _open(source, layout, sep, revision, expand, fused)
    try:
        return reader.infos()
    finally:
        reader.close()


def get(source, name: str, *, layout: str | None = None, sep: str = "/", revision: str | None = None,
        lazy: bool = False) -> Tensor:
    """One tensor by name (a :class:`~htsr.errors.WeightsError` if the source lacks it); an expert
    of a stack (``"...experts.down_proj[3]"``) or a fused part (``"...c_attn.weight[q]"``) too."""
    with load(source, names=[name], layout=layout, sep=sep, revision=revision, lazy=lazy) as stream:
        return next(stream)
