"""Immutable results of power-law fits."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, NamedTuple

import numpy as np

from .spec import FitSpec

__all__ = ["FitSpec", "PowerLawFit", "KSCurve", "BatchFit", "RangeSearch"]


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


class BatchFit(NamedTuple):
    """Power-law fits of a batch of samples, as arrays of shape (B,): what the engine
    (:func:`htsr.fitting.refit.refit`) returns.

    Attributes
    ----------
    xmin, alpha, D, sigma : float arrays (NaN where a sample had no eligible xmin)
    n : number of points in each sample
    n_tail : number of points in the fitted tail (``>= xmin``, and ``<= xmax`` if bounded)
    n_candidates, n_evaluated : eligible xmin values, and those evaluated exactly
        (a fixed xmin: 1, or 0 where the sample leaves no tail to fit)
    xmax : the bounded law's upper end, or the sample's largest value
    """

    xmin: np.ndarray
    alpha: np.ndarray
    D: np.ndarray
    sigma: np.ndarray
    n: np.ndarray
    n_tail: np.ndarray
    n_candidates: np.ndarray
    n_evaluated: np.ndarray
    xmax: np.ndarray


class RangeSearch(NamedTuple):
    """How a Deluca-Corral range search (``xmax="search"``) chose its range.

    Attributes
    ----------
    p : goodness-of-fit p-value of the chosen range
    reps : synthetic data sets per range
    p_threshold : the p-value a range had to reach
    grid : candidate ends on the log grid
    """

    p: float
    reps: int
    p_threshold: float
    grid: int


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
    spec : FitSpec
        How the fit was made (what was fixed, what scanned); pass it as ``spec=`` to replay.
    range_search : RangeSearch or None
        For ``xmax="search"``: the p-value, replicates, threshold and grid of the chosen range.
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
    spec: FitSpec = field(default_factory=FitSpec, repr=False)
    range_search: RangeSearch | None = field(default=None, repr=False)
    # the engine's exhaustive scan, handed over by the one constructor
    # (htsr.fitting.refit.power_law_fit): a result type imports no fitting machinery
    _curve: Callable | None = field(default=None, repr=False)

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

    @property
    def law(self):
        """The fitted law (:class:`htsr.models.law.Law`): the power law, or the bounded one."""
        from ..models import registry

        return registry.get("bounded_power_law" if self.bounded else "power_law")

    def _call(self, what, *args):
        from .. import _jax

        xmax = self.xmax if self.bounded else None
        with _jax.x64():
            fn = getattr(self.law, what)
            return np.asarray(fn(*args, (self.alpha,), self.xmin, xmax=xmax, discrete=self.discrete))

    def log_pdf(self, x) -> np.ndarray:
        """Log density (log mass, if discrete) of the fitted law; ``-inf`` outside its support."""
        return self._call("log_pdf", np.asarray(x, dtype=np.float64))

    def cdf(self, x) -> np.ndarray:
        """``P(X <= x)`` of the fitted law (0 below ``xmin``)."""
        return self._call("cdf", np.asarray(x, dtype=np.float64))

    def ccdf(self, x) -> np.ndarray:
        """``P(X >= x)`` of the fitted law (1 at and below ``xmin``)."""
        return self._call("ccdf", np.asarray(x, dtype=np.float64))

    def sample(self, key, shape=()) -> np.ndarray:
        """Draw from the fitted law with a JAX PRNG ``key`` (the law's own sampler)."""
        from .. import _jax

        shape = (int(shape),) if np.ndim(shape) == 0 else tuple(int(s) for s in shape)
        xmax = self.xmax if self.bounded else None
        with _jax.x64():
            return np.asarray(self.law.sample(key, (self.alpha,), self.xmin, shape, xmax=xmax,
                                              discrete=self.discrete))

    def ks_curve(self) -> KSCurve:
        """Exact D (and alpha, n_tail) at every candidate xmin: the whole landscape.

        Computed on demand by an exhaustive scan (O(n_candidates * n) work).
        """
        if self._curve is None:
            raise TypeError("ks_curve needs a fit made by htsr.fit (this PowerLawFit was built by hand)")
        return self._curve(self)

    def __repr__(self) -> str:
        kind = "discrete" if self.discrete else "continuous"
        return (
            f"PowerLawFit({kind}, method={self.method!r}, alpha={self.alpha:.4f} ± {self.sigma:.4f}, "
            f"xmin={self.xmin:.6g}, xmax={self.xmax:.6g}, n_tail={self.n_tail}/{self.n}, D={self.D:.4g})"
        )
