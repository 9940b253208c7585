"""Stage 1 of a report, one layer at a time: read a tensor, take its ESD, measure it.

Everything here is a pure function of one tensor (or of its header), so layers
can run in a thread pool or as Dask tasks (:mod:`htsr.report.execute`).  A layer
that cannot be fitted (NaN or inf, an all-zero matrix, too few eigenvalues, too
large, entries so large that its Gram matrix overflows float64) comes back as a
:class:`LayerSpectrum` with a ``warning`` and no sample: the report keeps its row
and goes on.

Memory: the report reads safetensors matrices lazily (``htsr.weights.load(...,
lazy=True)``), and :func:`htsr.rmt.layer_esd` accumulates their Gram matrices by
blocks of about 8 MB read from the file, widened to float64 block by block; the
check for NaN and inf rides on the Gram matrix (a non-finite Gram matrix, then
the entries are counted), so a layer costs one pass over its bytes and its peak
memory is its ``M x M`` Gram matrix plus a block or two, whatever its size.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .. import rmt
from ..rmt.esd import is_blocked
from ..errors import DataError
from ..kinds import matrix_shape
from ..weights import Tensor, TensorInfo
from .diagnostics import layer_diagnostics
from .metrics import spectrum_metrics
from .options import LayerFitOptions, Selection

__all__ = ["LayerSpectrum", "matrix_shape", "precheck", "layer_spectrum", "spectrum_of"]


@dataclass(frozen=True, eq=False)
class LayerSpectrum:
    """One layer's ESD and the metrics that need no fit.

    Attributes
    ----------
    index : int
        Position of the layer in the report (its depth in the source's order).
    name, kind : str
        Tensor name and kind (:func:`htsr.weights.classify`).
    shape : tuple of int
        Shape of the stored tensor.
    N, M, n_slices : int
        Each matrix is ``N x M`` with ``N >= M``; a convolution has ``n_slices`` of them
        (their ESDs pooled, as WeightWatcher does).
    evals : numpy.ndarray
        The pooled ESD, ascending (empty when the layer was not read).
    sample : numpy.ndarray
        The eigenvalues above ``evals_threshold``: what the fits see (empty: no fit).
    metrics : dict
        :func:`htsr.report.metrics.spectrum_metrics`, and the row values of ``randomize`` and
        ``vectors`` when asked (:mod:`htsr.report.diagnostics`).
    warning : str
        Why the layer has no fit, or another note; "" when all is well.
    rand_evals : numpy.ndarray
        With ``randomize``: the ESD of the element-wise permuted W, ascending (else empty).
    top_vectors : numpy.ndarray, shape (k, 4)
        With ``vectors``: per top eigenvector, largest first, its eigenvalue, localization ratio,
        participation ratio and vector entropy (:data:`htsr.report.diagnostics.VECTOR_COLUMNS`).
    """

    index: int
    name: str
    kind: str
    shape: tuple
    N: int
    M: int
    n_slices: int
    evals: np.ndarray = field(repr=False)
    sample: np.ndarray = field(repr=False)
    metrics: dict = field(repr=False)
    warning: str = ""
    rand_evals: np.ndarray = field(default_factory=lambda: np.empty(0), repr=False)
    top_vectors: np.ndarray = field(default_factory=lambda: np.empty((0, 4)), repr=False)

    @property
    def fittable(self) -> bool:
        return self.sample.size > 0


def _empty(index, info, N, M, k, warning) -> LayerSpectrum:
    nothing = np.empty(0)
    return LayerSpectrum(index=index, name=info.name, kind=info.kind, shape=tuple(info.shape), N=N, M=M,
                         n_slices=k, evals=nothing, sample=nothing, metrics=spectrum_metrics(nothing, N, 1.0),
                         warning=warning)


def esd_cost(info: TensorInfo) -> float:
    """The relative cost of a layer's ESD, from its header: ``k M^2 (N + M)`` for ``k`` slices of
    ``N x M`` (the Gram matrix, then the eigensolver).  The report queues the costliest layers
    first (:mod:`.execute`), and the progress's time left weighs a 32000 x 2048 embedding as
    what it costs against a 2048 x 256 projection."""
    N, M, k = matrix_shape(info.shape, info.kind, info.layout)
    return float(k) * float(M) ** 2 * float(N + M)


def precheck(index: int, info: TensorInfo, selection: Selection) -> LayerSpectrum | None:
    """A warning row for a layer the size limits rule out (nothing read), or None."""
    N, M, k = matrix_shape(info.shape, info.kind, info.layout)
    n_evals = M * k
    if M < 1:
        return _empty(index, info, N, M, k, f"shape {tuple(info.shape)} has an empty dimension")
    if n_evals < selection.min_evals:
        return _empty(index, info, N, M, k,
                      f"too few eigenvalues to fit ({n_evals} < min_evals = {selection.min_evals})")
    if n_evals > selection.max_evals:
        return _empty(index, info, N, M, k,
                      f"too many eigenvalues ({n_evals} > max_evals = {selection.max_evals}); not read")
    if N > selection.max_n:
        return _empty(index, info, N, M, k, f"larger side N = {N} > max_n = {selection.max_n}; not read")
    return None


def layer_spectrum(index: int, tensor: Tensor, selection: Selection, fit: LayerFitOptions) -> LayerSpectrum:
    """ESD (``htsr.rmt.layer_esd``, the Gram route) and fit-free metrics of one tensor."""
    info = tensor.info
    early = precheck(index, info, selection)
    if early is not None:
        return early
    N, M, k = matrix_shape(info.shape, info.kind, info.layout)
    if not (is_blocked(tensor.array) and fit.device == "cpu"):  # a blocked Gram finds NaN and inf on its way (_esd)
        bad = tensor.nonfinite_message()
        if bad is not None:
            return _empty(index, info, N, M, k, f"{bad}; no spectrum")
    evals, why = _esd(tensor, fit, N)
    if evals is None:
        return _empty(index, info, N, M, k, f"{why}; no spectrum")
    metrics = spectrum_metrics(evals, N, N / M)
    warning = info.values_note()  # quantized or integer weights: what the spectrum is of
    extra = {}
    if (fit.randomize or fit.vectors) and evals.size and evals[-1] > 0:  # traps, eigenvectors: W in hand
        diag = layer_diagnostics(tensor, evals, fit, N)
        metrics.update(diag.row)
        extra = dict(rand_evals=diag.rand_evals, top_vectors=diag.top_vectors)
        warning = _join(warning, diag.note) if diag.note else warning
    if not evals.size or not evals[-1] > 0:
        warning = _join(warning, "all-zero matrix: every eigenvalue is 0, nothing to fit")
        sample = np.empty(0)
    else:
        sample = evals[evals > fit.evals_threshold]
        if sample.size < selection.min_evals or sample[0] == sample[-1]:
            warning = _join(warning, f"only {sample.size} eigenvalue(s) above evals_threshold = "
                                     f"{fit.evals_threshold:g} (of {evals.size}); nothing to fit")
            sample = np.empty(0)
    return LayerSpectrum(index=index, name=info.name, kind=info.kind, shape=tuple(info.shape), N=N, M=M,
                         n_slices=k, evals=evals, sample=sample, metrics=metrics, warning=warning, **extra)


def _esd(tensor: Tensor, fit: LayerFitOptions, N: int) -> tuple[np.ndarray | None, str]:
    """``(evals, "")``, or ``(None, why)`` when the eigenvalues cannot be computed.

    Entries near 1e155 or above overflow float64 in the Gram matrix ``W^T W``
    (inf entries, and LAPACK's "eigenvalues did not converge").
    """
    info = tensor.info
    if fit.device != "cpu":  # the Gram and eigensolver on the GPU (htsr.rmt.device)
        from ..rmt.device import checked_device_layer_esd

        return checked_device_layer_esd(tensor.array, info.kind, layout=info.layout, normalize=fit.normalize,
                                        device=fit.device)
    with np.errstate(over="ignore", invalid="ignore"):
        try:
            evals = rmt.layer_esd(tensor.array, info.kind, layout=info.layout, normalize=fit.normalize,
                                  method="gram")
        except np.linalg.LinAlgError as e:
            evals, failure = None, str(e)
        except DataError:  # NaN or inf met by the blocked Gram of a lazily read matrix
            bad = tensor.nonfinite_message()
            if bad is None:
                raise
            return None, bad
    if evals is not None and np.isfinite(evals).all():
        return evals, ""
    a = tensor.array
    amax = a.max_abs() if hasattr(a, "max_abs") else float(np.max(np.abs(a)))
    biggest = np.finfo(np.float64).max
    if amax > 0 and 2 * np.log10(amax) + np.log10(N) >= np.log10(biggest):
        return None, (f"its Gram matrix W^T W overflows float64: the largest |entry| is {amax:.3g}, and a sum "
                      f"of {N} squares that size passes float64's largest value ({biggest:.3g})")
    what = f"LAPACK: {failure}" if evals is None else "non-finite eigenvalues"
    return None, f"the eigenvalues of its Gram matrix could not be computed ({what}; largest |entry| {amax:.3g})"


def _join(a: str, b: str) -> str:
    return f"{a}; {b}" if a else b


def spectrum_of(index: int, source, name: str, layout, selection: Selection, fit: LayerFitOptions) -> LayerSpectrum:
    """:func:`layer_spectrum` of one named tensor of ``source``, read here (a Dask task)."""
    from ..weights import get

    return layer_spectrum(index, get(source, name, layout=layout, lazy=True), selection, fit)
