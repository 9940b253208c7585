"""Stage 2 of a report: the tail fits of every layer at once.

All layers' samples go through :func:`htsr.fit_many` together (one compiled
kernel per padded size): the Clauset fit, the power law bounded at lambda_max
(``method="bounded"``), and the finger test -- the Clauset fit redone with the
top ``k = 1..max_fingers`` eigenvalues removed.  A layer has ``num_fingers = k``
for the smallest ``k`` that lowers alpha by more than ``finger_drop``
(WeightWatcher's ``fix_fingers="clip_xmax"`` rule); the reported alpha stays
the fit of the whole ESD and ``alpha_no_fingers`` says what the clipped fit
gives, so nothing is clipped silently.

With ``gof=True`` each layer's p-value is ``htsr.gof(fit, reps=gof_reps,
seed=htsr.streams.layer_seed(seed, name))``: every layer has its own stream.
With ``tpl=True`` each Clauset tail also gets the truncated power law and the
nested likelihood-ratio test against it (:mod:`htsr.report.tpl`).
"""

from __future__ import annotations

import math
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from ..errors import SmallSampleWarning
from ..fitting import fit_many
from ..inference import gof
from ..streams import layer_seed
from .options import LayerFitOptions, Thresholds
from .tpl import tpl_columns

__all__ = ["fit_layers", "FIT_COLUMNS"]

FIT_COLUMNS = ("alpha", "xmin", "n_tail", "D", "sigma", "alpha_bounded", "xmin_bounded", "n_tail_bounded",
               "D_bounded", "num_fingers", "alpha_no_fingers", "p_value")

_MIN_LEFT = 10  # a finger refit needs at least this many eigenvalues left


def _finger_jobs(samples, th: Thresholds):
    return [(b, k) for b, s in enumerate(samples) for k in range(1, th.max_fingers + 1)
            if s.size - k >= _MIN_LEFT and s[0] != s[-k - 1]]


def _fingers(fits, jobs, refits, L: int, th: Thresholds):
    num = np.zeros(L, dtype=int)
    clipped = np.full(L, math.nan)
    for (b, k), f in zip(jobs, refits):
        if num[b] == 0 and f.alpha + th.finger_drop < fits[b].alpha:
            num[b], clipped[b] = k, f.alpha
    return num, clipped


def fit_layers(samples: list[np.ndarray], names: list[str], spec: LayerFitOptions, th: Thresholds, *, seed: int = 0):
    """Fit every sample; returns (rows, fits): per-layer dicts of :data:`FIT_COLUMNS` (and, with
    ``spec.tpl``, :data:`htsr.report.tpl.TPL_COLUMNS`) and the PowerLawFits."""
    if not samples:
        return [], []
    jobs = _finger_jobs(samples, th)
    # the whole ESDs and the finger refits in one batch: one compiled kernel, one call; the
    # bounded fits at the same time in a second thread (other kernels: in a fresh process they
    # compile while the first set compiles and runs)
    with warnings.catch_warnings(), ThreadPoolExecutor(max_workers=1) as side:  # the filter is global:
        warnings.simplefilter("ignore", SmallSampleWarning)  # set once here, for both threads
        pending = side.submit(fit_many, samples, method="bounded") if spec.bounded else None
        both = fit_many(list(samples) + [samples[b][:-k] for b, k in jobs])
        bounded = pending.result() if pending is not None else [None] * len(samples)
    fits, refits = both[: len(samples)], both[len(samples):]
    num, clipped = _fingers(fits, jobs, refits, len(samples), th)
    rows = []
    for b, f in enumerate(fits):
        row = dict(alpha=f.alpha, xmin=f.xmin, n_tail=int(f.n_tail), D=f.D, sigma=f.sigma,
                   num_fingers=int(num[b]), alpha_no_fingers=float(clipped[b]), p_value=math.nan)
        g = bounded[b]
        row.update(alpha_bounded=g.alpha if g else math.nan, xmin_bounded=g.xmin if g else math.nan,
                   n_tail_bounded=int(g.n_tail) if g else -1, D_bounded=g.D if g else math.nan)
        if spec.gof:
            row["p_value"] = float(gof(f, reps=spec.gof_reps, seed=layer_seed(seed, names[b])).p)
        rows.append(row)
    if spec.tpl:  # the truncated power law on each Clauset tail, all layers at once (htsr.report.tpl)
        for row, cols in zip(rows, tpl_columns(fits)):
            row.update(cols)
    return rows, fits
