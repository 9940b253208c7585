"""ONNX models through the ``onnx`` package.

Weights are the graph's initializers (sparse ones made dense) and the tensors of
its ``Constant`` nodes (how Paddle2ONNX and other exporters store weights),
named as in the graph and listed in the order the graph first uses them.  A
tensor's kind comes from the operation that consumes it, followed through
``Identity``, ``Cast`` and 2-D ``Transpose``, not from its number of dimensions:

- ``MatMul`` input B, or ``Gemm`` B with ``transB=0``: ``dense`` ``(in, out)``
  (layout ``"keras"``); ``Gemm`` B with ``transB=1``, or a weight on the left of
  ``MatMul``: ``dense`` ``(out, in)`` (``"pytorch"``);
- ``Conv``/``ConvTranspose`` weight: ``conv1d``/``conv2d`` ``(out, in, k...)``;
- ``Gather`` data (axis 0): ``embedding``;
- a normalization's scale or shift: ``norm``; a ``Gemm``/``Conv`` bias: ``bias``;
- anything else (a ``(1, 512)`` constant used by ``Mul``, an unused tensor): not a
  matrix, and ``info.no_spectrum_reason()`` names the ops that use it.

Values kept outside the model (external data) are read only from files inside
the model's own folder: a location that is absolute, climbs with ``..`` or is a
symlink leading out of the folder is refused when the model is opened, as is a
location whose file is missing or too short.  In a Hugging Face cache snapshot
(``models--org--name/snapshots/<commit>/``) every file is a symlink into the
repo's ``blobs/`` folder, and exactly that is accepted besides the folder itself.  External values are read one
tensor at a time; values inside the ``.onnx`` file are in memory with the model.
Initializers and ``Constant`` nodes inside subgraphs (``If``, ``Loop``) and
functions are not read.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath, PureWindowsPath

import numpy as np

from ..errors import WeightsError
from ._base import Reader, StoredInfo, need, widen
from ._hub import within_model
from ._tensor import MATRIX_KINDS, TensorInfo, classify

__all__ = ["OnnxReader"]

_PASS = {"Identity", "Cast", "CastLike"}  # the values go on unchanged, in the same layout
_NORM_INPUTS = {"LayerNormalization": (1, 2), "BatchNormalization": (1, 2, 3, 4), "InstanceNormalization": (1, 2),
                "GroupNormalization": (1, 2), "RMSNormalization": (1,), "SimplifiedLayerNormalization": (1,),
                "SkipLayerNormalization": (2, 3, 4), "SkipSimplifiedLayerNormalization": (2, 3)}
_BIAS_INPUTS = {"Gemm": (2,), "Conv": (2,), "ConvTranspose": (2,)}
_PACKED_BITS = {"INT4": 4, "UINT4": 4, "FLOAT4E2M1": 4, "INT2": 2, "UINT2": 2, "FLOAT6E2M3": 6, "FLOAT6E3M2": 6}
_MATRIX_OPS = "a 2-D MatMul/Gemm/Gather weight or a 1-D/2-D Conv kernel"


@dataclass
class _Entry:
    """One weight tensor: its values (and indices, when sparse) and where external ones lie."""

    name: str
    dims: tuple[int, ...]
    values: object  # onnx.TensorProto
    indices: object = None
    places: dict = field(default_factory=dict)  # "values"/"indices" -> (path, offset, nbytes)


def _int_attr(node, name: str, default: int) -> int:
    return next((a.i for a in node.attribute if a.name == name), default)


def _transposes(node, ndim: int) -> bool:
    """A Transpose that swaps the two axes of a matrix (its default perm reverses them)."""
    perm = next((list(a.ints) for a in node.attribute if a.name == "perm"), [])
    return node.op_type == "Transpose" and ndim == 2 and perm in ([], [1, 0])


def _uses(name: str, consumers: dict, ndim: int) -> list[tuple[int, object, int, bool]]:
    """``(node index, node, input index, transposed)`` of the ops the tensor feeds, in graph order."""
    out, todo, seen = [], [(name, False)], set()
    while todo:
        current, flipped = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        for i, node, k in consumers.get(current, ()):
            if k == 0 and node.output and (node.op_type in _PASS or _transposes(node, ndim)):
                todo.append((node.output[0], flipped ^ (node.op_type == "Transpose")))
            else:
                out.append((i, node, k, flipped))
    return sorted(out, key=lambda u: (u[0], u[2]))


def _role(node, k: int, ndim: int) -> tuple[str, str | None] | None:
    """(kind, layout) the tensor has as input ``k`` of ``node``; None when the op says nothing."""
    op = node.op_type
    if op == "MatMul" and ndim == 2 and k in (0, 1):
        return "dense", "keras" if k == 1 else "pytorch"  # X @ W takes (in, out); W @ X takes (out, in)
    if op == "Gemm" and ndim == 2 and k in (0, 1):
        transposed = bool(_int_attr(node, "transB" if k == 1 else "transA", 0))
        return "dense", "pytorch" if transposed == (k == 1) else "keras"
    if op in ("Conv", "ConvTranspose") and k == 1 and ndim in (3, 4):
        # ConvTranspose keeps (in, out, k...): each slice is the transpose, with the same singular values
        return f"conv{ndim - 2}d", "pytorch"
    if op == "Gather" and k == 0 and ndim == 2 and _int_attr(node, "axis", 0) == 0:
        return "embedding", "pytorch"
    if k in _NORM_INPUTS.get(op, ()):
        return "norm", None
    if k in _BIAS_INPUTS.get(op, ()):
        return "bias", None
    return None


def _kind(name: str, dims: tuple[int, ...], dtype: str, uses: list) -> tuple[str, str, str | None, str | None]:
    """(kind, layout, deciding op(s), reason it has no spectrum) from the ops that use the tensor."""
    ops = ", ".join(dict.fromkeys(node.op_type for _, node, _, _ in uses)) or None
    if not dtype.startswith(("float", "bfloat")):
        note = None
        if len(dims) >= 2 and any(node.op_type == "DequantizeLinear" for _, node, _, _ in uses):
            note = f"{dtype} weight dequantized inside the graph (DequantizeLinear): its scales are not applied"
        return classify(name, dims, dtype), "pytorch", ops, note
    roles = [(_role(node, k, len(dims)), node, flipped) for _, node, k, flipped in uses]
    for role, node, flipped in roles:
        if role is not None and role[0] in MATRIX_KINDS:
            layout = {"keras": "pytorch", "pytorch": "keras"}[role[1]] if flipped else role[1]
            return role[0], layout, node.op_type, None
    words = {role[0] for role, _, _ in roles if role is not None}
    squeezed = tuple(d for d in dims if d != 1)
    if words:
        kind = "norm" if "norm" in words else "bias"
    else:
        kind = classify(name, squeezed, dtype) if len(squeezed) <= 1 else "other"
    if len(dims) < 2:
        return kind, "pytorch", ops, None
    used = f"used by {ops}" if ops else "used by no node of the graph"
    return kind, "pytorch", ops, f"{used}, not as {_MATRIX_OPS}: no spectrum"


def _nbytes(onnx, proto, n: int) -> int:
    type_name = onnx.TensorProto.DataType.Name(proto.data_type)
    if type_name in _PACKED_BITS:
        return math.ceil(n * _PACKED_BITS[type_name] / 8)
    return n * np.dtype(onnx.helper.tensor_dtype_to_np_dtype(proto.data_type)).itemsize


def _dtype_name(onnx, proto) -> str:
    try:
        return np.dtype(onnx.helper.tensor_dtype_to_np_dtype(proto.data_type)).name
    except Exception:  # UNDEFINED, or a type newer than this onnx
        return f"onnx type {proto.data_type}"


class OnnxReader(Reader):
    """One ``.onnx`` model (its external data, if any, beside it)."""

    def __init__(self, path, *, layout: str | None = None):
        self._onnx = onnx = need("onnx", f"reading the ONNX model {path}")
        self.path = Path(path)
        self.source = str(self.path)
        self.folder = self.path.parent
        try:
            model = onnx.load(self.source, load_external_data=False)  # htsr reads (and checks) external data
        except Exception as e:
            text = str(e).strip().splitlines()
            raise WeightsError(f"{self.path}: not a readable ONNX model ({type(e).__name__}"
                               f"{': ' + text[0] if text else ''})") from None
        if not model.HasField("graph"):
            raise WeightsError(f"{self.path}: not an ONNX model: it holds no graph")
        self._entries = self._collect(model.graph)
        for entry in self._entries.values():
            for which in ("values", "indices"):
                proto = getattr(entry, which)
                if proto is not None and proto.data_location == onnx.TensorProto.EXTERNAL:
                    entry.places[which] = self._place(entry.name, proto)
        self._infos = self._list(model.graph, layout)

    def _collect(self, graph) -> dict[str, _Entry]:
        entries: dict[str, _Entry] = {}

        def add(entry: _Entry) -> None:
            if entry.name in entries:
                raise WeightsError(f"{self.path}: two weight tensors are named {entry.name!r}")
            entries[entry.name] = entry

        for t in graph.initializer:
            add(_Entry(t.name, tuple(t.dims), t))
        for sp in graph.sparse_initializer:
            add(_Entry(sp.values.name, tuple(sp.dims), sp.values, sp.indices))
        for node in graph.node:
            if node.op_type == "Constant" and node.output:
                for a in node.attribute:
                    if a.name == "value" and a.HasField("t"):
                        add(_Entry(node.output[0], tuple(a.t.dims), a.t))
                    elif a.name == "sparse_value" and a.HasField("sparse_tensor"):
                        sp = a.sparse_tensor
                        add(_Entry(node.output[0], tuple(sp.dims), sp.values, sp.indices))
        return entries

    def _place(self, name: str, proto) -> tuple[Path, int, int]:
        """The file, offset and size of a tensor's external values, checked to lie inside the folder."""
        ed = {e.key: e.value for e in proto.external_data}
        location = ed.get("location", "")
        parts = PurePosixPath(location.replace("\\", "/")).parts
        if (not location or "\x00" in location or os.path.isabs(location) or PureWindowsPath(location).drive
                or ".." in parts):
            raise WeightsError(f"{self.path}: refused: tensor {name!r} keeps its values at {location!r}, "
                               f"which is not a file inside the model's folder {self.folder}")
        file = self.folder / location
        real, home = file.resolve(), self.folder.resolve()
        if not within_model(file, self.folder):  # in a Hugging Face cache snapshot: its repo's blobs too
            raise WeightsError(f"{self.path}: refused: tensor {name!r} keeps its values in {location!r}, a "
                               f"link to {real}, outside the model's folder {home}")
        if not real.is_file():
            raise WeightsError(f"{self.path}: tensor {name!r} keeps its values in {location!r}, which is "
                               f"missing from {self.folder}")
        try:
            offset = int(ed.get("offset", 0))
            nbytes = _nbytes(self._onnx, proto, math.prod(int(d) for d in proto.dims))
            length = int(ed.get("length", nbytes))
        except (ValueError, KeyError) as e:
            raise WeightsError(f"{self.path}: tensor {name!r}: unusable external-data entry ({e!r})") from None
        size = real.stat().st_size
        if length != nbytes or offset < 0 or offset + nbytes > size:
            raise WeightsError(f"{self.path}: tensor {name!r} needs {nbytes} bytes from byte {offset} of "
                               f"{location!r} (its entry says {length}); the file has {size} bytes")
        return real, offset, nbytes

    def _list(self, graph, layout: str | None) -> list[TensorInfo]:
        consumers: dict[str, list] = {}
        for i, node in enumerate(graph.node):
            for k, x in enumerate(node.input):
                consumers.setdefault(x, []).append((i, node, k))
        rows = []
        for position, entry in enumerate(self._entries.values()):
            dtype = _dtype_name(self._onnx, entry.values)
            uses = _uses(entry.name, consumers, len(entry.dims))
            kind, own_layout, ops, note = _kind(entry.name, entry.dims, dtype, uses)
            info = StoredInfo(entry.name, entry.dims, dtype, kind, layout or own_layout, self.source,
                              stored_type=ops, note=note)
            rows.append(((uses[0][0] if uses else len(graph.node), position), info))
        return [info for _, info in sorted(rows, key=lambda r: r[0])]

    def infos(self) -> list[TensorInfo]:
        return list(self._infos)

    def read(self, info: TensorInfo) -> np.ndarray:
        entry = self._entries[info.name]
        try:
            values = self._array(entry, "values")
            if entry.indices is not None:
                values = self._dense(entry, values)
            values = np.asarray(values).reshape(entry.dims)
        except Exception as e:
            raise WeightsError(f"{self.path}: cannot read tensor {info.name!r}: {type(e).__name__}: {e}") from None
        if values.dtype.name.startswith(("bfloat", "float8", "float6", "float4")):  # ml_dtypes types
            return values.astype(np.float32)
        return widen(values)

    def _array(self, entry: _Entry, which: str) -> np.ndarray:
        onnx, proto = self._onnx, getattr(entry, which)
        if which not in entry.places:
            return onnx.numpy_helper.to_array(proto)
        file, offset, nbytes = entry.places[which]
        raw = np.fromfile(file, dtype=np.uint8, count=nbytes, offset=offset)
        dtype = np.dtype(onnx.helper.tensor_dtype_to_np_dtype(proto.data_type))
        n = math.prod(int(d) for d in proto.dims)
        if dtype.itemsize * n == nbytes:
            return raw.view(dtype).reshape(tuple(proto.dims))
        inline = onnx.TensorProto()  # packed sub-byte types: onnx unpacks them
        inline.CopyFrom(proto)
        del inline.external_data[:]
        inline.data_location = onnx.TensorProto.DEFAULT
        inline.raw_data = raw.tobytes()
        return onnx.numpy_helper.to_array(inline)

    def _dense(self, entry: _Entry, values: np.ndarray) -> np.ndarray:
        """A sparse tensor's dense values: indices are flat (NNZ,) or coordinates (NNZ, rank)."""
        indices = self._array(entry, "indices").astype(np.int64)
        if indices.ndim == 2:
            indices = np.ravel_multi_index(tuple(indices.T), entry.dims)
        dense = np.zeros(math.prod(entry.dims), values.dtype)
        dense[indices] = values.reshape(-1)
        return dense
