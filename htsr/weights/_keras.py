"""Keras 3: an in-memory ``keras.Model`` (or layer), and the user's names for a ``.keras`` file's weights.

In memory, every variable of ``model.weights`` is a tensor named by the chain of
layer names that leads to it and its own name (:func:`model_variables`):
``d1/kernel``, ``head/d2/kernel`` for a layer ``d2`` of a nested model ``head``, the
top model's name left out (what ``variable.path`` shows for a model built in one
go), in the model's layer order; layout ``"keras"`` (Dense ``(in, out)``, Conv2D
``(kh, kw, in, out)``); kinds from :func:`~htsr.weights.classify`, except that a
``bias``/``gamma``/``beta``/moving statistic is never a matrix (:func:`kind_of`).
Keras is never imported here: the reader is used only for an object whose class
comes from an already imported ``keras``.

A ``.keras`` archive stores its weights in ``model.weights.h5`` under paths that
name layer classes, not layers (``layers/dense/vars/0`` for a Dense layer ``d1``).
:func:`keras_names` maps them back to the same names as in memory, from the
weights file's attributes and ``config.json`` read as JSON alone (no code runs,
no object is deserialized):

- the layer's name: the ``name`` attribute Keras 3 writes on each ``vars`` group,
  else the archive's ``config.json``: the layers of a Functional or Sequential
  model (nested ones included) in order, which is how Keras numbers the
  ``layers/<class>_<n>`` groups;
- the variable's name: the order in which the Keras 3 built-in layer of that
  class (``config.json``'s ``class_name``, options such as ``use_bias`` included)
  creates its variables (:data:`_OWN`), and the sublayers of
  ``MultiHeadAttention`` and of the recurrent layers' cells (:data:`_SUBLAYERS`).

Where that is not unambiguous (a custom or quantized layer, a subclassed model,
a count of variables other than expected, two tensors that would get one name)
the tensor keeps its stored path, with a note saying why.  The stored path is in
``info.stored_name`` either way.
"""

from __future__ import annotations

import json
import re
import sys
from collections import defaultdict

import numpy as np

from ..errors import WeightsError
from ._base import Reader, StoredInfo, widen
from ._tensor import TensorInfo, classify

__all__ = ["KerasModelReader", "keras_names", "read_config", "model_variables", "kind_of"]

_MODELS = ("Functional", "Sequential")
_CONV = ("Conv1D", "Conv2D", "Conv3D", "Conv1DTranspose", "Conv2DTranspose", "Conv3DTranspose",
         "DepthwiseConv1D", "DepthwiseConv2D")
_CELLS = {"LSTM": "LSTMCell", "GRU": "GRUCell", "SimpleRNN": "SimpleRNNCell"}
#: Sublayers a built-in layer creates itself (absent from config.json): attribute -> (class, its config from
#: the parent's, its name where the file lacks it: MultiHeadAttention names its sublayers itself, a recurrent
#: cell's name is numbered per session)
_SUBLAYERS = {
    "MultiHeadAttention": {a: ("EinsumDense", lambda c: {"bias_axes": "b" if c.get("use_bias", True) else None}, n)
                           for a, n in (("_query_dense", "query"), ("_key_dense", "key"), ("_value_dense", "value"),
                                        ("_output_dense", "attention_output"))},
    **{rnn: {"cell": (cell, lambda c: {"use_bias": c.get("use_bias", True)}, None)} for rnn, cell in _CELLS.items()},
}
_MAX_CONFIG = 64 << 20  # bytes of config.json read at most


def _own(cls: str, cfg: dict) -> list[str] | None:
    """The names of the variables a Keras 3 built-in layer saves, in order; None when unknown."""
    dtype = cfg.get("dtype")
    if cfg.get("quantization_config") or (isinstance(dtype, dict) and "Quantized" in str(dtype.get("class_name"))):
        return None  # quantized layers save scales (and zeros) whose order depends on the mode
    bias = ["bias"] if cfg.get("use_bias", True) else []
    if cls == "Dense":
        return ["kernel", *bias]
    if cls == "EinsumDense":
        return ["kernel", *(["bias"] if cfg.get("bias_axes") else [])]
    if cls == "Embedding":
        return ["embeddings"]
    if cls in _CONV:
        return ["kernel", *bias]
    if cls in ("SeparableConv1D", "SeparableConv2D"):
        return ["depthwise_kernel", "pointwise_kernel", *bias]
    if cls in _CELLS.values():
        return ["kernel", "recurrent_kernel", *bias]
    norm = ["gamma"] * bool(cfg.get("scale", True)) + ["beta"] * bool(cfg.get("center", True))
    if cls in ("LayerNormalization", "GroupNormalization"):
        return norm
    if cls == "BatchNormalization":
        return [*norm, "moving_mean", "moving_variance"]
    if cls == "RMSNormalization":
        return ["scale"]
    if cls == "PReLU":
        return ["alpha"]
    return None


_VECTOR_KINDS = {"bias": "bias", "gamma": "norm", "beta": "norm", "moving_mean": "norm",
                 "moving_variance": "norm"}


def kind_of(name: str, variable: str, shape: tuple[int, ...], dtype: str) -> str:
    """:func:`classify`, except that a Keras bias or normalization variable is never a matrix.

    ``variable`` is the variable's own name (``bias``, ``gamma``): a
    MultiHeadAttention bias of shape ``(heads, head_dim)`` is a bias, not a dense layer.
    """
    kind = classify(name, shape, dtype)
    return _VECTOR_KINDS.get(variable, kind) if kind != "other" else kind


def _snake(name: str) -> str:
    """keras.src.utils.naming.to_snake_case: how a .keras file names a layer's group."""
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def _builtin(entry) -> bool:
    return (isinstance(entry, dict) and isinstance(entry.get("class_name"), str)
            and isinstance(entry.get("config"), dict) and str(entry.get("module", "")).startswith("keras"))


def _config_name(entry) -> str | None:
    cfg = entry.get("config") if isinstance(entry, dict) else None
    name = cfg.get("name") if isinstance(cfg, dict) else None
    return name if isinstance(name, str) and name else None


def read_config(zf) -> dict | None:
    """The archive's ``config.json`` as JSON (None when absent or unusable); nothing is deserialized."""
    try:
        info = zf.getinfo("config.json")
    except KeyError:
        return None
    if info.file_size > _MAX_CONFIG:
        return None
    try:
        data = json.loads(zf.read(info).decode("utf-8"))
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
    return data if isinstance(data, dict) else None


class _Walk:
    """Group path in the HDF5 file -> (layer names from the top, class, config), from attributes and config."""

    def __init__(self, file, config):
        self.file = file
        self.groups: dict[str, tuple[list[str] | None, str | None, dict]] = {}
        self.order: dict[str, int] = {}
        self._visit("", config if _builtin(config) else None, [])

    def _attr_name(self, group: str) -> str | None:
        vars_ = self.file.get(f"{group}/vars" if group else "vars")
        name = None if vars_ is None else vars_.attrs.get("name")
        if isinstance(name, bytes):
            name = name.decode("utf-8", "replace")
        return name if isinstance(name, str) and name else None

    def _visit(self, group: str, entry, chain: list[str] | None) -> None:
        cls = entry["class_name"] if entry is not None else None
        cfg = entry["config"] if entry is not None else {}
        self.groups[group] = (chain, cls, cfg)
        self.order.setdefault(group, len(self.order))
        node = self.file.get(group) if group else self.file
        if node is None or not hasattr(node, "keys"):
            return
        if cls in _MODELS and isinstance(cfg.get("layers"), list) and f"{group}/layers".lstrip("/") in self.file:
            self._visit_layers(f"{group}/layers".lstrip("/"), cfg["layers"], cls, chain)
        for attr, (sub_cls, sub_cfg, default) in _SUBLAYERS.get(cls, {}).items():
            # saved under the attribute's public alias when the layer has one (MultiHeadAttention's query_dense)
            child = next((c for c in (f"{group}/{attr.lstrip('_')}".lstrip("/"), f"{group}/{attr}".lstrip("/"))
                          if c in self.file), None)
            if child is not None:
                name = self._attr_name(child) or default
                sub_chain = chain + [name] if chain is not None and name else None
                self._visit(child, {"class_name": sub_cls, "config": sub_cfg(cfg)}, sub_chain)

    def _visit_layers(self, container: str, layers: list, cls: str, chain: list[str] | None) -> None:
        """Match ``container/<key>`` groups to config entries: by the name attribute, else by Keras's numbering."""
        entries = [e for e in layers if _builtin(e) or isinstance(e, dict)]
        if cls == "Sequential":  # a Sequential model's .layers (what is saved) leaves out its InputLayer
            entries = [e for e in entries if e.get("class_name") != "InputLayer"]
        by_name = {}
        for e in entries:
            by_name.setdefault(_config_name(e), []).append(e)
        used: dict[str, int] = {}
        keyed = {}
        for e in entries:  # saving_lib._save_container_state: <snake class>, then <snake class>_1, _2 ...
            base = _snake(str(e.get("class_name", "")))
            key = base if base not in used else f"{base}_{used[base] + 1}"
            used[base] = used.get(base, -1) + 1
            keyed[key] = e
        node = self.file.get(container)
        stored = list(node.keys()) if hasattr(node, "keys") else []
        # the model's layer order (config.json's), then any group the config does not name
        for key in [k for k in keyed if k in stored] + [k for k in stored if k not in keyed]:
            group = f"{container}/{key}"
            name = self._attr_name(group)
            entry = keyed.get(key)
            if name is not None and len(by_name.get(name, ())) == 1:
                entry = by_name[name][0]
            elif entry is not None and name is not None and _config_name(entry) != name:
                entry = None  # the attribute and the numbering disagree: not unambiguous
            if name is None and entry is not None:
                name = _config_name(entry)
            sub_chain = chain + [name] if chain is not None and isinstance(name, str) else None
            self._visit(group, entry if _builtin(entry) else None, sub_chain)


def keras_names(file, datasets: list[str], config: dict | None) -> dict[str, tuple]:
    """Stored path -> (name, note or None, order, variable name or None) for every dataset of a Keras 3 file.

    ``file`` is the open ``h5py.File``; ``datasets`` its dataset paths; ``config`` the
    archive's ``config.json`` (or None).  Names follow ``variable.path``
    (``d1/kernel``); where the mapping is not unambiguous the stored path is kept and
    the note says why.
    """
    try:
        walk = _Walk(file, config)
    except (RecursionError, ValueError, TypeError, KeyError, AttributeError, OSError):
        walk = _Walk(file, None)  # a config nested too deeply, or not as Keras writes it: stored paths
    by_group: dict[str, dict[int, str]] = defaultdict(dict)
    out: dict[str, tuple] = {}
    for path in datasets:
        group, sep, index = path.rpartition("/vars/")
        if not sep and path.startswith("vars/"):
            group, sep, index = "", "vars/", path[5:]
        if sep and index.isdigit():
            by_group[group][int(index)] = path
        else:
            out[path] = (path, "not a Keras 3 layer variable (no <layer>/vars/<n> path): stored path kept", 1 << 30,
                         None)
    for group, members in by_group.items():
        chain, cls, cfg = walk.groups.get(group, (None, None, {}))
        own = _own(cls, cfg) if cls is not None else None
        order = walk.order.get(group, 1 << 29)
        if chain is None or not chain or own is None or sorted(members) != list(range(len(own))):
            if not chain and cls is not None:
                why = f"the name of this {cls} is neither in the file nor in config.json"
            elif not chain:
                why = "its layer is not reached from config.json's Functional/Sequential layers"
            elif cls is None:
                why = "a custom layer: config.json does not say its variables' names"
            elif own is None:
                why = f"htsr does not know the variables of a {cls} layer with this config (custom or quantized)"
            else:
                article = "an" if cls[:1] in "AEIOU" else "a"
                why = f"{article} {cls} layer saves {len(own)} variables, the file holds {len(members)}"
            for i, path in members.items():
                out[path] = (path, f"Keras name unknown ({why}): stored path kept", order, None)
            continue
        for i, path in members.items():
            out[path] = ("/".join([*chain, own[i]]), None, order, own[i])
    counts = defaultdict(int)
    for name, *_ in out.values():
        counts[name] += 1
    for path, (name, note, order, _) in list(out.items()):
        if counts[name] > 1 and name != path:
            out[path] = (path, f"Keras name {name!r} is shared by {counts[name]} variables: stored path kept",
                         order, None)
    return out


def _name(variable) -> str:
    path = getattr(variable, "path", None)
    if isinstance(path, str) and path:
        return path
    return str(getattr(variable, "name", "variable")).removesuffix(":0")


def _sublayers(layer) -> list:
    """A layer's direct sublayers: a model's ``.layers``, else the layers it tracks (``_layers``)."""
    keras = sys.modules.get("keras")
    if keras is not None and isinstance(layer, keras.Model):
        found = list(layer.layers)
    else:
        found = list(getattr(layer, "_layers", []) or [])
    return [x for x in found if x is not layer and hasattr(x, "weights")]


def model_variables(model) -> list[tuple[str, object]]:
    """``(name, variable)`` of every weight of ``model``, named by the chain of layer names from it.

    A variable of layer ``d2`` inside the nested model ``head`` is ``head/d2/kernel``: the
    layers' names and the variable's own name, the top model's name left out, whatever
    name scope the layer was built in (``variable.path`` depends on it: a model loaded
    from a ``.keras`` file may show ``d2/kernel``).  The order is the model's: each
    layer's own variables, then its sublayers'.  Variables the walk does not reach
    come last, named by ``variable.path``.
    """
    out, seen = [], set()

    def visit(layer, chain):
        subs = _sublayers(layer)
        inner = {id(w) for sub in subs for w in sub.weights}
        for w in layer.weights:
            if id(w) not in inner and id(w) not in seen:
                seen.add(id(w))
                short = str(getattr(w, "name", "")).removesuffix(":0").rsplit("/", 1)[-1]
                out.append(("/".join([*chain, short]) if chain and short else _name(w), w))
        for sub in subs:
            visit(sub, [*chain, str(sub.name)])

    visit(model, [])
    out += [(_name(w), w) for w in model.weights if id(w) not in seen]
    return out


class KerasModelReader(Reader):
    """The variables of an in-memory Keras model or layer (``model.weights``), named as :func:`model_variables` says."""

    def __init__(self, model, *, layout: str | None = None):
        self.layout = layout or "keras"
        self.source = f"<Keras {type(model).__name__} {getattr(model, 'name', '')!r}>"
        try:
            weights = list(model.weights)
        except Exception as e:
            raise WeightsError(f"{self.source}: cannot list its weights ({type(e).__name__}: {e})") from None
        if not weights:
            built = getattr(model, "built", True)
            raise WeightsError(f"{self.source}: the Keras model has no weights"
                               + ("" if built else " yet: it is not built (call it on data, or build() it)"))
        self._vars, self._infos = {}, []
        seen: dict[str, int] = {}
        for name, v in model_variables(model):
            note = None
            if name in seen:
                seen[name] += 1
                name, note = f"{name}#{seen[name]}", f"variable {seen[name]} named {name!r} in this model"
            else:
                seen[name] = 1
            dtype = _dtype(v)
            shape = tuple(int(s) for s in v.shape)
            short = str(getattr(v, "name", "")).removesuffix(":0").rsplit("/", 1)[-1]
            self._vars[name] = v
            self._infos.append(StoredInfo(name, shape, dtype, kind_of(name, short, shape, dtype), self.layout,
                                          self.source, note=note))

    def infos(self) -> list[TensorInfo]:
        return list(self._infos)

    def read(self, info: TensorInfo) -> np.ndarray:
        keras = sys.modules["keras"]
        try:
            a = np.asarray(keras.ops.convert_to_numpy(self._vars[info.name]))
        except Exception as e:
            raise WeightsError(f"{self.source}: cannot read variable {info.name!r}: {type(e).__name__}: {e}") from None
        if a.dtype.name.startswith(("bfloat", "float8")):  # ml_dtypes types
            return a.astype(np.float32)
        return widen(a)


def _dtype(variable) -> str:
    dt = getattr(variable, "dtype", "")
    name = getattr(dt, "name", dt)
    return str(name).lower()
