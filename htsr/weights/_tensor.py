"""The records a loader yields, and the rules that give each tensor its kind."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from ..errors import WeightsError
from ..kinds import KINDS, MATRIX_KINDS

# KINDS and MATRIX_KINDS are htsr.kinds', re-exported: the readers give the kinds, rmt splits them
__all__ = ["Tensor", "TensorInfo", "classify", "KINDS", "MATRIX_KINDS", "TORCH_QUANTIZED",
           "INTEGER_WEIGHT_DTYPES", "natural_key"]

_NORM_TOKEN = re.compile(r"^(ln|bn|gn|rms)\d*$")
_NORM_WORDS = ("norm", "running_mean", "running_var", "num_batches_tracked")
_EMBED_TOKENS = {"emb", "wte", "wpe"}
_ATTENTION_TOKENS = {"attn", "attention", "query", "key", "value", "q", "k", "v", "qkv", "heads"}
_EXPERT_TOKENS = {"expert", "experts", "exps"}  # GGUF names stacked experts ffn_up_exps
#: PyTorch's quantized dtypes: a tensor of one carries its scale and zero point, and is read
#: dequantized (``Tensor.dequantize()``), so it is classified by its shape like a float tensor.
TORCH_QUANTIZED = ("qint8", "quint8", "qint32", "quint4x2", "quint2x4")


def _tokens(name: str) -> list[str]:
    return [t for t in re.split(r"[^a-z0-9]+", name.lower()) if t]


#: Integer dtypes a weight matrix may be stored in (int8 with or without its scales); int64 and
#: uint64 tensors are positions, ids and counters, never weights.
INTEGER_WEIGHT_DTYPES = ("int8", "uint8", "int16", "uint16", "int32", "uint32")
# name components of integer tensors that are indices, masks or packed low-bit weights, not matrices
_INDEX_TOKENS = {"ids", "idx", "index", "indices", "position", "positions", "mask", "perm", "count",
                 "counts", "g"}
_PACKED_TOKENS = {"qweight", "qzeros"}  # GPTQ/AWQ: int32 words, each packing eight 4-bit values


def _packed(dt: str, toks: list[str]) -> bool:
    return dt in ("int32", "uint32") and bool(_PACKED_TOKENS.intersection(toks))


def _integer_matrix(dt: str, ndim: int, toks: list[str]) -> bool:
    """An integer tensor of 2+ dimensions that may be a weight matrix (not ids, masks, packed int4)."""
    return (dt in INTEGER_WEIGHT_DTYPES and ndim >= 2 and not _INDEX_TOKENS.intersection(toks)
            and not _packed(dt, toks))


def _floating(dt: str) -> bool:
    """A dtype name whose values are read as floating point (float*, bfloat16, torch's quantized dtypes)."""
    return dt.startswith(("float", "bfloat")) or dt in TORCH_QUANTIZED


def classify(name: str, shape: tuple[int, ...], dtype) -> str:
    """The kind of a tensor, from its name, shape and dtype.

    The rules, in order (``name`` is compared in lower case):

    1. a dtype that is not floating point (integer buffers such as
       ``position_ids``, complex, booleans, strings, objects) -> ``"other"``,
       except integer tensors of two or more dimensions stored in
       :data:`INTEGER_WEIGHT_DTYPES` (int8 weights, with their scales or without)
       whose name has no component ``ids``, ``idx``, ``index``, ``indices``,
       ``position(s)``, ``mask``, ``perm``, ``count(s)``, ``g`` (``g_idx``), and
       no int32 ``qweight``/``qzeros`` (GPTQ/AWQ words packing 4-bit values): they
       go on to the rules below by their shape, and are read as floats
       (dequantized when their scales are beside them, htsr.weights._quant).
       int64/uint64 tensors are always ``"other"``.  PyTorch's quantized dtypes
       (``qint8``, ``quint8``, ... :data:`TORCH_QUANTIZED`), which carry their
       scales and are read dequantized, and float8 count as floating point;
    2. 0-D -> ``"other"``;
    3. 1-D -> ``"norm"`` if the name holds ``norm`` (LayerNorm, BatchNorm,
       RMSNorm, ``normalization``), ``running_mean``/``running_var``, or a
       component ``ln``, ``bn``, ``gn``, ``rms`` (optionally numbered: ``ln_1``,
       ``bn2``); otherwise ``"bias"`` (biases, and other per-channel vectors);
    4. 2-D -> ``"embedding"`` if the name holds ``embed`` or has a component
       ``emb``, ``wte`` or ``wpe`` (GPT-2), otherwise ``"dense"`` (linear layers, attention
       projections, HF GPT-2 ``Conv1D``, which is a 2-D matrix);
    5. 3-D -> ``"experts"`` when a name component says experts (``expert``,
       ``experts``, GGUF's ``exps``: a stack ``[E, ., .]`` of mixture-of-experts
       matrices) and none holds ``conv``; ``"other"`` when a component says attention
       (``attn``, ``attention``, ``query``, ``key``, ``value``, ``q``/``k``/``v``,
       ``qkv``, ``heads``: multi-head ``DenseGeneral`` kernels) and none holds
       ``conv``; otherwise ``"conv1d"``;
    6. 4-D -> ``"conv2d"``;
    7. anything else -> ``"other"``.

    Only :data:`MATRIX_KINDS` have a spectrum.  The layout of a convolution
    (PyTorch ``(out, in, k...)`` or Keras ``(k..., in, out)``) is carried by
    :attr:`Tensor.layout`, not by the kind.
    """
    dt = _dtype_name(dtype)
    is_float = _floating(dt)
    ndim = len(shape)
    toks = _tokens(name)
    if not (is_float or _integer_matrix(dt, ndim, toks)) or ndim == 0:
        return "other"
    low = name.lower()
    if ndim == 1:
        if any(w in low for w in _NORM_WORDS) or any(_NORM_TOKEN.match(t) for t in toks):
            return "norm"
        return "bias"
    if ndim == 2:
        if "embed" in low or _EMBED_TOKENS.intersection(toks):
            return "embedding"
        return "dense"
    if ndim == 3:
        if not any("conv" in t for t in toks) and _EXPERT_TOKENS.intersection(toks):
            return "experts"
        if not any("conv" in t for t in toks) and _ATTENTION_TOKENS.intersection(toks):
            return "other"
        return "conv1d"
    if ndim == 4:
        return "conv2d"
    return "other"


def _dtype_name(dtype) -> str:
    """A dtype's name: ``"float32"``, ``"bfloat16"``, ``"int64"``, ``"object"``..."""
    if isinstance(dtype, str):
        return dtype.lower()
    try:
        return np.dtype(dtype).name
    except TypeError:
        return str(dtype).lower()


def natural_key(name: str):
    """Sort key that puts ``layer.2`` before ``layer.10``."""
    return [(0, int(p), "") if p.isdigit() else (1, 0, p) for p in re.split(r"(\d+)", name) if p]


@dataclass(frozen=True)
class TensorInfo:
    """What is known of a tensor before its values are read.

    Attributes
    ----------
    name : str
        The tensor's name in its source (``encoder.layer.0.attention.self.query.weight``).
    shape : tuple of int
    dtype : str
        The dtype as stored (``"float32"``, ``"bfloat16"``, ``"float16"``, ``"int64"``, ...).
    kind : str
        One of :data:`KINDS`, from :func:`classify`.
    layout : str
        ``"pytorch"`` (``(out, in)``, conv ``(out, in, k...)``) or ``"keras"``
        (``(in, out)``, conv ``(k..., in, out)``), as ``htsr.rmt.layer_matrices`` takes it.
    source : str
        The file it comes from, or a description of the in-memory object.
    tied_to : str or None
        For PyTorch sources, the name of an earlier tensor that shares this
        one's storage (tied weights, e.g. a language-model head tied to the
        embeddings), else None.
    dequant : Dequant or None
        For an fp8 or integer weight matrix, how its stored values become the
        floats that are read (``htsr.weights._quant.Dequant``: its scales, block
        size, and ``note``, what a report's row says of it), else None.
    """

    name: str
    shape: tuple[int, ...]
    dtype: str
    kind: str
    layout: str
    source: str
    tied_to: str | None = None
    dequant: object | None = field(default=None, compare=False)

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64)) if self.shape else 1

    def no_spectrum_reason(self) -> str | None:
        """Why this tensor has no spectrum, in a few words; None when its kind has one.

        The reason starts with what rules it out: the dtype (``"int64: integer
        tensor (positions, ids, counters), not weights"``, ``"complex128: complex
        weights are not supported"``) or the shape (``"1-D: a bias has no
        spectrum"``).  A report lists tensors it gives no row with this reason.
        """
        if self.kind in MATRIX_KINDS:
            return None
        dt = _dtype_name(self.dtype)
        toks = _tokens(self.name)
        if self.ndim >= 2 and _packed(dt, toks):
            return f"{dt}: low-bit weights packed into integer words (GPTQ/AWQ), not unpacked"
        if dt.startswith(("int", "uint")) and (self.ndim >= 2 or dt in ("int64", "uint64")):
            return f"{dt}: integer tensor (positions, ids, counters), not weights"
        if dt.startswith(("int", "uint")):
            return f"{self.ndim}-D {dt}: an integer {'vector' if self.ndim else 'scalar'}, not a weight matrix"
        if dt.startswith("complex"):
            return f"{dt}: complex weights are not supported"
        if dt == "bool":
            return "bool: not numeric weights"
        if not _floating(dt):
            return f"{dt}: not a floating-point tensor"
        if self.ndim == 0:
            return "0-D: a scalar has no spectrum"
        if self.ndim == 1:
            return f"1-D: a {self.kind} has no spectrum"
        if self.kind == "experts":
            return (f"stacked experts {self.shape}: {self.shape[0]} matrices in one tensor, read one by one "
                    "only with expand=True (htsr.report does)")
        if self.ndim == 3:
            return ("3-D kernel named like attention heads or stacked experts: several matrices in one "
                    "tensor, not split into layers")
        return f"{self.ndim}-D: only matrices and 1-D/2-D convolution kernels have a spectrum"

    def values_note(self) -> str:
        """What a row's spectrum is of when it is not of the stored floats; ``""`` when it is.

        ``"fp8 e4m3, 128x128 block scales applied"``, ``"int8 weights without scales:
        the spectrum of the raw integer values"``, ``"torch.qint8 quantized tensor: the
        spectrum of its dequantized values"`` (see :attr:`dequant`).
        """
        if self.dequant is not None:
            return self.dequant.note
        if self.kind not in MATRIX_KINDS:  # no row: nothing to say of its spectrum
            return ""
        dt = _dtype_name(self.dtype)
        if dt in TORCH_QUANTIZED:
            return f"torch.{dt} quantized tensor: the spectrum of its dequantized values"
        if dt.startswith("float8"):
            return f"{dt} without scales: the spectrum of unscaled values"
        if dt in INTEGER_WEIGHT_DTYPES:
            return f"{dt} weights without scales: the spectrum of the raw integer values"
        return ""

    def skip_group(self) -> str:
        """Why a tensor has no row, in two or three words for counts (``"biases"``, ``"norm vectors"``).

        For a tensor with no spectrum; a report counts the tensors it lists per group.
        """
        dt = _dtype_name(self.dtype)
        if self.kind in MATRIX_KINDS:
            return "kinds not asked for"
        if dt.startswith(("int", "uint", "bool")):
            return "integer and boolean buffers"
        if dt.startswith("complex"):
            return "complex tensors"
        if self.ndim == 0:
            return "scalars"
        if self.kind == "norm":
            return "norm vectors"
        if self.kind == "bias":
            return "biases"
        if self.kind == "experts":
            return "stacked experts"
        if self.ndim == 3:
            return "3-D kernels"
        return "other tensors"

    def to_dict(self) -> dict:
        return {"name": self.name, "shape": list(self.shape), "dtype": self.dtype, "kind": self.kind,
                "layout": self.layout, "source": self.source, "tied_to": self.tied_to,
                "dequant": None if self.dequant is None else self.dequant.to_dict()}


@dataclass(frozen=True, repr=False)
class Tensor:
    """One tensor read from a weights source.

    It unpacks as ``name, array, kind = tensor``.  ``array`` is a NumPy array;
    floating-point tensors stored in 16 bits or fewer (float16, bfloat16,
    float8) are widened to float32, float32 and float64 are kept as stored;
    PyTorch quantized tensors (:data:`TORCH_QUANTIZED`) are dequantized to
    float32 (``info.dtype`` keeps the stored dtype), and so are fp8 and integer
    weight matrices with scale tensors beside them (``info.dequant`` says how);
    integer matrices without scales come as floats holding their integer values
    (from safetensors, PyTorch and .npz sources; other sources give them as stored).
    From ``load(..., lazy=True)`` a safetensors float matrix's ``array`` is a
    ``MappedTensor`` instead (``htsr.weights._lazy``): nothing is read until
    ``numpy.asarray(array)`` reads it whole or ``array.long_blocks()`` block by block.

    Attributes
    ----------
    name, array, kind
        The tensor's name, its values, and its kind (:func:`classify`).
    info : TensorInfo
        Shape, stored dtype, layout, source and ``tied_to``.

    Values are never altered: a tensor holding NaN or inf is yielded as it
    is.  :meth:`nonfinite_message` says so in one line (the report turns it
    into a warning row), :attr:`is_finite` is the boolean.
    """

    name: str
    array: np.ndarray = field(compare=False)
    kind: str
    info: TensorInfo = field(compare=False)

    def __iter__(self):
        return iter((self.name, self.array, self.kind))

    def __repr__(self) -> str:
        return (f"Tensor(name={self.name!r}, shape={tuple(self.array.shape)}, kind={self.kind!r}, "
                f"dtype={self.info.dtype!r}, layout={self.info.layout!r})")

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.array.shape)

    @property
    def layout(self) -> str:
        return self.info.layout

    @property
    def source(self) -> str:
        return self.info.source

    def count_nonfinite(self) -> tuple[int, int]:
        """``(n_nan, n_inf)``: how many values are NaN and how many are +-inf."""
        a = self.array
        if not np.issubdtype(a.dtype, np.inexact):
            return 0, 0
        if hasattr(a, "count_nonfinite"):  # a lazily read tensor (load(..., lazy=True)): block by block
            return a.count_nonfinite()
        return int(np.count_nonzero(np.isnan(a))), int(np.count_nonzero(np.isinf(a)))

    @property
    def is_finite(self) -> bool:
        """True when every value is finite (always True for integer tensors)."""
        a = self.array
        if hasattr(a, "count_nonfinite"):
            return self.count_nonfinite() == (0, 0)
        return not np.issubdtype(a.dtype, np.inexact) or bool(np.isfinite(a).all())

    def nonfinite_message(self) -> str | None:
        """One line naming the source, the tensor and its NaN/inf counts; None if all finite."""
        if self.is_finite:
            return None
        n_nan, n_inf = self.count_nonfinite()
        return (f"{self.source}: tensor {self.name!r} (shape {self.shape}) has {n_nan} NaN and "
                f"{n_inf} inf values out of {self.array.size}")

    def require_matrix(self) -> "Tensor":
        """Return self if its kind has a spectrum (:data:`MATRIX_KINDS`), else raise WeightsError."""
        if self.kind not in MATRIX_KINDS:
            raise WeightsError(
                f"{self.source}: tensor {self.name!r} has shape {self.shape} and dtype "
                f"{self.info.dtype} (kind {self.kind!r}): it is not a weight matrix "
                f"({self.info.no_spectrum_reason()}); only {', '.join(MATRIX_KINDS)} tensors have a spectrum")
        return self

    def to_dict(self) -> dict:
        """The tensor's description (not its values)."""
        d = self.info.to_dict()
        d["finite"] = self.is_finite
        return d
