"""SVD smoothing: each selected layer keeps its top singular components, written as a new safetensors file.

WeightWatcher 0.7.7's ``SVDSmoothing`` (``weightwatcher.py``, ``apply_svd_smoothing``) replaces a
layer's weight matrix :math:`W = \\sum_i s_i u_i v_i^\\top` by its rank-:math:`k` truncation
:math:`W_k = \\sum_{i \\le k} s_i u_i v_i^\\top`.  :func:`smooth` does the same on a safetensors file:

* ``keep="tail"`` (default): :math:`k` is the layer's ``n_tail``, the number of eigenvalues of
  :math:`W^\\top W` in its fitted power-law tail (``htsr.report``'s fit; WeightWatcher's
  ``method='alpha_min'``, which keeps ``num_pl_spikes``);
* ``keep="detX"``: :math:`k` is the report's ``detX_num`` (WeightWatcher's default,
  ``method='detX'``);
* ``keep="spikes"``: :math:`k` is the report's ``num_spikes``, the eigenvalues above the
  Marchenko-Pastur bulk and its Tracy-Widom margin (WeightWatcher's ``method='rmt'``, from its own
  MP fit, whose count differs: docs/coming_from_weightwatcher.md);
* a float ``f`` in (0, 1]: :math:`k = \\max(1, \\lfloor f M \\rfloor)` of the :math:`M = \\min(N, M)`
  components (WeightWatcher's ``method='svd'`` with ``percent=f``, whose ``int(percent*M)`` may be 0);
* an int: that many components (at most :math:`M`).

A convolution is treated as WeightWatcher treats a Conv2D: each of its ``n_slices`` kernel-position
matrices (:func:`htsr.kinds.layer_matrices`) is truncated on its own, a count (``n_tail``, or an
int) refers to the layer's pooled ESD and gives each slice :math:`\\lceil k / n_{slices} \\rceil`
components, a fraction :math:`\\max(1, \\lfloor f M \\rfloor)`.

The SVD is exact, in float64 (WeightWatcher uses scikit-learn's randomized ``TruncatedSVD`` with
``n_iter=7``).  The output has the source's header byte for byte (names, dtypes, shapes, order,
``__metadata__``); tensors not smoothed are copied byte for byte, smoothed ones are rounded to
their stored dtype (F32, F16, BF16, F64), so a bfloat16 layer is the rank-:math:`k` matrix rounded
to bfloat16, of numerical rank :math:`k` only up to bfloat16's precision.

Refused, each with the reason: sources that are not one ``.safetensors`` file (convert with
``safetensors.torch.save_file``; a sharded folder: smooth each shard), LoRA adapters (merge first),
quantized tensors (fp8/int8 with scales: writing them back would need a requantization), stacked
mixture-of-experts tensors, and an ``out`` that is the source.  Fused projections (``c_attn``, ...)
are smoothed as the stored tensor, with the fit of the whole tensor (the report's ``fused="keep"``).
"""

from __future__ import annotations

import math
import os
import shutil
import warnings
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from .. import weights as hw
from .._dask import one_blas_thread
from ..data import check_output
from ..errors import DataError, WeightsError
from ..kinds import layer_matrices, matrix_shape
from ..weights._safetensors import ENCODABLE, SafetensorsReader, byte_ranges, encode
from .core import report, select
from .options import Selection

__all__ = ["smooth", "SmoothResult", "SmoothedLayer"]


@dataclass(frozen=True)
class SmoothedLayer:
    """One smoothed tensor.

    Attributes
    ----------
    name, kind, shape, dtype
        The tensor as stored (dtype as safetensors names it: ``F32``, ``BF16``, ...).
    n_slices : int
        Matrices the tensor holds (1; a convolution's kernel positions).
    M : int
        Components of each matrix (its smaller side).
    kept : int
        Components each matrix keeps.
    count : float
        The count the rule gave for the whole layer (``n_tail``, ``detX_num`` or the int asked
        for; a convolution's pooled over its slices), NaN for a fraction.
    n_tail : float
        The fitted tail's length (``keep="tail"`` or ``"detX"``), else NaN.
    energy_kept : float
        :math:`\\sum_{i \\le k} s_i^2 / \\sum_i s_i^2`, the share of :math:`\\|W\\|_F^2` kept (all slices).
    """

    name: str
    kind: str
    shape: tuple
    dtype: str
    n_slices: int
    M: int
    kept: int
    count: float
    n_tail: float
    energy_kept: float

    def to_dict(self) -> dict:
        return {**asdict(self), "shape": "x".join(map(str, self.shape))}


@dataclass(frozen=True)
class SmoothResult:
    """What :func:`smooth` wrote.

    Attributes
    ----------
    source, out : str
        The file read and the file written.
    keep : str, float or int
        The rule asked for.
    layers : tuple of SmoothedLayer
        The smoothed tensors.
    unchanged : tuple of (name, reason)
        Selected tensors left as they were (no power-law fit for ``keep="tail"``, or a rule that
        keeps every component), each with why.
    n_tensors : int
        Tensors in the file.
    """

    source: str
    out: str
    keep: object
    layers: tuple
    unchanged: tuple
    n_tensors: int

    @property
    def table(self):
        """A pandas DataFrame, one row per smoothed tensor."""
        import pandas as pd

        cols = list(SmoothedLayer.__dataclass_fields__)
        return pd.DataFrame([r.to_dict() for r in self.layers], columns=cols)

    def to_dict(self) -> dict:
        return dict(source=self.source, out=self.out, keep=self.keep, n_tensors=self.n_tensors,
                    layers=[r.to_dict() for r in self.layers],
                    unchanged=[dict(name=n, reason=r) for n, r in self.unchanged])

    def __repr__(self) -> str:
        return (f"SmoothResult({len(self.layers)} of {self.n_tensors} tensors smoothed, keep={self.keep!r}, "
                f"{len(self.unchanged)} selected left unchanged, out={self.out!r})")


#: the counts ``keep`` can name, and the report column each one reads
_COUNTS = {"tail": "n_tail", "detX": "detX_num", "spikes": "num_spikes"}
_KEEP = "keep must be 'tail', 'detX', 'spikes', a fraction in (0, 1] or a number of components >= 1"


def _check_keep(keep):
    if isinstance(keep, str):
        if keep not in _COUNTS:
            raise DataError(f"{_KEEP}, not {keep!r}")
        return keep
    if isinstance(keep, (bool, np.bool_)) or not isinstance(keep, (int, float, np.integer, np.floating)):
        raise DataError(f"{_KEEP}, not {keep!r}")
    if isinstance(keep, (int, np.integer)):
        if keep < 1:
            raise DataError(f"keep must be at least 1 component, not {keep}")
        return int(keep)
    if not 0.0 < keep <= 1.0:
        raise DataError(f"keep={keep!r}: a fraction of the components must be in (0, 1] (an int is a count)")
    return float(keep)


def _check_paths(source, out) -> tuple[Path, Path]:
    if not isinstance(source, (str, os.PathLike)):
        raise WeightsError(f"htsr.smooth reads one .safetensors file, not a {type(source).__name__} "
                           "(save it with safetensors.torch.save_file first)")
    src = Path(source)
    if hw.is_adapter(src):
        raise WeightsError(f"{src}: a LoRA adapter; its factors are rank r already: merge it into its base model, "
                           "save that as safetensors and smooth it")
    if src.is_dir():
        raise WeightsError(f"{src} is a folder; htsr.smooth reads one .safetensors file (a sharded model: smooth "
                           "each shard with the same --layers)")
    if not src.is_file():
        raise WeightsError(f"{src}: no such file")
    if src.suffix != ".safetensors":
        raise WeightsError(f"{src}: htsr.smooth reads and writes safetensors only, so that names and dtypes are kept "
                           "(convert with safetensors.torch.save_file)")
    if out is None or not isinstance(out, (str, os.PathLike)):
        raise DataError(f"out must be the path of the new .safetensors file, not {out!r}")
    dst = check_output(out, "out", error=DataError)
    if dst.resolve() == src.resolve() or (dst.exists() and os.path.samefile(dst, src)):
        raise DataError(f"out {str(out)!r} is the source file; htsr.smooth never overwrites its input: "
                        "give another path")
    return src, dst


def _chosen(src: Path, selection: Selection, ranges: dict):
    """The selected tensors, each a stored float tensor htsr can write back."""
    infos, _ = select(str(src), selection)
    for info in infos:
        if info.name not in ranges:
            raise WeightsError(f"{src}: {info.name!r} is one expert of a stacked mixture-of-experts tensor; "
                               "smoothing per expert is not supported (exclude it)")
        if getattr(info, "dequant", None) is not None or ranges[info.name][0] not in ENCODABLE:
            raise WeightsError(f"{src}: {info.name!r} is stored as {ranges[info.name][0]}, quantized or integer; "
                               "writing it back smoothed would need a requantization, which htsr does not do "
                               "(exclude it, or smooth the unquantized model)")
        if ".lora_" in info.name:
            raise WeightsError(f"{src}: {info.name!r} is a LoRA factor; merge the adapter first")
    return infos


def _counts(src: Path, infos, keep, selection: Selection):
    """Per tensor name: the count to keep (pooled over slices) or the fraction, and n_tail; and those
    left unchanged, with why."""
    if keep not in _COUNTS:
        return {i.name: (keep, math.nan) for i in infos}, []
    rep = report(str(src), layers=[i.name for i in infos], kinds=selection.kinds, intervals=None,
                 bounded=False, fused="keep", min_evals=selection.min_evals, max_evals=selection.max_evals,
                 max_n=selection.max_n)
    counts, unchanged = {}, []
    column = _COUNTS[keep]
    for _, row in rep.layers.iterrows():
        count, n_tail = row[column], row["n_tail"] if np.isfinite(row["alpha"]) else math.nan
        if keep == "tail" and not np.isfinite(n_tail):
            unchanged.append((row["name"], f"no power-law fit ({row['verdict']})"))
        elif not np.isfinite(count) or count < 1:
            unchanged.append((row["name"], f"no {column} ({row['warning'] or 'not computed'})"))
        else:
            counts[row["name"]] = (int(count), float(n_tail))
    return counts, unchanged


def _per_slice(rule, M: int, n_slices: int) -> int:
    if isinstance(rule, float):
        return min(M, max(1, math.floor(rule * M)))
    return min(M, math.ceil(rule / n_slices))


def _truncate(W: np.ndarray, kind: str, layout: str, k: int) -> tuple[np.ndarray, float]:
    """``W`` with each of its matrices cut to rank ``k`` (float64), and the share of ``||W||_F^2`` kept."""
    mats = layer_matrices(W, kind, layout=layout)
    where = layer_matrices(np.arange(W.size, dtype=np.float64).reshape(W.shape), kind, layout=layout)
    out = np.empty(W.size)
    kept = total = 0.0
    for A, pos in zip(mats, where):
        U, s, Vt = np.linalg.svd(A, full_matrices=False)
        out[pos.astype(np.int64).ravel()] = ((U[:, :k] * s[:k]) @ Vt[:k]).ravel()
        kept, total = kept + float(np.sum(s[:k] ** 2)), total + float(np.sum(s ** 2))
    return out.reshape(W.shape), kept / total if total > 0 else 1.0


def smooth(source, out, *, keep="tail", layers=None, exclude=None, regex: bool = False, kinds=hw.MATRIX_KINDS,
           min_evals: int = 8, max_evals: int = 15000, max_n: int = 50000,
           workers: int | None = None) -> SmoothResult:
    """Write a copy of a safetensors file whose selected layers keep only their top singular components.

    WeightWatcher's ``SVDSmoothing`` (see the module docstring for the rules and what is refused).

    Parameters
    ----------
    source : str or path
        A ``.safetensors`` file.
    out : str or path
        The new file (not the source; an existing other file is replaced).  Written whole to a
        temporary file beside it first, so a failure leaves no partial file.
    keep : "tail", "detX", "spikes", float or int
        Components each layer keeps: its fitted tail's ``n_tail`` (default), the report's
        ``detX_num`` (WeightWatcher's default) or ``num_spikes``, a fraction of its ``min(N, M)``
        components, or a number.
    layers, exclude, regex, kinds
        Which tensors, as in :func:`htsr.report` (default: every dense, embedding and conv layer).
    min_evals, max_evals, max_n
        The report's size limits; with a count from the report a layer outside them has none and
        is left unchanged (a warning says which).
    workers : int, optional
        Threads computing the truncations, one BLAS thread each (default: the number of CPUs).

    Returns
    -------
    SmoothResult
        The smoothed tensors (``kept``, ``count``, ``n_tail``, ``energy_kept``) and those left unchanged.
    """
    keep = _check_keep(keep)
    src, dst = _check_paths(source, out)
    selection = Selection(kinds=kinds, layers=layers, exclude=exclude, regex=regex, min_evals=min_evals,
                          max_evals=max_evals, max_n=max_n, fused="keep")
    ranges = byte_ranges(src)
    infos = _chosen(src, selection, ranges)
    counts, unchanged = _counts(src, infos, keep, selection)
    plan = []
    for info in infos:
        if info.name in counts:
            N, M, n_slices = matrix_shape(info.shape, info.kind, info.layout)
            k = _per_slice(counts[info.name][0], M, n_slices)
            if k < M:
                plan.append((info, k, n_slices, M))
            else:
                unchanged.append((info.name, f"keeps all {M} components"))
    reader, done = SafetensorsReader(src), []

    def blocks():
        for (info, k, n_slices, M), (W, energy) in _in_order(lambda t: _smooth_one(reader, *t[:2]), plan, workers):
            if W is None:
                unchanged.append((info.name, energy))
                continue
            code, _, begin, end = ranges[info.name]
            yield begin, end, encode(W, code)
            rule, n_tail = counts[info.name]
            done.append(SmoothedLayer(info.name, info.kind, tuple(info.shape), code, n_slices, M, k,
                                      math.nan if isinstance(rule, float) else float(rule), n_tail, energy))

    try:
        _write(src, dst, blocks())
    finally:
        reader.close()
    if unchanged:  # whatever keep was: a selected layer written as it was is said, not only listed
        warnings.warn(f"{len(unchanged)} selected layer(s) left unchanged: "
                      + "; ".join(f"{n}: {r}" for n, r in unchanged[:5]) + ("; ..." if len(unchanged) > 5 else ""),
                      UserWarning, stacklevel=2)
    return SmoothResult(str(src), str(dst), keep, tuple(done), tuple(unchanged), len(ranges))


def _smooth_one(reader, info, k: int):
    """``(W_k, energy_kept)`` of one tensor, or ``(None, why)`` where it cannot be smoothed."""
    W = reader.read(info).astype(np.float64)
    bad = W.size - int(np.count_nonzero(np.isfinite(W)))
    if bad:
        return None, f"{bad} non-finite entries"
    return _truncate(W, info.kind, info.layout, k)


def _in_order(fn, items, workers: int | None):
    """``(item, fn(item))`` in the order of ``items``, computed by a pool of threads with one BLAS
    thread each (as the report's ESDs), at most ``2 * workers`` results held at once."""
    workers = workers or os.cpu_count() or 1
    with one_blas_thread(), ThreadPoolExecutor(max_workers=workers) as pool:
        pending = deque()
        for item in items:
            pending.append((item, pool.submit(fn, item)))
            if len(pending) >= 2 * workers:
                item, fut = pending.popleft()
                yield item, fut.result()
        while pending:
            item, fut = pending.popleft()
            yield item, fut.result()


def _write(src: Path, dst: Path, blocks) -> None:
    """``src`` copied to ``dst`` with each ``(begin, end, data)`` block written over its bytes."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_name(f".{dst.name}.htsr-partial")
    try:
        shutil.copyfile(src, tmp)
        with open(tmp, "r+b") as f:
            for begin, end, data in blocks:
                if len(data) != end - begin:  # cannot happen: same dtype and shape
                    raise WeightsError(f"internal: {len(data)} bytes for a {end - begin}-byte tensor")
                f.seek(begin)
                f.write(data)
        os.replace(tmp, dst)
    except OSError as exc:
        raise DataError(f"cannot write out {str(dst)!r}: {exc.strerror or exc}") from None
    finally:
        if tmp.exists():
            tmp.unlink()
