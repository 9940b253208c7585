"""Result types of the tail-model comparison: :class:`TailFit` and :class:`CompareResult`.

Every result in htsr follows one protocol: immutable, ``to_dict()`` with plain
Python values, a readable repr, and (where a law was fitted)
``log_pdf``/``cdf``/``ccdf``/``sample(key, shape)`` that call the fitted law's
own functions through :mod:`htsr.models.registry`.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import jax
import numpy as np

from .. import _jax
from ..models import registry
from .lrt import SIGNIFICANCE, verdict

__all__ = ["TailFit", "CompareResult"]


def _label(name: str) -> str:
    return name.replace("_", " ")


@functools.cache
def _evaluator(name: str, what: str, discrete: bool):
    """A jitted ``(x, params, xmin) -> law.<what>(x, params, xmin)`` (compiled once per shape)."""
    fn = getattr(registry.get(name), what)
    return jax.jit(lambda x, params, xmin: fn(x, params, xmin, discrete=discrete))


@functools.cache
def _sampler(name: str, discrete: bool, shape: tuple):
    law = registry.get(name)
    return jax.jit(lambda key, params, xmin: law.sample(key, params, xmin, shape, discrete=discrete))


@dataclass(frozen=True, repr=False, eq=False)
class TailFit:
    """One tail model fitted by maximum likelihood to the points ``x >= xmin``.

    Attributes
    ----------
    name : str
        Canonical model name.
    params : dict
        Fitted parameters by name (see the table in :mod:`htsr.models.registry`).
    se : dict
        Standard errors from the observed Fisher information (NaN for a boundary fit).
    xmin : float
        Start of the tail.
    n_tail : int
        Number of tail points.
    loglik : float
        Maximised log-likelihood of the tail.
    discrete : bool
        Whether the discrete (integer) form of the law was fitted.
    converged : bool
        The optimiser met its tolerance.
    at_boundary : tuple of str
        Parameters whose optimisation coordinate ended on its box: the likelihood
        was still rising towards a limit of the family (e.g. a stretched
        exponential or lognormal degenerating into a power law).  Empty for an
        interior fit.
    """

    name: str
    params: dict
    se: dict
    xmin: float
    n_tail: int
    loglik: float
    discrete: bool
    converged: bool = True
    at_boundary: tuple = ()
    tail: np.ndarray = field(default=None, repr=False)
    pointwise: np.ndarray = field(default=None, repr=False)

    @property
    def law(self):
        """The fitted law (:class:`htsr.models.law.Law`)."""
        return registry.get(self.name)

    def _values(self):
        return tuple(float(self.params[k]) for k in self.law.param_names)

    def _eval(self, what, x) -> np.ndarray:
        fn = _evaluator(self.name, what, bool(self.discrete))
        with _jax.x64():
            return np.asarray(fn(np.asarray(x, dtype=np.float64), self._values(), float(self.xmin)))

    def log_pdf(self, x) -> np.ndarray:
        """Log density (log mass when discrete); ``-inf`` below ``xmin``."""
        return self._eval("log_pdf", x)

    def ccdf(self, x) -> np.ndarray:
        """``P(X >= x)`` (1 at and below ``xmin``)."""
        return self._eval("ccdf", x)

    def cdf(self, x) -> np.ndarray:
        """``P(X <= x)`` (0 below ``xmin``)."""
        return self._eval("cdf", x)

    def sample(self, key, shape=()) -> np.ndarray:
        """Draws from the fitted law with the JAX PRNG ``key`` (exact inversion)."""
        shape = (int(shape),) if np.ndim(shape) == 0 else tuple(int(s) for s in shape)
        with _jax.x64():
            return np.asarray(_sampler(self.name, bool(self.discrete), shape)(key, self._values(),
                                                                              float(self.xmin)))

    def to_dict(self) -> dict:
        return {
            "model": self.name,
            "params": {k: float(v) for k, v in self.params.items()},
            "se": {k: float(v) for k, v in self.se.items()},
            "xmin": float(self.xmin),
            "n_tail": int(self.n_tail),
            "loglik": float(self.loglik),
            "discrete": bool(self.discrete),
            "converged": bool(self.converged),
            "at_boundary": list(self.at_boundary),
        }

    def __repr__(self) -> str:
        ps = ", ".join(f"{k}={v:.6g} ± {self.se[k]:.2g}" for k, v in self.params.items())
        flag = f", at_boundary={self.at_boundary}" if self.at_boundary else ""
        kind = "discrete" if self.discrete else "continuous"
        return (f"TailFit({self.name}, {kind}, {ps}, xmin={self.xmin:.6g}, n_tail={self.n_tail}, "
                f"loglik={self.loglik:.6f}{flag})")


@dataclass(frozen=True, repr=False, eq=False)
class CompareResult:
    """Likelihood-ratio comparison of two models fitted to the same tail.

    Attributes
    ----------
    model1, model2 : TailFit
        The two fitted models.
    R : float
        ``loglik(model1) - loglik(model2)``; positive favours model 1.
    normalized_R : float
        ``R / (sigma sqrt(n_tail))``.
    p : float
        Vuong two-sided p-value (non-nested) or chi-square(1) p-value (nested).
    nested : bool
        Whether the nested test was used.
    xmin, n_tail, discrete : the tail compared.
    """

    model1: TailFit
    model2: TailFit
    R: float
    normalized_R: float
    p: float
    nested: bool
    xmin: float
    n_tail: int
    discrete: bool

    @property
    def verdict(self) -> str:
        """``"<model1> favoured"``, ``"<model2> favoured"`` or ``"inconclusive"`` at the 0.1 level."""
        return verdict(self.R, self.p, level=SIGNIFICANCE, first=_label(self.model1.name),
                       second=_label(self.model2.name))

    def to_dict(self) -> dict:
        return {
            "model1": self.model1.to_dict(),
            "model2": self.model2.to_dict(),
            "R": float(self.R),
            "normalized_R": float(self.normalized_R),
            "p": float(self.p),
            "nested": bool(self.nested),
            "verdict": self.verdict,
            "xmin": float(self.xmin),
            "n_tail": int(self.n_tail),
            "discrete": bool(self.discrete),
        }

    def __repr__(self) -> str:
        return (f"CompareResult({self.model1.name} vs {self.model2.name}, R={self.R:.4f}, "
                f"normalized_R={self.normalized_R:.4f}, p={self.p:.3g}, nested={self.nested}, "
                f"xmin={self.xmin:.6g}, n_tail={self.n_tail}: {self.verdict})")
