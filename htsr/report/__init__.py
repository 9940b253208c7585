"""Uncertainty-aware spectral reports of trained networks: ``htsr.report(source)``.

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
from .options import BayesSpec, FitSpec, IntervalSpec, ReportSpec, Selection, Thresholds
from .result import COLUMNS, JSON_FIELDS, Report
from .spectra import LayerSpectrum
from .summary import NetworkSummary
from .verdict import LABELS, verdict

__all__ = ["report", "select", "Report", "NetworkSummary", "LayerSpectrum", "Selection", "Thresholds", "FitSpec",
           "IntervalSpec", "BayesSpec", "ReportSpec", "COLUMNS", "JSON_FIELDS", "METRIC_COLUMNS", "LABELS", "verdict",
           "spectrum_metrics", "alpha_metrics"]


# ``htsr.report`` is both this package and the function: once the package is imported,
# Python binds the attribute ``htsr.report`` to it, so the package itself forwards calls.
import sys as _sys
import types as _types


class _CallableModule(_types.ModuleType):
    def __call__(self, *args, **kwargs):
        return report(*args, **kwargs)


_sys.modules[__name__].__class__ = _CallableModule
