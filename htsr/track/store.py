"""The trajectory Dataset: per-layer report numbers by step, stored as netCDF or Zarr.

Dims ``layer`` x ``step``; coordinate ``checkpoint`` (step) says what each step read.
Saved through :func:`htsr.calibration.table.save_study` (atomic: written beside the
store, then renamed over it; ``.zarr`` paths as Zarr, others as netCDF via h5netcdf).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ..calibration.table import save_study, storage_engine
from ..errors import HtsrError
from ..report.result import csv_safe

__all__ = ["VARIABLES", "STEP_VARIABLES", "SKIPPED", "skipped_at", "DESCRIPTIONS", "step_dataset", "append", "open_trajectory",
           "save_trajectory", "to_frame", "write_csv", "steps_of", "check_options"]

#: Per layer and step: the report's columns of the same name (``verdict`` holds the report's ``label``).
VARIABLES = ("alpha", "alpha_lo", "alpha_hi", "xmin", "n_tail", "alpha_weighted", "log_norm", "verdict")
#: Per step: the report's network summary.
STEP_VARIABLES = ("mean_alpha", "mean_alpha_lo", "mean_alpha_hi")
#: Per step: the tensors that checkpoint's report gave no row, with the reason (JSON ``{name: reason}``).
SKIPPED = "skipped"

DESCRIPTIONS = {
    "alpha": "power-law exponent of the layer's ESD tail (Clauset fit)",
    "alpha_lo": "lower end of alpha's interval (NaN without intervals)",
    "alpha_hi": "upper end of alpha's interval (NaN without intervals)",
    "xmin": "start of the fitted tail",
    "n_tail": "eigenvalues in the fitted tail (-1: no fit)",
    "alpha_weighted": "alpha * log10(lambda_max)",
    "log_norm": "log10 of the squared Frobenius norm",
    "verdict": "the report's label (heavy-tailed, under-trained, ...; empty where the layer is absent)",
    "mean_alpha": "mean alpha over the fitted layers",
    "mean_alpha_lo": "lower end of the mean's interval",
    "mean_alpha_hi": "upper end of the mean's interval",
    "skipped": "JSON object: each tensor of the checkpoint that got no row, and why (the report's skipped list)",
}
_FILL = {"n_tail": -1, "verdict": ""}


def _xr():
    import xarray as xr

    return xr


def step_dataset(rep, step: int, checkpoint: str, options: dict, *, unit: str = "step"):
    """One report as a Dataset with dims ``(layer, step=1)``; layers in the order the network runs them."""
    xr = _xr()
    t = rep.layers.sort_values(["depth", "index"])
    data = {}
    for v in VARIABLES:
        col = "label" if v == "verdict" else v
        values = t[col].to_numpy()
        values = values.astype(str) if v == "verdict" else values.astype(np.int64 if v == "n_tail" else np.float64)
        data[v] = (("layer", "step"), values[:, None])
    s = rep.summary
    for v in STEP_VARIABLES:
        data[v] = (("step",), np.array([getattr(s, v)], dtype=np.float64))
    data[SKIPPED] = (("step",), np.array([json.dumps(dict(rep.skipped), sort_keys=True)], dtype=str))
    coords = dict(layer=t["name"].to_numpy().astype(str), step=np.array([step], dtype=np.int64),
                  checkpoint=("step", np.array([checkpoint], dtype=str)))
    ds = xr.Dataset(data, coords=coords, attrs=dict(title="htsr training trajectory",
                                                    report_options=json.dumps(options, sort_keys=True),
                                                    step_unit=unit))
    return _describe(ds)


def _describe(ds):
    for name, var in ds.data_vars.items():
        var.attrs["description"] = DESCRIPTIONS.get(name, "")
    return ds


def steps_of(ds) -> set:
    return set() if ds is None else {int(s) for s in ds["step"].values}


def append(ds, new):
    """``ds`` with the steps of ``new`` added (layers: the union, old order first); sorted by step.

    A step already in ``ds`` is replaced by ``new``'s.  Layers absent at a step hold NaN,
    ``n_tail`` -1 and ``verdict`` ``""``.
    """
    if ds is None:
        return new
    xr = _xr()
    check_options(ds, json.loads(new.attrs["report_options"]))
    old = ds.drop_sel(step=sorted(steps_of(ds) & steps_of(new)))
    layers = list(old["layer"].values) + [x for x in new["layer"].values if x not in set(old["layer"].values)]
    parts = [p.reindex(layer=layers, fill_value=_fill_values(p)) for p in (old, new) if p.sizes["step"]]
    out = xr.concat(parts, dim="step", data_vars="all", coords="different", compat="equals", join="outer",
                    combine_attrs="override") if len(parts) > 1 else parts[0]
    return _describe(out.sortby("step"))


def check_options(ds, options: dict, where=None) -> None:
    """Raise unless ``ds`` was made with these report options (a store is extended only alike)."""
    stored = json.loads(ds.attrs.get("report_options", "{}"))
    diff = [f"{k}: stored {stored.get(k)!r}, asked {v!r}" for k, v in options.items() if stored.get(k) != v]
    if diff:
        raise HtsrError(f"the trajectory {f'store {where} ' if where else ''}was made with other report options "
                        f"({'; '.join(diff)}): use another store, or delete it to start again")


def _fill_values(ds) -> dict:
    return {v: _FILL.get(v, np.nan) for v in ds.data_vars}


def open_trajectory(path):
    """Load a stored trajectory (netCDF, or Zarr for ``.zarr``) into memory."""
    path = Path(path)
    if not path.exists():
        raise HtsrError(f"no trajectory at {path}")
    xr = _xr()
    try:
        with xr.open_dataset(path, engine=storage_engine(path)) as f:
            ds = f.load()
    except (OSError, ValueError, KeyError) as exc:
        raise HtsrError(f"{path} is not a readable trajectory store: {exc}") from None
    if "alpha" not in ds or "step" not in ds.dims or "report_options" not in ds.attrs:
        raise HtsrError(f"{path} is not an htsr trajectory store (no alpha by step / report_options)")
    for name in ("layer", "checkpoint"):
        ds = ds.assign_coords({name: (ds[name].dims, ds[name].values.astype(str))})
    ds["verdict"] = ds["verdict"].astype(str)
    if SKIPPED in ds:
        ds[SKIPPED] = ds[SKIPPED].astype(str)
    return _describe(ds)


def save_trajectory(ds, path) -> Path:
    """Write a trajectory to ``path`` atomically (``.zarr``: Zarr; otherwise netCDF)."""
    return save_study(ds, path)


def skipped_at(ds, step: int) -> dict:
    """``{tensor: reason}`` of the tensors the report of ``step`` gave no row ({} for a store without the record)."""
    if SKIPPED not in ds:
        return {}
    return json.loads(str(ds[SKIPPED].sel(step=step).item()) or "{}")


def to_frame(ds):
    """The trajectory in long format, one row per (step, layer), for spreadsheets."""
    t = ds[list(VARIABLES)].to_dataframe().reset_index()
    t = t[["step", "checkpoint", "layer", *VARIABLES]]
    return t[t["verdict"] != ""].reset_index(drop=True)  # a layer absent at a step has no row


def write_csv(ds, path) -> Path:
    path = Path(path)
    try:
        csv_safe(to_frame(ds)).to_csv(path, index=False)
    except OSError as exc:
        raise HtsrError(f"cannot write {path}: {exc}") from None
    return path
