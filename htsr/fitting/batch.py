"""The xmin scan of a padded batch: row groups, progress, and the fit of each selected tail.

:func:`scan_fit` is the scanned half of the engine (:func:`htsr.fitting.refit.refit`):
each row's xmin is the argmin of D over its candidates (:mod:`htsr.fitting.scan`,
:mod:`htsr.fitting.bounded_scan`), then alpha and sigma of the selected tail come
from the one fixed-range fit (:func:`htsr.fitting.fixed_range.fit_range`).
:func:`ks_curve` is the exhaustive scan behind :meth:`PowerLawFit.ks_curve`.
"""

from __future__ import annotations

import numpy as np

from .. import _jax, _progress
from ..errors import DataError
from .bounded_scan import scan_bounded_continuous, scan_bounded_discrete
from .fixed_range import fit_range
from .result import BatchFit, KSCurve, PowerLawFit
from .scan import continuous_candidates, discrete_candidates, scan_continuous, scan_discrete, unique_rows
from .spec import FitSpec

__all__ = ["scan_fit", "ks_curve", "check_counts"]

_ROW_BUDGET = 1 << 24  # elements of the (rows, P, m) lower-bound array per group


def check_counts(x, n):
    if n.shape != (x.shape[0],) or np.any(n < 2) or np.any(n > x.shape[1]):
        raise DataError("counts must give, for each row, between 2 and the row length real entries")


class _Ticker:
    """Counts settled xmin candidates over row groups for a ``progress(done, total)`` callback.

    ``group(count)`` opens the next group (``count`` real candidates) and settles
    the previous one in full; ticks never run past the open group, so padded
    rows of a group count for nothing.
    """

    def __init__(self, report, total: int):
        self.report, self.total, self.done, self.cap = report, int(total), 0, 0

    def group(self, count: int) -> None:
        self.done = self.cap
        self.cap += int(count)
        self.report(self.done, self.total)

    def __call__(self, k: int) -> None:
        new = min(self.done + int(k), self.cap)
        if new != self.done:
            self.done = new
            self.report(new, self.total)

    def finish(self) -> None:
        if self.done < self.total:
            self.done = self.cap = self.total
            self.report(self.total, self.total)


def _ticker(progress, x, n, spec: FitSpec):
    """A :class:`_Ticker` for ``progress`` over the candidates of (B, P) rows, or None.

    Candidates are counted as the continuous scan counts them (first index of
    each distinct value but the largest, restricted by the spec); for discrete
    rows these are exactly the distinct values the discrete scan tries.
    """
    report = _progress.resolve(progress, "xmin scan")
    if report is None:
        return None, None
    per_row = continuous_candidates(x, n, xmin_range=spec.xmin_range, xmin_values=spec.xmin_candidates,
                                    min_tail=spec.min_tail).sum(axis=1)
    ticker = _Ticker(report, per_row.sum())
    return ticker, lambda start, stop: ticker.group(per_row[start:stop].sum())


def _map_row_groups(fn, x, *per_row, before=None):
    """Apply ``fn(x_group, *per_row_groups)`` to groups of a fixed number of rows.

    The group size R is a power of two with R x P x 64 under ``_ROW_BUDGET``
    (the kernels themselves work in fixed-size blocks; this bounds the host's
    (R, P) arrays and the work per group): memory is bounded and every group
    reuses the same compiled kernels (the last group is padded by repeating
    its first row).  ``fn`` returns a tuple of (R,) arrays; the result is the
    tuple of their concatenations over all rows.  ``before(start, stop)``, if
    given, is called before each group.
    """
    B, P = x.shape
    R = 1 << max(0, (_ROW_BUDGET // (P * 64)).bit_length() - 1)
    R = min(R, 1 << max(0, (B - 1).bit_length()))
    parts = []
    for start in range(0, B, R):
        stop = min(start + R, B)
        if before is not None:
            before(start, stop)
        rows = _jax.pad_batch(np.arange(start, stop)[None, :], [stop - start], width=R, fill="first",
                              dtype=np.int64)[0]
        parts.append([col[: stop - start] for col in fn(*(a[rows] for a in (x, *per_row)))])
    return tuple(np.concatenate(c) for c in zip(*parts))


def _scan(x, n, spec: FitSpec, *, xmax=None, exhaustive=None, tick=None):
    """Run the scan; return (ScanResult, xmin array, n_tail array).

    ``xmax`` (B,), if given, selects the bounded law on [xmin, xmax] (every real
    entry of ``x`` must be <= xmax).
    """
    B = x.shape[0]
    rows = np.arange(B)
    exhaustive = spec.exhaustive if exhaustive is None else exhaustive
    restrict = dict(xmin_range=spec.xmin_range, xmin_values=spec.xmin_candidates, min_tail=spec.min_tail)
    if spec.discrete:
        u, c, nu = unique_rows(x, n)

        def cand_fn(nt):
            return discrete_candidates(u, nt, nu, **restrict)

        if xmax is None:
            res = scan_discrete(u, c, nu, cand_fn, exhaustive=exhaustive, alpha_grid=spec.alpha_grid, tick=tick)
        else:
            res = scan_bounded_discrete(u, c, nu, xmax, cand_fn, exhaustive=exhaustive, tick=tick)
        j = np.maximum(res.index, 0)
        xmin = u[rows, j]
        n_tail = n - (np.cumsum(c, 1) - c)[rows, j].astype(np.int64)
    else:
        cand = continuous_candidates(x, n, **restrict)
        if xmax is None:
            res = scan_continuous(x, n, cand, exhaustive=exhaustive, tick=tick)
        else:
            res = scan_bounded_continuous(x, n, xmax, cand, exhaustive=exhaustive, conditional=spec.conditional,
                                          tick=tick)
        j = np.maximum(res.index, 0)
        xmin = x[rows, j]
        n_tail = n - j
    none = res.index < 0
    return res, np.where(none, np.nan, xmin), np.where(none, 0, n_tail)


def _fit_group(x, n, xmax, spec: FitSpec, tick=None):
    with _jax.x64():
        res, xmin, n_tail = _scan(x, n, spec, xmax=xmax if spec.bounded else None, tick=tick)
        ok = res.index >= 0
        alpha = np.full(len(n), np.nan)
        sigma = np.full(len(n), np.nan)
        if ok.any():
            # the selected tails: the last n_tail real entries of each row
            tails = _jax.padded(x[ok], n_tail[ok], start=(n - n_tail)[ok], width=_jax.bucket(int(n_tail[ok].max())))
            fixed = fit_range(tails, xmin[ok], xmax[ok] if spec.bounded else None, discrete=spec.discrete,
                              estimator=spec.estimator, given=2 if spec.conditional else 0,
                              alpha_grid=spec.alpha_grid, with_D=False)
            alpha[ok], sigma[ok] = fixed.alpha, fixed.sigma
    return xmin, alpha, res.D, sigma, n_tail, res.n_candidates, res.n_evaluated


def scan_fit(rows: _jax.Padded, spec: FitSpec, *, xmax=None, progress=None) -> BatchFit:
    """Fit every row of a padded batch with xmin chosen by the KS scan, as ``spec`` says.

    ``rows`` are padded by repeating each row's last value (:func:`htsr._jax.padded`,
    :func:`htsr._jax.pad_rows`).  The bounded law (``spec.method == "bounded"``) cuts each row at its xmax
    first: each row's largest value (rule ``"max"``, alpha then conditional on
    it for continuous data), or ``spec.xmax`` (``xmax`` (B,), if given, holds
    one per row); rows with fewer than two points left get NaN.
    """
    x, n = np.asarray(rows.x, dtype=np.float64), np.asarray(rows.counts, dtype=np.int64)
    B = x.shape[0]
    top = x[np.arange(B), n - 1]
    usable = np.ones(B, dtype=bool)
    use = n
    if not spec.bounded:
        ends = top
    else:
        if spec.xmax_rule == "max":
            ends = top
        else:
            ends = np.broadcast_to(np.asarray(spec.xmax if xmax is None else xmax, dtype=np.float64), (B,)).copy()
        idx = np.arange(x.shape[1])[None, :]
        n_in = np.sum((idx < n[:, None]) & (x <= ends[:, None]), axis=1)
        usable = n_in >= 2
        use = np.maximum(n_in, 2)
    if spec.bounded:  # entries past each row's xmax become padding
        x = _jax.pad_batch(x, use)
    tick, before = _ticker(progress, x, use, spec)
    xmin, alpha, D, sigma, n_tail, n_cand, n_eval = _map_row_groups(
        lambda xs, ns, hs: _fit_group(xs, ns, hs, spec, tick=tick), x, use, ends, before=before)
    if tick is not None:
        tick.finish()
    bad = ~usable
    if bad.any():
        for arr in (xmin, alpha, D, sigma):
            arr[bad] = np.nan
        n_tail[bad], n_cand[bad], n_eval[bad] = 0, 0, 0
    return BatchFit(xmin, alpha, D, sigma, n, n_tail, n_cand, n_eval, ends)


def ks_curve(result: PowerLawFit) -> KSCurve:
    """Exhaustive scan of one fit's data (all candidates, exact D), under its spec."""
    x = result.data
    spec = result.spec.replace(discrete=result.discrete)
    xmax = None
    if result.bounded:
        xmax = np.array([result.xmax])
        x = x[x <= result.xmax]
    X, n = _jax.pad_rows([x])
    with _jax.x64():
        res, _, _ = _scan(X, n, spec, xmax=xmax, exhaustive=True)
    D = res.D_all[0]
    idx = np.flatnonzero(~np.isnan(D))
    if result.discrete:
        u, c, _ = unique_rows(X, n)
        xm = u[0, idx]
        nt = len(x) - (np.cumsum(c[0]) - c[0])[idx]
    else:
        xm = X[0, idx]
        nt = len(x) - idx
    return KSCurve(xm, D[idx], res.alpha_all[0, idx], nt.astype(np.int64))
