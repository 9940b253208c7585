"""Is it really a power law?  Fit the usual alternatives to the tail and compare.

Front door: :func:`compare` (two models, one likelihood-ratio test) and
:func:`compare_all` (the power law against every alternative, one row each,
like Table 6.2 of Clauset, Shalizi & Newman 2009).  Both

1. validate the data (:func:`htsr.data.as_sample`);
2. find ``xmin`` with the power-law KS scan (:func:`htsr.fit`) unless it is given,
   so every model is fitted to the same tail ``x >= xmin``;
3. fit each model by maximum likelihood (:mod:`htsr.models`), with standard
   errors from the observed Fisher information;
4. run the likelihood-ratio test of :mod:`htsr.inference.lrt`.

Models and nesting
------------------
=========================  ==========================  =======================
name                       parameters                  module
=========================  ==========================  =======================
``power_law``              alpha                       :mod:`htsr.models.powerlaw`
``exponential``            lam                         :mod:`htsr.models.exponential`
``stretched_exponential``  lam, beta                   :mod:`htsr.models.stretched`
``lognormal``              mu, sigma                   :mod:`htsr.models.lognormal`
``power_law_cutoff``       alpha, lam                  :mod:`htsr.models.cutoff`
=========================  ==========================  =======================

``truncated_power_law`` (the name the ``powerlaw`` package uses) is accepted for
``power_law_cutoff``.  Nesting is a property of the *pair*, looked up in
:data:`NESTED_PAIRS` (power law in cutoff law at ``lam = 0``; exponential in
cutoff law at ``alpha = 0``; exponential in stretched exponential at
``beta = 1``) or stated by the caller with ``nested=``; it is never inferred
from how the names are spelled.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pandas is imported where the table is built, not at `import htsr`
    import pandas as pd

import functools
from dataclasses import dataclass, field

import jax
import jax.numpy as jnp
import numpy as np

from .. import _jax
from ..data import as_sample
from ..errors import FitError
from ..models import cutoff, exponential, lognormal, stretched
from ..models import powerlaw as pl
from .lrt import SIGNIFICANCE, likelihood_ratio, verdict

__all__ = [
    "ALTERNATIVES",
    "MODELS",
    "NESTED_PAIRS",
    "CompareResult",
    "TailFit",
    "compare",
    "compare_all",
    "fit_model",
]

#: Canonical model names and the module holding each density.
MODELS = {
    "power_law": pl,
    "exponential": exponential,
    "stretched_exponential": stretched,
    "lognormal": lognormal,
    "power_law_cutoff": cutoff,
}
_ALIASES = {"truncated_power_law": "power_law_cutoff"}
_PARAMS = {
    "power_law": ("alpha",),
    "exponential": exponential.LAW.param_names,
    "stretched_exponential": stretched.LAW.param_names,
    "lognormal": lognormal.LAW.param_names,
    "power_law_cutoff": cutoff.LAW.param_names,
}
#: Pairs where the first model is a special case of the second.
NESTED_PAIRS = (
    ("power_law", "power_law_cutoff"),
    ("exponential", "power_law_cutoff"),
    ("exponential", "stretched_exponential"),
)
#: The alternatives of :func:`compare_all`, in the column order of Clauset et al. Table 6.2.
ALTERNATIVES = ("lognormal", "exponential", "stretched_exponential", "power_law_cutoff")


def _canonical(name) -> str:
    if not isinstance(name, str):
        raise FitError(f"a model name must be a string, got {name!r}")
    key = _ALIASES.get(name, name)
    if key not in MODELS:
        raise FitError(f"unknown model {name!r}; choose from {', '.join(MODELS)} (or truncated_power_law)")
    return key


def is_nested(model1: str, model2: str) -> bool:
    """Whether one of the two (canonical) models is a special case of the other."""
    return (model1, model2) in NESTED_PAIRS or (model2, model1) in NESTED_PAIRS


# ---------------------------------------------------------------------- results
@dataclass(frozen=True, repr=False, eq=False)
class TailFit:
    """One tail model fitted by maximum likelihood to the points ``x >= xmin``.

    Attributes
    ----------
    name : str
        Canonical model name.
    params : dict
        Fitted parameters by name (see the table in :mod:`htsr.inference.compare`).
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
    def module(self):
        return MODELS[self.name]

    def _values(self):
        return tuple(self.params[k] for k in _PARAMS[self.name])

    def _eval(self, what, x) -> np.ndarray:
        fn = _evaluator(self.name, what, bool(self.discrete))
        with _jax.x64():
            return np.asarray(fn(np.asarray(x, dtype=np.float64), tuple(float(v) for v in self._values()),
                                 float(self.xmin)))

    def log_pdf(self, x) -> np.ndarray:
        """Log density (log mass when discrete) at ``x >= xmin``."""
        return self._eval("log_pdf", x)

    def ccdf(self, x) -> np.ndarray:
        """``P(X >= x)`` for ``x >= xmin``."""
        return self._eval("ccdf", x)

    def cdf(self, x) -> np.ndarray:
        """``P(X <= x)`` for ``x >= xmin``."""
        return self._eval("cdf", x)

    def sample(self, n: int, *, seed: int = 0) -> np.ndarray:
        """``n`` draws from the fitted law (exact inversion)."""
        import jax

        from ..models._tail import sampler

        draw = sampler(self.module, bool(self.discrete), int(n))
        with _jax.x64():
            return np.asarray(draw(jax.random.PRNGKey(seed), tuple(float(v) for v in self._values()),
                                   float(self.xmin)))

    @property
    def boundary(self) -> bool:
        """True if the fit ended on the edge of the parameter box."""
        return bool(self.at_boundary)

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


@functools.cache
def _evaluator(name: str, what: str, discrete: bool):
    """A jitted ``(x, params, xmin) -> module.<what>(x, *params, xmin)`` (compiled once per shape)."""
    fn = getattr(MODELS[name], what)
    return jax.jit(lambda x, params, xmin: fn(x, *params, xmin, discrete=discrete))


def _label(name: str) -> str:
    return name.replace("_", " ")


# ---------------------------------------------------------------------- fitting
@functools.partial(jax.jit, static_argnames="discrete")
def _pl_kernel(x, n, xmin, discrete):
    """Power-law MLE, its standard error and the pointwise log-likelihood of one padded tail."""
    mask = jnp.arange(x.shape[0]) < n
    nf = n.astype(jnp.float64)
    if discrete:
        mean = jnp.sum(jnp.where(mask, jnp.log(x), 0.0)) / nf
        alpha = pl.discrete_mle(mean, xmin)
        sigma = pl.discrete_sigma(alpha, xmin, nf)
    else:
        alpha = pl.continuous_mle(jnp.sum(jnp.where(mask, jnp.log(x / xmin), 0.0)), nf)
        sigma = pl.continuous_sigma(alpha, nf)
    lp = jnp.where(mask, pl.log_pdf(x, alpha, xmin, discrete=discrete), 0.0)
    return alpha, sigma, lp


def _check_xmin(x, xmin, discrete) -> float:
    try:
        xmin = float(xmin)
    except (TypeError, ValueError):
        raise FitError(f"xmin must be a number, got {xmin!r}") from None
    if not np.isfinite(xmin) or xmin <= 0:
        raise FitError(f"xmin must be a positive finite number, got {xmin!r}")
    if discrete and (xmin != np.round(xmin) or xmin < 1):
        raise FitError(f"a discrete tail needs an integer xmin >= 1, got {xmin!r}")
    tail = x[x >= xmin]
    if tail.size < 2 or tail[0] == tail[-1]:
        raise FitError(
            f"xmin={xmin:g} leaves {tail.size} point(s) with {len(np.unique(tail))} distinct value(s) "
            "in the tail; at least two distinct values are needed"
        )
    return xmin


def _power_law(x, xmin, discrete):
    """The power law on the tail: xmin from the KS scan unless given, then the exact MLE."""
    if xmin is None:
        from ..fitting.api import fit

        xmin = float(fit(x, discrete=discrete).xmin)
    else:
        xmin = _check_xmin(x, xmin, discrete)
    tail = x[x >= xmin]
    X, n = _jax.pad_rows([tail], _width(len(tail)))
    with _jax.x64():
        alpha, sigma, lp = _pl_kernel(X[0], n[0], xmin, discrete)
        alpha, sigma, lp = float(alpha), float(sigma), np.asarray(lp)[: len(tail)]
    return TailFit("power_law", {"alpha": alpha}, {"alpha": sigma}, xmin, len(tail), float(lp.sum()),
                   discrete, True, (), tail, lp)


def _width(n: int) -> int:
    """Padded width of a single tail: a power of two, at least 4096.

    Coarser than :func:`htsr._jax.bucket` on purpose: each law's kernel then
    compiles once for every tail up to 4096 points, which is what interactive
    use and the CLI want; the extra padding costs microseconds.
    """
    return max(4096, 1 << (int(n) - 1).bit_length())


def _alternative(name, tail, xmin, discrete):
    mod = MODELS[name]
    X, n = _jax.pad_rows([tail], _width(len(tail)))
    r = mod.mle(X, n, np.array([xmin]), discrete=discrete)
    names = _PARAMS[name]
    params = {k: float(v) for k, v in zip(names, r.params[0])}
    se = {k: float(v) for k, v in zip(names, r.se[0])}
    boundary = tuple(k for k, b in zip(names, r.at_boundary[0]) if b)
    return TailFit(name, params, se, float(xmin), len(tail), float(r.loglik[0]), discrete,
                   bool(r.converged[0]), boundary, tail, r.pointwise[0, : len(tail)].copy())


def _prepare(data, xmin, discrete):
    if not isinstance(discrete, (bool, np.bool_)):
        raise FitError(f"discrete must be True or False, got {discrete!r}")
    x = as_sample(data, discrete=bool(discrete), stacklevel=4)
    return x, _power_law(x, xmin, bool(discrete))


def fit_model(data, model: str, *, xmin: float | None = None, discrete: bool = False) -> TailFit:
    """Fit one tail model by maximum likelihood.

    Parameters
    ----------
    data : array_like
        One-dimensional sample (validated as in :func:`htsr.fit`).
    model : str
        A name from :data:`MODELS`.
    xmin : float, optional
        Start of the tail; by default the power-law KS scan's choice (:func:`htsr.fit`).
    discrete : bool
        Fit the discrete (integer) form of the law.

    Returns
    -------
    TailFit
    """
    name = _canonical(model)
    _, pl_fit = _prepare(data, xmin, discrete)
    if name == "power_law":
        return pl_fit
    return _alternative(name, pl_fit.tail, pl_fit.xmin, bool(discrete))


def compare(data, model1: str = "power_law", model2: str = "lognormal", *, xmin: float | None = None,
            discrete: bool = False, nested: bool | None = None) -> CompareResult:
    """Likelihood-ratio test between two tail models (Clauset et al. 2009, section 5).

    Parameters
    ----------
    data : array_like
        One-dimensional sample.
    model1, model2 : str
        Model names (see :data:`MODELS`).  ``R > 0`` favours ``model1``.
    xmin : float, optional
        Start of the tail; by default chosen by the power-law KS scan.
    discrete : bool
        Use the discrete (integer) forms of the laws.
    nested : bool, optional
        Override the nesting looked up in :data:`NESTED_PAIRS`.

    Returns
    -------
    CompareResult

    Examples
    --------
    >>> res = htsr.compare(x, "power_law", "lognormal")        # doctest: +SKIP
    >>> res.normalized_R, res.p, res.verdict                   # doctest: +SKIP
    """
    name1, name2 = _canonical(model1), _canonical(model2)
    if name1 == name2:
        raise FitError(f"compare needs two different models, got {name1!r} twice")
    if nested is not None and not isinstance(nested, (bool, np.bool_)):
        raise FitError(f"nested must be True, False or None, got {nested!r}")
    _, pl_fit = _prepare(data, xmin, discrete)
    fits = {}
    for name in (name1, name2):
        fits[name] = pl_fit if name == "power_law" else _alternative(name, pl_fit.tail, pl_fit.xmin, bool(discrete))
    return _test(fits[name1], fits[name2], is_nested(name1, name2) if nested is None else bool(nested))


def _test(f1: TailFit, f2: TailFit, nested: bool) -> CompareResult:
    t = likelihood_ratio(f1.pointwise, f2.pointwise, nested=nested)
    return CompareResult(f1, f2, t.R, t.normalized_R, t.p, t.nested, f1.xmin, f1.n_tail, f1.discrete)


def compare_all(data, *, xmin: float | None = None, discrete: bool = False,
                alternatives=ALTERNATIVES) -> pd.DataFrame:
    """The power law against each alternative, one row each (Clauset et al. 2009, Table 6.2).

    Parameters
    ----------
    data : array_like
        One-dimensional sample.
    xmin : float, optional
        Start of the tail; by default chosen by the power-law KS scan.
    discrete : bool
        Use the discrete (integer) forms of the laws.
    alternatives : sequence of str
        Models to test against the power law (default: all four).

    Returns
    -------
    pandas.DataFrame
        Indexed by alternative, with columns ``R`` (log-likelihood ratio, > 0 favours
        the power law), ``normalized_R``, ``p``, ``nested``, ``verdict`` ("power law
        favoured", "alternative favoured" or "inconclusive" at the 0.1 level),
        ``params`` (fitted parameters of the alternative), ``at_boundary`` and
        ``converged``.  ``df.attrs`` holds ``xmin``, ``n_tail``, ``discrete`` and
        ``fits`` (every :class:`TailFit`, the power law included) for
        :func:`htsr.plot.models.plot_models`.

    Notes
    -----
    Clauset et al. report ``normalized_R`` for the non-nested alternatives and the
    raw ``R`` for the nested power law with cutoff; both columns are given here.
    """
    names = [_canonical(a) for a in alternatives]
    if not names:
        raise FitError("alternatives is empty")
    if "power_law" in names:
        raise FitError("alternatives are compared with the power law and cannot include it")
    _, pl_fit = _prepare(data, xmin, discrete)
    fits = {"power_law": pl_fit}
    rows = []
    for name in names:
        alt = _alternative(name, pl_fit.tail, pl_fit.xmin, bool(discrete))
        fits[name] = alt
        res = _test(pl_fit, alt, is_nested("power_law", name))
        rows.append({
            "alternative": name,
            "R": res.R,
            "normalized_R": res.normalized_R,
            "p": res.p,
            "nested": res.nested,
            "verdict": verdict(res.R, res.p),
            "params": ", ".join(f"{k}={v:.4g}" for k, v in alt.params.items()),
            "at_boundary": ",".join(alt.at_boundary),
            "converged": alt.converged,
        })
    import pandas as pd  # only this table needs it: kept out of `import htsr`

    df = pd.DataFrame(rows).set_index("alternative")
    df.attrs.update(xmin=pl_fit.xmin, n_tail=pl_fit.n_tail, discrete=bool(discrete),
                    alpha=pl_fit.params["alpha"], fits=fits)
    return df
