"""Per-layer diagnostics asked for by option: correlation traps (``randomize``) and eigenvector localization (``vectors``).

Both run in stage 2 (:mod:`.spectra`), while the layer's tensor is in hand, and
come back as a :class:`LayerDiagnostics`: row values (``LayerRow`` fields), the
randomized eigenvalues and the top eigenvectors' metrics for figures, and a note
for the row's warning.

``randomize``
    WeightWatcher's ``randomize=True``: the ESD of an element-wise random permutation
    of each of the layer's matrices (:func:`htsr.rmt.traps.randomized_esd`), its
    Marchenko-Pastur fit (``rand_sigma_mp``, in WeightWatcher's units: see
    :mod:`.metrics`; ``rand_bulk_max``), its largest eigenvalue (``max_rand_eval``),
    ``rand_distance`` (:func:`htsr.rmt.traps.rand_distance`), and the traps: randomized
    eigenvalues beyond the bulk's Tracy-Widom threshold (``num_traps``; WeightWatcher
    also calls it ``rand_num_spikes``).  htsr also says where each trap comes from:
    ``trap_entries`` lists, trap by trap, the positions in the stored tensor of the
    entries that make it.  The permutation is drawn from the ``randomize`` stream under
    ``htsr.streams.layer_seed(seed, name)`` (WeightWatcher's is unseeded): the same seed
    gives the same columns, on a Dask worker too.  The layer is read whole.
``vectors``
    The localization ratio, participation ratio and WeightWatcher's vector entropy
    (:mod:`htsr.rmt.vectors`) of the top ``k`` eigenvectors of ``W^T W``, averaged
    (``loc_ratio``, ``part_ratio``, ``vec_entropy``; ``n_vectors = k``).  Only those ``k``
    eigenvectors are computed; a matrix read block by block stays so.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from .. import streams
from ..kinds import SINGLE_MATRIX_KINDS, layer_matrices
from ..rmt.traps import rand_distance, randomized_esd
from ..rmt.vectors import localization_ratio, participation_ratio, top_vectors, vector_entropy

__all__ = ["LayerDiagnostics", "layer_diagnostics", "VECTOR_COLUMNS"]

#: Columns of :attr:`LayerDiagnostics.top_vectors`.
VECTOR_COLUMNS = ("eigenvalue", "loc_ratio", "part_ratio", "vec_entropy")
_SHOWN = 3  # traps named in the warning


@dataclass(frozen=True)
class LayerDiagnostics:
    """What ``randomize`` and ``vectors`` add to a layer.

    Attributes
    ----------
    row : dict
        ``LayerRow`` fields (``num_traps``, ``rand_*``, ``trap_entries``, ``n_vectors``, ...).
    rand_evals : numpy.ndarray
        The randomized ESD, ascending (empty without ``randomize``).
    top_vectors : numpy.ndarray, shape (k, 4)
        Per top eigenvector, largest first: :data:`VECTOR_COLUMNS` (empty without ``vectors``).
    note : str
        For the row's warning: the traps and their entries ("" when none).
    """

    row: dict = field(default_factory=dict)
    rand_evals: np.ndarray = field(default_factory=lambda: np.empty(0), repr=False)
    top_vectors: np.ndarray = field(default_factory=lambda: np.empty((0, 4)), repr=False)
    note: str = ""


def _stored_index(info, mats_shape) -> np.ndarray:
    """Each entry of the layer's matrices -> its flat index in the stored tensor."""
    flat = np.arange(int(np.prod(info.shape)), dtype=np.int64).reshape(info.shape)
    return layer_matrices(flat, info.kind, layout=info.layout).reshape(mats_shape)


def _position(info, index) -> str:
    return "(" + ", ".join(str(int(i)) for i in np.unravel_index(int(index), info.shape)) + ")"


def _randomize(tensor, evals: np.ndarray, fit) -> tuple[dict, np.ndarray, str]:
    info = tensor.info
    mats = layer_matrices(np.asarray(tensor.array), info.kind, layout=info.layout)
    rng = streams.generator(streams.layer_seed(fit.seed, info.name), "randomize")
    r = randomized_esd(mats, rng, normalize=fit.normalize)
    row = dict(num_traps=r.num_traps, max_rand_eval=float(r.evals[-1]) if r.evals.size else math.nan)
    if r.mp is not None:
        row.update(rand_sigma_mp=math.sqrt(r.mp.sigma2 * r.evals.size / float(r.evals.sum())),
                   rand_bulk_max=float(r.mp.lambda_plus))
    if evals.size == r.evals.size and evals.size and evals[-1] > 0:
        row["rand_distance"] = rand_distance(evals, r.evals)
    if not r.traps:
        return row | dict(trap_entries=""), r.evals, ""
    where = _stored_index(info, mats.shape)
    parts, described = [], []
    for t in r.traps:
        pos = [_position(info, where[t.slice][i, j]) for i, j in t.entries]
        parts.append(", ".join(pos))
        size = ", ".join(f"{p} = {v:.3g} ({abs(v) / r.rms:.0f}x rms)" for p, v in zip(pos, t.values))
        described.append(f"{t.eigenvalue:.4g} from {size}")
    row["trap_entries"] = "; ".join(parts)
    more = f"; and {len(described) - _SHOWN} more" if len(described) > _SHOWN else ""
    located = "" if len(r.traps) == r.num_traps else f" ({len(r.traps)} located)"
    note = (f"{r.num_traps} correlation trap(s) in the randomized ESD{located}: eigenvalue "
            + "; ".join(described[:_SHOWN]) + more)
    return row, r.evals, note


def _vectors(tensor, k: int, normalize: bool, N: int) -> tuple[dict, np.ndarray]:
    info = tensor.info
    a = tensor.array
    mats = a if (info.kind in SINGLE_MATRIX_KINDS and hasattr(a, "long_blocks")) else \
        layer_matrices(np.asarray(a), info.kind, layout=info.layout)
    lam, V = top_vectors(mats, k)
    table = np.column_stack([lam / N if normalize else lam, localization_ratio(V), participation_ratio(V),
                             vector_entropy(V)])
    row = dict(n_vectors=int(V.shape[1]), loc_ratio=float(table[:, 1].mean()), part_ratio=float(table[:, 2].mean()),
               vec_entropy=float(table[:, 3].mean()))
    return row, table


def layer_diagnostics(tensor, evals: np.ndarray, fit, N: int) -> LayerDiagnostics:
    """``randomize`` and ``vectors`` of one layer (``fit``: its :class:`~.options.LayerFitOptions`)."""
    row, rand, note, table = {}, np.empty(0), "", np.empty((0, 4))
    if fit.randomize:
        more, rand, note = _randomize(tensor, evals, fit)
        row.update(more)
    if fit.vectors:
        more, table = _vectors(tensor, fit.vectors, fit.normalize, N)
        row.update(more)
    return LayerDiagnostics(row=row, rand_evals=rand, top_vectors=table, note=note)
