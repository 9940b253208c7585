"""Time htsr.report (MiniLM), htsr.gof and htsr.fit in this checkout, to compare two versions in one session:

    python3 benchmarks/before_after_timing.py            # prints one JSON line of best-of-3 seconds
    (cd OLD_CHECKOUT && PYTHONPATH=. python3 /path/to/before_after_timing.py)

Run old and new alternately on a quiet machine and compare the ratios (docs/benchmarks.md).
"""
import json
import time
import warnings

import numpy as np

import htsr
import htsr.weights as hw

warnings.simplefilter("ignore")


def best(fn, repeat=3):
    fn()  # warm-up: compilation
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return min(out)


rng = np.random.default_rng(0)
x = np.concatenate([(1 - rng.random(4000)) ** (-1 / 1.5), rng.uniform(0.2, 1.0, 1000)])
path = hw.example_path("minilm")
res = dict(
    fit=best(lambda: htsr.fit(x)),
    gof=best(lambda: htsr.gof(x, reps=500, seed=1)),
    bootstrap=best(lambda: htsr.bootstrap(x, reps=500, seed=1)),
    report_no_intervals=best(lambda: htsr.report(path, intervals=None)),
    report_bootstrap=best(lambda: htsr.report(path, reps=1000), repeat=2),
)
print(json.dumps({k: round(v, 4) for k, v in res.items()}))
