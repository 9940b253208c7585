"""Two checkpoints: ``htsr.report(new, baseline=base)`` -- what changed in each layer, beyond its noise.

The baseline is reported with the same options (:func:`plan`), layers are matched by name,
and each matched layer of the new model gets ``alpha_base``, ``delta_alpha = alpha -
alpha_base``, an interval ``[delta_alpha_lo, delta_alpha_hi]`` at the report's level, and
``changed`` (:func:`compare`).  docs/compare.md explains every choice; in short:

* **Identical tensors** (sha256 of the bytes as stored, :func:`htsr.weights.tensor_digest`)
  are not recomputed: the new report takes the baseline's spectrum, fit, interval and
  bootstrap draws (the draws depend on the values and ``layer_seed(seed, name)`` only, so
  they would be the same), and the row gets ``delta_alpha = 0``, the interval ``[0, 0]``
  (the same estimator on the same data: no difference, and no noise in it) and
  ``changed = False``.
* **The interval of a difference** (:func:`delta_interval`) is a two-sample bootstrap: the
  differences ``a*_r - b*_s`` of the new layer's and the baseline's bootstrap alphas over
  pairs ``r != s``.  Both reports draw resample ``r`` of a layer from the same stream
  (``layer_seed(seed, name)``), so pairs ``r == r`` would share their resampling indices and
  be correlated by construction; pairs ``r != s`` are independent resamples of the two
  samples.  With ``ci="bca"`` the interval is bias-corrected (Efron's BC: the quantiles move
  by ``2 z0``, ``z0 = Phi^-1(share of differences below delta_alpha)``; no acceleration:
  the jackknife of a two-sample difference is not kept); with ``ci="percentile"`` (and for
  posterior draws) it is the percentile interval.  An interval that misses its own
  ``delta_alpha`` is not given (:func:`htsr.report.intervals.checked_interval`).
* ``changed``: the interval excludes 0 **and** ``|delta_alpha| >= change_threshold``
  (default 0.1): a statistically clear change that is also large enough to matter.
* **The change of mean alpha** over the compared layers is the mean of ``delta_alpha``, its
  interval propagated from the layers' as the network summary propagates alpha's
  (:mod:`htsr.report.summary`): ``mean - sqrt(sum (delta - lo)^2) / L``, and the same above.
"""

from __future__ import annotations

import math
import os
import warnings
from dataclasses import dataclass, field, replace

import numpy as np

from .. import weights as hw
from ..data import check_number, to_plain
from ..errors import BaselineWarning, HtsrError
from ..inference.bootstrap import bca_interval, percentile_interval
from .intervals import checked_interval
from .summary import propagated_interval
from .result import LayerRow

__all__ = ["BASELINE_ARGS", "DELTA_COLUMNS", "BaselinePlan", "Comparison", "plan", "compare", "delta_interval",
           "digests"]

#: The arguments of :func:`htsr.report` that the baseline's own report does not take.
BASELINE_ARGS = ("source", "baseline", "change_threshold", "delta")
#: Columns joined to ``Report.layers`` when a baseline is given (the table without one is unchanged).
DELTA_COLUMNS = ("alpha_base", "delta_alpha", "delta_alpha_lo", "delta_alpha_hi", "changed", "delta_note")

_MAX_PAIRS = 250_000  # differences per layer (r, r + s) for shifts s = 1, 2, ...


@dataclass(frozen=True, eq=False)
class BaselinePlan:
    """What the new report takes from the baseline before it starts (built by :func:`plan`).

    Attributes
    ----------
    base : Report
        The baseline's report, with the new report's options.
    baseline : str
        The baseline's description.
    source : object
        The baseline as given (a path or an in-memory model): what ``--delta`` reads.
    identical : frozenset of str
        Matched tensors whose stored bytes are the same in both (sha256).
    spectra : dict
        Name -> the baseline's LayerSpectrum, for the identical tensors (no ESD recomputed).
    rows : dict
        Name -> the baseline's LayerRow, for the identical tensors (no fit or bootstrap
        recomputed); empty with the hierarchical posterior, which is fitted over all layers.
    fits, draws : dict
        The baseline's fits and draws of those rows.
    mismatched : dict
        Name -> (shape here, shape in the baseline) for names whose shapes differ.
    same_file : bool
        The baseline is the model's own file or folder.
    change_threshold : float
    """

    base: object
    baseline: str
    source: object
    identical: frozenset
    spectra: dict
    rows: dict
    fits: dict
    draws: dict
    mismatched: dict
    same_file: bool
    change_threshold: float


@dataclass(frozen=True, repr=False, eq=False)
class Comparison:
    """A report's comparison with its baseline (``Report.comparison``).

    Attributes
    ----------
    baseline : str
    table : pandas.DataFrame
        ``name`` and :data:`DELTA_COLUMNS`, one row per row of ``Report.layers`` (also joined to it).
    unmatched_new, unmatched_base : tuple of str
        Rows of the new report with no tensor of that name in the baseline's report, and the
        baseline's rows with none in the new one.
    identical : tuple of str
        Matched tensors with the same bytes (sha256): delta 0, not recomputed.
    mismatched : dict
        Name -> ``[shape here, shape in the baseline]``: a row each, no delta.
    change_threshold, level : float
    interval : str
        How ``delta_alpha_lo``/``delta_alpha_hi`` were made.
    mean_delta_alpha, mean_delta_alpha_lo, mean_delta_alpha_hi : float
        Change of mean alpha over the ``n_compared`` layers fitted in both, with its interval.
    n_compared, n_changed : int
    notes : tuple of str
        Said once: the baseline is the same file, every tensor is identical, no mean interval.
    base : Report
        The baseline's report.
    updates : Report or None
        With ``delta=True``: the report of the updates ``W - W_base`` (:mod:`htsr.report.updates`).
    update_ranks : dict
        Name -> ``(numerical rank of W - W_base, its number of eigenvalues)`` (``delta=True``); an
        update of rank at most half of them is low-rank (:mod:`htsr.report.updates`).
    """

    baseline: str
    table: object
    unmatched_new: tuple
    unmatched_base: tuple
    identical: tuple
    mismatched: dict
    change_threshold: float
    level: float
    interval: str
    mean_delta_alpha: float
    mean_delta_alpha_lo: float
    mean_delta_alpha_hi: float
    n_compared: int
    n_changed: int
    notes: tuple = ()
    base: object = field(default=None, repr=False)
    updates: object = field(default=None, repr=False)
    update_ranks: dict = field(default_factory=dict)

    def changed(self) -> list[str]:
        """Names of the layers flagged ``changed``."""
        return list(self.table.loc[self.table["changed"].astype(bool), "name"])

    def lines(self, shown: int = 5) -> list[str]:
        """What ``htsr report --baseline`` prints after the summary: changed, unmatched, mismatched layers."""
        out = [f"  baseline: {self.baseline}"]
        ch = self.changed()
        out.append(f"  changed: {_few(ch, shown)}" if ch else "  changed: none")
        if self.unmatched_new:
            out.append(f"  not in the baseline: {_few(list(self.unmatched_new), shown)}")
        if self.unmatched_base:
            out.append(f"  only in the baseline: {_few(list(self.unmatched_base), shown)}")
        for name, (here, there) in list(self.mismatched.items())[:shown]:
            out.append(f"  warning: {name}: shape {there} in the baseline, {here} here: no delta")
        ut = self.update_table()
        if ut is not None:
            low = ut[(ut["rank"] > 0) & ut["low_rank"]]
            out.append(f"  updates W - W_base: {int((ut['rank'] > 0).sum())} nonzero, {len(low)} low-rank"
                       + (f" ({', '.join(f'{n}: rank {r}' for n, r in zip(low['name'][:shown], low['rank'][:shown]))})"
                          if len(low) else ""))
        return out

    def update_table(self):
        """With ``delta=True``: name, rank, low_rank and the update's fit columns, one row per update."""
        if self.updates is None:
            return None
        t = self.updates.layers
        cols = ["name", "N", "M", "lambda_max", "stable_rank", "alpha", "alpha_lo", "alpha_hi", "label", "warning"]
        out = t[cols].copy()
        rank = [self.update_ranks.get(n, (-1, 0)) for n in out["name"]]
        out.insert(1, "rank", [r for r, _ in rank])
        out.insert(2, "low_rank", [0 <= r <= n // 2 for r, n in rank])
        return out

    def to_dict(self) -> dict:
        keys = ("baseline", "change_threshold", "level", "interval", "mean_delta_alpha", "mean_delta_alpha_lo",
                "mean_delta_alpha_hi", "n_compared", "n_changed")
        out = {k: getattr(self, k) for k in keys}
        out.update(unmatched_new=list(self.unmatched_new), unmatched_base=list(self.unmatched_base),
                   identical=list(self.identical), mismatched={k: list(v) for k, v in self.mismatched.items()},
                   changed=self.changed(), notes=list(self.notes))
        ut = self.update_table()
        if ut is not None:
            out["updates"] = [to_plain(r) for r in ut.to_dict(orient="records")]
        return to_plain(out)


def _path(source) -> str | None:
    return os.path.realpath(source) if isinstance(source, (str, os.PathLike)) and os.path.exists(source) else None


def digests(source, names, layout=None) -> dict:
    """Name -> :func:`htsr.weights.tensor_digest` of those tensors of ``source`` (read lazily: byte ranges)."""
    with hw.load(source, names=list(names), layout=layout, lazy=True) as stream:
        return {t.name: hw.tensor_digest(t) for t in stream}


def plan(source, baseline, infos, spec, layout, opts: dict, change_threshold, *, report,
         label: str) -> BaselinePlan:
    """The baseline's report (same options), matched names, and the identical tensors to reuse.

    ``report`` is :func:`htsr.report` (it reports the baseline with ``opts``); ``label`` names
    ``source`` in messages.  Raises :class:`~htsr.errors.HtsrError` when no reported layer of ``source`` has a name in
    the baseline; warns (:class:`~htsr.errors.BaselineWarning`) once for names whose shapes
    differ, and once when the baseline is the model's own file.
    """
    from .core import select

    threshold = check_number(change_threshold, "change_threshold", minimum=0.0)
    baseline = str(baseline) if isinstance(baseline, os.PathLike) else baseline
    theirs = [i.name for i in select(baseline, spec.selection, layout)[0]]  # headers only: fail before any work
    names = [i.name for i in infos]
    if not set(names) & set(theirs):
        raise HtsrError(f"{label} and the baseline {_label(baseline)} have no layer in common "
                        f"(layers are matched by name): {_few(names)} here, {_few(theirs)} in the baseline")
    base = report(baseline, **dict(opts, checkpoint=None, base=None, revision=None))
    by_name = {sp.name: sp for sp in base.spectra}
    common = [i for i in infos if i.name in by_name]
    mismatched = {i.name: (tuple(i.shape), tuple(by_name[i.name].shape)) for i in common
                  if tuple(i.shape) != tuple(by_name[i.name].shape)}
    if mismatched:
        warnings.warn(f"{len(mismatched)} layer(s) have another shape in the baseline, so no delta: "
                      + "; ".join(f"{n} {_shape(a)} here, {_shape(b)} there" for n, (a, b) in
                                  list(mismatched.items())[:3]) + ("; ..." if len(mismatched) > 3 else ""),
                      BaselineWarning, stacklevel=3)
    same = [i for i in common if i.name not in mismatched and i.kind == by_name[i.name].kind]
    same_file = _path(source) is not None and _path(source) == _path(baseline)
    if same_file:  # one file: every tensor is identical, nothing to hash
        identical = frozenset(i.name for i in same)
    else:
        mine, theirs = digests(source, [i.name for i in same], layout), digests(baseline, [i.name for i in same], layout)
        identical = frozenset(n for n in mine if n in theirs and mine[n] == theirs[n])
    if same_file:
        warnings.warn(f"the baseline is {label} itself: every delta is 0", BaselineWarning, stacklevel=3)
    rows = {}
    if not spec.posterior:  # a hierarchical posterior is fitted over all layers: its rows cannot be reused
        records = base.layers.set_index("name", drop=False).to_dict(orient="index")
        rows = {n: LayerRow(**records[n]) for n in identical}
    return BaselinePlan(base=base, baseline=base.source, source=baseline, identical=identical,
                        spectra={n: by_name[n] for n in identical}, rows=rows,
                        fits={n: base.fits[n] for n in rows if n in base.fits},
                        draws={n: base.draws[n] for n in rows if n in base.draws},
                        mismatched=mismatched, same_file=same_file, change_threshold=threshold)


def _label(source) -> str:
    return str(source) if isinstance(source, (str, os.PathLike)) else f"<{type(source).__name__}>"


def _few(names, shown: int = 3) -> str:
    more = f", ... ({len(names)} in all)" if len(names) > shown else ""
    return (", ".join(names[:shown]) + more) if names else "none"


def _shape(shape) -> str:
    return "x".join(map(str, shape))


def difference_draws(new: np.ndarray, base: np.ndarray, max_pairs: int = _MAX_PAIRS) -> np.ndarray:
    """Finite differences ``new[r] - base[(r + s) % R]`` for shifts ``s = 1 .. K``: independent resamples.

    ``K = min(R - 1, max_pairs // R)``; with ``R`` draws each, every pair ``r != s`` once when
    ``R (R - 1) <= max_pairs``.  Pairs ``r == s`` are left out: the two reports draw resample
    ``r`` of a layer from the same stream, so they share resampling indices.
    """
    a, b = np.asarray(new, dtype=np.float64), np.asarray(base, dtype=np.float64)
    R = min(a.size, b.size)
    if R < 2:
        return np.empty(0)
    a, b = a[:R], b[:R]
    K = max(1, min(R - 1, max_pairs // R))
    d = np.concatenate([a - np.roll(b, -s) for s in range(1, K + 1)])
    return d[np.isfinite(d)]


def delta_interval(new_draws, base_draws, delta: float, level: float, ci: str = "bca") -> tuple[float, float, str]:
    """``(lo, hi, note)``: the interval of ``delta = alpha - alpha_base`` from both layers' draws.

    ``ci="bca"``: the bias-corrected percentile interval (BC, Efron 1981) of
    :func:`difference_draws`; ``"percentile"``: its percentile interval.  An interval that
    misses ``delta`` is not given (``note`` says why), as for a layer's own alpha.
    """
    d = difference_draws(new_draws, base_draws)
    nan = math.nan
    if d.size < 2 or not math.isfinite(delta):
        return nan, nan, "no interval: fewer than 2 bootstrap differences" if math.isfinite(delta) else ""
    note = ""
    # BC: htsr.bootstrap's BCa with no acceleration (a single jackknife value, delta itself)
    r = bca_interval(d, delta, [delta], level) if ci == "bca" else None
    if r is None:
        if ci == "bca":
            note = "percentile interval: every bootstrap difference lies on one side of delta_alpha"
        r = percentile_interval(d, level)
    lo, hi = r.low, r.high
    lo, hi, why = checked_interval(delta, float(lo), float(hi), "the bootstrap of the difference")
    return lo, hi, why or note


def _row_delta(name, t, base_t, p: BaselinePlan, rep, level: float, ci: str) -> dict:
    nan = math.nan
    out = dict(alpha_base=nan, delta_alpha=nan, delta_alpha_lo=nan, delta_alpha_hi=nan, changed=False, delta_note="")
    if name not in base_t.index:
        return dict(out, delta_note="not in the baseline")
    a, b = float(t.loc[name, "alpha"]), float(base_t.loc[name, "alpha"])
    out["alpha_base"] = b
    if name in p.mismatched:
        here, there = p.mismatched[name]
        return dict(out, delta_note=f"shape {_shape(there)} in the baseline, {_shape(here)} here: no delta")
    if name in p.identical:
        return dict(out, delta_alpha=0.0, delta_alpha_lo=0.0, delta_alpha_hi=0.0,
                    delta_note="identical bytes (sha256): not recomputed")
    if not (math.isfinite(a) and math.isfinite(b)):
        return dict(out, delta_note="no fit " + ("here" if not math.isfinite(a) else "in the baseline"))
    delta = a - b
    lo, hi, note = nan, nan, "no interval: the layers have no bootstrap or posterior draws"
    if name in rep.draws and name in p.base.draws:
        lo, hi, note = delta_interval(rep.draws[name], p.base.draws[name], delta, level, ci)
    changed = bool(math.isfinite(lo) and (lo > 0 or hi < 0) and abs(delta) >= p.change_threshold)
    return dict(out, delta_alpha=delta, delta_alpha_lo=lo, delta_alpha_hi=hi, changed=changed, delta_note=note)


def _mean_change(table) -> tuple[float, float, float, int, str]:
    d = table[np.isfinite(table["delta_alpha"].to_numpy(dtype=float))]
    L = len(d)
    if not L:
        return math.nan, math.nan, math.nan, 0, "no layer is fitted in both models"
    delta = d["delta_alpha"].to_numpy(dtype=float)
    lo, hi = d["delta_alpha_lo"].to_numpy(dtype=float), d["delta_alpha_hi"].to_numpy(dtype=float)
    mean = float(delta.mean())
    if not (np.isfinite(lo) & np.isfinite(hi)).all():
        k = int((~(np.isfinite(lo) & np.isfinite(hi))).sum())
        return mean, math.nan, math.nan, L, f"no interval for the mean change: {k} of {L} compared layers have none"
    return mean, *propagated_interval(mean, delta, lo, hi, 1.0), L, ""


def compare(rep, p: BaselinePlan, *, updates=None, update_ranks=None):
    """``rep`` with :data:`DELTA_COLUMNS` joined to its table, ``comparison`` and the summary's change."""
    import pandas as pd

    spec = rep.spec.intervals
    ci = spec.ci if spec.method == "bootstrap" else "percentile"
    t = rep.layers.set_index("name", drop=False)
    base_t = p.base.layers.set_index("name", drop=False)
    rows = [_row_delta(n, t, base_t, p, rep, spec.level, ci) for n in rep.layers["name"]]
    table = pd.DataFrame(rows, columns=list(DELTA_COLUMNS))
    table.insert(0, "name", list(rep.layers["name"]))
    mean, lo, hi, n, why = _mean_change(table)
    notes = [why] if why else []
    matched = [x for x in rep.layers["name"] if x in base_t.index]
    if p.same_file:
        notes.insert(0, "the baseline is the model's own file: every delta is 0")
    elif matched and all(x in p.identical for x in matched):
        notes.insert(0, "every matched tensor is byte-identical in both: every delta is 0")
    interval = ("bias-corrected percentile (BC) of differences of independent bootstrap replicates" if ci == "bca"
                else "percentile interval of differences of independent replicates")
    cmp = Comparison(baseline=p.baseline, table=table,
                     unmatched_new=tuple(x for x in rep.layers["name"] if x not in base_t.index),
                     unmatched_base=tuple(x for x in p.base.layers["name"] if x not in t.index),
                     identical=tuple(x for x in rep.layers["name"] if x in p.identical),
                     mismatched={k: [_shape(a), _shape(b)] for k, (a, b) in p.mismatched.items()},
                     change_threshold=p.change_threshold, level=spec.level, interval=interval,
                     mean_delta_alpha=mean, mean_delta_alpha_lo=lo, mean_delta_alpha_hi=hi, n_compared=n,
                     n_changed=int(table["changed"].sum()), notes=tuple(notes), base=p.base, updates=updates,
                     update_ranks=dict(update_ranks or {}))
    change = dict(baseline=p.baseline, mean_delta_alpha=mean, mean_delta_alpha_lo=lo, mean_delta_alpha_hi=hi,
                  n_compared=n, n_changed=cmp.n_changed, change_threshold=p.change_threshold,
                  note="; ".join(notes))
    layers = pd.concat([rep.layers.reset_index(drop=True), table.drop(columns="name")], axis=1)
    timings = dict(rep.timings, baseline=p.base.timings.get("total", math.nan))  # its report, within "total"
    return replace(rep, layers=layers, summary=replace(rep.summary, change=change), comparison=cmp, timings=timings)
