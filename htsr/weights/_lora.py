"""LoRA adapters (PEFT layout): the low-rank updates, and a base model with them merged in.

A PEFT adapter is a folder with ``adapter_config.json`` (``r``, ``lora_alpha``,
``use_rslora``, ``rank_pattern``, ``alpha_pattern``, ``fan_in_fan_out``, ...) and
``adapter_model.safetensors`` (or ``.bin``) holding, per adapted module ``<path>``,

* ``base_model.model.<path>.lora_A.weight`` ``(r, in)`` and ``lora_B.weight`` ``(out, r)``;
* for an embedding, ``lora_embedding_A`` ``(r, vocab)`` and ``lora_embedding_B`` ``(dim, r)``.

The update of a module is ``dW = s B A`` with ``s = lora_alpha / r`` (``lora_alpha / sqrt(r)``
with ``use_rslora``), transposed for an embedding and for ``fan_in_fan_out`` (GPT-2's Conv1D);
``r`` and ``lora_alpha`` come from ``rank_pattern``/``alpha_pattern`` when a key matches the
module's name (PEFT's rule: the key matches the name's end at a ``.``).

:func:`update_evals` gives the ``r`` nonzero eigenvalues of ``dW^T dW`` from an ``r x r``
problem (QR of ``B`` and of ``A^T``), never an ``out x in`` matrix.  :func:`merge_lora` is a
source for :func:`htsr.weights.load` that reads a base model with ``W + dW`` in place of each
adapted weight.
"""

from __future__ import annotations

import json
import math
import os
import re
from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np

from ..errors import WeightsError
from ._base import Reader
from ._hub import within_model
from ._tensor import TensorInfo

__all__ = ["is_adapter", "open_adapter", "Adapter", "LoraModule", "update_evals", "merge_lora", "LoraMerged",
           "MergedReader"]

_CONFIG = "adapter_config.json"
_WEIGHTS = ("adapter_model.safetensors", "adapter_model.bin")
_KEY = re.compile(r"^(?:base_model\.model\.)?(?P<mod>.+?)\.(?P<which>lora_A|lora_B|lora_embedding_A|lora_embedding_B)"
                  r"(?:\.default)?(?:\.weight)?$")


def _folder(source) -> Path | None:
    if not isinstance(source, (str, os.PathLike)):
        return None
    p = Path(source).expanduser()
    folder = p if p.is_dir() else p.parent
    if not (folder / _CONFIG).is_file():
        return None
    if p.is_dir():
        return folder if any((folder / w).is_file() for w in _WEIGHTS) else None
    return folder if p.name in _WEIGHTS else None


def is_adapter(source) -> bool:
    """True for a PEFT LoRA adapter: a folder holding ``adapter_config.json`` and
    ``adapter_model.safetensors`` (or ``.bin``), or that weights file itself."""
    return _folder(source) is not None


@dataclass(frozen=True)
class LoraModule:
    """One adapted module of an adapter.

    Attributes
    ----------
    module : str
        Its path in the base model, PEFT's prefix removed (``model.layers.0.self_attn.q_proj``).
    A, B : TensorInfo
        The stored factors (``lora_A`` ``(r, in)``, ``lora_B`` ``(out, r)``; embeddings: ``(r, vocab)``, ``(dim, r)``).
    r : int
    alpha : float
    scale : float
        ``alpha / r``, or ``alpha / sqrt(r)`` with rsLoRA.
    transposed : bool
        ``dW = s (B A)^T``: an embedding, or ``fan_in_fan_out`` (Conv1D).
    embedding : bool
    """

    module: str
    A: TensorInfo
    B: TensorInfo
    r: int
    alpha: float
    scale: float
    transposed: bool
    embedding: bool

    @property
    def shape(self) -> tuple[int, int]:
        """Shape of ``dW`` as the base model stores the weight."""
        out, inp = self.B.shape[0], self.A.shape[1]
        return (inp, out) if self.transposed else (out, inp)

    @property
    def name(self) -> str:
        """The weight it updates, ``<module>.weight``."""
        return f"{self.module}.weight"


def _pattern_value(pattern: dict, module: str, default, what: str, path: Path, *, integer: bool = False):
    """The value of the first key of ``rank_pattern``/``alpha_pattern`` that matches ``module`` as PEFT
    matches it (the key a regular expression, ending the module's name), checked as its setting is."""
    for key, value in pattern.items():
        try:
            hit = re.match(rf"(.*\.)?{key}$", module)
        except re.error as e:
            raise WeightsError(f"{path}: {what} key {key!r} is not a regular expression ({e})") from None
        if hit:
            return _number({key: value}, key, path, integer=integer, what=f"{what}[{key!r}]")
    return default


def _flag(cfg: dict, key: str, path: Path) -> bool:
    """A true/false setting of the config: JSON true or false (absent or null: false)."""
    v = cfg.get(key)
    if v is None:
        return False
    if not isinstance(v, bool):
        raise WeightsError(f"{path}: {key} must be true or false, got {v!r}")
    return v


def _number(cfg: dict, key: str, path: Path, *, integer: bool = False, default=None, what: str | None = None):
    v = cfg.get(key, default)
    ok = isinstance(v, int) if integer else isinstance(v, (int, float))
    if not ok or isinstance(v, bool) or not v > 0 or not math.isfinite(v):
        raise WeightsError(f"{path}: {what or key} must be a positive {'integer' if integer else 'number'}, "
                           f"got {v!r}")
    return v


class Adapter:
    """A PEFT LoRA adapter folder, opened: its config and its modules (no values read)."""

    def __init__(self, folder: Path, open_weights):
        self.folder = folder
        path = folder / _CONFIG
        for f in (path, *(folder / w for w in _WEIGHTS if (folder / w).is_file())):
            if not within_model(f, folder):  # the folder the user named, and nothing a link points to outside it
                raise WeightsError(f"{f}: refused: a link to {f.resolve()}, outside the adapter's folder")
        try:
            cfg = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(cfg, dict):
                raise ValueError("not a JSON object")
        except (OSError, UnicodeDecodeError, ValueError, RecursionError) as e:
            raise WeightsError(f"{path}: not a usable adapter config ({e})") from None
        peft_type = str(cfg.get("peft_type", "LORA")).upper()
        if peft_type != "LORA":
            raise WeightsError(f"{path}: peft_type {peft_type!r}; htsr reads LoRA adapters only")
        if _flag(cfg, "use_dora", path):
            raise WeightsError(f"{path}: a DoRA adapter (use_dora); its merged weight is rescaled by a magnitude "
                               "vector, which htsr does not apply")
        self.config = cfg
        self.r = _number(cfg, "r", path, integer=True)
        self.alpha = _number(cfg, "lora_alpha", path, default=self.r)
        self.rslora = _flag(cfg, "use_rslora", path)
        self.fan_in_fan_out = _flag(cfg, "fan_in_fan_out", path)
        weights = next(folder / w for w in _WEIGHTS if (folder / w).is_file())
        self.reader = open_weights(str(weights))
        self.source = str(folder)
        self.modules, self.skipped = self._modules(path)

    def _modules(self, path: Path) -> tuple[list[LoraModule], list[tuple[str, str]]]:
        factors, skipped = {}, []
        for info in self.reader.infos():
            m = _KEY.match(info.name)
            if m is None:
                skipped.append((info.name, "not a LoRA factor (lora_A/lora_B): modules_to_save, DoRA or bias"))
                continue
            factors.setdefault(m.group("mod"), {})[m.group("which")] = info
        ranks, alphas = (self.config.get(k) or {} for k in ("rank_pattern", "alpha_pattern"))
        for k, v in (("rank_pattern", ranks), ("alpha_pattern", alphas)):
            if not isinstance(v, dict):
                raise WeightsError(f"{path}: {k} must be an object of module patterns, got {v!r}")
        out = []
        for mod, f in factors.items():
            emb = "lora_embedding_A" in f or "lora_embedding_B" in f
            A, B = (f.get("lora_embedding_A"), f.get("lora_embedding_B")) if emb else (f.get("lora_A"), f.get("lora_B"))
            if A is None or B is None:
                raise WeightsError(f"{self.reader.source}: module {mod!r} has only one of its LoRA factors "
                                   f"({', '.join(f)})")
            if len(A.shape) != 2 or len(B.shape) != 2:
                raise WeightsError(f"{self.reader.source}: module {mod!r} has factors of shapes {A.shape} and "
                                   f"{B.shape}; htsr reads LoRA of linear layers and embeddings (2-D factors)")
            r = _pattern_value(ranks, mod, self.r, "rank_pattern", path, integer=True)
            alpha = _pattern_value(alphas, mod, self.alpha, "alpha_pattern", path)
            if A.shape[0] != r or B.shape[1] != r:
                raise WeightsError(f"{self.reader.source}: module {mod!r}: lora_A is {A.shape} and lora_B {B.shape}, "
                                   f"but {path.name} gives it rank r = {r}")
            scale = alpha / math.sqrt(r) if self.rslora else alpha / r
            out.append(LoraModule(mod, A, B, int(r), float(alpha), float(scale),
                                  transposed=emb or self.fan_in_fan_out, embedding=emb))
        if not out:
            raise WeightsError(f"{self.reader.source}: no LoRA factors (lora_A/lora_B) in the adapter")
        return out, skipped

    def factors(self, module: LoraModule) -> tuple[np.ndarray, np.ndarray]:
        """``(B, A)`` as stored (float32 or wider)."""
        return self.reader.read(module.B), self.reader.read(module.A)

    def update(self, module: LoraModule, dtype=np.float32) -> np.ndarray:
        """The dense update ``dW`` in the base weight's layout (``out x in`` values: for merging only)."""
        B, A = self.factors(module)
        dW = (B.astype(dtype) @ A.astype(dtype)) * dtype(module.scale)
        return dW.T if module.transposed else dW

    def close(self) -> None:
        self.reader.close()


def open_adapter(source) -> Adapter:
    """Open a LoRA adapter folder (or its weights file) for reading (:class:`Adapter`)."""
    folder = _folder(source)
    if folder is None:
        raise WeightsError(f"{source}: not a LoRA adapter (needs {_CONFIG} and one of {', '.join(_WEIGHTS)} "
                           "in one folder)")
    from ._load import open_reader

    return Adapter(folder, lambda p: open_reader(p))


def update_evals(B: np.ndarray, A: np.ndarray, scale: float) -> np.ndarray:
    """The nonzero spectrum of a LoRA update: eigenvalues of ``dW^T dW``, ``dW = scale * B A``, ascending.

    With ``B = Q_B R_B`` and ``A^T = Q_A R_A`` (reduced QR), ``dW = scale * Q_B (R_B R_A^T) Q_A^T``,
    so its singular values are those of the ``r x r`` matrix ``scale * R_B R_A^T``: the ``r``
    eigenvalues (squared singular values) come from an ``r x r`` SVD.
    """
    B = np.asarray(B, dtype=np.float64)
    A = np.asarray(A, dtype=np.float64)
    _, rb = np.linalg.qr(B)
    _, ra = np.linalg.qr(A.T)
    s = np.linalg.svd(scale * (rb @ ra.T), compute_uv=False)
    return np.sort(s * s)


@dataclass(frozen=True)
class LoraMerged:
    """A base model with a LoRA adapter merged in: a source :func:`htsr.weights.load` reads.

    Build it with :func:`merge_lora`; nothing is read until a tensor is.
    """

    base: object
    adapter: object

    @property
    def description(self) -> str:
        return f"{self.base} + LoRA {self.adapter}"

    def open(self, open_base) -> "MergedReader":
        return MergedReader(open_base(self.base), open_adapter(self.adapter))


def merge_lora(base, adapter) -> LoraMerged:
    """``base`` (any source :func:`htsr.weights.load` reads) with the LoRA ``adapter`` folder merged in.

    Each adapted weight reads as ``W + dW``; the others as stored.  Adapter modules are
    matched to the base's tensors by name: ``<module>.weight``, ``<module>.base_layer.weight``
    (a PEFT-wrapped model's), or the one base name that ends the module's name, or ends
    with it, at a ``.``.  A module with no such tensor, or whose update's shape is not the
    tensor's, is a :class:`~htsr.errors.WeightsError` when the source is opened.
    """
    if not is_adapter(adapter):
        raise WeightsError(f"{adapter}: not a LoRA adapter (needs {_CONFIG} and one of {', '.join(_WEIGHTS)} "
                           "in one folder)")
    return LoraMerged(base, adapter)


def _match(module: str, names: set[str]) -> str | None:
    for cand in (f"{module}.weight", f"{module}.base_layer.weight"):
        if cand in names:
            return cand
    full = f"{module}.weight"
    hits = [n for n in names if full.endswith("." + n) or n.endswith("." + full)]
    return hits[0] if len(hits) == 1 else None


class MergedReader(Reader):
    """A base model's reader whose adapted weights read as ``W + dW`` (:func:`merge_lora`)."""

    def __init__(self, base: Reader, adapter: Adapter):
        self._base, self._adapter = base, adapter
        self.source = f"{base.source} + LoRA {adapter.source}"
        self.base_source = base.source
        infos = base.infos()
        names = {i.name for i in infos}
        by_name = {i.name: i for i in infos}
        self._targets = {}
        missing = []
        for mod in adapter.modules:
            target = _match(mod.module, names)
            if target is None:
                missing.append(mod.module)
                continue
            if tuple(by_name[target].shape) != mod.shape:
                self.close()
                raise WeightsError(f"{adapter.source}: the LoRA update of {mod.module!r} has shape {mod.shape} "
                                   f"(rank {mod.r}), but the base tensor {target!r} has shape "
                                   f"{tuple(by_name[target].shape)}")
            self._targets[target] = mod
        if missing:
            self.close()
            more = f" and {len(missing) - 3} more" if len(missing) > 3 else ""
            raise WeightsError(f"{adapter.source}: {len(missing)} adapted module(s) have no weight in the base model "
                               f"{base.source}: {', '.join(map(repr, missing[:3]))}{more}")

    def infos(self) -> list[TensorInfo]:
        from ._arch import PartInfo

        out = []
        for info in self._base.infos():
            mod = self._targets.get(info.name)
            if mod is not None:
                # every field of the base's info (its dequantization of int8/fp8 weights too), and the note
                kept = {f.name: getattr(info, f.name) for f in fields(PartInfo)
                        if f.init and f.name != "row_note" and hasattr(info, f.name)}
                info = PartInfo(**kept, row_note=f"merged with LoRA (rank {mod.r}, scale {mod.scale:g})")
            out.append(info)
        return out

    def read(self, info: TensorInfo) -> np.ndarray:
        W = self._base.read(info)
        mod = self._targets.get(info.name)
        if mod is None:
            return W
        dW = self._adapter.update(mod, np.float64 if W.dtype == np.float64 else np.float32)
        return W + dW

    def close(self) -> None:
        self._base.close()
        self._adapter.close()
