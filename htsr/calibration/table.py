"""Stored calibration studies: open, save and summarise them, and the table shipped with htsr.

Free of the study machinery (no grid, no fitting): the layer report reads the
shipped table through this module and :func:`htsr.calibration.invert`.
Studies are :class:`xarray.Dataset` s stored as netCDF (through h5netcdf) or,
for a ``.zarr`` path, Zarr; each save is atomic (written beside the store, then
renamed over it).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np

from ..errors import HtsrError

__all__ = ["open_study", "save_study", "summarize", "load_table", "table_alphas", "storage_engine",
           "SUMMARIES", "DESCRIPTIONS",
           "TABLE_PATH"]

#: The precomputed table (:func:`load_table`).
TABLE_PATH = Path(__file__).resolve().parent / "data" / "pareto_layers.nc"

SUMMARIES = ("alpha_mean", "alpha_sd", "alpha_median", "bias", "rmse", "coverage", "n_fitted")

DESCRIPTIONS = {
    "alpha_hat": "fitted exponent",
    "alpha_lo": "lower end of the interval for alpha (Wald alpha - z sigma; Bayesian: HDI)",
    "alpha_hi": "upper end of the interval for alpha (Wald alpha + z sigma; Bayesian: HDI)",
    "xmin": "fitted start of the power-law tail",
    "D": "KS distance of the fit (NaN for the Bayesian estimator)",
    "n_tail": "points in the fitted tail",
    "n_values": "values fitted (sample size, or positive eigenvalues)",
    "done": "1 where the cell has been computed",
    "target": "the exponent the estimators aim at: alpha (power_law), 1 + mu/2 for mu < 4 "
              "(the heavy-tailed matrices' asymptotic ESD exponent), else NaN",
    "alpha_mean": "mean of alpha_hat over replicates",
    "alpha_sd": "standard deviation of alpha_hat over replicates (ddof=1)",
    "alpha_median": "median of alpha_hat over replicates",
    "bias": "alpha_mean - target",
    "rmse": "root mean squared error of alpha_hat about target",
    "coverage": "fraction of replicates whose interval contains target",
    "n_fitted": "replicates with a fit (an eligible xmin)",
}


def _xr():
    import xarray as xr

    return xr


def summarize(ds):
    """Add the per-cell summaries over replicates to a study (a new Dataset).

    ``alpha_mean``, ``alpha_sd``, ``alpha_median``, ``bias = alpha_mean - target``,
    ``rmse`` (about ``target``), ``coverage`` (fraction of replicates whose interval
    contains ``target``; NaN where there is no target) and ``n_fitted``, with dims
    (cell dims..., estimator).  Cells not yet computed are NaN.
    """
    ds = ds.drop_vars([v for v in SUMMARIES if v in ds])
    a, t = ds["alpha_hat"], ds["target"]
    out = {
        "alpha_mean": a.mean("rep"),
        "alpha_sd": a.std("rep", ddof=1),
        "alpha_median": a.median("rep"),
        "n_fitted": a.notnull().sum("rep").astype(np.int64),
    }
    out["bias"] = out["alpha_mean"] - t
    out["rmse"] = np.sqrt(((a - t) ** 2).mean("rep"))
    known = a.notnull() & ds["alpha_lo"].notnull() & ds["alpha_hi"].notnull() & t.notnull()
    inside = (ds["alpha_lo"] <= t) & (t <= ds["alpha_hi"])
    out["coverage"] = inside.where(known).mean("rep")
    ds = ds.assign(out)
    for name in SUMMARIES:
        ds[name].attrs["description"] = DESCRIPTIONS[name]
    return ds


def storage_engine(path: Path) -> str:
    """The xarray engine of a store path (``zarr`` for ``.zarr``, else ``h5netcdf``); raises if it is not installed."""
    if path.suffix == ".zarr":
        try:
            import zarr  # noqa: F401
        except ImportError:
            raise HtsrError(f'store {path}: Zarr stores need the optional package "zarr": '
                            'pip install "htsr[zarr]" (or use a .nc path)') from None
        return "zarr"
    try:
        import h5netcdf  # noqa: F401
    except ImportError:
        raise HtsrError(f'store {path}: netCDF stores need the package "h5netcdf": pip install h5netcdf') from None
    return "h5netcdf"


def open_study(path):
    """Load a stored study (netCDF or ``.zarr``) into memory, with its summaries."""
    path = Path(path)
    if not path.exists():
        raise HtsrError(f"no calibration study at {path}")
    xr = _xr()
    engine = storage_engine(path)
    try:
        with xr.open_dataset(path, engine=engine) as f:
            ds = f.load()
    except (OSError, ValueError, KeyError) as exc:
        raise HtsrError(f"{path} is not a readable calibration study: {exc}") from None
    if "alpha_hat" not in ds or "generator" not in ds.attrs:
        raise HtsrError(f"{path} is not an htsr calibration study (no alpha_hat / generator)")
    if "estimator" in ds.coords:
        ds = ds.assign_coords(estimator=ds["estimator"].values.astype(str))
    return summarize(ds)


def save_study(ds, path) -> Path:
    """Write a study to ``path`` atomically (``.zarr``: Zarr; otherwise netCDF via h5netcdf)."""
    path = Path(path)
    engine = storage_engine(path)
    if path.parent and not path.parent.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    if engine == "zarr":
        if tmp.exists():
            shutil.rmtree(tmp)
        ds.to_zarr(tmp, mode="w", zarr_format=2, consolidated=True)
        old = path.with_name(f".{path.name}.old{os.getpid()}")
        if path.exists():
            path.rename(old)
        tmp.rename(path)
        if old.exists():
            shutil.rmtree(old)
    else:
        ds.to_netcdf(tmp, engine="h5netcdf")
        os.replace(tmp, path)
    return path


def _shipped() -> Path:
    if not TABLE_PATH.exists():
        raise HtsrError(f"the calibration table {TABLE_PATH} is missing: regenerate it with "
                        "python3 benchmarks/make_calibration_table.py")
    return TABLE_PATH


def load_table():
    """The precomputed calibration table shipped with htsr (Pareto matrices, common layer shapes).

    Made by ``python3 benchmarks/make_calibration_table.py`` (docs/calibration.md says
    which grid); a Dataset like :func:`htsr.calibrate`'s.
    """
    return open_study(_shipped())


def table_alphas(estimator: str = "clauset") -> dict:
    """The shipped table's fitted alphas of one estimator, read with h5py (netCDF-4 is HDF5).

    ``{"alpha_hat": (mu, M, Q, rep) array, "mu", "M", "Q"}``: what :func:`load_table` holds,
    without xarray and its netCDF engine (about a second of a fresh process, which the report
    does not pay).  tests/test_calibration.py checks the report's inversions against
    :func:`htsr.calibration.invert` on :func:`load_table`.
    """
    import h5py

    with h5py.File(_shipped(), "r") as f:
        var = f["alpha_hat"]
        dims = [d[0].name.lstrip("/") for d in var.dims]  # its dimension scales, in order
        values = var[...]
        coords = {d: f[d][...] for d in dims}
    names = [n.decode() if isinstance(n, bytes) else str(n) for n in coords["estimator"]]
    if estimator not in names:
        raise HtsrError(f"estimator {estimator!r} is not in the shipped table (it has {', '.join(names)})")
    est = np.take(values, names.index(estimator), axis=dims.index("estimator"))
    rest = [d for d in dims if d != "estimator"]
    return {"alpha_hat": np.moveaxis(est, [rest.index(d) for d in ("mu", "M", "Q", "rep")], [0, 1, 2, 3]),
            "mu": coords["mu"].astype(np.float64), "M": coords["M"].astype(np.float64),
            "Q": coords["Q"].astype(np.float64)}
