"""Immutable results of power-law fits."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

__all__ = ["PowerLawFit", "KSCurve"]


class KSCurve(NamedTuple):
    """The KS distance D as a function of the candidate xmin.

    Attributes
    ----------
    xmin : candidate xmin values, ascending
    D : KS distance of the tail above each candidate from its fitted power law
    alpha : alpha fitted on each candidate's tail
    n_tail : number of points in each candidate's tail
    """

    xmin: np.ndarray
    D: np.ndarray
    alpha: np.ndarray
    n_tail: np.ndarray


@dataclass(frozen=True, repr=False, eq=False)
class PowerLawFit:
    """A power law fitted to the tail ``x >= xmin`` of a sample.

    Attributes
    ----------
    alpha : float
        Fitted exponent of the density ``p(x) ~ x^-alpha``.
    xmin : float
        Start of the power-law tail.
    xmax : float
        Largest observation in the tail (the unbounded model has no upper limit);
        with ``method="bounded"``, the upper end of the fitted law's support.
    n : int
        Number of positive observations used (after dropping non-positive values).
    n_tail : int
        Number of observations ``>= xmin``.
    D : float
        Kolmogorov-Smirnov distance of the tail from the fitted law (``plfit.m``
        convention, see :mod:`htsr.fitting.kernels`).
    sigma : float
        Standard error of alpha: ``(alpha-1)/sqrt(n_tail)`` (continuous) or from the
        Fisher information (discrete).
    discrete : bool
        Whether the discrete (integer) power law was fitted.
    method : str
        ``"clauset"`` (the power law on ``x >= xmin``) or ``"bounded"`` (the
        power law truncated to ``[xmin, xmax]``, :mod:`htsr.models.bounded`).
    estimator : str
        ``"mle"`` or ``"unbiased"`` (the finite-size corrected continuous estimator).
    n_candidates, n_evaluated : int
        Eligible xmin values, and how many needed an exact D (the rest were pruned).
    """

    alpha: float
    xmin: float
    xmax: float
    n: int
    n_tail: int
    D: float
    sigma: float
    discrete: bool
    method: str
    estimator: str = "mle"
    n_candidates: int = 1
    n_evaluated: int = 1
    data: np.ndarray = field(default=None, repr=False)
    scan_options: dict = field(default_factory=dict, repr=False)

    _KEYS = ("alpha", "xmin", "xmax", "n", "n_tail", "D", "sigma", "discrete", "method", "estimator")

    def to_dict(self) -> dict:
        """The scalar fields as plain Python values (JSON-serialisable)."""
        out = {}
        for k in self._KEYS:
            v = getattr(self, k)
            if isinstance(v, (bool, np.bool_)):
                out[k] = bool(v)
            elif isinstance(v, (int, np.integer)):
                out[k] = int(v)
            elif isinstance(v, (float, np.floating)):
                out[k] = float(v)
            else:
                out[k] = v
        return out

    @property
    def tail(self) -> np.ndarray:
        """The observations the law was fitted to (``>= xmin``, and ``<= xmax`` if bounded), sorted."""
        keep = self.data >= self.xmin
        if self.method == "bounded":
            keep &= self.data <= self.xmax
        return self.data[keep]

    @property
    def bounded(self) -> bool:
        """Whether the fitted law is the bounded power law on ``[xmin, xmax]``."""
        return self.method == "bounded"

    def _law(self):
        from ..models import bounded as bd
        from ..models import powerlaw as pl

        if self.bounded:
            return bd, (self.alpha, self.xmin, self.xmax)
        return pl, (self.alpha, self.xmin)

    def log_pdf(self, x) -> np.ndarray:
        """Log density (log mass, if discrete) of the fitted tail law (the model's own function)."""
        from .. import _jax

        law, params = self._law()
        with _jax.x64():
            return np.asarray(law.log_pdf(np.asarray(x, dtype=np.float64), *params, discrete=self.discrete))

    def cdf(self, x) -> np.ndarray:
        """``P(X <= x)`` of the fitted tail law (the model's own function)."""
        from .. import _jax

        law, params = self._law()
        with _jax.x64():
            return np.asarray(law.cdf(np.asarray(x, dtype=np.float64), *params, discrete=self.discrete))

    def ccdf(self, x) -> np.ndarray:
        """``P(X >= x)`` of the fitted tail law (the model's own function)."""
        from .. import _jax

        law, params = self._law()
        with _jax.x64():
            return np.asarray(law.ccdf(np.asarray(x, dtype=np.float64), *params, discrete=self.discrete))

    def sample(self, key, shape=()):
        """Draw from the fitted tail law with a JAX PRNG ``key`` (the model's own sampler)."""
        from .. import _jax

        law, params = self._law()
        with _jax.x64():
            return np.asarray(law.sample(key, *params, shape, discrete=self.discrete))

    def ks_curve(self) -> KSCurve:
        """Exact D (and alpha, n_tail) at every candidate xmin: the whole landscape.

        Computed on demand by an exhaustive scan (O(n_candidates * n) work).
        """
        from .batch import ks_curve

        return ks_curve(self)

    def __repr__(self) -> str:
        kind = "discrete" if self.discrete else "continuous"
        return (
            f"PowerLawFit({kind}, method={self.method!r}, alpha={self.alpha:.4f} ± {self.sigma:.4f}, "
            f"xmin={self.xmin:.6g}, xmax={self.xmax:.6g}, n_tail={self.n_tail}/{self.n}, D={self.D:.4g})"
        )
