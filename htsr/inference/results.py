"""Result types of the tail-model comparison: :class:`TailFit`, :class:`CompareResult`, :class:`CompareAllResult`.

Every result in htsr follows one protocol: immutable, ``to_dict()`` with plain
Python values, a readable repr, and (where a law was fitted)
``log_pdf``/``cdf``/``ccdf``/``sample(key, shape)`` that call the fitted law's
own functions through :mod:`htsr.models.registry`.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import jax
import numpy as np

from .. import _jax
from ..models import registry
from .lrt import SIGNIFICANCE, verdict

__all__ = ["TailFit", "CompareResult", "CompareAllResult"]


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
    D : float or None
        Distance of the tail from the fitted law (``distance``); set by
        :func:`htsr.fit_model` with ``xmin="scan"`` or a number, None otherwise.
    distance : str or None
        ``"ks"``, ``"kuiper"``, ``"ad"`` or ``"reweighted_ks"`` (:mod:`htsr.fitting.distances`).
    scan : XminScan or None
        The scan under the law (each candidate's xmin, tail size and distance) when xmin was scanned.
    spec : LawSpec or None
        How the fit was made (replayed by :func:`htsr.gof` and :func:`htsr.bootstrap`).
    data : numpy.ndarray or None
        The whole sorted sample (what :func:`htsr.gof` resamples the body from).
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
    D: float | None = None
    distance: str | None = None
    scan: object = field(default=None, repr=False)
    spec: object = field(default=None, repr=False)
    data: np.ndarray = field(default=None, repr=False)

    @property
    def xmin_scanned(self) -> bool:
        """Whether xmin was chosen by the scan under this law."""
        return self.spec is not None and self.spec.xmin is None

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
        """Plain values (``D``, ``distance`` and ``xmin_scanned`` only where the distance was computed)."""
        out = {
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
        if self.D is not None:
            out.update(D=float(self.D), distance=self.distance, xmin_scanned=self.xmin_scanned)
        return out

    def __repr__(self) -> str:
        ps = ", ".join(f"{k}={v:.6g} ± {self.se[k]:.2g}" for k, v in self.params.items())
        flag = f", at_boundary={self.at_boundary}" if self.at_boundary else ""
        kind = "discrete" if self.discrete else "continuous"
        dist = "" if self.D is None else f", {self.distance}={self.D:.4g}" + (" (xmin scanned)" if self.xmin_scanned
                                                                               else "")
        return (f"TailFit({self.name}, {kind}, {ps}, xmin={self.xmin:.6g}, n_tail={self.n_tail}, "
                f"loglik={self.loglik:.6f}{flag}{dist})")


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


@dataclass(frozen=True, repr=False, eq=False)
class CompareAllResult:
    """The power law against each alternative on one tail (Clauset et al. 2009, Table 6.2).

    What :func:`htsr.compare_all` returns: the power-law fit and one
    :class:`CompareResult` per alternative, all on the same tail ``x >= xmin``.
    :attr:`table` lays them out as a pandas DataFrame, one row per alternative;
    ``loc``, ``index``, ``columns``, ``iterrows()``, ``len()`` and ``result[column]``
    read that table, so a result can be used where the DataFrame was.

    Attributes
    ----------
    power_law : TailFit
        The power law fitted to the tail (the ``model1`` of every comparison).
    comparisons : mapping of str to CompareResult
        One likelihood-ratio test per alternative, keyed by canonical name, in the
        order asked; ``R > 0`` favours the power law.  Read-only.
    """

    power_law: TailFit
    comparisons: Mapping[str, CompareResult]

    def __post_init__(self):
        # a read-only copy: the result is immutable like every other htsr result
        object.__setattr__(self, "comparisons", MappingProxyType(dict(self.comparisons)))

    def __reduce__(self):  # a mappingproxy does not pickle; its dict does
        return type(self), (self.power_law, dict(self.comparisons))

    @property
    def xmin(self) -> float:
        """Start of the tail compared."""
        return float(self.power_law.xmin)

    @property
    def n_tail(self) -> int:
        """Number of tail points."""
        return int(self.power_law.n_tail)

    @property
    def discrete(self) -> bool:
        """Whether the discrete (integer) forms of the laws were fitted."""
        return bool(self.power_law.discrete)

    @property
    def alpha(self) -> float:
        """The power law's exponent."""
        return float(self.power_law.params["alpha"])

    @property
    def alternatives(self) -> tuple:
        """Canonical names of the alternatives, in the order of the rows."""
        return tuple(self.comparisons)

    @property
    def fits(self) -> dict:
        """Every fitted law by name, the power law first (what :func:`htsr.plot.models.plot_models` draws)."""
        return {"power_law": self.power_law, **{k: c.model2 for k, c in self.comparisons.items()}}

    @property
    def verdicts(self) -> dict:
        """Each test read at the 0.1 level: "power law favoured", "alternative favoured" or "inconclusive"."""
        return {k: verdict(c.R, c.p, level=SIGNIFICANCE) for k, c in self.comparisons.items()}

    @property
    def table(self):
        """A new pandas DataFrame, indexed by alternative.

        Columns ``R`` (log-likelihood ratio, > 0 favours the power law),
        ``normalized_R``, ``p``, ``nested``, ``verdict`` (:attr:`verdicts`),
        ``params`` (the alternative's fitted parameters, as text), ``at_boundary``
        (its parameters on their box, comma-separated) and ``converged``.
        """
        import pandas as pd  # only the table needs it: kept out of `import htsr`

        verdicts = self.verdicts
        rows = [{
            "alternative": name,
            "R": c.R,
            "normalized_R": c.normalized_R,
            "p": c.p,
            "nested": c.nested,
            "verdict": verdicts[name],
            "params": ", ".join(f"{k}={v:.4g}" for k, v in c.model2.params.items()),
            "at_boundary": ",".join(c.model2.at_boundary),
            "converged": c.model2.converged,
        } for name, c in self.comparisons.items()]
        return pd.DataFrame(rows).set_index("alternative")

    # DataFrame-like reading of the table
    @property
    def loc(self):
        """``table.loc``: ``result.loc["lognormal", "p"]``, ``result.loc["lognormal"].R``."""
        return self.table.loc

    @property
    def index(self):
        """``table.index``: the alternatives."""
        return self.table.index

    @property
    def columns(self):
        """``table.columns``."""
        return self.table.columns

    def iterrows(self):
        """``table.iterrows()``: ``(alternative, row)`` pairs."""
        return self.table.iterrows()

    def __getitem__(self, column):
        return self.table[column]

    def __iter__(self):
        return iter(self.table)

    def __len__(self) -> int:
        return len(self.comparisons)

    def to_dict(self) -> dict:
        """Plain Python values: the tail, the power-law fit and one entry per alternative
        (``model``, ``R``, ``normalized_R``, ``p``, ``nested``, ``verdict``, ``fit``)."""
        verdicts = self.verdicts
        return {
            "xmin": self.xmin,
            "n_tail": self.n_tail,
            "discrete": self.discrete,
            "power_law": self.power_law.to_dict(),
            "alternatives": [
                {"model": name, "R": float(c.R), "normalized_R": float(c.normalized_R), "p": float(c.p),
                 "nested": bool(c.nested), "verdict": verdicts[name], "fit": c.model2.to_dict()}
                for name, c in self.comparisons.items()
            ],
        }

    def _repr_html_(self) -> str:
        return self.table._repr_html_()

    def __repr__(self) -> str:
        kind = "discrete" if self.discrete else "continuous"
        verdicts = self.verdicts
        rows = "".join(f"\n  {name}: R={c.R:.4g}, normalized_R={c.normalized_R:.4f}, p={c.p:.3g}, "
                       f"{'nested' if c.nested else 'Vuong'}: {verdicts[name]}"
                       for name, c in self.comparisons.items())
        return (f"CompareAllResult(power law ({kind}) alpha={self.alpha:.6g}, xmin={self.xmin:.6g}, "
                f"n_tail={self.n_tail}:{rows})")
