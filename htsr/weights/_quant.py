"""Quantized weights: fp8 and integer matrices, read dequantized with their scales.

Checkpoints store a quantized weight ``P.weight`` beside the tensors that
turn it back into numbers:

=========================  ==========================================  ===============================
sibling                    shape                                       applied
=========================  ==========================================  ===============================
``P.weight_scale_inv``     ``(ceil(out/b0), ceil(in/b1))``             ``W[i, j] * s[i // b0, j // b1]``
                           (Hugging Face fine-grained fp8, DeepSeek)
``P.weight_scale``         ``(out, 1)`` or ``(out,)``: per channel;    ``W * s`` (broadcast the same way)
                           scalar or ``(1,)``: per tensor;
                           ``(out, in / g)``: groups of g columns
                           (compressed-tensors, FBGEMM)
``P.weight_zero_point``    the scale's shape (optional)                ``(W - zp) * s``
=========================  ==========================================  ===============================

The block size of ``weight_scale_inv`` comes from ``config.json``'s
``quantization_config.weight_block_size`` when a ``config.json`` sits beside
the weights, otherwise from the shapes (128 along a side where 128 fits,
else ``ceil(n / n_scales)``).  Every layout is one rule: each scale entry
covers a ``b0 x b1`` block of the weight (per channel is ``1 x in``, per
tensor ``out x in``).  The product is taken in float32, a few row blocks at a
time, so the result is the same float32 matrix a NumPy reference
``W.astype(float32) * repeat(repeat(s, b0, 0), b1, 1)`` gives, bit for bit.

Readers call :func:`annotate` on their headers (a weight gets a
:class:`Dequant` in ``info.dequant``; its scale and zero-point tensors become
:class:`NotedInfo` of kind ``"other"``, listed by a report as e.g. ``block
scales of P.weight (applied)``) and :func:`dequantize` in ``read``.  An fp8 or
integer weight without scales is read as it is stored (integers as floats,
exactly), and its ``Dequant.note`` says the spectrum is of unscaled values.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from ._base import StoredInfo
from ._arch import read_config
from ._tensor import INTEGER_WEIGHT_DTYPES, MATRIX_KINDS, TensorInfo

__all__ = ["Dequant", "NotedInfo", "annotate", "dequantize", "as_float", "config_block", "FP8"]

#: float8 dtype names -> how a row names them
FP8 = {"float8_e4m3fn": "fp8 e4m3", "float8_e5m2": "fp8 e5m2", "float8_e4m3fnuz": "fp8 e4m3fnuz",
       "float8_e5m2fnuz": "fp8 e5m2fnuz"}
_SCALE_SUFFIXES = ("_scale_inv", "_scale")
_ZERO_SUFFIX = "_zero_point"
_ACTIVATION = ("input_scale", "output_scale", "k_scale", "v_scale", "q_scale", "input_zero_point")
_DEFAULT_BLOCK = 128
_ROWS_ELEMENTS = 1 << 22  # entries dequantized per step (16 MB of float32)


@dataclass(frozen=True)
class Dequant:
    """How a stored fp8 or integer weight becomes the float32 matrix that is read.

    Attributes
    ----------
    stored : str
        The weight's stored dtype (``"float8_e4m3fn"``, ``"int8"``).
    note : str
        What the row's spectrum is of, for the report (``"fp8 e4m3, 128x128 block
        scales applied"``, ``"int8 weights without scales: the spectrum of the raw
        integer values"``).
    scale, zero_point : TensorInfo or None
        The tensors applied; None when there is none (or it cannot be applied).
    grid : tuple of int or None
        The scale's shape as a matrix ``(s0, s1)`` (a per-channel ``(out,)`` is ``(out, 1)``);
        for a stack of experts, the shape of one expert's scales.
    block : tuple of int or None
        ``(b0, b1)``: the rows and columns of the weight (seen as ``(out, in...)``; one
        expert's ``(out, in)`` in a stack) that one scale entry covers.
    experts : int or None
        For a stack of experts ``[E, out, in]`` whose scales have a leading axis of ``E``
        (``[E, s0, s1]``, ``[E, out]``, ``[E]``): ``E``, and expert ``e`` gets scales ``[e]``.
        None when one set of scales serves the whole tensor.
    """

    stored: str
    note: str
    scale: TensorInfo | None = None
    zero_point: TensorInfo | None = None
    grid: tuple[int, int] | None = None
    block: tuple[int, int] | None = None
    experts: int | None = None

    def to_dict(self) -> dict:
        return {"stored": self.stored, "note": self.note,
                "scale": None if self.scale is None else self.scale.name,
                "zero_point": None if self.zero_point is None else self.zero_point.name,
                "block": None if self.block is None else list(self.block), "experts": self.experts}


@dataclass(frozen=True)
class NotedInfo(StoredInfo):
    """A tensor with no row whose reason the reader knows (a scale, a tensor left out of an index).

    Attributes
    ----------
    group : str
        The reason in two or three words, plural, for counts (``"scales"``,
        ``"not in the index"``): :meth:`skip_group`.
    """

    group: str = "other tensors"

    def skip_group(self) -> str:
        return self.group


def _quantized(info: TensorInfo) -> str | None:
    """``"fp8"`` or ``"int"`` for a weight matrix (or a stack of experts) stored so, else None."""
    if info.kind not in MATRIX_KINDS and info.kind != "experts":
        return None
    dt = _dt(info)
    return "fp8" if dt in FP8 else "int" if dt in INTEGER_WEIGHT_DTYPES else None


def _dt(info: TensorInfo) -> str:
    return str(info.dtype).lower()


def _label(dt: str) -> str:
    return FP8.get(dt, dt)


def config_block(folder) -> tuple[int, int] | None:
    """``quantization_config.weight_block_size`` of ``folder/config.json``, when there is one.

    None when :func:`htsr.weights._arch.read_config` finds no usable config (none, not
    JSON, too large, a link out of ``folder``) or it has no such entry: the block size is
    then read from the shapes.
    """
    cfg, _ = read_config(folder)
    qc = (cfg or {}).get("quantization_config")
    size = qc.get("weight_block_size") if isinstance(qc, dict) else None
    if isinstance(size, list) and len(size) == 2 and all(isinstance(b, int) and b > 0 for b in size):
        return int(size[0]), int(size[1])
    return None


def _grid(scale_shape: tuple[int, ...], out: int) -> tuple[int, int] | None:
    """A scale's shape as ``(s0, s1)``: per tensor ``(1, 1)``, per channel ``(out, 1)``; None if unusable."""
    size = math.prod(scale_shape)
    if size == 1:
        return 1, 1
    if len(scale_shape) == 1 and scale_shape[0] == out:
        return out, 1
    if len(scale_shape) == 2:
        return int(scale_shape[0]), int(scale_shape[1])
    if len(scale_shape) > 2 and scale_shape[0] == out and size == out:
        return out, 1
    return None


def _side(n: int, s: int, given: int | None) -> int | None:
    """Block length along a side of ``n`` entries with ``s`` scales (None when nothing fits)."""
    if given is not None:
        return given if -(-n // given) == s else None
    for b in (_DEFAULT_BLOCK, -(-n // s)):
        if b > 0 and -(-n // b) == s:
            return b
    return None


def _what(block: tuple[int, int], matrix: tuple[int, int]) -> str:
    (b0, b1), (out, inn) = block, matrix
    if b0 >= out and b1 >= inn:
        return "per-tensor scale"
    if b0 == 1 and b1 >= inn:
        return "per-channel scales"
    if b0 == 1:
        return f"group scales (groups of {b1})"
    return f"{b0}x{b1} block scales"


def _plan(info: TensorInfo, scale: TensorInfo, zp: TensorInfo | None, folder_block) -> tuple[Dequant, str]:
    """The weight's Dequant, and what its scale tensor is (for its listing)."""
    dt = _dt(info)
    stacked = info.kind == "experts" and info.ndim >= 3  # [E, out, in]: each expert's own matrix
    mshape = tuple(info.shape[1:]) if stacked else tuple(info.shape)
    out = mshape[0]
    matrix = (out, math.prod(mshape[1:]))
    sshape = tuple(scale.shape)
    experts = info.shape[0] if stacked and math.prod(sshape) != 1 and sshape[0] == info.shape[0] else None
    if experts is not None:  # scales per expert: [E, s0, s1], [E, out], [E, out, 1], [E]
        sshape = sshape[1:] or (1,)
    grid = _grid(sshape, out)
    given = folder_block if scale.name.endswith("_scale_inv") else None
    block = None
    if grid is not None and (len(mshape) == 2 or grid[1] == 1):
        b0, b1 = _side(matrix[0], grid[0], given and given[0]), _side(matrix[1], grid[1], given and given[1])
        if grid == (1, 1):
            b0, b1 = matrix
        elif grid[1] == 1 and grid[0] == out and given is None:
            b0, b1 = 1, matrix[1]
        block = (b0, b1) if b0 and b1 else None
    bad_zero = zp is not None and grid is not None and math.prod(zp.shape) != grid[0] * grid[1] * (experts or 1)
    if block is None or bad_zero:
        why = (f"zero points of shape {tuple(zp.shape)} do not match its scales of shape {tuple(scale.shape)}"
               if block is not None else
               f"scales of shape {tuple(scale.shape)} fit no block size of its {info.shape}"
               + (f" (config.json's weight_block_size is {list(given)})" if given else ""))
        return (Dequant(dt, f"{_label(dt)}: {why}, so they were not applied: the spectrum of unscaled "
                            f"values"), f"scales of {info.name} (not applied: {why})")
    what = _what(block, matrix) + (" per expert" if experts is not None else "")
    zero = " and zero points" if zp is not None else ""
    guess = ("" if given or not scale.name.endswith("_scale_inv") or block[0] in (1, _DEFAULT_BLOCK)
             else " (block size read from the shapes: no weight_block_size in a config.json beside the weights)")
    return (Dequant(dt, f"{_label(dt)}, {what}{zero} applied{guess}", scale, zp, grid, block, experts),
            f"{what.split(' (')[0]} of {info.name} (applied)")


def _unscaled(info: TensorInfo) -> Dequant:
    dt = _dt(info)
    if dt in FP8:
        return Dequant(dt, f"{FP8[dt]} without scales (no {info.name}_scale_inv or {info.name}_scale "
                           "in the source): the spectrum of unscaled values")
    return Dequant(dt, f"{dt} weights without scales: the spectrum of the raw integer values")


def _noted(info: TensorInfo, note: str, group: str) -> NotedInfo:
    return NotedInfo(info.name, info.shape, info.dtype, "other", info.layout, info.source, info.tied_to,
                     note=note, group=group)


def _base_of(name: str) -> str | None:
    for suffix in (*_SCALE_SUFFIXES, _ZERO_SUFFIX):
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return None


def annotate(infos: list[TensorInfo], folder=None) -> list[TensorInfo]:
    """The readers' headers with quantized weights paired with their scales.

    Parameters
    ----------
    infos : list of TensorInfo
        A source's tensors, as stored.
    folder : path, optional
        Where to look for ``config.json`` (``quantization_config.weight_block_size``).

    Returns
    -------
    list of TensorInfo
        In the same order: an fp8 or integer weight matrix carries a :class:`Dequant`
        in ``dequant``; its scale and zero point, and activation scales (``input_scale``,
        ``k_scale``...), become :class:`NotedInfo` of kind ``"other"`` that say what they are.
    """
    by_name = {i.name: i for i in infos if not isinstance(i, NotedInfo)}  # a tensor not read is no scale
    if not any(_quantized(i) or _base_of(i.name) or i.name.endswith(_ACTIVATION) for i in infos):
        return list(infos)
    folder_block = config_block(folder) if any(i.name.endswith("_scale_inv") for i in infos) else None
    new: dict[str, TensorInfo] = {}
    for info in infos:
        if not _quantized(info) or _base_of(info.name) in by_name:  # an int8 zero point is no weight
            continue
        scale = next((by_name[info.name + s] for s in _SCALE_SUFFIXES if info.name + s in by_name), None)
        zp = by_name.get(info.name + _ZERO_SUFFIX)
        if scale is None:
            new[info.name] = replace(info, dequant=_unscaled(info))
            continue
        dq, listed = _plan(info, scale, zp, folder_block)
        new[info.name] = replace(info, dequant=dq)
        new[scale.name] = _noted(scale, listed, "scales")
        if zp is not None:
            state = "applied" if dq.scale is not None else "not applied"
            new[zp.name] = _noted(zp, f"zero points of {info.name} ({state})", "scales")
    for info in infos:
        if info.name in new or isinstance(info, NotedInfo):
            continue
        base = _base_of(info.name)
        if base is not None:
            if base not in by_name:
                new[info.name] = _noted(info, f"scales of {base}, which the source does not hold", "scales")
            elif not _quantized(by_name[base]):
                b = by_name[base]
                new[info.name] = _noted(info, f"scales of {base} (not applied: {base} is {b.dtype} "
                                              f"{b.kind})", "scales")
        elif info.name.endswith(_ACTIVATION) and info.ndim <= 1:
            new[info.name] = _noted(info, f"activation scale ({info.name.rsplit('.', 1)[-1]}): not a weight",
                                    "scales")
    return [new.get(i.name, i) for i in infos]


def as_float(a: np.ndarray) -> np.ndarray:
    """Integers as floats, exactly: float32 up to 16 bits, float64 above; floats unchanged."""
    if a.dtype.kind in "iub":
        return a.astype(np.float32 if a.dtype.itemsize <= 2 else np.float64)
    return a


def dequantize(info: TensorInfo, read: Callable[[TensorInfo], np.ndarray], k: int | None = None,
               read_slice: Callable[[TensorInfo, int], np.ndarray] | None = None) -> np.ndarray:
    """The float matrix of a weight with a :class:`Dequant`, reading its parts with ``read``.

    ``read`` is the reader's own ``read``: it is called on the weight as stored
    (``info`` without its ``dequant``) and on the scale and zero-point tensors.
    With scales the result is float32 (``(W - zp) * s`` entry by entry, in
    float32, a few row blocks at a time); without, the stored values
    (:func:`as_float`).  For a stack of experts ``[E, out, in]`` each expert is
    dequantized with its own scales; ``k`` asks for expert ``k`` alone, read with
    ``read_slice(info, k)`` when the reader has one (only that expert's bytes).
    """
    d = info.dequant
    raw = replace(info, dequant=None)
    if k is None:
        w = read(raw)
    else:
        w = read_slice(raw, k) if read_slice is not None else np.ascontiguousarray(read(raw)[k])
    if d is None or d.scale is None:
        return as_float(w)
    lead = () if d.experts is None else (d.experts,)
    scale = np.asarray(read(d.scale), dtype=np.float32).reshape(*lead, *d.grid)
    zp = None if d.zero_point is None else np.asarray(read(d.zero_point), dtype=np.float32).reshape(
        *lead, *d.grid)

    def of(a, e):  # expert e's scales (or zero points)
        return a if a is None or d.experts is None else a[e]

    if k is not None:
        return _apply(w, of(scale, k), of(zp, k), d.block)
    if info.kind == "experts" and info.ndim >= 3:
        return np.stack([_apply(w[e], of(scale, e), of(zp, e), d.block) for e in range(w.shape[0])])
    return _apply(w, scale, zp, d.block)


def _apply(w: np.ndarray, scale: np.ndarray, zp: np.ndarray | None, block: tuple[int, int]) -> np.ndarray:
    """``(w - zp) * scale`` with each scale entry spread over its ``block``, in float32, by row blocks."""
    b0, b1 = block
    out_n = w.shape[0]
    flat = w.reshape(out_n, -1)
    inn = flat.shape[1]
    result = np.empty((out_n, inn), dtype=np.float32)
    step = b0 * max(1, _ROWS_ELEMENTS // max(1, b0 * inn))
    for r0 in range(0, out_n, step):
        r1 = min(out_n, r0 + step)
        rows = slice(r0 // b0, -(-r1 // b0))
        part = flat[r0:r1].astype(np.float32)
        if zp is not None:
            part -= _spread(zp[rows], b0, b1, r0 % b0, r1 - r0, inn)
        part *= _spread(scale[rows], b0, b1, r0 % b0, r1 - r0, inn)
        result[r0:r1] = part
    return result.reshape(w.shape)


def _spread(s: np.ndarray, b0: int, b1: int, first: int, n: int, inn: int) -> np.ndarray:
    """Scale entries repeated over their blocks: an ``(n, inn)`` array (broadcast where a side is 1)."""
    rows = s if b0 == 1 else np.repeat(s, b0, axis=0)[first:first + n]
    return rows if s.shape[1] == 1 else np.repeat(rows, b1, axis=1)[:, :inn]
