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
The laws compared are :data:`MODELS` (``power_law`` and the four alternatives
of :data:`htsr.models.registry.ALTERNATIVES`), each reached through the
registry (:mod:`htsr.models.registry`), which also holds the aliases
(``truncated_power_law``, the ``powerlaw`` package's name for
``power_law_cutoff``) and the nesting of pairs (:data:`NESTED_PAIRS`).  Nesting
is looked up or stated by the caller with ``nested=``; it is never inferred
from how the names are spelled.  Result types live in
:mod:`htsr.inference.results`.
"""

from __future__ import annotations

import numpy as np

from .. import _jax
from ..data import as_sample, check_bool, check_number, check_tail, check_xmin
from ..errors import FitError
from ..models import registry
from ..models.registry import ALTERNATIVES, NESTED_PAIRS, TAIL_MODELS, is_nested
from .lrt import likelihood_ratio
from .results import CompareAllResult, CompareResult, TailFit

__all__ = [
    "ALTERNATIVES",
    "MODELS",
    "NESTED_PAIRS",
    "CompareAllResult",
    "CompareResult",
    "TailFit",
    "compare",
    "compare_all",
    "fit_model",
]

#: The laws that compare() and compare_all() fit to one tail ``x >= xmin``.
MODELS = TAIL_MODELS


def _canonical(name) -> str:
    return registry.canonical(name, among=MODELS, error=FitError)


def _power_law(x, xmin, discrete):
    """The power law on the tail: xmin from the KS scan unless given, then the exact MLE."""
    if xmin is None:
        from ..fitting.api import fit

        xmin = float(fit(x, discrete=discrete).xmin)
    else:
        check_xmin(xmin, discrete, error=FitError)
    tail = x[x >= xmin]
    check_tail(tail, f"xmin={xmin:g}", error=FitError)
    return _fit_law("power_law", tail, xmin, discrete)


def _fit_law(name, tail, xmin, discrete):
    """One law's MLE on one tail (the law's own ``mle``), as a :class:`TailFit`."""
    law = registry.get(name)
    # one compilation of each law's kernel for every tail up to 4096 points
    X, n = _jax.pad_rows([tail], _jax.bucket(len(tail), minimum=4096))
    r = law.mle(X, n, np.array([xmin]), discrete=discrete)
    names = law.param_names
    params = {k: float(v) for k, v in zip(names, r.params[0])}
    se = {k: float(v) for k, v in zip(names, r.se[0])}
    boundary = tuple(k for k, b in zip(names, r.at_boundary[0]) if b)
    return TailFit(name, params, se, float(xmin), len(tail), float(r.loglik[0]), discrete,
                   bool(r.converged[0]), boundary, tail, r.pointwise[0, : len(tail)].copy())


def _prepare(data, xmin, discrete):
    check_bool(discrete, "discrete", error=FitError)
    check_number(xmin, "xmin", positive=True, allow_none=True, error=FitError)
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
    return _fit_law(name, pl_fit.tail, pl_fit.xmin, bool(discrete))


def compare(data, model1: str | None = None, model2: str | None = None, *, xmin: float | None = None,
            discrete: bool = False, nested: bool | None = None) -> CompareResult:
    """Likelihood-ratio test between two tail models (Clauset et al. 2009, section 5).

    Parameters
    ----------
    data : array_like
        One-dimensional sample.
    model1, model2 : str, optional
        Model names (see :data:`MODELS`).  ``R > 0`` favours ``model1``.
        ``compare(x, "exponential")`` is the power law against the exponential
        (one name: the power law versus that model); ``compare(x)`` is the power
        law against the lognormal; two names compare those two.
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
    if model2 is None:  # one name (or none): the power law versus it
        if model1 is not None and _canonical(model1) == "power_law":
            raise FitError("compare with one model name tests the power law against it; "
                           "name an alternative, e.g. compare(x, 'lognormal')")
        model1, model2 = "power_law", "lognormal" if model1 is None else model1
    elif model1 is None:
        raise FitError("model1 is None but model2 is given; name both models or only one")
    name1, name2 = _canonical(model1), _canonical(model2)
    if name1 == name2:
        raise FitError(f"compare needs two different models, got {name1!r} twice")
    if nested is not None and not isinstance(nested, (bool, np.bool_)):
        raise FitError(f"nested must be True, False or None, got {nested!r}")
    _, pl_fit = _prepare(data, xmin, discrete)
    fits = {}
    for name in (name1, name2):
        fits[name] = pl_fit if name == "power_law" else _fit_law(name, pl_fit.tail, pl_fit.xmin, bool(discrete))
    return _test(fits[name1], fits[name2], is_nested(name1, name2) if nested is None else bool(nested))


def _test(f1: TailFit, f2: TailFit, nested: bool) -> CompareResult:
    t = likelihood_ratio(f1.pointwise, f2.pointwise, nested=nested)
    return CompareResult(f1, f2, t.R, t.normalized_R, t.p, t.nested, f1.xmin, f1.n_tail, f1.discrete)


def compare_all(data, *, xmin: float | None = None, discrete: bool = False,
                alternatives=ALTERNATIVES) -> CompareAllResult:
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
    CompareAllResult
        The power-law fit (``power_law``), one :class:`CompareResult` per alternative
        (``comparisons``), every fitted law (``fits``, for
        :func:`htsr.plot.models.plot_models`), the tail (``xmin``, ``n_tail``,
        ``discrete``) and ``table``: a pandas DataFrame indexed by alternative, with
        columns ``R`` (log-likelihood ratio, > 0 favours the power law),
        ``normalized_R``, ``p``, ``nested``, ``verdict`` ("power law favoured",
        "alternative favoured" or "inconclusive" at the 0.1 level), ``params``
        (fitted parameters of the alternative), ``at_boundary`` and ``converged``.
        ``loc``, ``index`` and ``iterrows()`` read that table directly.

    Notes
    -----
    Clauset et al. report ``normalized_R`` for the non-nested alternatives and the
    raw ``R`` for the nested power law with cutoff; both columns are given here.

    Examples
    --------
    >>> res = htsr.compare_all(x)                              # doctest: +SKIP
    >>> res.loc["lognormal", "p"], res.fits["lognormal"].params  # doctest: +SKIP
    >>> res.to_dict()                                          # doctest: +SKIP
    """
    names = [_canonical(a) for a in alternatives]
    if not names:
        raise FitError("alternatives is empty")
    if "power_law" in names:
        raise FitError("alternatives are compared with the power law and cannot include it")
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise FitError(f"alternatives name {', '.join(map(repr, twice))} more than once")
    _, pl_fit = _prepare(data, xmin, discrete)
    comparisons = {}
    for name in names:
        alt = _fit_law(name, pl_fit.tail, pl_fit.xmin, bool(discrete))
        comparisons[name] = _test(pl_fit, alt, is_nested("power_law", name))
    return CompareAllResult(pl_fit, comparisons)
