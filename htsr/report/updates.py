"""The spectrum of an update, ``W - W_base`` (``htsr.report(new, baseline=base, delta=True)``, ``--delta``).

WeightWatcher's ``base_model`` gives the ESD of ``W - W_base``; here each compared layer's
update goes through the report's own path: :func:`htsr.report.spectra.layer_spectrum` (the
ESD by the Gram route and the fit-free metrics), then the report's fits and bootstrap
intervals, as a :class:`~htsr.report.result.Report` of its own (``Report.comparison.updates``).

**Numerical rank.**  The update is stored as the difference of two rounded checkpoints, so
its "zero" singular values are rounding noise of the weights, not of the update.  A
singular value ``s`` of ``W - W_base`` counts when

    s > max(N, M) * eps * max(s_max(W), s_max(W_base))

with ``eps`` the machine epsilon of the stored dtype (float32 ``1.2e-7``, float16
``9.8e-4``, bfloat16 ``7.8e-3``): numpy's ``matrix_rank`` rule, scaled by the weights'
spectral norm (rounding ``W_base + U`` to the stored dtype leaves noise of that size), and
never below the Gram route's own precision, ``sqrt(M * eps64) * s_max(W - W_base)``.

**Low rank.**  An update of rank ``r <= min(N, M) / 2`` -- a merged LoRA update, rank
``r << M`` -- is reported as the adapters are (:func:`htsr.report.architectures.low_rank_spectrum`):
its ``r`` nonzero eigenvalues, their metrics, no power-law fit.  A fuller update keeps its
whole ESD and gets the report's power-law fit and interval.  Tensors identical in both
checkpoints have a zero update: a row that says so, nothing read.
"""

from __future__ import annotations

import math

import numpy as np

from .. import weights as hw
from .architectures import low_rank_spectrum
from .spectra import LayerSpectrum, layer_spectrum, precheck
from .metrics import spectrum_metrics

__all__ = ["update_spectra", "numerical_rank", "stored_eps"]

_EPS = {"bfloat16": 2.0**-7, "bf16": 2.0**-7, "float16": 2.0**-10, "f16": 2.0**-10, "float64": np.finfo(np.float64).eps,
        "f64": np.finfo(np.float64).eps}


def stored_eps(dtype) -> float:
    """Machine epsilon of a stored dtype name (float32's for float32, fp8 and anything unknown)."""
    d = str(dtype).lower()
    return float(_EPS.get(d, np.finfo(np.float32).eps if "8" not in d else 2.0**-3))


def numerical_rank(evals: np.ndarray, N: int, M: int, s_weights: float, eps: float) -> int:
    """Singular values ``sqrt(evals)`` (eigenvalues of ``dW^T dW``, not divided by N) above the tolerance
    of the module docstring; ``s_weights`` is ``max(s_max(W), s_max(W_base))``."""
    s = np.sqrt(np.clip(np.asarray(evals, dtype=np.float64), 0.0, None))
    if not s.size or not s[-1] > 0:
        return 0
    tol = max(max(N, M) * eps * s_weights, math.sqrt(M * np.finfo(np.float64).eps) * s[-1])
    return int(np.count_nonzero(s > tol))


def _zero_row(index, info, N, M, k, warning) -> LayerSpectrum:
    nothing = np.empty(0)
    return LayerSpectrum(index=index, name=info.name, kind=info.kind, shape=tuple(info.shape), N=N, M=M,
                         n_slices=k, evals=nothing, sample=nothing, metrics=spectrum_metrics(nothing, N, 1.0),
                         warning=warning)


def _s_max(sp, normalize: bool) -> float:
    if sp is None or not sp.evals.size:
        return math.nan
    return math.sqrt(max(float(sp.evals[-1]) * (sp.N if normalize else 1.0), 0.0))


def update_spectra(source, baseline, infos, new_spectra: dict, base_spectra: dict, identical, spec, layout=None):
    """``(spectra, ranks)``: one :class:`LayerSpectrum` of ``W - W_base`` per layer of ``infos`` (matched,
    same shape), and name -> ``(numerical rank, number of eigenvalues)``.  ``new_spectra``/``base_spectra`` (name -> LayerSpectrum)
    give each side's largest eigenvalue for the rank's tolerance."""
    from .._dask import one_blas_thread

    with one_blas_thread():  # as the report's own ESDs: BLAS threads never oversubscribe a busy machine
        return _update_spectra(source, baseline, infos, new_spectra, base_spectra, identical, spec, layout)


def _update_spectra(source, baseline, infos, new_spectra, base_spectra, identical, spec, layout):
    from ..kinds import matrix_shape

    out, ranks = [None] * len(infos), {}
    todo = {}
    for index, info in enumerate(infos):
        N, M, k = matrix_shape(info.shape, info.kind, info.layout)
        if info.name in identical:
            out[index] = _zero_row(index, info, N, M, k, "identical bytes in both checkpoints: the update is zero")
            ranks[info.name] = (0, M * k)
            continue
        early = precheck(index, info, spec.selection)
        if early is not None:
            out[index] = early
            continue
        todo[info.name] = index
    if not todo:
        return out, ranks
    # each checkpoint opened once and read in one pass; a baseline tensor that comes out of
    # order (another format's order) is read by name instead of held
    names = list(todo)
    with hw.load(source, names=names, layout=layout) as new, hw.load(baseline, names=names, layout=layout) as old:
        olds = iter(old)
        pending = None
        for tensor in new:
            if pending is None:
                pending = next(olds, None)
            if pending is not None and pending.name == tensor.name:
                base, pending = pending, None
            else:
                base = hw.get(baseline, tensor.name, layout=layout)
            index = todo[tensor.name]
            info = infos[index]
            W = np.asarray(tensor.array, dtype=np.float64)
            W -= np.asarray(base.array)  # cast block by block by the ufunc: no float64 copy of the baseline
            del base
            out[index] = _update_row(index, info, W, new_spectra, base_spectra, spec, ranks)
    return out, ranks


def _update_row(index, info, W, new_spectra, base_spectra, spec, ranks):
    from ..kinds import matrix_shape

    N, M, _ = matrix_shape(info.shape, info.kind, info.layout)
    sp = layer_spectrum(index, hw.Tensor(info.name, W, info.kind, info), spec.selection, spec.fit)
    if not sp.evals.size:
        return sp
    norm = spec.fit.normalize
    raw = sp.evals * (N if norm else 1.0)
    s_w = np.nanmax([_s_max(new_spectra.get(info.name), norm), _s_max(base_spectra.get(info.name), norm),
                     float(np.sqrt(max(raw[-1], 0.0)))])
    r = numerical_rank(raw, N, M, s_w, stored_eps(info.dtype))
    ranks[info.name] = (r, int(raw.size))
    if r <= raw.size // 2:
        evals = sp.evals[raw.size - r:] if r else np.empty(0)
        what = "zero at the stored precision" if r == 0 else f"low-rank, no power-law fit ({r} nonzero eigenvalues)"
        return low_rank_spectrum(index, info.name, info.kind, info.shape, N, M, evals, r,
                                 f"update of rank {r} of {raw.size}: {what}")
    note = f"update of rank {r} of {raw.size}"
    return LayerSpectrum(**{**sp.__dict__, "warning": "; ".join(x for x in (note, sp.warning) if x)})
