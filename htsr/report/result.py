"""The outcome of :func:`htsr.report`: a per-layer table, the network summary, and what made them."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path


from ..data import to_plain
from ..errors import HtsrError
from .options import ReportSpec
from .summary import NetworkSummary

__all__ = ["Report", "COLUMNS", "JSON_FIELDS", "csv_safe"]

#: Columns of ``Report.layers``, in order (docs/report.md describes each).
COLUMNS = ("index", "depth", "name", "kind", "shape", "N", "M", "Q", "n_evals",
           "alpha", "alpha_lo", "alpha_hi", "alpha_se", "interval_note", "xmin", "n_tail", "D", "sigma", "p_value",
           "alpha_bounded", "xmin_bounded", "n_tail_bounded", "D_bounded",
           "num_fingers", "alpha_no_fingers",
           "alpha_bayes", "alpha_bayes_lo", "alpha_bayes_hi", "mu", "mu_lo", "mu_hi",
           "lambda_max", "alpha_weighted", "log_norm", "log_spectral_norm", "log_alpha_norm",
           "stable_rank", "mp_softrank", "num_spikes", "entropy", "rank_loss",
           "label", "verdict", "warning")

#: Fields every record of report.json has, at least.
JSON_FIELDS = ("name", "N", "M", "alpha", "alpha_lo", "alpha_hi", "xmin", "n_tail", "D", "alpha_weighted",
               "log_norm", "log_spectral_norm", "stable_rank", "num_spikes", "warning")


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(table):
    """A copy of ``table`` whose text cells a spreadsheet will not run as formulas.

    OWASP's rule for CSV injection: a cell that starts with ``=``, ``+``, ``-``, ``@``,
    a tab or a carriage return gets a leading single quote (a tensor named
    ``=HYPERLINK(...)`` is shown, not evaluated).  Numbers are left alone; the JSON
    files keep the names as they are.
    """
    from pandas.api.types import is_numeric_dtype

    out = table.copy()
    for col in out.columns:
        if not is_numeric_dtype(out[col]):
            out[col] = [("'" + v) if isinstance(v, str) and v.startswith(_FORMULA_START) else v for v in out[col]]
    return out


@dataclass(frozen=True, repr=False, eq=False)
class Report:
    """Per-layer spectra, fits and verdicts of one network.

    Attributes
    ----------
    layers : pandas.DataFrame
        One row per reported tensor, columns :data:`COLUMNS` (NaN where a number
        does not apply: no fit, no interval, no GoF asked).
    summary : NetworkSummary
    spec : ReportSpec
        The options that produced it.
    source : str
        What was read.
    spectra : tuple of LayerSpectrum
        Each row's ESD (``evals``) and fitted sample, for figures.
    fits : dict
        Layer name -> :class:`htsr.PowerLawFit` of its ESD.
    draws : dict
        Layer name -> bootstrap (or posterior) alphas (empty without intervals).
    skipped : tuple of (str, str)
        Tensors selected but not given a row, and why: tied weights (counted once), and
        matrices with no spectrum (integer without scales, complex, boolean, 3-D attention
        kernels, ...; biases and norms are not listed).  See :func:`htsr.report.core.select`.
        Rows are in the source's order (``index``); ``depth`` is the order the network runs
        them (:func:`htsr.report.depth.depth_order`), which figures and the HTML table use.
    timings : dict
        Seconds spent per stage (``spectra``, ``fits``, ``intervals``, ``bayes``, ``total``).
    """

    layers: object
    summary: NetworkSummary
    spec: ReportSpec
    source: str
    spectra: tuple = field(default=(), repr=False)
    fits: dict = field(default_factory=dict, repr=False)
    draws: dict = field(default_factory=dict, repr=False)
    skipped: tuple = ()
    timings: dict = field(default_factory=dict)

    def records(self) -> list[dict]:
        """The rows as JSON-ready dicts (NaN and inf as None)."""
        return [to_plain(r) for r in self.layers.to_dict(orient="records")]

    def to_dict(self) -> dict:
        return dict(source=self.source, layers=self.records(), summary=to_plain(self.summary.to_dict()),
                    spec=to_plain(self.spec.to_dict()), skipped=[list(s) for s in self.skipped],
                    timings=to_plain(self.timings))

    def write(self, out_dir) -> dict:
        """Write ``report.csv``, ``report.json`` (the records) and ``summary.json`` into ``out_dir``.

        The HTML page needs figures and so lives a layer up:
        :func:`htsr.plot.report.write_html` (the ``htsr report`` command writes all four).
        """
        out = Path(out_dir)
        try:
            out.mkdir(parents=True, exist_ok=True)
            paths = dict(csv=out / "report.csv", json=out / "report.json", summary=out / "summary.json")
            csv_safe(self.layers).to_csv(paths["csv"], index=False)
            paths["json"].write_text(json.dumps(self.records(), indent=1) + "\n")
            meta = {k: v for k, v in self.to_dict().items() if k != "layers"}
            paths["summary"].write_text(json.dumps(meta, indent=1) + "\n")
        except OSError as exc:
            raise HtsrError(f"cannot write the report into {out}: {exc}") from None
        return paths

    def __repr__(self) -> str:
        lines = [f"Report({self.source!r}, {len(self.layers)} layers)"]
        lines += [f"  {k}: {v}" for k, v in self.summary.lines()]
        return "\n".join(lines)
