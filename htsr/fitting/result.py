"""Immutable results of power-law fits."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from typing import NamedTuple

import numpy as np

__all__ = ["FitSpec", "PowerLawFit", "KSCurve"]


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


@dataclass(frozen=True)
class FitSpec:
    """What a power-law fit fixed, what it scanned and how: everything needed to replay it.

    Every :class:`PowerLawFit` carries its spec; :func:`htsr.fit`, :func:`htsr.fit_many`,
    :func:`htsr.gof`, :func:`htsr.bootstrap` and the calibration studies accept
    ``spec=`` to make a fit the same way again (on other data, or on resamples).

    Attributes
    ----------
    method : {"clauset", "bounded"}
    discrete : bool
    estimator : {"mle", "unbiased"}
    xmin : float or None
        A fixed start of the tail; None when xmin was chosen by the KS scan.
    xmax : float or None
        Bounded fits: a fixed upper end; None when it is each sample's largest value.
    xmax_rule : {"max", "fixed"} or None
        Bounded fits: how xmax was set (a Deluca-Corral search fixes both ends it found:
        ``xmin`` and ``xmax`` with rule ``"fixed"``); None for the unbounded law.
    xmin_range, xmin_candidates, min_tail
        Restrictions of the xmin scan (None: unrestricted).
    alpha_grid : tuple or None
        Discrete clauset fits on ``plfit.m``'s alpha grid (None: exact MLE).
    exhaustive : bool
        Scan without pruning (same answer; for verification).
    """

    method: str = "clauset"
    discrete: bool = False
    estimator: str = "mle"
    xmin: float | None = None
    xmax: float | None = None
    xmax_rule: str | None = None
    xmin_range: tuple | None = None
    xmin_candidates: tuple | None = None
    min_tail: int | None = None
    alpha_grid: tuple | None = None
    exhaustive: bool = False

    @property
    def fixed_xmin(self) -> bool:
        """Whether xmin was given rather than scanned."""
        return self.xmin is not None

    @property
    def bounded(self) -> bool:
        return self.method == "bounded"

    def scan_kwargs(self) -> dict:
        """The xmin-scan restrictions as keyword arguments of :func:`htsr.fitting.batch.fit_padded`."""
        return dict(xmin_range=self.xmin_range, xmin_values=self.xmin_candidates, min_tail=self.min_tail,
                    alpha_grid=self.alpha_grid)

    def replace(self, **changes) -> FitSpec:
        """A copy with some fields changed."""
        return replace(self, **changes)

    def to_dict(self) -> dict:
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(self).items()}


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
    range_search : dict or None
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
    range_search: dict | None = field(default=None, repr=False)

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
        from .batch import ks_curve

        return ks_curve(self)

    def __repr__(self) -> str:
        kind = "discrete" if self.discrete else "continuous"
        return (
            f"PowerLawFit({kind}, method={self.method!r}, alpha={self.alpha:.4f} ± {self.sigma:.4f}, "
            f"xmin={self.xmin:.6g}, xmax={self.xmax:.6g}, n_tail={self.n_tail}/{self.n}, D={self.D:.4g})"
        )
