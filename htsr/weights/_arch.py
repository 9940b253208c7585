"""Stored tensors -> reported matrices: mixture-of-experts stacks and fused projections.

A checkpoint stores some layers in a form that is not one matrix per layer:

* **stacked experts** ``[E, a, b]`` (kind ``"experts"``: GGUF's ``blk.N.ffn_gate_exps.weight``,
  Hugging Face's ``mlp.experts.gate_up_proj`` / ``down_proj``, DeepSeek/Qwen stacks) become
  ``E`` matrices named ``<name>[e]``.  The orientation of each slice (``[E, out, in]`` as
  Mixtral/Qwen/GGUF store it, ``[E, in, out]`` as gpt-oss and Llama-4 do) does not change an
  ESD (``W W^T`` and ``W^T W`` share their nonzero eigenvalues), so every stack is sliced
  along its first axis and no config is needed;
* **fused projections** (GPT-2's ``c_attn``, ``query_key_value``, ``Wqkv``, ``qkv_proj``,
  ``gate_up_proj``) become their parts ``<name>[q]``, ``[k]``, ``[v]`` / ``[gate]``, ``[up]``,
  split by the rules of :func:`fused_layout` from the ``config.json`` beside the weights.
  Without a config, or with one that does not make the split unambiguous, the tensor is
  kept whole and its row says why.

:class:`ArchReader` wraps any :class:`~htsr.weights._base.Reader`: with ``expand=True`` its
listing holds the parts instead of the stored tensors; whatever ``expand``, a part's name
can always be read (``htsr.weights.get(path, "h.0.attn.c_attn.weight[q]")``), which is
how a Dask worker reads one part of a layer.  A stacked tensor is read one expert slice at
a time when the reader can (``read_slice``: safetensors reads the slice's byte range);
otherwise the stack is read once, in float32, and its slices served from it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..data import check_choice
from ..errors import WeightsError
from ._base import Reader, StoredInfo
from ._hub import within_model
from ._tensor import TensorInfo, classify

__all__ = ["ArchReader", "PartInfo", "expert_group", "fused_layout", "read_config", "FUSED_CHOICES",
           "CONFIG_MAX_BYTES"]

#: ``fused=`` values: split fused projections into their parts, or keep them whole.
FUSED_CHOICES = ("split", "keep")
#: A config.json larger than this is not read (real ones are a few kB).
CONFIG_MAX_BYTES = 1 << 22

_PER_EXPERT = re.compile(r"^(.*[._/]experts?[._/])(\d+)([._/].+)$")
_STACK_PART = re.compile(r"^(.*)\[(\d+)\]$")
_PART = re.compile(r"^(.*)\[([a-z]+)\]$")

# tensor name endings of fused projections, and the model types whose layout htsr knows
_FUSED_QKV = re.compile(r"(^|[._/])(c_attn|query_key_value|Wqkv|qkv_proj)\.weight$")
_FUSED_GATE_UP = re.compile(r"(^|[._/])gate_up_proj\.weight$")
_NEOX_LIKE = {"gpt_neox", "bloom"}  # per head: (heads, 3, head_dim) along the output axis
_FALCON = {"falcon", "RefinedWeb", "RefinedWebModel"}
_CONTIGUOUS_QKV = {"gpt2": "c_attn", "gpt_bigcode": "c_attn", "mpt": "Wqkv", "phi-msft": "Wqkv",
                   "phi": "Wqkv", "phi3": "qkv_proj", "phimoe": "qkv_proj"}
_GATE_UP = {"phi3", "phimoe"}


def expert_group(name: str) -> str | None:
    """The name of the expert bank a matrix belongs to, or None when it is no expert.

    ``model.layers.0.block_sparse_moe.experts.3.w1.weight`` (one tensor per expert) ->
    ``model.layers.0.block_sparse_moe.experts.*.w1.weight``; ``blk.0.ffn_up_exps.weight[3]``
    (expert 3 of a stack) -> ``blk.0.ffn_up_exps.weight[*]``.  The report pools each bank's
    ESDs into one row of that name (docs/llm.md).
    """
    m = _STACK_PART.match(name)
    if m and classify(m.group(1), (2, 2, 2), "float32") == "experts":
        return f"{m.group(1)}[*]"
    m = _PER_EXPERT.match(name)
    if m:
        return f"{m.group(1)}*{m.group(3)}"
    return None


@dataclass(frozen=True)
class PartInfo(StoredInfo):
    """A matrix the report gives a row that the file does not store as it is.

    Attributes
    ----------
    base : TensorInfo or None
        The stored tensor it comes from (None: the info is the stored tensor itself, with a note).
    expert : int or None
        Which slice of a stack of experts (``base`` is ``[E, a, b]``).
    view : tuple or None
        ``(axis, groups, slots, head, start, stop)`` for a part of a fused projection:
        the stored matrix's output axis (``axis`` 0 for ``(out, in)``, 1 for GPT-2's
        Conv1D ``(in, out)``) seen as ``(groups, slots, head)``, and the part is slots
        ``start:stop`` of every group (:meth:`indices`).
    row_note : str
        What the report's row says of it in its warning (``"fused q,k,v projection kept whole:
        ..."``, ``"merged with LoRA (rank 8, ...)"``; ``""``: nothing to say).
    """

    base: TensorInfo | None = None
    expert: int | None = None
    view: tuple | None = None
    row_note: str = ""

    def indices(self) -> np.ndarray:
        """Positions along the stored output axis that make up this part."""
        _, groups, slots, head, start, stop = self.view
        idx = (np.arange(groups)[:, None, None] * slots * head + np.arange(start, stop)[None, :, None] * head
               + np.arange(head)[None, None, :])
        return idx.ravel()

    def to_dict(self) -> dict:
        d = super().to_dict()
        d.update(base=None if self.base is None else self.base.name, expert=self.expert,
                 row_note=self.row_note)
        return d


def read_config(folder) -> tuple[dict | None, str]:
    """``(config, "")`` from ``folder/config.json``, or ``(None, why)`` when there is none usable.

    Multimodal configs keep the language model's numbers under ``text_config``; those are
    merged over the top level.  Only that one file beside the weights is read, and not
    when it is a link out of the model's folder (a Hugging Face cache's blobs aside:
    :func:`~htsr.weights._hub.within_model`).  The one reader of ``config.json``: fused
    splits here, fp8 block sizes in :mod:`htsr.weights._quant`.
    """
    if folder is None:
        return None, "no config.json (the weights are not a file or folder)"
    path = Path(folder) / "config.json"
    if not path.is_file():
        return None, f"no config.json in {path.parent}"
    try:
        if not within_model(path, Path(folder)):
            return None, f"{path} links out of the model's folder: not read"
        if path.stat().st_size > CONFIG_MAX_BYTES:
            return None, f"{path} is larger than {CONFIG_MAX_BYTES} bytes: not read"
        cfg = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as e:
        return None, f"{path} is not readable JSON ({type(e).__name__}: {e})"
    if not isinstance(cfg, dict):
        return None, f"{path} is not a JSON object"
    text = cfg.get("text_config")
    if isinstance(text, dict):
        cfg = {**cfg, **text, "model_type": cfg.get("model_type", text.get("model_type"))}
    return cfg, ""


def _int(cfg: dict, *keys) -> int | None:
    for k in keys:
        v = cfg.get(k)
        if isinstance(v, int) and not isinstance(v, bool) and v > 0:
            return v
    return None


def _heads(cfg: dict) -> tuple[int | None, int | None, int | None]:
    """(heads, kv heads, head size) from a config, None where it does not say."""
    attn = cfg.get("attn_config") if isinstance(cfg.get("attn_config"), dict) else {}
    heads = _int(cfg, "num_attention_heads", "n_head", "n_heads", "num_heads")
    kv = _int(cfg, "num_key_value_heads", "num_kv_heads", "n_head_kv", "multi_query_group_num") or _int(
        attn, "kv_n_heads")
    hidden = _int(cfg, "hidden_size", "n_embd", "d_model")
    hd = _int(cfg, "head_dim")
    if hd is None and heads and hidden and hidden % heads == 0:
        hd = hidden // heads
    return heads, kv, hd


def fused_layout(name: str, shape: tuple, cfg: dict | None, why_none: str = ""):
    """How a fused projection splits: ``(axis, groups, slots, head, {part: (start, stop)})``, or a reason.

    The rules (``F`` the output axis, ``H`` heads, ``K`` key/value heads, ``d`` head size):

    * ``c_attn`` of ``gpt2`` (Conv1D, stored ``(in, F)``: ``axis`` 1) and of ``gpt_bigcode``
      (``(F, in)``), ``Wqkv`` of ``mpt``/``phi-msft``, ``qkv_proj`` of ``phi3``: q, k, v
      contiguous, ``H*d``, ``K*d``, ``K*d`` (``K = H`` unless the config says otherwise;
      ``gpt_bigcode`` with ``multi_query``: ``K = 1``);
    * ``query_key_value`` of ``gpt_neox`` and ``bloom``: per head, ``F`` seen as ``(H, 3, d)``;
    * ``query_key_value`` of ``falcon``: with ``new_decoder_architecture``, ``(K, H/K + 2, d)``
      (each group's query heads, then its key, then its value); else with ``multi_query``
      (the default), q, k, v contiguous ``H*d, d, d``; else per head as GPT-NeoX;
    * ``gate_up_proj`` (2-D) of ``phi3``: gate then up, ``intermediate_size`` each.

    Anything else (an unknown ``model_type``, sizes that do not add up to ``F``) returns a
    string saying why the tensor is kept whole.
    """
    gate_up = _FUSED_GATE_UP.search(name) is not None
    if not gate_up and _FUSED_QKV.search(name) is None:
        return None
    what = "gate/up" if gate_up else "q,k,v"
    if len(shape) != 2:
        return f"fused {what} projection of shape {shape}, not a matrix"
    if cfg is None:
        return f"fused {what} projection kept whole: {why_none}, so its parts are unknown"
    mt = str(cfg.get("model_type", ""))
    stem = re.search(r"(c_attn|query_key_value|Wqkv|qkv_proj|gate_up_proj)\.weight$", name).group(1)
    axis = 1 if (stem == "c_attn" and mt == "gpt2") else 0
    F = shape[axis]
    heads, kv, hd = _heads(cfg)
    if gate_up:
        inter = _int(cfg, "intermediate_size")
        if mt not in _GATE_UP or inter is None:
            return f"fused gate/up projection kept whole: model_type {mt!r} is not one whose layout htsr knows"
        layout = (axis, 1, 2 * inter, 1, {"gate": (0, inter), "up": (inter, 2 * inter)})
    elif mt in _FALCON and stem == "query_key_value":
        layout = _falcon(cfg, heads, hd)
    elif mt in _NEOX_LIKE and stem == "query_key_value":
        layout = None if not (heads and hd) else (axis, heads, 3, hd, {"q": (0, 1), "k": (1, 2), "v": (2, 3)})
    elif _CONTIGUOUS_QKV.get(mt) == stem:
        if mt == "gpt_bigcode":
            kv = 1 if cfg.get("multi_query", True) else heads
        layout = None if not (heads and hd) else _contiguous(heads * hd, (kv or heads) * hd, axis)
    else:
        return (f"fused {what} projection kept whole: model_type {mt!r} with {stem!r} is not a layout htsr "
                "knows (docs/llm.md lists them)")
    if layout is None:
        return f"fused {what} projection kept whole: config.json ({mt}) does not give the number of heads"
    _, groups, slots, head, _ = layout
    if groups * slots * head != F:
        return (f"fused {what} projection kept whole: config.json ({mt}: {heads} heads, {kv or heads} kv heads, "
                f"head size {hd}) implies an output axis of {groups * slots * head}, but the tensor's is {F}")
    return layout


def _contiguous(q: int, kv: int, axis: int):
    return axis, 1, q + 2 * kv, 1, {"q": (0, q), "k": (q, q + kv), "v": (q + kv, q + 2 * kv)}


def _falcon(cfg, heads, hd):
    if not (heads and hd):
        return None
    if cfg.get("new_decoder_architecture"):
        kv = _int(cfg, "num_kv_heads") or heads
        if heads % kv:
            return None
        per = heads // kv
        return 0, kv, per + 2, hd, {"q": (0, per), "k": (per, per + 1), "v": (per + 1, per + 2)}
    if cfg.get("multi_query", True):
        return _contiguous(heads * hd, hd, 0)
    return 0, heads, 3, hd, {"q": (0, 1), "k": (1, 2), "v": (2, 3)}


def _with(info: TensorInfo, note: str) -> str:
    """``note`` after the note ``info`` already carries (a merged LoRA's), joined by ``"; "``."""
    prior = getattr(info, "row_note", "")
    return "; ".join(x for x in (prior, note) if x)


def _config_folder(source) -> Path | None:
    if source is None:
        return None
    p = Path(source)
    return p if p.is_dir() else p.parent


class ArchReader(Reader):
    """A reader whose listing gives experts and fused parts as matrices of their own (module docstring).

    Parameters
    ----------
    reader : Reader
        The format's reader.
    path : path, optional
        The file or folder read; its folder's ``config.json`` decides fused splits.
    expand : bool
        List parts instead of stored stacks and fused tensors (the report's view).
    fused : {"split", "keep"}
        With ``expand``: split fused projections where the config allows, or keep them.
    """

    def __init__(self, reader: Reader, *, path=None, expand: bool = False, fused: str = "split"):
        self._reader = reader
        self.source = reader.source
        self.expand = bool(expand)
        self.fused = check_choice(fused, "fused", FUSED_CHOICES, error=WeightsError)
        self._path = path
        self._config = None
        self._stored = None
        self._views = None
        self._cache = (None, None, 0)  # (name, array, reads left): the stored tensor whose parts are being read
        self._n_parts: dict[str, int] = {}

    def __getattr__(self, name):  # the wrapped reader's own attributes (metadata, arch, layout...)
        if name.startswith("__") or name == "_reader":
            raise AttributeError(name)
        return getattr(self._reader, name)

    @property
    def config(self) -> tuple[dict | None, str]:
        if self._config is None:
            self._config = read_config(_config_folder(self._path)) if self._path is not None else (
                None, "no config.json (an in-memory model)")
        return self._config

    def _build(self) -> None:
        if self._views is not None:
            return
        self._stored = self._reader.infos()
        split, keep = [], []
        for info in self._stored:
            if info.kind == "experts":
                parts = self._experts(info)
                split += parts
                keep += parts
                continue
            layout = fused_layout(info.name, info.shape, *self.config) if info.kind == "dense" else None
            if layout is None:
                split.append(info)
                keep.append(info)
            elif isinstance(layout, str):
                noted = self._noted(info, layout)
                split.append(noted)
                keep.append(noted)
            else:
                split += self._parts(info, layout)
                self._n_parts[info.name] = len(layout[4])
                keep.append(self._noted(info, f"fused projection kept whole (fused='keep'); parts "
                                              f"{', '.join(layout[4])}"))
        self._views = {"split": split, "keep": keep}

    @staticmethod
    def _noted(info: TensorInfo, note: str) -> PartInfo:
        return PartInfo(info.name, info.shape, info.dtype, info.kind, info.layout, info.source, info.tied_to,
                        stored_name=getattr(info, "stored_name", None),
                        stored_type=getattr(info, "stored_type", None), base=info, row_note=_with(info, note))

    @staticmethod
    def _experts(info: TensorInfo) -> list[PartInfo]:
        E = info.shape[0]
        shape = tuple(info.shape[1:])
        return [PartInfo(f"{info.name}[{e}]", shape, info.dtype, "dense", info.layout, info.source,
                         stored_name=getattr(info, "stored_name", None), stored_type=getattr(info, "stored_type", None),
                         dequant=info.dequant, base=info, expert=e, row_note=_with(info, ""))
                for e in range(E)]  # dequant: its note on every row; the reader applies expert e's scales

    @staticmethod
    def _parts(info: TensorInfo, layout) -> list[PartInfo]:
        axis, groups, slots, head, parts = layout
        out = []
        for label, (start, stop) in sorted(parts.items()):  # name order: k, q, v; gate, up
            n = groups * (stop - start) * head
            shape = (n, info.shape[1]) if axis == 0 else (info.shape[0], n)
            out.append(PartInfo(f"{info.name}[{label}]", shape, info.dtype, info.kind, info.layout, info.source,
                                stored_name=getattr(info, "stored_name", None),
                                stored_type=getattr(info, "stored_type", None), base=info,
                                view=(axis, groups, slots, head, start, stop),
                                row_note=_with(info, "")))  # the name says it: "<tensor>[q]"
        return out

    def infos(self) -> list[TensorInfo]:
        if not self.expand:
            return list(self._reader.infos())
        self._build()
        return list(self._views[self.fused])

    def views(self) -> list[TensorInfo]:
        """Every name that can be read: stored tensors, experts, fused parts (for lookups by name)."""
        self._build()
        seen, out = set(), []
        for info in (*self._views["split"], *self._views["keep"], *self._stored):
            if info.name not in seen:
                seen.add(info.name)
                out.append(info)
        return out

    def read(self, info: TensorInfo) -> np.ndarray:
        if not isinstance(info, PartInfo) or info.base is None:
            return self._reader.read(info)
        if info.expert is not None:
            return self._slice(info.base, info.expert)
        if info.view is None:  # a fused tensor kept whole: as stored
            return self._reader.read(info.base)
        whole = self._whole(info.base, self._n_parts.get(info.base.name, 1))
        return np.ascontiguousarray(np.take(whole, info.indices(), axis=info.view[0]))

    def read_lazy(self, info: TensorInfo):
        """A stored tensor read on demand by the wrapped reader; experts and fused parts as :meth:`read`."""
        if not isinstance(info, PartInfo) or info.base is None:
            return self._reader.read_lazy(info)
        if info.expert is None and info.view is None:
            return self._reader.read_lazy(info.base)
        return self.read(info)

    def _whole(self, base: TensorInfo, uses: int) -> np.ndarray:
        """The stored tensor, read once for its ``uses`` parts, then let go (one tensor held at most)."""
        name, array, left = self._cache
        if name != base.name:
            array, left = self._reader.read(base), uses
        left -= 1
        self._cache = (base.name, array, left) if left > 0 else (None, None, 0)
        return array

    def _slice(self, base: TensorInfo, k: int) -> np.ndarray:
        read_slice = getattr(self._reader, "read_slice", None)
        if read_slice is not None:
            return read_slice(base, k)
        return np.ascontiguousarray(self._whole(base, base.shape[0])[k])

    def close(self) -> None:
        self._cache = (None, None, 0)
        self._reader.close()
