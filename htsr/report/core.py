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

import functools
import math
import os
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path

import numpy as np

from .. import weights as hw
from .._device import on_device
from .._progress import Stages
from .._progress import resolve as resolve_progress
from ..errors import WeightsError
from . import intervals as iv
from .calibrated import implied_mu
from .architectures import POOLED_KIND, adapter_spectra, annotate, expert_rows
from .depth import depth_order
from .execute import resolve_client, run_chunks, run_spectra
from .fits import fit_layers
from .metrics import alpha_metrics
from .resume import open_checkpoint
from . import baseline as bl
from .baseline import BASELINE_ARGS
from .options import BayesSpec, IntervalSpec, LayerFitOptions, ReportSpec, Selection, Thresholds
from .result import COLUMNS, LayerRow, Report, Skipped
from .spectra import esd_cost, precheck
from .summary import summarize
from .verdict import LABELS, verdict

__all__ = ["report"]


def _describe(source) -> str:
    if isinstance(source, (str, os.PathLike)):
        return str(source)
    if isinstance(getattr(source, "description", None), str):  # a base model with a LoRA merged in
        return source.description
    return f"<{type(source).__module__}.{type(source).__name__}>"


def select(source, selection: Selection, layout=None):
    """Headers of the tensors to report, and those skipped, each with why.

    ``skipped`` holds a :class:`~htsr.report.result.Skipped` (name, reason,
    group) for every tensor whose name passes ``layers``/``exclude`` and that
    gets no row, so nothing disappears silently: vectors and scalars (biases,
    norms), tied weights (counted once), scale and zero-point tensors (applied
    to their weights), integer buffers, complex and boolean tensors, 3-D
    attention kernels, 5-D and up
    (:meth:`htsr.weights.TensorInfo.no_spectrum_reason`), matrices of a kind
    not in ``kinds``, and tensors a shard holds but its index omits.  Only the
    tensors the user's own ``layers``/``exclude`` filters leave out are not
    listed.
    """
    infos = hw.list_tensors(source, layout=layout, expand=True, fused=selection.fused)  # experts, fused parts
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
        if not asked:
            continue  # the user's own layers/exclude filters: not listed
        if info.tied_to is None and (info.name in exact or info.kind in selection.kinds):
            chosen.append(info)
        else:
            skipped.append(Skipped(info.name, *_why(info, selection)))
    if not chosen:
        raise WeightsError(_nothing_to_report(source, selection, infos))
    return chosen, skipped


def _why(info, selection: Selection) -> tuple[str, str]:
    """``(reason, group)``: why a tensor gets no row."""
    if info.tied_to is not None:
        return f"tied to {info.tied_to} (counted once)", "tied weights"
    if info.kind in hw.MATRIX_KINDS:
        return f"{info.kind}, a kind not asked for (kinds {', '.join(selection.kinds)})", "kinds not asked for"
    return info.no_spectrum_reason(), info.skip_group()


def _nothing_to_report(source, selection: Selection, infos, shown: int = 6) -> str:
    """ "no weight matrix to report", naming what the source holds and why none qualified."""
    what = f" matching {list(selection.layers)}" if selection.layers else ""
    asked = [i for i in infos if selection.wants(i.name)]
    head = f"{_describe(source)}: no weight matrix{what} to report (kinds {list(selection.kinds)})"
    if not infos:
        return f"{head}; it holds no tensors"

    def why(i):
        return _why(i, selection)[0]

    listed = sorted(asked or infos, key=lambda i: i.ndim < 2)  # would-be matrices first, then vectors
    parts = [f"{i.name} ({'x'.join(map(str, i.shape)) or 'scalar'}, {why(i)})" for i in listed[:shown]]
    more = f"; and {len(listed) - shown} more" if len(listed) > shown else ""
    n = len(infos)
    intro = f"it holds {n} tensor{'s' if n != 1 else ''}"
    if selection.layers or selection.exclude:
        intro += f", {len(asked)} matching" if asked else ", none matching"
    return f"{head}; {intro}: {'; '.join(parts)}{more}"


def _spectra(source, infos, spec, layout, workers, client, ticks, store=None, reuse=None):
    """Stage 2: each layer's spectrum, from the size limits, the checkpoint ``store``, a baseline's
    identical tensor (``reuse``: name -> LayerSpectrum) or its ESD."""
    early = {i: e for i, info in enumerate(infos) if (e := precheck(i, info, spec.selection)) is not None}
    early.update({i: replace(reuse[info.name], index=i) for i, info in enumerate(infos)
                  if reuse and i not in early and info.name in reuse})
    if store is not None:  # layers a previous, interrupted run finished (htsr.report.resume)
        early.update({i: sp for i, info in enumerate(infos) if i not in early
                      and (sp := store.load(i, info)) is not None})
    todo = [(i, info) for i, info in enumerate(infos) if i not in early]
    ticks.begin("spectra", len(infos), cost=sum(esd_cost(info) for _, info in todo))
    if early:
        ticks.tick(len(early), item=f"{store.loaded} from the checkpoint" if store and store.loaded else "", cost=0)

    def open_stream(names):
        return hw.load(source, names=names, layout=layout, lazy=True)  # safetensors read block by block

    def on_result(i, sp):
        if store is not None:
            store.save(sp)
        ticks.tick(item=sp.name, cost=esd_cost(infos[i]))

    done = run_spectra(todo, open_stream, spec.selection, spec.fit, workers=workers, client=client,
                       source=source, on_result=on_result)
    return [early.get(i) or done[i] for i in range(len(infos))]


def _bootstrap(samples, names, alphas, spec: IntervalSpec, client, ticks, store=None, device="cpu"):
    parts = iv.chunks([s.size for s in samples], spec.reps, spec.jackknife_groups)
    args = [([samples[b] for b in c], [names[b] for b in c], spec) for c in parts]
    saved = {} if store is None else {k: r for k, a in enumerate(args) if (r := store.load_chunk(a[1], spec))}
    todo = [a for k, a in enumerate(args) if k not in saved]  # chunks an interrupted run had not finished
    ticks.begin("intervals", len(samples), cost=sum(s.size for a in todo for s in a[0]))
    if saved:
        ticks.tick(sum(len(args[k][0]) for k in saved), item=f"{len(saved)} chunk(s) from the checkpoint", cost=0)
    # on a cluster each chunk runs on the report's device, not on whatever the worker's default is
    chunk = iv.bootstrap_chunk if client is None else functools.partial(iv.bootstrap_chunk_on, device)
    computed = iter(run_chunks(chunk, todo, client=client,
                               tick=lambda a: ticks.tick(len(a[0]), item=a[1][-1], cost=sum(s.size for s in a[0])),
                               on_result=None if store is None else lambda a, r: store.save_chunk(a[1], spec, r)))
    results = [saved[k] if k in saved else next(computed) for k in range(len(args))]
    draws = np.concatenate([d for d, _ in results]) if results else np.empty((0, spec.reps))
    jacks = [j for _, js in results for j in js]
    stats = [iv.summarize_draws(a, d, j, spec) for a, d, j in zip(alphas, draws, jacks)]
    return draws, stats


_POOLED_NOTE = "pooled expert bank: its experts are in the hierarchical model, each once; see their rows"

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
    erg = sp.metrics.get("detX_num", -1) - fit_row["n_tail"] if sp.metrics.get("detX_num", -1) >= 0 else nan
    return LayerRow(**layer, **fit_row, **interval, **(bayes_row or {}), **alpha_metrics(sp.evals, alpha),
                    **implied_mu(alpha, sp.N, sp.M, ispec.level), ERG_gap=float(erg), label=label, verdict=text,
                    warning=warning)


def report(source, *, layers=None, exclude=None, regex: bool = False, kinds=hw.MATRIX_KINDS,
           min_evals: int = 8, max_evals: int = 15000, max_n: int = 50000,
           intervals: str | None = "bootstrap", reps: int = 1000, level: float = 0.95, ci: str = "bca",
           seed: int = 0, bayes: bool = False, bounded: bool = True, gof: bool = False, gof_reps: int = 200,
           tpl: bool = False, randomize: bool = False, vectors: int | bool = False,
           normalize: bool = False, evals_threshold: float = 1e-5, thresholds: Thresholds | None = None,
           layout: str | None = None, workers: int | None = None, client=None, progress=None,
           checkpoint=None, keep_checkpoint: bool = False,
           device: str = "auto", fused: str = "split", base=None, revision: str | None = None,
           baseline=None, change_threshold: float = 0.1, delta: bool = False) -> Report:
    """Heavy-tailed spectral report of every weight matrix of a network.

    Parameters
    ----------
    source : path or object
        Anything :func:`htsr.weights.load` reads: a safetensors file or sharded folder,
        a PyTorch checkpoint, ``torch.nn.Module`` or state dict, ``.npz``, ``.keras``/``.h5``,
        a JAX/Flax pytree.  ``htsr.weights.example_path("minilm")`` is a real one.  A PEFT LoRA
        adapter folder is reported as its updates, or merged into ``base`` (docs/llm.md).
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
    tpl : bool
        Also fit the truncated power law (exponential cutoff) to each layer's Clauset tail, same
        xmin, and test the power law against it: ``tpl_alpha``, ``tpl_lambda``, ``tpl_R``, ``tpl_p``,
        ``tpl_verdict`` (:mod:`htsr.report.tpl`, WeightWatcher's ``fit='TPL'``).
    randomize : bool
        Also the ESD of an element-wise random permutation of each layer's W (seeded by ``seed``)
        and its correlation traps, with the entries that cause them: ``num_traps``,
        ``rand_sigma_mp``, ``rand_bulk_max``, ``max_rand_eval``, ``rand_distance``,
        ``trap_entries`` (:mod:`htsr.report.diagnostics`).  Each such layer is read whole.
    vectors : bool or int
        Also the localization of the top eigenvectors (``True``: 10; an int: that many):
        ``n_vectors``, ``loc_ratio``, ``part_ratio``, ``vec_entropy``.
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
        ``True``: on a terminal a bar with the stage, the layer, done/total, the time and the time
        left; otherwise a plain line every few seconds (docs/report.md, "Long runs").  A callable
        gets ``(done, total)`` (layers x stages), or ``(done, total, step)`` if it takes three
        arguments (``step``: a :class:`htsr._progress.Step`, stage, layer and cost-weighted ETA).
    checkpoint : str or path, optional
        A folder where each layer's spectrum is saved as it is computed, and from which a
        rerun loads the layers already there (:mod:`htsr.report.resume`): an interrupted
        report resumes and gives the same numbers.  Results of another source or other
        options are discarded with a ``CheckpointWarning``.  Sources on disk only.
    keep_checkpoint : bool
        Keep the checkpoint's files after the report is done (default: removed).
    device : {"auto", "gpu", "cpu"}
        Where the Grams, eigensolves, fits and bootstraps run: ``"auto"`` (default) a GPU
        when JAX sees one, else the CPU; ``"gpu"`` a GPU or an error saying what JAX sees;
        ``"cpu"`` the CPU even with a GPU present (docs/scale.md, "GPU").  On a GPU the Gram
        matrices are float32 accumulated in float64 by blocks, the eigensolver float64
        (:mod:`htsr.rmt.device`).
    fused : {"split", "keep"}
        Fused projections (GPT-2's ``c_attn``, ``query_key_value``, ``Wqkv``, ``qkv_proj``,
        ``gate_up_proj``): one row per part (``name[q]``, ``[k]``, ``[v]``; ``[gate]``, ``[up]``)
        where the ``config.json`` beside the weights makes the split unambiguous (default), else
        one row whose warning says why; ``"keep"``: one row per fused tensor.  Stacked experts
        always give one row per expert (``name[e]``) and, like one tensor per expert, a pooled
        row of kind ``"experts"`` per bank that the summary counts in place of its experts
        (docs/llm.md).
    base : path or object, optional
        With ``source`` a LoRA adapter (a folder with ``adapter_config.json`` and
        ``adapter_model.safetensors``): report this base model with the adapter merged in,
        ``W + dW`` for each adapted weight, fitted as ordinary layers.  Without it an adapter is
        reported as its updates ``dW = (lora_alpha / r) B A``: rank-r spectra, no power-law fit.
    revision : str, optional
        With ``source`` a Hugging Face repo id (``"org/name"``, read from the local Hugging
        Face cache, never downloaded): the branch, tag or commit hash (default ``"main"``).
        The report reads the cached snapshot folder, and ``Report.source`` names it.
    baseline : path or object, optional
        Another checkpoint of the same network (docs/compare.md): it is reported with the same
        options, layers are matched by name, and the table gains ``alpha_base``, ``delta_alpha``,
        ``delta_alpha_lo``, ``delta_alpha_hi``, ``changed`` and ``delta_note``
        (``Report.comparison``, :mod:`htsr.report.baseline`).  Tensors with the same bytes
        (sha256) in both are not recomputed: delta 0, not changed.
    change_threshold : float
        ``changed`` needs ``|delta_alpha|`` at least this (default 0.1) and an interval without 0.
    delta : bool
        With ``baseline``: also report each layer's update ``W - W_base`` (its ESD, numerical
        rank, and a power-law fit unless it is low-rank: :mod:`htsr.report.updates`) as
        ``Report.comparison.updates``.

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
    opts = {k: v for k, v in locals().items() if k not in BASELINE_ARGS}  # the baseline's report: the same
    t0 = time.perf_counter()
    spec = ReportSpec(
        selection=Selection(kinds=kinds, layers=layers, exclude=exclude, regex=regex, min_evals=min_evals,
                            max_evals=max_evals, max_n=max_n, fused=fused),
        fit=LayerFitOptions(normalize=normalize, evals_threshold=evals_threshold, bounded=bounded, gof=gof,
                            gof_reps=gof_reps, tpl=tpl, randomize=randomize, vectors=vectors,
                            seed=seed, device=device),
        intervals=IntervalSpec(method=intervals, reps=reps, level=level, ci=ci, seed=seed),
        thresholds=Thresholds() if thresholds is None else thresholds,
        bayes=bayes if isinstance(bayes, BayesSpec) else BayesSpec(), posterior=bool(bayes))
    progress = resolve_progress(progress, "htsr report", lines=True, step=True)
    if workers is None:
        workers = os.cpu_count() or 1
    client = resolve_client(client)
    if isinstance(source, Path):
        source = str(source)
    source = hw.resolve_source(source, revision=revision)  # a repo id: its snapshot in the local HF cache
    if base is not None or hw.is_adapter(source):
        if base is None:  # the adapter alone: its low-rank updates, no fits
            if baseline is not None:
                raise WeightsError(f"{source}: a LoRA adapter alone has no weights to compare with a baseline; "
                                   "give its base model too (base=, --base), or the adapter's update is --delta")
            spectra, skipped = adapter_spectra(source, spec.selection, spec.fit)
            return _finish(source, spec, spectra, skipped, client, Stages(None, 2 * len(spectra)), {}, t0)
        source = hw.merge_lora(str(base) if isinstance(base, Path) else base, source)
    infos, skipped = select(source, spec.selection, layout)
    plan = None if baseline is None else bl.plan(source, baseline, infos, spec, layout, opts, change_threshold,
                                                  report=report, label=_describe(source))
    ispec = spec.intervals
    n_stages = 2 + (ispec.method == "bootstrap")
    store = None if checkpoint is None else open_checkpoint(checkpoint, source, infos, spec, layout,
                                                            keep=keep_checkpoint)
    ticks = Stages(progress, len(infos) * n_stages)
    timings = {}
    spectra = _spectra(source, infos, spec, layout, workers, client, ticks, store, plan and plan.spectra)
    spectra, details = expert_rows(annotate(spectra, infos), spec.selection, spec.fit)  # pooled expert banks
    timings["spectra"] = time.perf_counter() - t0
    with on_device(spec.fit.device):  # the fits and bootstrap refits are jitted: they run on JAX's default device
        rep = _finish(source, spec, spectra, skipped, client, ticks, timings, t0, details, store=store, reuse=plan)
        if plan is not None:
            rep = _compare(rep, plan, source, infos, spec, layout, client, delta)
    if store is not None:
        store.finish()  # the report is whole: its partial results are removed, unless kept
    return rep


def _compare(rep, plan, source, infos, spec, layout, client, delta: bool):
    """The comparison with the baseline (:mod:`.baseline`), and with ``delta`` the report of ``W - W_base``."""
    updates, ranks = None, None
    if delta:
        from .updates import update_spectra

        theirs = {sp.name: sp for sp in plan.base.spectra}
        same = [i for i in infos if i.name in theirs and i.name not in plan.mismatched]
        sps, ranks = update_spectra(source, plan.source, same, {sp.name: sp for sp in rep.spectra},
                                    theirs, plan.identical, spec, layout)
        updates = _finish(f"{rep.source} - {plan.baseline}", spec, sps, [], client, Stages(None, 3 * len(sps)), {},
                          time.perf_counter())
    return bl.compare(rep, plan, updates=updates, update_ranks=ranks)


def _finish(source, spec, spectra, skipped, client, ticks, timings, t0, details=frozenset(), *, store=None,
            reuse=None):
    """Stages 3-5.  ``details``: rows the summary counts through a pooled row (experts); ``reuse``: a
    :class:`~.baseline.BaselinePlan` whose rows (identical tensors) are taken as they are."""
    import pandas as pd

    ispec = spec.intervals
    reused = {} if reuse is None else reuse.rows
    ok = [sp for sp in spectra if sp.fittable and sp.name not in reused]
    samples, names = [sp.sample for sp in ok], [sp.name for sp in ok]
    t = time.perf_counter()
    ticks.begin("fits", len(spectra))
    fit_rows, fits = fit_layers(samples, names, spec.fit, spec.thresholds, seed=ispec.seed)
    ticks.tick(len(spectra))
    timings["fits"] = time.perf_counter() - t
    alphas = [r["alpha"] for r in fit_rows]
    draws, stats = None, [None] * len(ok)
    if ispec.method == "bootstrap" and ok:
        t = time.perf_counter()
        draws, stats = _bootstrap(samples, names, alphas, ispec, client, ticks, store, spec.fit.device)
        timings["intervals"] = time.perf_counter() - t
    ticks.skip(len(spectra) - len(ok) if ispec.method == "bootstrap" else 0)
    bayes_rows, network = [None] * len(ok), None
    if spec.posterior and ok:
        from .bayes import posterior_alphas

        t = time.perf_counter()
        # a pooled expert bank's eigenvalues are its experts': in the hierarchical model once, as the experts
        hier = [k for k, sp in enumerate(ok) if sp.kind != POOLED_KIND] or list(range(len(ok)))
        mean, lo, hi, post, network = posterior_alphas([samples[k] for k in hier], [fits[k].xmin for k in hier],
                                                       level=ispec.level, seed=ispec.seed, sampler=spec.bayes)
        at = dict(zip(hier, range(len(hier))))
        bayes_rows = [None if k not in at else dict(alpha_bayes=mean[at[k]], alpha_bayes_lo=lo[at[k]],
                                                    alpha_bayes_hi=hi[at[k]]) for k in range(len(ok))]
        if ispec.method == "bayes":
            keys = ("alpha_lo", "alpha_hi", "interval_note")
            stats = [dict(interval_note=_POOLED_NOTE) if k not in at else
                     dict(zip(keys, iv.checked_interval(alphas[k], lo[at[k]], hi[at[k]], "the posterior")),
                          alpha_se=float(np.std(post[at[k]], ddof=1))) for k in range(len(ok))]
            draws = [post[at[k]] if k in at else np.full(post.shape[1], np.nan) for k in range(len(ok))]
        timings["bayes"] = time.perf_counter() - t
    pos = {sp.index: k for k, sp in enumerate(ok)}
    depth = depth_order([sp.name for sp in spectra], [sp.kind for sp in spectra])
    rows = []
    for sp, d in zip(spectra, depth):
        k = pos.get(sp.index)
        if sp.name in reused:  # a baseline's identical tensor: its row, at this report's place
            rows.append(replace(reused[sp.name], index=sp.index, depth=int(d)))
            continue
        rows.append(_row(sp, int(d), None if k is None else fit_rows[k], None if k is None else stats[k],
                         None if k is None else bayes_rows[k], spec.thresholds, ispec))
    table = pd.DataFrame([r.to_dict() for r in rows], columns=list(COLUMNS))
    counts = Counter(table["label"])
    counted = [sp for sp in spectra if sp.fittable and sp.name not in details]
    fitted = table[table["name"].isin([sp.name for sp in counted])]
    summary = summarize(fitted["alpha"], [math.log10(sp.evals[-1]) for sp in counted], fitted["alpha_lo"],
                        fitted["alpha_hi"], n_layers=len(spectra), level=ispec.level, method=ispec.method,
                        labels={k: int(counts.get(k, 0)) for k in LABELS}, network_alpha=network,
                        names=fitted["name"])
    timings["total"] = time.perf_counter() - t0
    return Report(layers=table, summary=summary, spec=spec, source=_describe(source), spectra=tuple(spectra),
                  fits={**(reuse.fits if reuse else {}), **dict(zip(names, fits))},
                  draws={**(reuse.draws if reuse else {}), **({} if draws is None else dict(zip(names, draws)))},
                  skipped=tuple(skipped), timings=timings)
