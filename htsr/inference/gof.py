"""Goodness of fit: the Monte Carlo KS p-value of Clauset, Shalizi & Newman (2009), section 4.1.

Procedure
---------
*Semi-parametric* (the unbounded power law with xmin chosen by the KS scan,
continuous or discrete).  Each synthetic data set has the observed size ``n``:
``n_tail ~ Binomial(n, n_tail_obs / n)`` points are drawn from the fitted power
law (:func:`htsr.models.powerlaw.sample`, exact for discrete data) and the rest
uniformly with replacement from the observations below xmin.  The whole fit,
xmin scan included and with the same restrictions, is redone on each synthetic
set (:func:`htsr.fitting.fit_padded`, in batches), and

    p = #{synthetic D >= observed D} / reps.

The bounded law (``method="bounded"``) is tested the same way when its xmin
came from the KS scan: the tail is drawn from the fitted bounded law, and the
refit rescans xmin with xmax fixed (or re-estimated as each synthetic set's
maximum, if that was the rule).

*Fixed range* (Deluca & Corral 2013): when the range is not estimated by the
KS scan -- xmin fixed by the caller, or both ends chosen by the range search --
each synthetic set is ``n_tail`` draws from the fitted law on the same range,
and alpha alone is refitted with the range held fixed.

Monte Carlo precision
---------------------
The p-value is a binomial proportion: its standard error is
``sqrt(p (1 - p) / reps)``, at most ``1 / (2 sqrt(reps))``.  For an absolute
precision ``eps`` take ``reps ~ 1 / (4 eps^2)``: 2,500 for eps = 0.01 (Clauset
et al.'s recommendation), 100 for eps = 0.05.  The achieved error is reported
with p (``p_se``).

Reproducibility: replicate ``r`` uses the key ``fold_in(fold_in(PRNGKey(seed), 0), r)``
(the ``gof`` stream of :mod:`htsr.streams`), so the result depends on ``seed`` and ``reps`` only.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from .. import _jax, streams
from ..errors import FitError
from ..fitting.api import fit as _fit
from ..fitting.distances import check_distance
from ..fitting.law_fit import GRID, LawSpec, refit_law
from ..fitting.result import PowerLawFit
from ..models import registry
from .._progress import resolve as resolve_progress
from ..data import as_sample, check_choice, check_seed
from . import _resample as R
from .compare import fit_tail
from .results import TailFit

__all__ = ["gof", "GofResult", "reps_for_precision"]


def reps_for_precision(eps: float) -> int:
    """Replicates that give a Monte Carlo standard error of at most ``eps`` on p: ``ceil(1/(4 eps^2))``."""
    if not 0 < eps < 0.5:
        raise FitError(f"eps must be in (0, 0.5), got {eps!r}")
    return int(np.ceil(0.25 / eps**2))


@dataclass(frozen=True, repr=False, eq=False)
class GofResult:
    """Outcome of :func:`gof`.

    Attributes
    ----------
    p : float
        Fraction of synthetic KS distances at least as large as the observed one.
    p_se : float
        Monte Carlo standard error of p, ``sqrt(p (1 - p) / reps)``.
    D : float
        Observed distance (of the fit): KS unless ``distance`` says otherwise.
    D_sim : numpy.ndarray
        Distance of each synthetic data set's refit, shape (reps,) (NaN where a
        synthetic set had no eligible xmin; those count as not exceeding D).
    reps : int
        Number of synthetic data sets.
    seed : int
        Seed of the PRNG.
    procedure : str
        ``"semi-parametric"`` (Clauset et al. 4.1, xmin rescanned) or ``"fixed-range"``.
    fit : PowerLawFit or TailFit
        The fit being tested (a :class:`~htsr.inference.results.TailFit` for ``model=`` another law).
    distance : str
        ``"ks"``, ``"kuiper"``, ``"ad"`` or ``"reweighted_ks"``.
    """

    p: float
    p_se: float
    D: float
    D_sim: np.ndarray = field(repr=False)
    reps: int
    seed: int
    procedure: str
    fit: PowerLawFit = field(repr=False)
    distance: str = "ks"

    @property
    def model(self) -> str:
        """The law tested: its registry name, or the power-law fit's method (``"clauset"``, ``"bounded"``)."""
        return self.fit.name if isinstance(self.fit, TailFit) else self.fit.method

    def to_dict(self) -> dict:
        """Scalar fields (``p_value``, ``p_value_se``, ``D``, ``reps``, ``seed``, ``procedure``; ``model`` and
        ``distance`` too when another law than the power law was tested)."""
        out = dict(p_value=float(self.p), p_value_se=float(self.p_se), D=float(self.D),
                   reps=int(self.reps), seed=int(self.seed), procedure=self.procedure)
        if isinstance(self.fit, TailFit):
            out.update(model=self.model, distance=self.distance)
        return out

    def __repr__(self) -> str:
        dist = "" if self.distance == "ks" else f", distance={self.distance!r}"
        return (f"GofResult(p={self.p:.4f} ± {self.p_se:.4f}, D={self.D:.4g}, reps={self.reps}, "
                f"seed={self.seed}, procedure={self.procedure!r}, model={self.model!r}{dist})")


def gof(
    data,
    *,
    reps: int = 1000,
    seed: int = 0,
    discrete: bool | str = False,
    method: str = "clauset",
    xmin: float | None = None,
    xmax=None,
    xmin_range=None,
    xmin_candidates=None,
    min_tail: int | None = None,
    alpha_grid=None,
    spec=None,
    procedure: str = "auto",
    progress=None,
    model: str = "power_law",
    distance: str = "ks",
    grid: int | None = GRID,
) -> GofResult:
    """Monte Carlo goodness-of-fit p-value of a power-law fit, or of any registered law's.

    Parameters
    ----------
    data : array_like, PowerLawFit or TailFit
        The sample, or a fit made by :func:`htsr.fit` or :func:`htsr.fit_model` (its
        options are reused and the other fit options here are ignored).
    reps : int
        Synthetic data sets; the standard error of p is at most ``0.5/sqrt(reps)``.
    seed : int
        Seed of the PRNG (results are reproducible from it).
    discrete, method, xmin, xmax, xmin_range, xmin_candidates, min_tail, alpha_grid, spec
        As in :func:`htsr.fit` (``spec`` replays an earlier fit's :class:`~htsr.fitting.FitSpec`).
    procedure : {"auto", "semi-parametric", "fixed-range"}
        ``"auto"``: fixed-range when xmin was fixed by the caller (or the range was
        searched), semi-parametric with a full rescan otherwise.  Forcing
        ``"fixed-range"`` on a fit whose xmin was chosen by the KS scan gives a
        conservative p (the observed D was minimised over xmin, the synthetic ones
        are not).
    progress : bool or callable, optional
        ``True``: a progress bar on stderr (when it is a terminal); a callable is
        called as ``progress(done, total)`` after each batch of replicates.
    model : str
        The law tested (:data:`htsr.models.registry.LAWS`).  ``"power_law"`` (the
        default, with ``distance="ks"``) is the test above, unchanged;
        ``"bounded_power_law"`` is ``method="bounded"``.  Any other law (or another
        distance) is fitted by :func:`htsr.fit_model`: ``xmin`` None or ``"scan"``
        scans xmin under the law and each synthetic set is semi-parametric and
        rescanned; a number fixes xmin and each synthetic set is ``n_tail`` draws
        from the fitted law refitted at that xmin.  ``xmin_range``,
        ``xmin_candidates``, ``min_tail`` restrict the scan; ``method``, ``xmax``,
        ``alpha_grid`` and ``spec`` belong to the power law and are refused.
    distance : {"ks", "kuiper", "ad", "reweighted_ks"}
        The statistic (:mod:`htsr.fitting.distances`); the scan minimises it too.
    grid : int or None
        The scan's coarse grid (:mod:`htsr.fitting.law_fit`), for laws other than the power law.

    Returns
    -------
    GofResult

    Notes
    -----
    A small p (conventionally <= 0.1) rules the power law out; a large p only
    says the power law is not ruled out at this sample size.

    References
    ----------
    A. Clauset, C. R. Shalizi, M. E. J. Newman, SIAM Review 51, 661 (2009), section 4.1.
    A. Deluca, Á. Corral, Acta Geophysica 61, 1351 (2013).
    """
    reps = R.check_reps(reps)
    seed = check_seed(seed)
    progress = resolve_progress(progress, "goodness of fit")
    name = registry.canonical(model, error=FitError)
    check_distance(distance)
    if isinstance(data, TailFit) or name not in ("power_law", "bounded_power_law") or distance != "ks":
        check_choice(procedure, "procedure", ("auto", "semi-parametric", "fixed-range"), error=FitError)
        fit = law_fit_for(data, name, discrete=discrete, method=method, xmin=xmin, xmax=xmax, xmin_range=xmin_range,
                       xmin_candidates=xmin_candidates, min_tail=min_tail, alpha_grid=alpha_grid, spec=spec,
                       distance=distance, grid=grid)
        return _law_gof(fit, reps, seed, procedure, progress)
    if name == "bounded_power_law":
        method = "bounded"
    if isinstance(data, PowerLawFit):
        fit = data
    else:
        fit = _fit(data, discrete=discrete, method=method, xmin=xmin, xmax=xmax, xmin_range=xmin_range,
                   xmin_candidates=xmin_candidates, min_tail=min_tail, alpha_grid=alpha_grid, spec=spec)
    check_choice(procedure, "procedure", ("auto", "semi-parametric", "fixed-range"), error=FitError)
    fixed_range = procedure == "fixed-range" or (procedure == "auto" and R.fixed_xmin(fit))
    params = (np.float64(fit.alpha), np.float64(fit.xmin), np.float64(fit.xmax if fit.bounded else np.inf))
    if fixed_range:
        # the engine's fixed-range loop, the one the range search uses too
        out = R.fixed_range_replicates(fit, lambda start, stop: streams.keys(seed, "gof", start, stop), reps,
                                       progress=progress)
        procedure = "fixed-range"
    else:
        x = fit.data[fit.data <= fit.xmax] if fit.bounded else fit.data
        n = len(x)
        body = x[x < fit.xmin]
        n_body = len(body)
        body_pad = _jax.pad_batch(body[None, :], [n_body], width=n, fill=fit.xmin)[0]
        p_tail = fit.n_tail / n

        cap = R.tail_cap(n, p_tail)

        def make_rows(start, stop):
            keys = streams.keys(seed, "gof", start, stop)
            rows, over = R.semiparametric_rows(keys, body_pad, n_body, p_tail, params,
                                               n=n, cap=cap, discrete=fit.discrete, bounded=fit.bounded)
            over = np.asarray(over)
            if over.any():  # vanishingly rare: redraw those rows with every draw kept
                full, _ = R.semiparametric_rows(keys[over], body_pad, n_body, p_tail, params,
                                                n=n, cap=n, discrete=fit.discrete, bounded=fit.bounded)
                rows = np.asarray(rows).copy()
                rows[over] = np.asarray(full)
            return rows

        procedure = "semi-parametric"
        out = R.run_batches(reps, make_rows, lambda rows: R.refit_rows(rows, fit, fixed_range=False), progress)
    D_sim = np.asarray(out.D)
    p = float(np.mean(np.where(np.isnan(D_sim), False, D_sim >= fit.D)))
    return GofResult(p=p, p_se=float(np.sqrt(p * (1.0 - p) / reps)), D=float(fit.D), D_sim=D_sim,
                     reps=reps, seed=seed, procedure=procedure, fit=fit)


def law_fit_for(data, name, *, discrete, method, xmin, xmax, xmin_range, xmin_candidates, min_tail, alpha_grid, spec,
             distance, grid) -> TailFit:
    """The fit :func:`gof` and :func:`htsr.bootstrap` test for ``model=`` a law other than the power law."""
    if isinstance(data, TailFit):
        # a fit is tested as it was made: another law or distance asked for is an error, not ignored
        if name not in ("power_law", data.name):  # "power_law": the default, when model= was not given
            raise FitError(f"the fit is of the {data.name} law; it cannot be tested as model={name!r} "
                           "(pass the sample to test another law)")
        made = data.spec.distance if data.spec is not None else "ks"
        if distance not in ("ks", made):
            raise FitError(f"the fit measured distance={made!r}; refit with htsr.fit_model(..., distance={distance!r})")
        if data.spec is not None:
            return data
        # a fit made by compare(): its law at its xmin, with the distance measured; it holds its tail
        # only (data=None), so a semi-parametric test, which needs the body too, says so
        law_spec = LawSpec(data.name, discrete=data.discrete, xmin=data.xmin, distance=distance).checked()
        return replace(fit_tail(np.sort(np.asarray(data.tail, dtype=np.float64)), law_spec), data=None)
    if isinstance(data, PowerLawFit):
        raise FitError(f"a PowerLawFit cannot be tested as model={name!r}; pass the sample")
    given = [k for k, v in (("method", method != "clauset"), ("xmax", xmax is not None),
                            ("alpha_grid", alpha_grid is not None), ("spec", spec is not None)) if v]
    if given:
        raise FitError(f"{', '.join(given)} belong to the power-law fit and cannot be used with "
                       f"model={name!r} or distance={distance!r}")
    if name == "bounded_power_law":
        raise FitError("the bounded power law is tested with distance='ks' only (model='bounded_power_law')")
    scanned = xmin is None or (isinstance(xmin, str) and xmin == "scan")
    if isinstance(xmin, str) and not scanned:
        raise FitError(f"xmin must be a positive number, None or 'scan', got {xmin!r}")
    if discrete == "auto":
        discrete = bool(np.all(np.mod(as_sample(data, stacklevel=4), 1.0) == 0))
    law_spec = LawSpec(name, discrete=discrete, xmin=None if scanned else xmin, distance=distance,
                       xmin_range=xmin_range, xmin_candidates=xmin_candidates, min_tail=min_tail, grid=grid).checked()
    return fit_tail(as_sample(data, discrete=law_spec.discrete, stacklevel=4), law_spec)


def _law_gof(fit: TailFit, reps: int, seed: int, procedure: str, progress) -> GofResult:
    """Clauset et al. 4.1 for any law: draw rows from the ``gof`` stream, refit by the law engine, reduce."""
    law = registry.get(fit.name)
    params = tuple(np.float64(fit.params[k]) for k in law.param_names)
    fixed = procedure == "fixed-range" or (procedure == "auto" and not fit.xmin_scanned)
    if fixed:
        n = int(fit.n_tail)
        spec = fit.spec.replace(xmin=fit.xmin)

        def make_rows(start, stop):
            return R.law_tail_rows(streams.keys(seed, "gof", start, stop), law, params, fit.xmin, n=n,
                                   discrete=fit.discrete)
    else:
        if fit.data is None:
            raise FitError("a semi-parametric test needs the whole sample; fit it with htsr.fit_model")
        x = fit.data
        n = len(x)
        body = x[x < fit.xmin]
        body_pad = _jax.pad_batch(body[None, :], [len(body)], width=n, fill=fit.xmin)[0]
        p_tail = fit.n_tail / n
        cap = R.tail_cap(n, p_tail)
        spec = fit.spec.replace(xmin=None)

        def make_rows(start, stop):
            keys = streams.keys(seed, "gof", start, stop)
            rows, over = R.law_semiparametric_rows(keys, law, body_pad, len(body), p_tail, params, fit.xmin,
                                                   n=n, cap=cap, discrete=fit.discrete)
            over = np.asarray(over)
            if over.any():  # vanishingly rare: redraw those rows with every draw kept
                full, _ = R.law_semiparametric_rows(keys[over], law, body_pad, len(body), p_tail, params, fit.xmin,
                                                    n=n, cap=n, discrete=fit.discrete)
                rows = np.asarray(rows).copy()
                rows[over] = np.asarray(full)
            return rows

    out = R.run_batches(reps, make_rows, lambda rows: refit_law(_jax.padded(rows, np.full(len(rows), n)), spec),
                        progress)
    D_sim = np.asarray(out.D)
    p = float(np.mean(np.where(np.isnan(D_sim), False, D_sim >= fit.D)))
    return GofResult(p=p, p_se=float(np.sqrt(p * (1.0 - p) / reps)), D=float(fit.D), D_sim=D_sim, reps=reps,
                     seed=seed, procedure="fixed-range" if fixed else "semi-parametric", fit=fit,
                     distance=fit.distance)
