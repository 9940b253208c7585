"""Heavy-tailed universality classes (Martin & Mahoney) and the alpha <-> mu maps.

A matrix with i.i.d. entries of tail index ``mu`` (``P(|w| > t) ~ t**-mu``)
has an ESD whose shape, as ``N, M -> inf`` at fixed ``Q``, falls into one of
three classes (Martin & Mahoney, JMLR 22(165), 2021, Table 3, after Bouchaud,
Biroli, Burda, Ben Arous & Guionnet):

=====================  =================  ==========================================
class                  mu                 limiting ESD of ``X = W^T W / N``
=====================  =================  ==========================================
very heavy-tailed      0 < mu < 2         power law everywhere, ``rho ~ x**-(1 + mu/2)``;
                                          ``lambda_max ~ N**(4/mu - 1)``, Frechet
moderately heavy-      2 <= mu < 4        MP-like bulk plus a power-law tail
tailed (fat-tailed)                       ``rho ~ x**-(1 + mu/2)`` whose weight vanishes
                                          as ``N**(1 - mu/2)``; Frechet edge
weakly heavy-tailed    mu >= 4            Marchenko-Pastur bulk, Tracy-Widom edge; no
                                          power-law tail in the limit
=====================  =================  ==========================================

The asymptotic ESD exponent is therefore ``alpha = 1 + mu/2`` for ``mu < 4``
and undefined (NaN) for ``mu >= 4``.  Boundaries belong to the heavier-index
class (mu = 2 is moderately, mu = 4 weakly heavy-tailed).

Finite size
-----------
A *fitted* alpha at finite ``M`` and ``Q`` follows ``1 + mu/2`` well for
``mu < 2`` but not above: for ``2 < mu < 4`` fitted exponents spread over
roughly 2 to 5 and depend on ``M`` and ``Q`` (Martin & Mahoney; the seed blog
post "Power Laws in Deep Learning 2").  This module does **not** hard-code that
relation.  :class:`AlphaMuRelation` holds a band ``alpha_low(mu) .. alpha_high(mu)``
on a grid of ``mu``; :func:`asymptotic_relation` gives the limit-law band and
:meth:`AlphaMuRelation.from_samples` builds a band from simulated
``(mu, fitted alpha)`` pairs, which is what the calibration study measures
for each ``(M, Q)``.  :func:`mu_range` inverts a band: the set of ``mu`` whose
band contains the fitted alpha.  :func:`weightwatcher_mu4alpha` is
WeightWatcher's fixed rule, kept for comparison.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from ..data import as_array, check_level, check_number
from ..errors import HtsrError

__all__ = [
    "UniversalityClass",
    "universality_class",
    "esd_exponent",
    "AlphaMuRelation",
    "asymptotic_relation",
    "mu_range",
    "MuRange",
    "weightwatcher_mu4alpha",
]


class UniversalityClass(NamedTuple):
    """The universality class of a tail index mu.

    Attributes
    ----------
    name : "very heavy-tailed", "moderately heavy-tailed" or "weakly heavy-tailed"
    key : short name: "VHT", "MHT" or "WHT"
    mu : the tail index classified
    mu_low, mu_high : the class's interval of mu, ``[mu_low, mu_high)``
    alpha : asymptotic ESD exponent ``1 + mu/2`` (NaN for weakly heavy-tailed)
    bulk : limiting shape of the bulk
    edge : statistics of the largest eigenvalue
    """

    name: str
    key: str
    mu: float
    mu_low: float
    mu_high: float
    alpha: float
    bulk: str
    edge: str


_CLASSES = (
    ("very heavy-tailed", "VHT", 0.0, 2.0, "power law rho ~ x^-(1+mu/2) everywhere (no MP bulk)",
     "Frechet; lambda_max ~ N^(4/mu-1)"),
    ("moderately heavy-tailed", "MHT", 2.0, 4.0, "MP-like bulk plus a power-law tail x^-(1+mu/2) of vanishing weight",
     "Frechet; lambda_max ~ N^(4/mu-1)"),
    ("weakly heavy-tailed", "WHT", 4.0, math.inf, "Marchenko-Pastur (no power-law tail in the limit)",
     "Tracy-Widom at lambda_+"),
)


def esd_exponent(mu) -> np.ndarray | float:
    """Asymptotic ESD exponent: ``1 + mu/2`` for ``0 < mu < 4``, NaN for ``mu >= 4``."""
    m = np.asarray(as_array(mu, "mu"), dtype=np.float64)
    if np.any(m <= 0):
        raise HtsrError("mu must be > 0")
    out = np.where(m < 4.0, 1.0 + m / 2.0, np.nan)
    return float(out) if out.ndim == 0 else out


def universality_class(mu: float) -> UniversalityClass:
    """Classify a tail index ``mu > 0`` (see the module docstring)."""
    mu = check_number(mu, "mu", positive=True)
    for name, key, lo, hi, bulk, edge in _CLASSES:
        if lo <= mu < hi:
            return UniversalityClass(name, key, mu, lo, hi, float(esd_exponent(mu)), bulk, edge)
    raise AssertionError("unreachable")


class MuRange(NamedTuple):
    """Tail indices compatible with a fitted alpha.

    Attributes
    ----------
    low, high : bounds of the compatible mu (``high`` may be inf; both NaN if none)
    classes : keys of the universality classes the range touches
    """

    low: float
    high: float
    classes: tuple[str, ...]


@dataclass(frozen=True)
class AlphaMuRelation:
    """A band of fitted ESD exponents per tail index: ``alpha_low(mu) <= alpha <= alpha_high(mu)``.

    Attributes
    ----------
    mu : increasing grid of tail indices
    alpha_low, alpha_high : band edges at each ``mu`` (linearly interpolated between)
    M, Q : matrix size the band was measured at (None for the asymptotic band)
    source : where the band comes from
    open_above : whether alpha above the band at the largest mu means "mu beyond the grid"
    """

    mu: np.ndarray
    alpha_low: np.ndarray
    alpha_high: np.ndarray
    M: int | None = None
    Q: float | None = None
    source: str = ""
    open_above: bool = field(default=False)

    def __post_init__(self):
        mu = np.asarray(self.mu, dtype=np.float64)
        lo = np.asarray(self.alpha_low, dtype=np.float64)
        hi = np.asarray(self.alpha_high, dtype=np.float64)
        if mu.ndim != 1 or mu.size < 2 or lo.shape != mu.shape or hi.shape != mu.shape:
            raise HtsrError("mu, alpha_low, alpha_high must be 1-D arrays of the same length >= 2")
        if not (np.all(np.isfinite(mu)) and np.all(np.diff(mu) > 0)):
            raise HtsrError("mu must be finite and strictly increasing")
        if np.any(lo > hi):
            raise HtsrError("alpha_low must be <= alpha_high everywhere")
        object.__setattr__(self, "mu", mu)
        object.__setattr__(self, "alpha_low", lo)
        object.__setattr__(self, "alpha_high", hi)

    @classmethod
    def from_samples(cls, mu, alpha, *, M: int | None = None, Q: float | None = None,
                     coverage: float = 0.9, source: str = "simulation") -> "AlphaMuRelation":
        """Band from simulated pairs: the central ``coverage`` quantiles of alpha at each distinct mu."""
        mu = np.asarray(as_array(mu, "mu", min_ndim=1, max_ndim=1), dtype=np.float64)
        alpha = np.asarray(alpha, dtype=np.float64)
        if alpha.shape != mu.shape:
            raise HtsrError(f"mu and alpha must have the same shape, got {mu.shape} and {alpha.shape}")
        coverage = check_level(coverage, "coverage")
        grid = np.unique(mu)
        lo, hi = [], []
        for m in grid:
            a = alpha[(mu == m) & np.isfinite(alpha)]
            if a.size == 0:
                raise HtsrError(f"no finite fitted alpha at mu={m}")
            lo.append(np.quantile(a, (1 - coverage) / 2))
            hi.append(np.quantile(a, (1 + coverage) / 2))
        return cls(grid, np.array(lo), np.array(hi), M=M, Q=Q, source=source)

    def mu_range(self, alpha: float) -> MuRange:
        """The ``mu`` (within the grid) whose band contains ``alpha``: ``[low, high]``.

        Solved exactly on each linear segment of the band; if the compatible set
        has gaps, its hull is returned.
        """
        alpha = check_number(alpha, "alpha", positive=True)
        lows, highs = [], []
        for i in range(self.mu.size - 1):
            t = _segment(alpha, self.alpha_low[i], self.alpha_low[i + 1],
                         self.alpha_high[i], self.alpha_high[i + 1])
            if t is not None:
                d = self.mu[i + 1] - self.mu[i]
                lows.append(self.mu[i] + t[0] * d)
                highs.append(self.mu[i] + t[1] * d)
        top = self.open_above and alpha >= self.alpha_low[-1]
        if not lows and not top:
            return MuRange(math.nan, math.nan, ())
        low = min(lows) if lows else float(self.mu[-1])
        high = math.inf if top else max(highs)
        keys = tuple(k for _, k, a, b, _, _ in _CLASSES if a <= high and low < b)
        return MuRange(float(low), float(high), keys)


def _segment(alpha, lo0, lo1, hi0, hi1):
    """Sub-interval of t in [0, 1] with lo0 + t (lo1 - lo0) <= alpha <= hi0 + t (hi1 - hi0), or None."""
    t0, t1 = 0.0, 1.0
    for c0, c1, sign in ((lo0, lo1, 1.0), (hi0, hi1, -1.0)):
        # need sign * (c0 + t (c1 - c0) - alpha) <= 0
        a, b = sign * (c1 - c0), sign * (c0 - alpha)  # a t + b <= 0
        if a == 0.0:
            if b > 0.0:
                return None
        elif a > 0.0:
            t1 = min(t1, -b / a)
        else:
            t0 = max(t0, -b / a)
    return (t0, t1) if t0 <= t1 else None


def asymptotic_relation(mu_max: float = 4.0, *, n: int = 401) -> AlphaMuRelation:
    """The limit law ``alpha = 1 + mu/2`` on ``0 < mu < mu_max`` as a zero-width band.

    For ``alpha >= 1 + mu_max/2`` the relation is open above: any ``mu >= mu_max``
    (the weakly heavy-tailed class has no limiting power-law tail).
    """
    mu_max = check_number(mu_max, "mu_max", positive=True)
    mu = np.linspace(mu_max / n, mu_max, n)
    a = 1.0 + mu / 2.0
    return AlphaMuRelation(mu, a, a, source="asymptotic: alpha = 1 + mu/2", open_above=True)


def mu_range(alpha: float, relation: AlphaMuRelation | None = None) -> MuRange:
    """Tail indices compatible with a fitted ESD exponent ``alpha``.

    ``relation`` defaults to :func:`asymptotic_relation` (``mu = 2 (alpha - 1)``,
    exact only for very heavy tails at large size); pass a band measured at the
    matrix's ``(M, Q)`` (:meth:`AlphaMuRelation.from_samples`) for finite-size
    honesty.
    """
    return (relation or _ASYMPTOTIC).mu_range(alpha)


_ASYMPTOTIC = asymptotic_relation()


def weightwatcher_mu4alpha(alpha: float) -> float:
    """WeightWatcher's rule: ``2 (alpha - 1)`` below 2, ``2`` on [2, 3], ``alpha - 1`` above 3."""
    alpha = check_number(alpha, "alpha", positive=True)
    if alpha < 2.0:
        return 2.0 * (alpha - 1.0)
    if alpha <= 3.0:
        return 2.0
    return alpha - 1.0
