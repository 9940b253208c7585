"""The front door: :func:`report` reads a network and returns a :class:`~htsr.report.result.Report`.

Stages (each a module of its own):

1. selection (:mod:`.options`) on the tensors' headers -- nothing read yet;
2. per layer, in parallel (:mod:`.execute`): the ESD by ``htsr.rmt.layer_esd``'s Gram
   route and the fit-free metrics (:mod:`.spectra`, :mod:`.metrics`);
3. all layers at once: Clauset and bounded fits and the finger test (:mod:`.fits`);
4. intervals: bootstrap resamples of every layer through one batched fitter per
   chunk (:mod:`.intervals`), or the hierarchical posterior (:mod:`.bayes`);
5. verdicts (:mod:`.verdict`) and the network summary (:mod:`.summary`).
"""

from __future__ import annotations

import math
import os
import time
from collections import Counter
from pathlib import Path

import numpy as np

from .. import weights as hw
from .._progress import resolve as resolve_progress
from ..errors import WeightsError
from . import intervals as iv
from .calibrated import implied_mu
from .depth import depth_order
from .execute import resolve_client, run_chunks, run_spectra
from .fits import fit_layers
from .metrics import alpha_metrics
from .options import BayesSpec, IntervalSpec, LayerFitOptions, ReportSpec, Selection, Thresholds
from .result import COLUMNS, LayerRow, Report
from .spectra import precheck
from .summary import summarize
from .verdict import LABELS, verdict

__all__ = ["report"]


def _describe(source) -> str:
    if isinstance(source, (str, os.PathLike)):
        return str(source)
    return f"<{type(source).__module__}.{type(source).__name__}>"


def select(source, selection: Selection, layout=None):
    """Headers of the tensors to report, and those skipped, each with why.

    ``skipped`` holds ``(name, reason)`` for every tensor the options asked for
    (its name passes ``layers``/``exclude``) that gets no row: tied weights
    (counted once), and tensors of two or more dimensions with no spectrum --
    integer weights without scales, complex, boolean, 3-D attention or expert
    kernels, 5-D and up (:meth:`htsr.weights.TensorInfo.no_spectrum_reason`).
    Vectors and scalars (biases, norms) are left out of it: they are never
    weight matrices.  Tensors the options left out (``layers``, ``exclude``, a
    matrix kind not in ``kinds``) are not listed either.
    """
    infos = hw.list_tensors(source, layout=layout)
    by_name = {i.name: i for i in infos}
    exact = selection.exact_names()
    for name in exact:
        if name not in by_name:
            hw.load(source, names=[name], layout=layout).close()  # raises, suggesting close names
        elif by_name[name].kind not in hw.MATRIX_KINDS:
            hw.get(source, name, layout=layout).require_matrix()  # raises: "... not a weight matrix"
    chosen, skipped = [], []
    for info in infos:
        asked = info.name in exact or selection.wants(info.name)
        if asked and (info.name in exact or info.kind in selection.kinds):
            if info.tied_to is not None:
                skipped.append((info.name, f"tied to {info.tied_to} (counted once)"))
            else:
                chosen.append(info)
        elif asked and info.kind not in hw.MATRIX_KINDS and info.ndim >= 2 and _could_be(info, selection):
            skipped.append((info.name, info.no_spectrum_reason()))
    if not chosen:
        raise WeightsError(_nothing_to_report(source, selection, infos))
    return chosen, skipped


def _could_be(info, selection: Selection) -> bool:
    """Would this tensor, were it floating point, be of a kind the report was asked for (or 'other')?"""
    return hw.classify(info.name, info.shape, "float32") in (*selection.kinds, "other")


def _nothing_to_report(source, selection: Selection, infos, shown: int = 6) -> str:
    """ "no weight matrix to report", naming what the source holds and why none qualified."""
    what = f" matching {list(selection.layers)}" if selection.layers else ""
    asked = [i for i in infos if selection.wants(i.name)]
    head = f"{_describe(source)}: no weight matrix{what} to report (kinds {list(selection.kinds)})"
    if not infos:
        return f"{head}; it holds no tensors"

    def why(i):
        if i.kind not in hw.MATRIX_KINDS:
            return i.no_spectrum_reason()
        return f"tied to {i.tied_to}" if i.tied_to is not None else f"{i.dtype} {i.kind}, a kind not asked for"

    listed = sorted(asked or infos, key=lambda i: i.ndim < 2)  # would-be matrices first, then vectors
    parts = [f"{i.name} ({'x'.join(map(str, i.shape)) or 'scalar'}, {why(i)})" for i in listed[:shown]]
    more = f"; and {len(listed) - shown} more" if len(listed) > shown else ""
    n = len(infos)
    intro = f"it holds {n} tensor{'s' if n != 1 else ''}"
    if selection.layers or selection.exclude:
        intro += f", {len(asked)} matching" if asked else ", none matching"
    return f"{head}; {intro}: {'; '.join(parts)}{more}"


class _Ticks:
    def __init__(self, progress, total):
        self.progress, self.total, self.done = progress, total, 0
        if progress:
            progress(0, total)

    def __call__(self, k: int = 1):
        self.done += k
        if self.progress:
            self.progress(min(self.done, self.total), self.total)


def _spectra(source, infos, spec, layout, workers, client, ticks):
    early = {i: e for i, info in enumerate(infos) if (e := precheck(i, info, spec.selection)) is not None}
    for _ in early:
        ticks()
    todo = [(i, info) for i, info in enumerate(infos) if i not in early]

    def open_stream(names):
        return hw.load(source, names=names, layout=layout)

    done = run_spectra(todo, open_stream, spec.selection, spec.fit, workers=workers, client=client,
                       source=source, tick=ticks)
    return [early.get(i) or done[i] for i in range(len(infos))]


def _bootstrap(samples, names, alphas, spec: IntervalSpec, client, ticks):
    parts = iv.chunks([s.size for s in samples], spec.reps, spec.jackknife_groups)
    args = [([samples[b] for b in c], [names[b] for b in c], spec) for c in parts]
    results = run_chunks(iv.bootstrap_chunk, args, client=client, tick=lambda a: ticks(len(a[0])))
    draws = np.concatenate([d for d, _ in results]) if results else np.empty((0, spec.reps))
    jacks = [j for _, js in results for j in js]
    stats = [iv.summarize_draws(a, d, j, spec) for a, d, j in zip(alphas, draws, jacks)]
    return draws, stats


# the columns of an interval result that go into a row (the rest, such as both intervals, stay out)
_INTERVAL_COLUMNS = ("alpha_lo", "alpha_hi", "alpha_se", "interval_note")


def _row(sp, depth: int, fit_row, stats, bayes_row, th: Thresholds, ispec: IntervalSpec) -> LayerRow:
    """One layer's typed row: its spectrum, and its fit, interval and posterior when it has them."""
    nan = math.nan
    layer = dict(index=sp.index, depth=depth, name=sp.name, kind=sp.kind, shape="x".join(map(str, sp.shape)),
                 N=sp.N, M=sp.M, Q=sp.N / sp.M if sp.M else nan, n_evals=int(sp.evals.size), **sp.metrics)
    what = "credible interval" if ispec.method == "bayes" else "interval"
    if fit_row is None:
        label, _ = verdict(nan, nan, nan, -1, th, ispec.level, what=what, no_interval="")
        return LayerRow(**layer, label=label, verdict=f"no fit: {sp.warning}", warning=sp.warning)
    interval = {k: v for k, v in (stats or {}).items() if k in _INTERVAL_COLUMNS}
    alpha, warning = fit_row["alpha"], sp.warning
    if fit_row["num_fingers"] > 0:
        note = (f"{fit_row['num_fingers']} finger(s): without the top {fit_row['num_fingers']} eigenvalue(s) "
                f"alpha = {fit_row['alpha_no_fingers']:.3g}")
        warning = f"{warning}; {note}" if warning else note
    label, text = verdict(alpha, interval.get("alpha_lo", nan), interval.get("alpha_hi", nan),
                          int(fit_row["n_tail"]), th, ispec.level, what=what,
                          no_interval=interval.get("interval_note", ""))
    return LayerRow(**layer, **fit_row, **interval, **(bayes_row or {}), **alpha_metrics(sp.evals, alpha),
                    **implied_mu(alpha, sp.N, sp.M, ispec.level), label=label, verdict=text, warning=warning)


def report(source, *, layers=None, exclude=None, regex: bool = False, kinds=hw.MATRIX_KINDS,
           min_evals: int = 8, max_evals: int = 15000, max_n: int = 50000,
           intervals: str | None = "bootstrap", reps: int = 1000, level: float = 0.95, ci: str = "bca",
           seed: int = 0, bayes: bool = False, bounded: bool = True, gof: bool = False, gof_reps: int = 200,
           normalize: bool = False, evals_threshold: float = 1e-5, thresholds: Thresholds | None = None,
           layout: str | None = None, workers: int | None = None, client=None, progress=None) -> Report:
    """Heavy-tailed spectral report of every weight matrix of a network.

    Parameters
    ----------
    source : path or object
        Anything :func:`htsr.weights.load` reads: a safetensors file or sharded folder,
        a PyTorch checkpoint, ``torch.nn.Module`` or state dict, ``.npz``, ``.keras``/``.h5``,
        a JAX/Flax pytree.  ``htsr.weights.example_path("minilm")`` is a real one.
    layers, exclude : str or sequence of str, optional
        Names to include / leave out: globs, or regular expressions with ``regex=True``;
        a plain name must exist and be a weight matrix (:class:`~htsr.report.options.Selection`).
    kinds : sequence of str
        Kinds to report (default dense, embedding, conv1d, conv2d; biases and norms never).
    min_evals, max_evals, max_n : int
        Size limits (WeightWatcher's defaults); layers outside them get a warning row.
    intervals : {"bootstrap", "bayes", None}
        Interval for alpha: the bootstrap (default, ``reps`` resamples per layer, batched
        over layers), the hierarchical posterior of ``htsr.bayes``, or none.
    reps, level, ci, seed
        Bootstrap resamples, confidence level, ``"bca"`` or ``"percentile"``, PRNG seed.
    bayes : bool or BayesSpec
        Also fit the hierarchical Bayesian model (``htsr.bayes.fit_many(..., hierarchical=True)``):
        ``alpha_bayes*`` columns and the summary's network alpha.  Implied by ``intervals="bayes"``.
        A :class:`~htsr.report.options.BayesSpec` turns it on with those NUTS settings (draws,
        warmup, chains, target acceptance; default 2 chains x 1000 draws).
    bounded : bool
        Also fit the power law bounded at lambda_max (``alpha_bounded`` ...).
    gof, gof_reps
        Clauset's goodness-of-fit p-value per layer (``p_value``), with ``gof_reps`` synthetic sets.
    normalize, evals_threshold
        Eigenvalue units (WeightWatcher's squared singular values by default) and the cut
        below which eigenvalues are not fitted (:class:`~htsr.report.options.LayerFitOptions`).
    thresholds : Thresholds, optional
        What the verdicts compare alpha with (2 and 6, tails of at least 10 points).
    layout : {"pytorch", "keras"}, optional
        Override the source's layout.
    workers : int, optional
        Threads computing ESDs (default: the number of CPUs).
    client : distributed.Client or str, optional
        Run layers (and bootstrap chunks) as tasks on a Dask cluster; a string is a
        scheduler address.  Same numbers as a local run.
    progress : bool or callable, optional
        ``True``: a bar per layer on stderr (only on a terminal); a callable gets ``(done, total)``.

    Returns
    -------
    Report
        ``.layers`` (pandas DataFrame, one row per layer), ``.summary`` and the spectra and fits behind them.

    Raises
    ------
    WeightsError
        The input as a whole cannot be used (missing, corrupt, unknown format, refused
        pickle, a name that is not a weight matrix, nothing to report).  A bad layer
        (NaN or inf, all zeros, too small) is a row with a warning instead.
    """
    t0 = time.perf_counter()
    spec = ReportSpec(
        selection=Selection(kinds=kinds, layers=layers, exclude=exclude, regex=regex, min_evals=min_evals,
                            max_evals=max_evals, max_n=max_n),
        fit=LayerFitOptions(normalize=normalize, evals_threshold=evals_threshold, bounded=bounded, gof=gof,
                            gof_reps=gof_reps),
        intervals=IntervalSpec(method=intervals, reps=reps, level=level, ci=ci, seed=seed),
        thresholds=Thresholds() if thresholds is None else thresholds,
        bayes=bayes if isinstance(bayes, BayesSpec) else BayesSpec(), posterior=bool(bayes))
    progress = resolve_progress(progress, "htsr report")
    if workers is None:
        workers = os.cpu_count() or 1
    client = resolve_client(client)
    if isinstance(source, Path):
        source = str(source)
    infos, skipped = select(source, spec.selection, layout)
    ispec = spec.intervals
    n_stages = 2 + (ispec.method == "bootstrap")
    ticks = _Ticks(progress, len(infos) * n_stages)
    timings = {}
    spectra = _spectra(source, infos, spec, layout, workers, client, ticks)
    timings["spectra"] = time.perf_counter() - t0
    return _finish(source, spec, spectra, skipped, client, ticks, timings, t0)


def _finish(source, spec, spectra, skipped, client, ticks, timings, t0):
    import pandas as pd

    ispec = spec.intervals
    ok = [sp for sp in spectra if sp.fittable]
    samples, names = [sp.sample for sp in ok], [sp.name for sp in ok]
    t = time.perf_counter()
    fit_rows, fits = fit_layers(samples, names, spec.fit, spec.thresholds, seed=ispec.seed)
    ticks(len(spectra))
    timings["fits"] = time.perf_counter() - t
    alphas = [r["alpha"] for r in fit_rows]
    draws, stats = None, [None] * len(ok)
    if ispec.method == "bootstrap" and ok:
        t = time.perf_counter()
        draws, stats = _bootstrap(samples, names, alphas, ispec, client, ticks)
        timings["intervals"] = time.perf_counter() - t
    ticks(len(spectra) - len(ok) if ispec.method == "bootstrap" else 0)
    bayes_rows, network = [None] * len(ok), None
    if spec.posterior and ok:
        from .bayes import posterior_alphas

        t = time.perf_counter()
        mean, lo, hi, post, network = posterior_alphas(samples, [f.xmin for f in fits], level=ispec.level,
                                                       seed=ispec.seed, sampler=spec.bayes)
        bayes_rows = [dict(alpha_bayes=m, alpha_bayes_lo=a, alpha_bayes_hi=b) for m, a, b in zip(mean, lo, hi)]
        if ispec.method == "bayes":
            keys = ("alpha_lo", "alpha_hi", "interval_note")
            stats = [dict(zip(keys, iv.checked_interval(f, a, b, "the posterior")), alpha_se=float(np.std(p, ddof=1)))
                     for f, a, b, p in zip(alphas, lo, hi, post)]
            draws = post
        timings["bayes"] = time.perf_counter() - t
    pos = {sp.index: k for k, sp in enumerate(ok)}
    depth = depth_order([sp.name for sp in spectra], [sp.kind for sp in spectra])
    rows = []
    for sp, d in zip(spectra, depth):
        k = pos.get(sp.index)
        rows.append(_row(sp, int(d), None if k is None else fit_rows[k], None if k is None else stats[k],
                         None if k is None else bayes_rows[k], spec.thresholds, ispec))
    table = pd.DataFrame([r.to_dict() for r in rows], columns=list(COLUMNS))
    counts = Counter(table["label"])
    fitted = table[table["name"].isin(names)]
    summary = summarize(fitted["alpha"], [math.log10(sp.evals[-1]) for sp in ok], fitted["alpha_lo"],
                        fitted["alpha_hi"], n_layers=len(spectra), level=ispec.level, method=ispec.method,
                        labels={k: int(counts.get(k, 0)) for k in LABELS}, network_alpha=network,
                        names=fitted["name"])
    timings["total"] = time.perf_counter() - t0
    return Report(layers=table, summary=summary, spec=spec, source=_describe(source), spectra=tuple(spectra),
                  fits=dict(zip(names, fits)), draws={} if draws is None else dict(zip(names, draws)),
                  skipped=tuple(skipped), timings=timings)
