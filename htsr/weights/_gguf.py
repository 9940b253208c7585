"""GGUF files (llama.cpp, Ollama, LM Studio) through the ``gguf`` package.

The file is opened with ``gguf.GGUFReader`` (memory-mapped: listing reads the
header only) and each tensor is dequantized to float32 with
``gguf.quants.dequantize`` a block of rows at a time, so reading one needs its
float32 copy and little more.  Every type that package can dequantize is read
(F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, the K-quants Q2_K..Q6_K, the
IQ and TQ types, MXFP4, NVFP4 in gguf 0.19); F64 and the integer types are read as
stored; a type it cannot dequantize (Q8_1, Q8_K, Q1_0) is listed with kind ``"other"``
and says so.

GGUF lists a tensor's dimensions innermost first (``ne0`` is the input
dimension); htsr gives them in NumPy order, so a linear layer is ``(out, in)``
like its Hugging Face tensor (layout ``"pytorch"``).  For the architectures in
:data:`HF_NAMES` the GGUF names become Hugging Face names
(``blk.0.attn_q.weight`` -> ``model.layers.0.self_attn.q_proj.weight``); the
GGUF name and type stay in ``info.stored_name`` and ``info.stored_type``.
llama.cpp's converter permutes the rows of Llama's q/k projections (rotary
pairs), which leaves their singular values, and so their spectra, unchanged.
"""

from __future__ import annotations

import functools
import importlib.metadata
import re
import types
import warnings
from pathlib import Path

import numpy as np

from ..errors import WeightsError
from ._base import Reader, StoredInfo, need
from ._tensor import TensorInfo, classify

__all__ = ["GGUFReader", "HF_NAMES"]

_LLAMA_TOP = {"token_embd": "model.embed_tokens", "output_norm": "model.norm", "output": "lm_head"}
_LLAMA_BLOCK = {
    "attn_norm": "input_layernorm",
    "attn_q": "self_attn.q_proj", "attn_k": "self_attn.k_proj", "attn_v": "self_attn.v_proj",
    "attn_output": "self_attn.o_proj", "attn_q_norm": "self_attn.q_norm", "attn_k_norm": "self_attn.k_norm",
    "ffn_norm": "post_attention_layernorm",
    "ffn_gate": "mlp.gate_proj", "ffn_up": "mlp.up_proj", "ffn_down": "mlp.down_proj",
    "ffn_gate_inp": "block_sparse_moe.gate",  # Mixtral, which llama.cpp converts as "llama"
}
#: ``general.architecture`` -> (top-level names, per-block names): GGUF stem -> Hugging Face stem.
#: These architectures name their tensors as Hugging Face's Llama does.
HF_NAMES = {arch: (_LLAMA_TOP, _LLAMA_BLOCK) for arch in ("llama", "mistral", "qwen2", "qwen3", "gemma")}
_BLOCK = re.compile(r"^blk\.(\d+)\.(\w+)\.(weight|bias)$")
_TOP = re.compile(r"^(\w+)\.(weight|bias)$")
_PLAIN = {"F64": "float64", "I8": "int8", "I16": "int16", "I32": "int32", "I64": "int64"}
_FLOATS = {"F32": "float32", "F16": "float16", "BF16": "bfloat16"}
_NUMPY = {*_PLAIN, "F32", "F16"}  # gguf maps these with their NumPy dtype (byte order included)
_ROW_CHUNK = 1 << 20  # values dequantized per step: gguf's intermediates stay a few MB


def hf_name(name: str, arch: str) -> str | None:
    """The Hugging Face name of a GGUF tensor of this architecture, or None when unknown."""
    if arch not in HF_NAMES:
        return None
    top, block = HF_NAMES[arch]
    m = _BLOCK.match(name)
    if m and m.group(2) in block:
        return f"model.layers.{m.group(1)}.{block[m.group(2)]}.{m.group(3)}"
    m = _TOP.match(name)
    if m and m.group(1) in top:
        return f"{top[m.group(1)]}.{m.group(2)}"
    return None


@functools.lru_cache(maxsize=None)
def _dequantizable(qtype) -> bool:
    """Whether this gguf version dequantizes the type (tried on one all-zero block)."""
    gguf = need("gguf", "reading a GGUF file")
    _, type_size = gguf.GGML_QUANT_SIZES[qtype]
    try:
        gguf.quants.dequantize(np.zeros((1, type_size), np.uint8), qtype)
    except Exception:  # NotImplementedError, or a type whose tables are missing
        return False
    return True


def _first_line(e: Exception) -> str:
    text = str(e).strip()
    return f"{type(e).__name__}: {text.splitlines()[0]}" if text else type(e).__name__


class GGUFReader(Reader):
    """One ``.gguf`` file."""

    def __init__(self, path, *, layout: str | None = None):
        gguf = need("gguf", f"reading the GGUF file {path}")
        self.path = Path(path)
        self.source = str(self.path)
        try:
            self._file = gguf.GGUFReader(self.path, "r")
        except Exception as e:  # bad magic, unknown version or type, truncated header or data
            raise WeightsError(f"{self.path}: not a readable GGUF file ({_first_line(e)})") from None
        self.arch = self._field("general.architecture") or ""
        self._check_split()
        if self._file.byte_order == "S" and any(t.tensor_type.name not in _NUMPY for t in self._file.tensors):
            # gguf byte-swaps the arrays NumPy knows; quantized and BF16 blocks would be decoded little-endian
            raise WeightsError(f"{self.path}: a big-endian GGUF file with quantized or BF16 tensors, "
                               "which the gguf package decodes only in little-endian order")
        self._tensors = {}
        self._infos = []
        for t in self._file.tensors:
            info = self._info(t, gguf, layout or "pytorch")
            if info.name in self._tensors:
                raise WeightsError(f"{self.path}: GGUF tensors {self._tensors[info.name].name!r} and "
                                   f"{t.name!r} both map to the name {info.name!r}")
            self._tensors[info.name] = t
            self._infos.append(info)

    def _field(self, key: str):
        f = self._file.fields.get(key)
        try:
            return None if f is None else f.contents()
        except Exception:
            return None

    def _check_split(self) -> None:
        count = self._field("split.count")
        if isinstance(count, int) and count > 1:
            index = self._field("split.no")
            warnings.warn(f"{self.path}: shard {(index or 0) + 1} of a GGUF model split into {count} files; "
                          "only this shard's tensors are read (llama-gguf-split --merge joins them)",
                          stacklevel=4)

    def _info(self, t, gguf, layout: str) -> TensorInfo:
        qtype = t.tensor_type
        shape = tuple(int(d) for d in reversed(t.shape.tolist()))  # GGUF lists ne0 (the input dim) first
        name = hf_name(t.name, self.arch)
        # GGUF's own spellings, written out for classify's rules: embd is an embedding, exps stacked experts
        spelled = name or t.name.replace("embd", "embed").replace("_exps", "_experts")
        note = None
        if qtype.name in _PLAIN:
            dtype = _PLAIN[qtype.name]
            kind = classify(spelled, shape, dtype)
        else:
            dtype = _FLOATS.get(qtype.name, qtype.name)
            kind = classify(spelled, shape, "float32")
            if not _dequantizable(qtype):
                kind = "other"
                note = (f"GGML type {qtype.name}: the gguf package "
                        f"{importlib.metadata.version('gguf')} cannot dequantize it")
        return StoredInfo(name or t.name, shape, dtype, kind, layout, self.source,
                          stored_name=t.name, stored_type=qtype.name, note=note)

    def infos(self) -> list[TensorInfo]:
        return list(self._infos)

    def read(self, info: TensorInfo) -> np.ndarray:
        t = self._tensors[info.name]
        if info.note is not None:
            raise WeightsError(f"{self.path}: cannot read tensor {t.name!r}: {info.note}")
        try:
            if t.tensor_type.name in _PLAIN:
                return np.array(t.data)  # a copy, off the memory map
            if t.tensor_type.name in _NUMPY:
                return np.array(t.data, dtype=np.float32)  # through the dtype: big-endian files too
            return self._dequantize(t, info.shape)
        except Exception as e:
            raise WeightsError(f"{self.path}: cannot read tensor {t.name!r} ({t.tensor_type.name}): "
                               f"{_first_line(e)}") from None

    def read_slice(self, info: TensorInfo, k: int) -> np.ndarray:
        """``read(info)[k]`` dequantizing only slice ``k`` (one expert of a stack ``ffn_*_exps``)."""
        t = self._tensors[info.name]
        if info.note is not None or len(info.shape) < 2 or t.data.ndim != len(info.shape):
            return np.ascontiguousarray(self.read(info)[k])
        if not 0 <= k < info.shape[0]:
            raise WeightsError(f"{self.path}: tensor {t.name!r} has {info.shape[0]} slices, no slice {k}")
        try:
            if t.tensor_type.name in _PLAIN:
                return np.array(t.data[k])
            if t.tensor_type.name in _NUMPY:
                return np.array(t.data[k], dtype=np.float32)
            part = types.SimpleNamespace(data=t.data[k], tensor_type=t.tensor_type)
            return self._dequantize(part, tuple(info.shape[1:]))
        except Exception as e:
            raise WeightsError(f"{self.path}: cannot read slice {k} of tensor {t.name!r} ({t.tensor_type.name}): "
                               f"{_first_line(e)}") from None

    @staticmethod
    def _dequantize(t, shape: tuple[int, ...]) -> np.ndarray:
        """Float32 values, a block of rows at a time (quantized rows are whole blocks)."""
        gguf = need("gguf", "reading a GGUF file")
        cols = shape[-1] if shape else 1
        raw = t.data.reshape(-1, t.data.shape[-1] if t.data.ndim else 1)
        out = np.empty((raw.shape[0], cols), np.float32)
        step = max(1, _ROW_CHUNK // max(cols, 1))
        for start in range(0, raw.shape[0], step):
            out[start:start + step] = gguf.quants.dequantize(raw[start:start + step], t.tensor_type)
        return out.reshape(shape)

    def close(self) -> None:
        self._tensors = {}
        self._file = None
