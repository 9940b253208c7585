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

from dataclasses import replace

import numpy as np

from .. import _jax
from ..data import as_sample, check_bool, check_number, check_tail, check_xmin
from ..errors import FitError
from ..fitting.law_fit import GRID, MIN_TAIL, LawSpec, refit_law, scan_laws
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
    "fit_tail",
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


def fit_model(data, model: str, *, xmin=None, discrete: bool = False, distance: str = "ks", xmin_range=None,
              xmin_candidates=None, min_tail: int | None = None, grid: int | None = GRID) -> TailFit:
    """Fit one tail law by maximum likelihood, at a given xmin or with xmin scanned under the law.

    Parameters
    ----------
    data : array_like
        One-dimensional sample (validated as in :func:`htsr.fit`).
    model : str
        A registered law on ``[xmin, inf)`` (:func:`htsr.fitting.law_fit.scan_laws`: every law of
        :data:`htsr.models.registry.LAWS` but the bounded power law).
    xmin : None, float or "scan"
        None: the power-law KS scan's xmin (:func:`htsr.fit`), the tail every model of
        :func:`compare` shares.  A number: that xmin.  ``"scan"``: the xmin whose
        maximum-likelihood fit of *this* law minimises ``distance`` (the scan of
        :mod:`htsr.fitting.law_fit`).
    discrete : bool
        Fit the discrete (integer) form of the law.
    distance : {"ks", "kuiper", "ad", "reweighted_ks"}
        What the scan minimises and the result's ``D`` measures (:mod:`htsr.fitting.distances`;
        with ``xmin=None`` no distance is computed).
    xmin_range, xmin_candidates, min_tail, grid
        Restrictions of the scan, as in :func:`htsr.fit`; ``min_tail`` defaults to
        :data:`~htsr.fitting.law_fit.MIN_TAIL`; ``grid``: coarse-to-fine over more than
        ``grid`` candidates (None: every candidate, the exact argmin).

    Returns
    -------
    TailFit
        With ``D``, ``distance``, ``spec`` and ``data`` set when ``xmin`` is a number or
        ``"scan"``, and ``scan`` (:class:`~htsr.fitting.law_fit.XminScan`: each candidate's
        xmin, tail size and distance) when it was scanned.

    Examples
    --------
    >>> f = htsr.fit_model(x, "lognormal", xmin="scan", distance="ks")   # doctest: +SKIP
    >>> f.xmin, f.params, f.D, f.scan.D                                  # doctest: +SKIP
    """
    name = registry.canonical(model, among=scan_laws(), error=FitError)
    if isinstance(xmin, str):
        if xmin != "scan":
            raise FitError(f"xmin must be a positive number, None or 'scan', got {xmin!r}")
        scanned = True
    else:
        scanned = False
    if xmin is None:
        given = [k for k, v in (("distance", distance != "ks"), ("xmin_range", xmin_range is not None),
                                ("xmin_candidates", xmin_candidates is not None), ("min_tail", min_tail is not None),
                                ("grid", grid != GRID)) if v]
        if given:  # they shape the scan under the law, which xmin=None does not run
            raise FitError(f"{', '.join(given)} apply to xmin='scan' (the scan under the law); xmin=None takes "
                           "the power law's xmin")
        _, pl_fit = _prepare(data, None, discrete)
        return pl_fit if name == "power_law" else _fit_law(name, pl_fit.tail, pl_fit.xmin, bool(discrete))
    check_bool(discrete, "discrete", error=FitError)
    if not scanned:
        xmin = check_xmin(xmin, bool(discrete), error=FitError)
    spec = LawSpec(name, discrete=discrete, xmin=None if scanned else xmin, distance=distance,
                   xmin_range=xmin_range, xmin_candidates=xmin_candidates, min_tail=min_tail,
                   grid=grid).checked()
    x = as_sample(data, discrete=spec.discrete, stacklevel=3)
    return fit_tail(x, spec)


def fit_tail(x, spec: LawSpec) -> TailFit:
    """The :class:`TailFit` of ``spec``'s law on the sorted validated sample ``x``: the engine's refit
    (:func:`~htsr.fitting.law_fit.refit_law`, the same kernels as the Monte Carlo refits); FitError if no
    tail is eligible."""
    fit, scans = refit_law(_jax.pad_rows([x]), spec, curves=True)
    if fit.n_candidates[0] == 0 or not np.isfinite(fit.xmin[0]):
        what = (f"xmin={spec.xmin:g} leaves fewer than two distinct values in the tail" if spec.fixed_xmin else
                f"no eligible xmin: the sample has {len(x)} points and {len(np.unique(x))} unique values, and "
                f"the scan needs a tail of at least {spec.min_tail or MIN_TAIL} points with two distinct values")
        raise FitError(f"cannot fit {spec.model}: {what}")
    xmin = float(fit.xmin[0])
    tail = x[x >= xmin]
    names = spec.law.param_names
    out = TailFit(spec.model, {k: float(v) for k, v in zip(names, fit.params[0])},
                  {k: float(v) for k, v in zip(names, fit.se[0])}, xmin, len(tail), float(fit.loglik[0]),
                  spec.discrete, bool(fit.converged[0]), tuple(k for k, e in zip(names, fit.at_boundary[0]) if e),
                  tail, None, D=float(fit.D[0]), distance=spec.distance, scan=scans[0], spec=spec, data=x)
    return replace(out, pointwise=out.log_pdf(tail))


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
