"""Uncertainty-aware spectral reports of trained networks: ``htsr.report(source)``.

``htsr.report`` is this package in every import order, and the package is
callable: ``htsr.report(source, ...)`` is ``htsr.report.report(source, ...)``,
so ``htsr.report.Thresholds`` and the other names below sit beside the call.

::

    rep = htsr.report(htsr.weights.example_path("minilm"))     # bootstrap intervals, 1000 resamples
    rep.layers                  # pandas DataFrame, one row per weight matrix (COLUMNS)
    rep.summary                 # mean alpha and mean alpha_weighted with propagated intervals
    rep.write("report/")        # report.csv, report.json, summary.json
    htsr.plot.report.write_html(rep, "report/report.html")   # the self-contained page

The command line: ``htsr report SOURCE --out DIR`` (or ``--example minilm``).
See docs/report.md for every column, the verdicts, and the comparison with
WeightWatcher 0.7.7.
"""

from .core import report, select
from .metrics import METRIC_COLUMNS, alpha_metrics, spectrum_metrics
from .options import BayesSpec, IntervalSpec, LayerFitOptions, ReportSpec, Selection, Thresholds
from .result import COLUMNS, JSON_FIELDS, LayerRow, Report, Skipped
from .spectra import LayerSpectrum
from .summary import NetworkSummary
from .verdict import LABELS, verdict

__all__ = ["report", "select", "Report", "LayerRow", "Skipped", "NetworkSummary", "LayerSpectrum", "Selection", "Thresholds",
           "LayerFitOptions", "IntervalSpec", "BayesSpec", "ReportSpec", "COLUMNS", "JSON_FIELDS", "METRIC_COLUMNS",
           "LABELS", "verdict", "spectrum_metrics", "alpha_metrics"]


def __getattr__(name: str):
    if name == "FitSpec":  # renamed: htsr.FitSpec is a fit's own record, a different thing
        raise AttributeError("htsr.report.FitSpec is now htsr.report.LayerFitOptions")
    raise AttributeError(f"module 'htsr.report' has no attribute {name!r}")


# The package is callable (Python allows a module's class to be a ModuleType subclass): one
# name, ``htsr.report``, for both the call and its options, whatever was imported first.
import inspect as _inspect
import sys as _sys
import types as _types

__signature__ = _inspect.signature(report)


class _CallableModule(_types.ModuleType):
    def __call__(self, *args, **kwargs):
        return self.report(*args, **kwargs)  # the attribute, read at call time (patchable)


_sys.modules[__name__].__class__ = _CallableModule
