"""The engine: the one path from a :class:`FitSpec` to the kernels, for one sample or thousands.

Every power-law fit of htsr is ``refit(rows, spec)`` on a :class:`~htsr._jax.Padded`
batch: :func:`htsr.fit` and :func:`htsr.fit_many` (one row per sample), the
array-level :func:`fit_padded`, the refits of :func:`htsr.bootstrap` and
:func:`htsr.gof`, the range search and the calibration studies.  So a fit and
its bootstrap refit take the same code: xmin fixed by the spec stays fixed
(:func:`~htsr.fitting.fixed_range.fit_range` on each row's tail), otherwise it
is rescanned with the spec's restrictions (:func:`~htsr.fitting.batch.scan_fit`);
a bounded spec keeps its xmax rule (fixed, or each row's largest value).

The Monte Carlo procedures share one loop, :func:`run_batches` (draw rows from
a random stream, refit, concatenate), and the fixed-range goodness-of-fit
test's synthetic tails are :func:`fixed_range_replicates`, used by
:func:`htsr.gof` and the range search alike.  :func:`power_law_fit` is the one
constructor of :class:`~htsr.fitting.result.PowerLawFit`.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from .. import _jax
from ..errors import FitError
from ..models.sampling import law_rows
from .batch import check_counts, ks_curve, scan_fit
from .fixed_range import fit_range
from .result import BatchFit, PowerLawFit, RangeSearch
from .spec import FitSpec

__all__ = ["refit", "fit_padded", "power_law_fit", "run_batches", "fixed_range_replicates", "BATCH"]

#: Replicates per call of the batched fitter (bounded memory, one compiled shape).
BATCH = 256


def refit(rows: _jax.Padded, spec: FitSpec, *, xmax=None, progress=None) -> BatchFit:
    """Fit every row of a padded batch of sorted samples as ``spec`` says.

    Parameters
    ----------
    rows : Padded
        Sorted positive samples (:func:`htsr._jax.pad_rows`, :func:`htsr._jax.padded`).
    spec : FitSpec
        A checked spec with ``discrete`` settled.  ``spec.xmin`` set: that xmin
        for every row, and only alpha (and D) are fitted; None: xmin by the KS scan.
    xmax : (B,) array, optional
        Bounded law with ``xmax_rule="fixed"``: one xmax per row instead of ``spec.xmax``.
    progress : None, bool or callable
        Progress of the xmin scan (:func:`htsr._progress.resolve`).

    Returns
    -------
    BatchFit
        NaN (and ``n_candidates == 0``) where a row leaves no tail to fit.
    """
    if spec.fixed_xmin:
        return _fixed(rows, spec, xmax)
    return scan_fit(rows, spec, xmax=xmax, progress=progress)


def _fixed(rows: _jax.Padded, spec: FitSpec, xmax) -> BatchFit:
    """Each row's tail in [spec.xmin, xmax], fitted with both ends held."""
    x, n = np.asarray(rows.x, dtype=np.float64), np.asarray(rows.counts, dtype=np.int64)
    B = x.shape[0]
    lo = float(spec.xmin)
    fixed_end = spec.bounded and spec.xmax_rule == "fixed"
    hi = np.broadcast_to(np.asarray((spec.xmax if xmax is None else xmax) if fixed_end else np.inf,
                                    dtype=np.float64), (B,))
    keep = (np.arange(x.shape[1])[None, :] < n[:, None]) & (x >= lo) & (x <= hi[:, None])
    counts = keep.sum(axis=1)
    start = np.argmax(keep, axis=1)  # rows are sorted: the tail is contiguous
    rows_b = np.arange(B)
    last = np.clip(start + counts - 1, 0, x.shape[1] - 1)
    ok = (counts >= 2) & (x[rows_b, start] != x[rows_b, last])
    # rows with fewer than two points are fitted on whatever follows (finite, positive) and masked below
    tails = _jax.padded(x, np.maximum(counts, 2), start=start, width=_jax.bucket(max(int(counts.max()), 2)))
    if not spec.bounded:
        ends = x[rows_b, n - 1]
    else:
        ends = hi.copy() if fixed_end else tails.x[rows_b, np.maximum(counts, 2) - 1]
    res = fit_range(tails, np.full(B, lo), ends if spec.bounded else None, discrete=spec.discrete,
                    estimator=spec.estimator, given=1 if spec.conditional else 0, alpha_grid=spec.alpha_grid)
    nan = np.where(ok, 1.0, np.nan)
    one = ok.astype(np.int64)
    return BatchFit(np.full(B, lo), res.alpha * nan, res.D * nan, res.sigma * nan, n, counts, one, one, ends)


def fit_padded(
    x,
    counts,
    *,
    discrete: bool = False,
    xmin_range=None,
    xmin_values=None,
    min_tail: int | None = None,
    estimator: str = "mle",
    exhaustive: bool = False,
    method: str = "clauset",
    xmax=None,
    alpha_grid=None,
    progress=None,
) -> BatchFit:
    """Fit a batch of already validated samples given as a padded array.

    The array-level entry point for bootstraps and calibration grids: no
    validation of the data beyond shapes, no warnings, arrays in and arrays
    out.  The options are those of :func:`htsr.fit` (checked as a
    :class:`FitSpec`); the fit is :func:`refit`.

    Parameters
    ----------
    x : (B, P) array
        Each row sorted ascending, positive, padded at the end (any values).
    counts : (B,) int array
        Number of real entries per row (>= 2).
    method : {"clauset", "bounded"}
        ``"bounded"`` fits the bounded power law on ``[xmin, xmax]`` (xmin by the KS scan).
    xmax : None, float or (B,) array
        Upper end for ``method="bounded"``: each row's largest entry by default.
        Entries above it are outside the model; ``n`` still counts them,
        ``n_tail`` counts the points in ``[xmin, xmax]``.
    alpha_grid : None or 1-D array
        Discrete ``method="clauset"`` only: maximise the likelihood over this
        increasing grid of alpha values instead of exactly, as ``plfit.m`` does
        (:data:`htsr.models.powerlaw.PLFIT_ALPHA_GRID`).
    progress : None, bool or callable
        Progress of the xmin scan, in candidates settled (pruned or evaluated):
        None/False for none, True for a bar on stderr (only on a terminal), or a
        callable ``progress(done, total)`` (:func:`htsr._progress.resolve`).
    """
    x = np.asarray(x, dtype=np.float64)
    n = np.asarray(counts, dtype=np.int64)
    check_counts(x, n)
    ends = None if xmax is None else np.broadcast_to(np.asarray(xmax, dtype=np.float64), (x.shape[0],))
    spec = FitSpec(method=method, discrete=discrete, estimator=estimator,
                   xmax=None if ends is None else float(ends[0]), xmin_range=xmin_range,
                   xmin_candidates=xmin_values, min_tail=min_tail, alpha_grid=alpha_grid,
                   exhaustive=exhaustive).checked(allow_auto=False)
    return refit(_jax.padded(x, n), spec, xmax=ends, progress=progress)


def power_law_fit(batch: BatchFit, b: int, x, spec: FitSpec, *, n_candidates: int | None = None,
                  n_evaluated: int | None = None, range_search: RangeSearch | None = None) -> PowerLawFit:
    """Row ``b`` of ``batch`` (the fit of the sorted sample ``x`` under ``spec``) as a
    :class:`PowerLawFit`; :class:`~htsr.errors.FitError` if the row had no eligible xmin."""
    if batch.n_candidates[b] == 0:
        given = [f"{k}={v!r}" for k, v in (("xmin_range", spec.xmin_range), ("xmin_candidates", spec.xmin_candidates
                 and list(spec.xmin_candidates)), ("min_tail", spec.min_tail)) if v is not None]
        why = (f"the restriction(s) {', '.join(given)} leave" if given else "it has")
        raise FitError(
            f"no eligible xmin: the sample has {len(x)} points and {len(np.unique(x))} unique "
            f"values, and {why} no candidate with at least two distinct values in its tail"
            + (f" below xmax={float(batch.xmax[b]):g}" if spec.bounded else "")
        )
    return PowerLawFit(
        alpha=float(batch.alpha[b]), xmin=float(batch.xmin[b]), xmax=float(batch.xmax[b]), n=int(batch.n[b]),
        n_tail=int(batch.n_tail[b]), D=float(batch.D[b]), sigma=float(batch.sigma[b]), discrete=spec.discrete,
        method=spec.method, estimator=spec.estimator,
        n_candidates=int(batch.n_candidates[b]) if n_candidates is None else int(n_candidates),
        n_evaluated=int(batch.n_evaluated[b]) if n_evaluated is None else int(n_evaluated),
        data=x, spec=spec, range_search=range_search, _curve=ks_curve,
    )


def run_batches(total: int, make_rows: Callable[[int, int], np.ndarray], refit: Callable[[np.ndarray], tuple],
                progress=None, batch: int = BATCH):
    """Draw and refit ``total`` replicates, ``batch`` at a time: the Monte Carlo loop.

    ``make_rows(start, stop)`` draws replicates ``start .. stop-1`` (always a
    full batch of keys: one compiled shape; rows past ``total`` are dropped);
    ``refit(rows)`` returns a NamedTuple of (rows,) arrays (a :class:`BatchFit`),
    and the result is that NamedTuple with every field concatenated.
    ``progress(done, total)``, if given, is called after each batch.
    """
    outs = []
    done = 0
    if progress is not None:
        progress(0, total)
    while done < total:
        stop = min(done + batch, total)
        with _jax.x64():
            rows = np.asarray(make_rows(done, done + batch))[: stop - done]
        outs.append(refit(rows))
        done = stop
        if progress is not None:
            progress(done, total)
    return type(outs[0])(*(np.concatenate(c) for c in zip(*outs)))


def fixed_range_replicates(fit: PowerLawFit, keys: Callable[[int, int], object], reps: int, *, progress=None,
                           batch: int = BATCH) -> BatchFit:
    """The fixed-range goodness-of-fit test's synthetic tails, refitted (Deluca & Corral 2013).

    Replicate ``r`` is ``fit.n_tail`` draws from the fitted law (bounded on
    ``[xmin, xmax]``, or unbounded above xmin) with the key ``keys(r, r + 1)[0]``
    (``keys(start, stop)`` gives a batch of them: a named stream of
    :mod:`htsr.streams`), refitted with the range held as ``fit`` held it
    (xmax re-estimated per set where it was the sample's largest value).
    """
    spec = fit.spec.replace(xmin=fit.xmin)
    params = (np.float64(fit.alpha), np.float64(fit.xmin), np.float64(fit.xmax if fit.bounded else np.inf))
    n = int(fit.n_tail)
    width = _jax.bucket(n)

    def make_rows(start, stop):
        # a bucketed number of draws per set, the first n kept: the same numbers as n
        # draws, and one compiled sampler for every tail length in the bucket
        return law_rows(keys(start, stop), params, n=width, discrete=fit.discrete, bounded=fit.bounded,
                        sort=False)

    def refit_rows(rows):
        rows = np.sort(rows[:, :n], axis=1)
        return refit(_jax.padded(rows, np.full(len(rows), n)), spec)

    return run_batches(reps, make_rows, refit_rows, progress, batch)
