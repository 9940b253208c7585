"""Dump htsr.gof and htsr.bootstrap on the Table 6.1 data for fixed seeds, to compare two versions:

    python3 benchmarks/streams_before_after.py new.json [--reps 200]
    (cd OLD_CHECKOUT && PYTHONPATH=. python3 .../streams_before_after.py old.json)
    python3 benchmarks/streams_before_after.py --compare old.json new.json

Runs on versions before and after the typed intervals of 0.2 (``intervals[k]["bca"]`` or
``intervals[k].chosen``).  Also dumps a range search (``xmax="search"``), whose stream changed.
"""
import argparse
import json
import sys
import warnings
from pathlib import Path

import numpy as np
import powerlaw

import htsr

SETS = {"words": ("words.txt", 1, True), "blackouts": ("blackouts.txt", 1e-3, False),
        "terrorism": ("terrorism.txt", 1, True), "cities": ("cities.txt", 1e-3, False)}


def _pair(v):
    lo, hi = tuple(v)
    return [float(lo), float(hi)]


def _intervals(b, k):
    iv = b.intervals[k]
    if isinstance(iv, dict):  # before 0.2: "bca" held the percentile interval where BCa was rejected
        return dict(percentile=_pair(iv["percentile"]), chosen=_pair(iv["bca"]))
    return dict(percentile=_pair(iv.percentile), chosen=_pair(iv.chosen))


def dump(path, reps):
    warnings.simplefilter("ignore")
    ref = Path(powerlaw.__file__).parent / "reference_data"
    out = {}
    for name, (f, scale, disc) in SETS.items():
        x = np.loadtxt(ref / f) * scale
        fit = htsr.fit(x, discrete=disc)
        g = htsr.gof(fit, reps=reps, seed=1)
        b = htsr.bootstrap(fit, reps=reps, seed=2)
        out[name] = dict(p=g.p, D_sim_mean=float(np.nanmean(g.D_sim)),
                         **{k: _intervals(b, k) for k in ("alpha", "xmin", "n_tail")})
    rng = np.random.default_rng(0)
    x = np.sort(np.concatenate([rng.uniform(0.1, 1, 200), (1 - rng.random(800)) ** (-1 / 1.2)]))
    x = x[x < 50]
    r = htsr.fit(x, method="bounded", xmax="search")
    rs = r.range_search
    out["range_search"] = dict(alpha=r.alpha, xmin=r.xmin, xmax=r.xmax, p=rs["p"] if isinstance(rs, dict) else rs.p,
                               visited=r.n_evaluated)
    json.dump(out, open(path, "w"), indent=1)


def compare(a, b):
    old, new = json.load(open(a)), json.load(open(b))
    worst = 0.0
    for name in old:
        for k, v in old[name].items():
            w = new[name][k]
            if isinstance(v, dict):
                for m in v:
                    d = float(np.max(np.abs(np.subtract(v[m], w[m]))))
                    worst = max(worst, d) if name != "range_search" else worst
                    print(f"{name:12s} {k:7s} {m:10s} old {v[m]} new {w[m]}  |diff| {d:.3g}")
            else:
                d = abs(float(v) - float(w))
                if name != "range_search":
                    worst = max(worst, d)
                print(f"{name:12s} {k:10s} old {v} new {w}  |diff| {d:.3g}")
    print(f"largest difference outside the range search: {worst:.3g}")


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("paths", nargs="+")
    ap.add_argument("--reps", type=int, default=200)
    ap.add_argument("--compare", action="store_true")
    args = ap.parse_args()
    if args.compare:
        compare(*args.paths)
    else:
        dump(args.paths[0], args.reps)
        print("written", args.paths[0], file=sys.stderr)
