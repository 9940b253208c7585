"""Correlation traps: the ESD of an element-wise permutation of W, and the entries behind its outliers.

Permuting the entries of a weight matrix at random keeps their distribution and
destroys every correlation between them.  The randomized ESD should then be a
Marchenko-Pastur bulk; an eigenvalue beyond that bulk's edge by more than the
Tracy-Widom margin is a *correlation trap*: a few entries so large that they make
a rank-one spike of their own, wherever the permutation puts them (Martin &
Mahoney, "Implicit self-regularization in deep neural networks", JMLR 22(165),
2021, and WeightWatcher's ``randomize=True``: ``rand_num_spikes``/``num_traps``).

What this module adds to WeightWatcher's count is *where* a trap comes from.  For
a trap with singular triple ``(sigma, u, v)`` of the randomized matrix ``R``,
``sigma = u^T R v = sum_ij u_i R_ij v_j``: entry ``(i, j)`` contributes
``c_ij = u_i R_ij v_j``.  The entries with ``c_ij >= min_share * sigma`` (at most
``max_entries``, and always the largest) are the trap's entries; the permutation
maps each back to its position in ``W``.  A single planted entry ``a`` far out
gives ``u ~ e_i``, ``v ~ e_j`` and ``c_ij ~ sigma``: one entry, share near 1.

All of it is NumPy/LAPACK on the host; the permutation comes from the caller's
``numpy.random.Generator`` (the report draws it from the ``randomize`` stream of
:mod:`htsr.streams` under the layer's seed, so the same seed gives the same
permutation on any machine).  W is read whole: randomizing needs every entry.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..data import as_array, check_int, check_level, check_number
from ..errors import DataError
from .esd import esd, gram_matrix
from .marchenko_pastur import MPFit, fit_mp

__all__ = ["Trap", "RandomizedESD", "randomized_esd", "rand_distance"]


@dataclass(frozen=True)
class Trap:
    """One outlier of the randomized ESD and the entries of ``W`` that make it.

    Attributes
    ----------
    eigenvalue : float
        The randomized eigenvalue (units of the ESD: ``normalize`` as asked).
    slice : int
        Which matrix of the stack (0 for a dense layer; a kernel position of a convolution).
    entries : tuple of (int, int)
        ``(row, col)`` in that matrix of ``W`` (before the permutation), largest contribution first.
    values : tuple of float
        ``W`` at those entries.
    shares : tuple of float
        Each entry's contribution ``u_i R_ij v_j / sigma`` to the trap's singular value.
    """

    eigenvalue: float
    slice: int
    entries: tuple
    values: tuple
    shares: tuple

    def to_dict(self) -> dict:
        return dict(eigenvalue=self.eigenvalue, slice=self.slice, entries=[list(e) for e in self.entries],
                    values=list(self.values), shares=list(self.shares))


@dataclass(frozen=True, repr=False)
class RandomizedESD:
    """The ESD of an element-wise permutation of each matrix, its MP fit and its traps.

    Attributes
    ----------
    evals : numpy.ndarray
        Pooled randomized eigenvalues, ascending.
    mp : MPFit or None
        :func:`htsr.rmt.fit_mp` of ``evals`` (None: too few positive eigenvalues).
    traps : tuple of Trap
        Eigenvalues above ``mp.threshold``, largest first (at most ``max_traps`` located).
    num_traps : int
        All eigenvalues above ``mp.threshold`` (``mp.n_spikes``; -1 without a fit).
    rms : float
        Root mean square of the entries (the scale the traps' entries are measured in).
    """

    evals: np.ndarray
    mp: MPFit | None
    traps: tuple
    num_traps: int
    rms: float

    def __repr__(self) -> str:
        return f"RandomizedESD(n={self.evals.size}, num_traps={self.num_traps}, mp={self.mp!r})"


def _tall(R: np.ndarray) -> tuple[np.ndarray, bool]:
    return (R, False) if R.shape[0] >= R.shape[1] else (R.T, True)


def _locate(A: np.ndarray, t: int, min_share: float, max_entries: int):
    """Top ``t`` singular triples of a tall ``A`` and, for each, its entries ``(i, j)``, values and shares."""
    from scipy.linalg import eigh

    M = A.shape[1]
    G = gram_matrix([A], M)
    lam, V = eigh(G, lower=True, subset_by_index=[M - t, M - 1], driver="evr")
    out = []
    for k in range(t - 1, -1, -1):  # largest first
        v = V[:, k]
        s = float(np.sqrt(max(lam[k], 0.0)))
        if s == 0.0:
            continue
        u = A @ v / s
        C = u[:, None] * A * v[None, :]
        m = min(max_entries, C.size)  # the largest m contributions, without sorting all N*M of them
        top = np.argpartition(C, C.size - m, axis=None)[C.size - m:]
        flat = top[np.argsort(C.flat[top])[::-1]]
        keep = [f for n, f in enumerate(flat) if n == 0 or C.flat[f] >= min_share * s]
        ij = [divmod(int(f), M) for f in keep]
        out.append((float(lam[k]), ij, [float(C.flat[f] / s) for f in keep]))
    return out


def randomized_esd(mats, rng: np.random.Generator, *, normalize: bool = False, confidence: float = 0.99,
                   max_traps: int = 10, min_share: float = 0.1, max_entries: int = 5) -> RandomizedESD:
    """ESD of an element-wise random permutation of each matrix, its MP fit and the traps' entries.

    Parameters
    ----------
    mats : array_like, shape (n_slices, rows, cols) or (rows, cols)
        The layer's matrices (:func:`htsr.rmt.layer_matrices`); each is permuted on its own.
    rng : numpy.random.Generator
        Source of the permutations (one per matrix, in order).
    normalize : bool
        Eigenvalues of ``R^T R / N`` (True) or the squared singular values (False, WeightWatcher's).
    confidence : float
        Tracy-Widom level of the trap threshold (:func:`htsr.rmt.fit_mp`, default 0.99).
    max_traps : int
        Traps located at most (the largest); ``num_traps`` counts them all.
    min_share, max_entries
        An entry belongs to a trap when it contributes at least ``min_share`` of the trap's
        singular value; at most ``max_entries`` per trap, and always the largest one.

    Returns
    -------
    RandomizedESD
    """
    W = as_array(mats, "mats", min_ndim=2, max_ndim=3)
    W = W[None] if W.ndim == 2 else W
    confidence = check_level(confidence, "confidence")
    check_int(max_traps, "max_traps", minimum=0)
    check_int(max_entries, "max_entries", minimum=1)
    check_number(min_share, "min_share", minimum=0)
    k, r, c = W.shape
    N, M = max(r, c), min(r, c)
    perms, parts = [], []
    for s in range(k):
        perm = rng.permutation(r * c)
        R = np.asarray(W[s], dtype=np.float64).reshape(-1)[perm].reshape(r, c)
        perms.append(perm)
        parts.append(esd(R, normalize=False))
    evals = np.sort(np.concatenate(parts))
    scale = 1.0 / N if normalize else 1.0
    rms = float(np.sqrt(np.mean(np.square(W, dtype=np.float64))))
    try:
        mp = fit_mp(evals * scale, N / M, confidence=confidence)
    except (DataError, ValueError):
        return RandomizedESD(evals * scale, None, (), -1, rms)
    threshold = mp.threshold / scale  # in squared singular values
    order = sorted(((float(e), s) for s in range(k) for e in parts[s] if e > threshold), reverse=True)[:max_traps]
    traps = []
    for s in sorted({s for _, s in order}):
        t = sum(1 for _, q in order if q == s)
        R = np.asarray(W[s], dtype=np.float64).reshape(-1)[perms[s]].reshape(r, c)
        A, flipped = _tall(R)
        for lam, ij, shares in _locate(A, t, min_share, max_entries):
            src = [int(perms[s][(j * c + i) if flipped else (i * c + j)]) for i, j in ij]  # R's entry -> W's
            entries = tuple(divmod(f, c) for f in src)
            values = tuple(float(W[s].reshape(-1)[f]) for f in src)
            traps.append(Trap(lam * scale, s, entries, values, tuple(shares)))
    traps.sort(key=lambda t: -t.eigenvalue)
    return RandomizedESD(evals * scale, mp, tuple(traps), int(mp.n_spikes), rms)


def rand_distance(evals, rand_evals) -> float:
    """WeightWatcher's ``rand_distance``: the Jensen-Shannon distance of the two sorted ESDs.

    Both ascending eigenvalue vectors of the same length are read as probability
    vectors over their positions (``p = evals / sum evals``, the same for ``q``), and
    ``sqrt((KL(p || m) + KL(q || m)) / 2)`` with ``m = (p + q) / 2`` and natural logs is
    returned: WeightWatcher 0.7.7's ``jensen_shannon_distance(evals, rand_evals)``
    (``scipy.stats.entropy``), which normalizes ``m = (evals + rand_evals) / 2`` on its own:
    the same number when the two sums are equal, as for a permutation (it keeps the
    Frobenius norm).  0 for identical spectra, at most ``sqrt(log 2)``.  It compares the
    spectra position by position, not their densities.
    """
    p = np.sort(np.asarray(as_array(evals, "evals", min_ndim=1, max_ndim=1), dtype=np.float64))
    q = np.sort(np.asarray(as_array(rand_evals, "rand_evals", min_ndim=1, max_ndim=1), dtype=np.float64))
    if p.size != q.size:
        raise DataError(f"evals and rand_evals differ in length ({p.size} and {q.size})")
    if not (p.sum() > 0 and q.sum() > 0):
        raise DataError("evals and rand_evals need a positive sum")
    p, q = p / p.sum(), q / q.sum()
    m = (p + q) / 2.0

    def kl(a):
        nz = a > 0
        return float(np.sum(a[nz] * np.log(a[nz] / m[nz])))

    return float(np.sqrt(max((kl(p) + kl(q)) / 2.0, 0.0)))
