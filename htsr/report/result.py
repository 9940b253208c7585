"""The outcome of :func:`htsr.report`: a per-layer table, the network summary, and what made them."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field, fields
from pathlib import Path


from ..data import to_plain
from ..errors import HtsrError
from .options import ReportSpec
from .summary import NetworkSummary

__all__ = ["Report", "LayerRow", "Skipped", "COLUMNS", "JSON_FIELDS", "csv_safe", "skipped_counts"]

_NAN = math.nan  # a number that does not apply
_NO_COUNT = -1  # a count that does not apply


@dataclass(frozen=True, kw_only=True)
class LayerRow:
    """One layer's row of ``Report.layers`` until the table is made: a field per column, in order.

    What every row has (the layer, its spectrum's metrics, the verdict) is required;
    what only a fit, an interval, the Bayesian model or the calibration table gives
    defaults to "does not apply": NaN for a number, -1 for a count, ``""`` for text.
    docs/report.md describes each column.
    """

    # the layer
    index: int
    depth: int
    name: str
    kind: str
    shape: str
    N: int
    M: int
    Q: float
    n_evals: int
    # the Clauset fit and its interval
    alpha: float = _NAN
    alpha_lo: float = _NAN
    alpha_hi: float = _NAN
    alpha_se: float = _NAN
    interval_note: str = ""
    xmin: float = _NAN
    n_tail: int = _NO_COUNT
    D: float = _NAN
    sigma: float = _NAN
    p_value: float = _NAN
    # the bounded fit; fingers
    alpha_bounded: float = _NAN
    xmin_bounded: float = _NAN
    n_tail_bounded: int = _NO_COUNT
    D_bounded: float = _NAN
    num_fingers: int = _NO_COUNT
    alpha_no_fingers: float = _NAN
    # the truncated power law on the Clauset tail, and the nested test of the power law against it
    tpl_alpha: float = _NAN
    tpl_lambda: float = _NAN
    tpl_R: float = _NAN
    tpl_p: float = _NAN
    tpl_verdict: str = ""
    # the hierarchical posterior; mu from the calibration table
    alpha_bayes: float = _NAN
    alpha_bayes_lo: float = _NAN
    alpha_bayes_hi: float = _NAN
    mu: float = _NAN
    mu_lo: float = _NAN
    mu_hi: float = _NAN
    # the spectrum's metrics (two need alpha)
    lambda_max: float
    alpha_weighted: float = _NAN
    log_norm: float
    log_spectral_norm: float
    log_alpha_norm: float = _NAN
    stable_rank: float
    mp_softrank: float
    num_spikes: int
    entropy: float
    rank_loss: int
    # the Marchenko-Pastur bulk (htsr.rmt.fit_mp) and WeightWatcher's detX / ERG condition
    sigma_mp: float = _NAN
    bulk_min: float = _NAN
    bulk_max: float = _NAN
    detX_num: int = _NO_COUNT
    detX_val: float = _NAN
    ERG_gap: float = _NAN
    # the randomized ESD and its correlation traps (randomize=True; htsr.report.diagnostics)
    num_traps: int = _NO_COUNT
    rand_sigma_mp: float = _NAN
    rand_bulk_max: float = _NAN
    max_rand_eval: float = _NAN
    rand_distance: float = _NAN
    trap_entries: str = ""
    # localization of the top eigenvectors (vectors=k)
    n_vectors: int = _NO_COUNT
    loc_ratio: float = _NAN
    part_ratio: float = _NAN
    vec_entropy: float = _NAN
    # the verdict
    label: str
    verdict: str
    warning: str

    def to_dict(self) -> dict:
        """Column -> value, in :data:`COLUMNS` order."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


#: Columns of ``Report.layers``, in order (docs/report.md describes each): the fields of :class:`LayerRow`.
COLUMNS = tuple(f.name for f in fields(LayerRow))

#: Fields every record of report.json has, at least.
JSON_FIELDS = ("name", "N", "M", "alpha", "alpha_lo", "alpha_hi", "xmin", "n_tail", "D", "alpha_weighted",
               "log_norm", "log_spectral_norm", "stable_rank", "num_spikes", "warning")


@dataclass(frozen=True)
class Skipped:
    """A tensor of the source that got no row, and why.

    It unpacks as ``name, reason = skipped`` (so ``dict(report.skipped)`` maps names to
    reasons, as summary.json's ``skipped`` list of ``[name, reason]`` pairs does).

    Attributes
    ----------
    name : str
    reason : str
        Why, in a few words: ``"1-D: a norm has no spectrum"``, ``"tied to wte.weight
        (counted once)"``, ``"128x128 block scales of l.weight (applied)"``,
        ``"in shard b.safetensors but not in the index: not read"``.
    group : str
        The reason's group, plural, for counts (``"norm vectors"``, ``"biases"``,
        ``"scales"``, ``"tied weights"``, ``"kinds not asked for"``; see
        :meth:`htsr.weights.TensorInfo.skip_group`).
    """

    name: str
    reason: str
    group: str = "other tensors"

    def __iter__(self):
        return iter((self.name, self.reason))

    def __len__(self) -> int:
        return 2


def skipped_counts(skipped) -> dict:
    """Group -> number of tensors, largest first (ties in order of first appearance)."""
    counts: dict = {}
    for s in skipped:
        group = getattr(s, "group", "other tensors")
        counts[group] = counts.get(group, 0) + 1
    return dict(sorted(counts.items(), key=lambda kv: -kv[1]))


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
    skipped : tuple of Skipped
        Every tensor of the source that has no row, with why (:class:`Skipped`, unpacks as
        ``(name, reason)``): biases, norm vectors and scalars, tied weights (counted once),
        scale and zero-point tensors (applied to their weight), integer buffers, tensors of
        a kind not asked for, tensors a shard holds but its index omits...  Only tensors
        the ``layers``/``exclude`` filters left out are not listed
        (:func:`htsr.report.core.select`).  :meth:`skipped_line` counts them per group.
        Rows are in the source's order (``index``); ``depth`` is the order the network runs
        them (:func:`htsr.report.depth.depth_order`), which figures and the HTML table use.
    timings : dict
        Seconds spent per stage (``spectra``, ``fits``, ``intervals``, ``bayes``, ``total``); with a
        baseline, ``baseline`` is its report's time, counted in ``spectra`` and ``total`` too.
    comparison : Comparison or None
        With ``baseline=``: the comparison with the baseline (:class:`htsr.report.baseline.Comparison`);
        its columns (``alpha_base``, ``delta_alpha``, ``delta_alpha_lo``, ``delta_alpha_hi``,
        ``changed``, ``delta_note``) are then joined to ``layers`` too (docs/compare.md).
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
    comparison: object = field(default=None, repr=False)

    def records(self) -> list[dict]:
        """The rows as JSON-ready dicts (NaN and inf as None)."""
        return [to_plain(r) for r in self.layers.to_dict(orient="records")]

    def to_dict(self) -> dict:
        return dict(source=self.source, layers=self.records(), summary=to_plain(self.summary.to_dict()),
                    spec=to_plain(self.spec.to_dict()), skipped=[list(s) for s in self.skipped],
                    skipped_counts=skipped_counts(self.skipped),
                    timings=to_plain(self.timings),
                    **({} if self.comparison is None else {"comparison": self.comparison.to_dict()}))

    def warning_lines(self, repeat: int = 3) -> list[str]:
        """The rows' warnings and interval notes as lines for a terminal.

        A message shared by more than ``repeat`` layers (``"fp8 e4m3, 128x128 block
        scales applied"`` on every layer of an fp8 model) is one line that counts them
        and names the first; the others are one line per layer, ``"  warning: NAME: TEXT"``.
        """
        t = self.layers
        rows = [(n, "; ".join(x for x in (w, note) if x))
                for n, w, note in zip(t["name"], t["warning"], t["interval_note"])]
        by_text: dict = {}
        for name, text in rows:
            by_text.setdefault(text, []).append(name)
        lines, shown = [], set()
        for name, text in rows:  # in row order; a repeated message where it first appears
            if not text or text in shown:
                continue
            names = by_text[text]
            if len(names) > repeat:
                lines.append(f"  warning: {len(names)} layers ({names[0]}, ...): {text}")
                shown.add(text)
            else:
                lines.append(f"  warning: {name}: {text}")
        return lines

    def skipped_line(self) -> str:
        """One line counting the tensors with no row per reason, ``""`` when there are none.

        ``"not reported: 96 tensors (48 norm vectors, 46 biases, 2 scales); see summary.json"``:
        what ``htsr report`` prints; the full list is in summary.json and the HTML page.
        """
        if not self.skipped:
            return ""
        n = len(self.skipped)
        groups = ", ".join(f"{k} {g}" for g, k in skipped_counts(self.skipped).items())
        return f"not reported: {n} tensor{'s' if n != 1 else ''} ({groups}); see summary.json"

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
