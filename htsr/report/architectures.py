"""Rows that come from a model's architecture: pooled expert banks, notes on parts, LoRA updates.

* :func:`expert_rows` adds, after the per-layer spectra, one **pooled row per expert bank**
  (the experts of one layer and one projection: ``...experts.*.w1.weight`` for one tensor per
  expert, ``...experts.down_proj[*]`` for a stack): its ESD is the concatenation of the
  experts' ESDs, as WeightWatcher pools a convolution's slices, taken from the spectra already
  computed (nothing is read again).  Its kind is ``"experts"``.  The network summary counts the
  bank once, through this row; the per-expert rows stay in the table but are left out of the
  means (docs/llm.md).
* :func:`annotate` puts what the weights layer says of a matrix that the file does not store
  as it is (a fused projection's part, a merged LoRA layer, a fused tensor kept whole and why)
  into the row's warning.
* :func:`lora_spectra` gives the rows of a LoRA adapter reported alone: each adapted module's
  update ``dW = s B A`` as an update of rank ``r`` -- its ``r`` nonzero eigenvalues (an
  ``r x r`` problem, :func:`htsr.weights.update_evals`), their norms, stable rank and
  ``lambda_max``, and no power-law fit.
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from .. import weights as hw
from .depth import natural_key
from .metrics import spectrum_metrics
from .options import LayerFitOptions, Selection
from .spectra import LayerSpectrum

__all__ = ["annotate", "expert_rows", "lora_spectra", "low_rank_spectrum", "POOLED_KIND"]

#: The kind of a pooled expert-bank row.
POOLED_KIND = "experts"


def _join(a: str, b: str) -> str:
    return "; ".join(x for x in (a, b) if x)


def annotate(spectra: list[LayerSpectrum], infos) -> list[LayerSpectrum]:
    """Each spectrum with its info's ``row_note`` (if any) put before its warning."""
    out = []
    for sp, info in zip(spectra, infos):
        note = getattr(info, "row_note", "")
        out.append(replace(sp, warning=_join(note, sp.warning)) if note else sp)
    return out


def _sample(evals: np.ndarray, n_slices: int, M: int, selection: Selection, fit: LayerFitOptions):
    """(sample, warning) of a pooled ESD, by the rules of a layer's (htsr.report.spectra)."""
    if not evals.size or not evals[-1] > 0:
        return np.empty(0), "all-zero matrices: every eigenvalue is 0, nothing to fit"
    if evals.size > selection.max_evals:
        return np.empty(0), (f"too many eigenvalues to fit ({n_slices} experts x {M} = {evals.size} > max_evals = "
                             f"{selection.max_evals}); its metrics are the pooled spectrum's")
    sample = evals[evals > fit.evals_threshold]
    if sample.size < selection.min_evals or sample[0] == sample[-1]:
        return np.empty(0), (f"only {sample.size} eigenvalue(s) above evals_threshold = {fit.evals_threshold:g} "
                             f"(of {evals.size}); nothing to fit")
    return sample, ""


def _pooled(name: str, members: list[LayerSpectrum], selection: Selection, fit: LayerFitOptions) -> LayerSpectrum:
    have = [m for m in members if m.evals.size]
    first = members[0]
    shape = (len(members), *first.shape)
    note = ""  # kind "experts" and the name "[*]" say what the row is; a note only when experts are missing
    if len(have) < len(members):
        note = (f"pooled ESD of {len(have)} of {len(members)} experts: {len(members) - len(have)} have no spectrum "
                "and are left out")
    if not have:
        nothing = np.empty(0)
        return LayerSpectrum(index=-1, name=name, kind=POOLED_KIND, shape=shape, N=first.N, M=first.M,
                             n_slices=len(members), evals=nothing, sample=nothing,
                             metrics=spectrum_metrics(nothing, first.N, 1.0),
                             warning=f"none of its {len(members)} experts has a spectrum")
    evals = np.sort(np.concatenate([m.evals for m in have]))
    N, M = have[0].N, have[0].M
    sample, why = _sample(evals, len(have), M, selection, fit)
    return LayerSpectrum(index=-1, name=name, kind=POOLED_KIND, shape=shape, N=N, M=M, n_slices=len(have),
                         evals=evals, sample=sample, metrics=spectrum_metrics(evals, N, N / M),
                         warning=_join(note, why))


def expert_rows(spectra: list[LayerSpectrum], selection: Selection,
                fit: LayerFitOptions) -> tuple[list[LayerSpectrum], frozenset]:
    """The spectra with a pooled row per expert bank, and the names of the rows it stands for.

    A bank is two or more rows of one :func:`htsr.weights.expert_group` with the same shape.
    Pooled rows go after their bank's last expert; when the rows are in (natural) name order
    they are kept in it, so the depth order (:mod:`htsr.report.depth`) still applies.
    ``index`` is renumbered to the new positions.
    """
    groups: dict[str, list[int]] = {}
    for pos, sp in enumerate(spectra):
        g = hw.expert_group(sp.name)
        if g is not None:
            groups.setdefault(g, []).append(pos)
    banks = {g: p for g, p in groups.items() if len(p) >= 2 and len({spectra[i].shape for i in p}) == 1}
    if not banks:
        return spectra, frozenset()
    names = [sp.name for sp in spectra]
    ordered = names == sorted(names) or names == sorted(names, key=natural_key)
    after: dict[int, list[LayerSpectrum]] = {}
    for g, pos in banks.items():
        after.setdefault(pos[-1], []).append(_pooled(g, [spectra[i] for i in pos], selection, fit))
    out = []
    for pos, sp in enumerate(spectra):
        out.append(sp)
        out += after.get(pos, [])
    if ordered:
        out.sort(key=lambda sp: natural_key(sp.name))
    details = frozenset(spectra[i].name for pos in banks.values() for i in pos)
    return [replace(sp, index=k) for k, sp in enumerate(out)], details


def lora_spectra(adapter, selection: Selection, fit: LayerFitOptions) -> list[LayerSpectrum]:
    """One row per adapted module of a :class:`htsr.weights.Adapter`: its update's rank-r spectrum."""
    out = []
    for k, mod in enumerate(adapter.modules):
        B, A = adapter.factors(mod)
        out_dim, in_dim = mod.shape
        N, M = max(out_dim, in_dim), min(out_dim, in_dim)
        kind = "embedding" if mod.embedding else "dense"
        name = f"{mod.name}[lora]"
        if not (np.isfinite(B).all() and np.isfinite(A).all()):
            nothing = np.empty(0)
            out.append(LayerSpectrum(index=k, name=name, kind=kind, shape=mod.shape, N=N, M=M, n_slices=1,
                                     evals=nothing, sample=nothing, metrics=spectrum_metrics(nothing, N, 1.0),
                                     warning=f"LoRA update of rank {mod.r}: its factors hold NaN or inf; no spectrum"))
            continue
        evals = hw.update_evals(B, A, mod.scale)
        if fit.normalize:
            evals = evals / N
        scale = f"lora_alpha/sqrt(r) = {mod.scale:g}" if adapter.rslora else f"lora_alpha/r = {mod.scale:g}"
        out.append(low_rank_spectrum(k, name, kind, mod.shape, N, M, evals, mod.r,
                                     f"LoRA update of rank {mod.r} ({scale}): no power-law fit "
                                     f"({mod.r} eigenvalues)"))
    return out


def low_rank_spectrum(index: int, name: str, kind: str, shape, N: int, M: int, evals: np.ndarray, r: int,
                      warning: str) -> LayerSpectrum:
    """The row of a rank-``r`` update: its ``r`` nonzero eigenvalues ``evals``, their metrics, no fit.

    A LoRA adapter's update (:func:`lora_spectra`) and a low-rank checkpoint difference
    ``W - W_base`` (:mod:`htsr.report.updates`) both come through here.
    """
    metrics = spectrum_metrics(evals, N, N / M)
    metrics.update(num_spikes=-1, mp_softrank=math.nan, sigma_mp=math.nan, bulk_min=math.nan,
                   bulk_max=math.nan)  # no Marchenko-Pastur bulk in r eigenvalues
    if metrics["rank_loss"] >= 0:
        metrics["rank_loss"] = int(r - (evals.size - metrics["rank_loss"]))
    return LayerSpectrum(index=index, name=name, kind=kind, shape=tuple(shape), N=N, M=M, n_slices=1,
                         evals=evals, sample=np.empty(0), metrics=metrics, warning=warning)


def adapter_spectra(source, selection: Selection, fit: LayerFitOptions):
    """``(spectra, skipped)`` of a LoRA adapter reported alone (:func:`lora_spectra`).

    Modules whose name the ``layers``/``exclude`` options leave out are not read; tensors of the
    adapter that are not LoRA factors (``modules_to_save`` copies, biases) are listed as skipped.
    """
    from .result import Skipped

    adapter = hw.open_adapter(source)
    try:
        chosen = [m for m in adapter.modules if selection.wants(f"{m.name}[lora]")]
        if not chosen:
            raise hw.WeightsError(f"{source}: none of the adapter's {len(adapter.modules)} LoRA modules matches "
                                  f"the layers/exclude options (rows are named like {adapter.modules[0].name}[lora])")
        adapter.modules = chosen
        spectra = lora_spectra(adapter, selection, fit)
    finally:
        adapter.close()
    return spectra, [Skipped(name, reason, "not LoRA factors") for name, reason in adapter.skipped]
