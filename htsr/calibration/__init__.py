"""Calibration studies: how power-law estimators behave on data with a known answer.

The seed studies of this field (docs/calibration.md): power-law samples of size
1000 with known alpha (where does the Clauset estimator work?), and heavy-tailed
random matrices of tail index ``mu`` at sizes ``M`` and aspect ratios ``Q``
(finite-size bias of the fitted ESD exponent against the line ``1 + mu/2``).

Main entry points::

    calibrate(generator, *, mu|alpha, M, Q | n, estimators, reps, seed, client, store)
        -> xarray.Dataset (alpha_hat by parameter, size, estimator, replicate + summaries)
    summarize(ds)                        mean, sd, bias, RMSE, coverage per cell
    line_fit(ds, lo, hi, ...)            slope and intercept of alpha_hat vs mu
    invert(ds, alpha, M=..., Q=...)      fitted alpha -> generator parameter, with an interval
    correct(fit, ds, ...)                bias-corrected exponent of an htsr.fit result
    load_table()                         the precomputed table for common layer shapes
    open_study(path), save_study(ds, path)

Modules: ``grid`` (the cells), ``cells`` (one cell's draws and fits), ``study``
(running, storing while running, resuming), ``table`` (stored studies and the
shipped table: no study machinery), ``use`` (line fit, inversion, correction).
"""

from .grid import ESTIMATORS, GENERATORS, Grid, make_grid
from .table import SUMMARIES, TABLE_PATH, load_table, open_study, save_study, summarize
from .use import Inversion, LineFit, correct, invert, line_fit

# the study machinery (draws, ESDs, fits: SciPy's stats and optimize) is imported when first used,
# so that reading the shipped table, as every report does, does not load it
_LAZY = {"calibrate": ".study", "run_cell": ".cells"}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name], __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["calibrate", "summarize", "open_study", "save_study", "line_fit", "invert", "correct",
           "load_table", "Inversion", "LineFit", "Grid", "make_grid", "run_cell", "GENERATORS",
           "ESTIMATORS", "SUMMARIES", "TABLE_PATH"]
