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

from dataclasses import dataclass, field

import numpy as np

from .. import _jax, streams
from ..errors import FitError
from ..fitting.api import fit as _fit
from ..fitting.result import PowerLawFit
from .._progress import resolve as resolve_progress
from ..data import check_choice, check_seed
from . import _resample as R

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
        Observed KS distance (of the fit).
    D_sim : numpy.ndarray
        KS distance of each synthetic data set's refit, shape (reps,) (NaN where a
        synthetic set had no eligible xmin; those count as not exceeding D).
    reps : int
        Number of synthetic data sets.
    seed : int
        Seed of the PRNG.
    procedure : str
        ``"semi-parametric"`` (Clauset et al. 4.1, xmin rescanned) or ``"fixed-range"``.
    fit : PowerLawFit
        The fit being tested.
    """

    p: float
    p_se: float
    D: float
    D_sim: np.ndarray = field(repr=False)
    reps: int
    seed: int
    procedure: str
    fit: PowerLawFit = field(repr=False)

    def to_dict(self) -> dict:
        """Scalar fields (``p_value``, ``p_value_se``, ``D``, ``reps``, ``seed``, ``procedure``)."""
        return dict(p_value=float(self.p), p_value_se=float(self.p_se), D=float(self.D),
                    reps=int(self.reps), seed=int(self.seed), procedure=self.procedure)

    def __repr__(self) -> str:
        return (f"GofResult(p={self.p:.4f} ± {self.p_se:.4f}, D={self.D:.4g}, reps={self.reps}, "
                f"seed={self.seed}, procedure={self.procedure!r}, model={self.fit.method!r})")


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
) -> GofResult:
    """Monte Carlo goodness-of-fit p-value of a power-law fit.

    Parameters
    ----------
    data : array_like or PowerLawFit
        The sample, or a fit made by :func:`htsr.fit` (its options are reused and
        the other fit options here are ignored).
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
