"""Run a calibration study in-process or on a Dask cluster, store it, resume it.

The result is an :class:`xarray.Dataset`; :func:`calibrate` documents its layout.
A study given a ``store`` path is saved there while it runs (netCDF through
h5netcdf, or Zarr for a ``.zarr`` path; each save is atomic: written beside the
store, then renamed over it) and, if the path already holds a study of the same
grid settings, resumes: only cells not yet stored are computed.  Reading and
writing stores, and the summaries, are :mod:`htsr.calibration.table`'s.
"""

from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from .._dask import one_blas_thread, resolve_client
from .._progress import resolve
from ..data import check_output, to_plain
from ..errors import HtsrError
from ..rmt import esd_exponent
from .cells import FIELDS, cell_keys, fit_cell, replicate_esd, run_cell, spectra_rows
from .grid import Grid, make_grid
from .table import DESCRIPTIONS, open_study, save_study, storage_engine, summarize

__all__ = ["calibrate"]


def _target(grid: Grid) -> np.ndarray:
    if grid.param == "alpha":
        return np.asarray(grid.values, dtype=np.float64)
    if grid.param == "mu":
        return np.atleast_1d(esd_exponent(np.asarray(grid.values, dtype=np.float64)))
    return np.asarray(np.nan)


def _empty(grid: Grid):
    """The study's Dataset with every cell missing (NaN, n_tail 0, done 0)."""
    import xarray as xr  # imported on first use, so importing htsr.calibration stays cheap

    coords = dict(grid.coords)
    coords["estimator"] = np.asarray(grid.estimators, dtype=object).astype(str)
    coords["rep"] = np.arange(grid.reps, dtype=np.int64)
    shape = tuple(len(coords[d]) for d in grid.dims)
    E, R = len(grid.estimators), grid.reps
    cell_dims = grid.dims
    full = (*cell_dims, "estimator", "rep")
    data = {f: (full, np.full((*shape, E, R), np.nan)) for f in FIELDS}
    data["n_tail"] = (full, np.zeros((*shape, E, R), dtype=np.int64))
    data["n_values"] = ((*cell_dims, "rep"), np.zeros((*shape, R), dtype=np.int64))
    data["done"] = (cell_dims, np.zeros(shape, dtype=np.int8))
    data["target"] = ((grid.param,) if grid.param else (), _target(grid))
    ds = xr.Dataset(data, coords=coords, attrs={**grid.attrs(), "title": f"htsr calibration study ({grid.generator})"})
    for name, var in ds.data_vars.items():
        var.attrs["description"] = DESCRIPTIONS[name]
    return ds


def _fill(ds, grid: Grid, cell: dict, result: dict) -> None:
    idx = grid.index(cell)
    for f in (*FIELDS, "n_tail"):
        ds[f].values[idx] = result[f]
    ds["n_values"].values[idx] = result["n_values"]
    ds["done"].values[idx] = 1


# ------------------------------------------------------------------ resuming
def _resume(ds, grid: Grid, path: Path) -> int:
    """Copy the stored cells of ``path`` into ``ds``; how many were copied."""
    old = open_study(path)
    want = grid.attrs()
    diff = [f"{k}: stored {to_plain(old.attrs.get(k))!r}, asked {v!r}" for k, v in want.items()
            if str(old.attrs.get(k)) != str(v)]  # plain values: 0, not np.int64(0)
    if diff:
        raise HtsrError(f"store {path} holds a different study ({'; '.join(diff)}): "
                        "use another path, or delete it to start again")
    copied = 0
    for cell in grid.cells():
        try:
            sel = {d: _match(old[d].values, v, d) for d, v in cell.items()}
        except KeyError:
            continue
        if int(old["done"].values[tuple(sel[d] for d in grid.dims)]) != 1:
            continue
        src = old.isel(sel)
        idx = grid.index(cell)
        for f in (*FIELDS, "n_tail", "n_values"):
            ds[f].values[idx] = src[f].values
        ds["done"].values[idx] = 1
        copied += 1
    return copied


def _match(values, v, dim):
    hit = np.flatnonzero(np.isclose(values.astype(np.float64), float(v), rtol=1e-9, atol=0))
    if hit.size == 0:
        raise KeyError(dim)
    return int(hit[0])


# ------------------------------------------------------------------ the study
def calibrate(generator: str, *, mu=None, M=None, Q=None, alpha=None, n=None,
              estimators=("clauset", "bounded"), reps: int = 20, seed: int = 0, min_tail: int | None = None,
              level: float = 0.95, client=None, store=None, progress=None, save_every: float = 10.0):
    """Calibrate power-law estimators on data with a known answer.

    For every cell of the grid -- a value of the generator's parameter and a size --
    ``reps`` replicates are drawn, their spectra taken (matrices) and every
    estimator fitted, all replicates of a cell in one batch
    (:func:`htsr.calibration.cells.run_cell` says exactly what each estimator is).

    Parameters
    ----------
    generator : {"power_law", "pareto", "student_t", "gaussian"}
        ``power_law``: samples of size ``n`` from the continuous power law with density
        exponent ``alpha`` above xmin = 1 (the seed posts' N = 1000 study).
        ``pareto`` / ``student_t``: ``N x M`` matrices (``N = round(Q M)``) with i.i.d.
        symmetric Pareto / Student-t entries of tail index ``mu``
        (:func:`htsr.rmt.pareto`, :func:`htsr.rmt.student_t`), fitted on the ESD of
        ``W^T W / N``.  ``gaussian``: Gaussian entries (Marchenko-Pastur; no parameter).
    mu, alpha : float or sequence of float
        The generator's parameter: ``mu > 0`` (matrices) or ``alpha > 1`` (power_law).
    M, Q : int / float or sequences
        Matrix sizes: ``M >= 2`` columns, aspect ratios ``Q >= 1`` (default 1000 and 2).
    n : int or sequence of int
        Sample sizes of ``power_law`` (default 1000).
    estimators : sequence of str
        Any of ``"clauset"``, ``"unbiased"``, ``"bounded"``, ``"bayes"``.
    reps : int
        Replicates per cell.
    seed : int
        Cell ``c``'s replicate ``r`` uses a key derived from ``seed``, the generator,
        ``c``'s coordinates and ``r`` only: results do not depend on the schedule.
    min_tail : int, optional
        Fewest tail points the xmin scan may keep (default: the scan's).
    level : float
        Coverage of the intervals (Wald for the MLEs, HDI for ``bayes``).
    client : distributed.Client or str, optional
        Run one task per cell on this Dask cluster (or the scheduler at this address);
        the numbers are those of an in-process run.  Needs ``pip install "htsr[dask]"``.
    store : path, optional
        Save the study there while it runs (``.zarr``: Zarr, else netCDF), at most every
        ``save_every`` seconds, at the end, and when interrupted; resume from it if it
        already holds cells of the same study.
    progress : None, bool or callable
        Cells done: True for a bar with the time left (on a terminal), or a callable
        ``progress(done, total)`` over the cells computed in this call.

    Returns
    -------
    xarray.Dataset
        Dims: the generator's parameter (``alpha`` or ``mu``; none for ``gaussian``),
        the sizes (``n``, or ``M`` and ``Q``), ``estimator``, ``rep``.  Variables
        ``alpha_hat``, ``alpha_lo``, ``alpha_hi``, ``xmin``, ``D``, ``n_tail`` per
        (cell, estimator, replicate); ``n_values`` per (cell, replicate); ``done`` per
        cell; ``target`` per parameter value; and the summaries of :func:`summarize`
        (``alpha_mean``, ``alpha_sd``, ``bias``, ``rmse``, ``coverage``, ...).  The
        grid's settings are in ``attrs``.
    """
    grid = make_grid(generator, mu=mu, alpha=alpha, M=M, Q=Q, n=n, estimators=estimators, reps=reps,
                     seed=seed, min_tail=min_tail, level=level)
    tick = resolve(progress, "calibrate")
    if isinstance(save_every, bool) or not isinstance(save_every, (int, float)) or save_every < 0:
        raise HtsrError(f"save_every must be a number of seconds >= 0, got {save_every!r}")
    path = None if store is None else Path(store)
    if path is not None:
        storage_engine(path)
        check_output(path, "store", folder=path.suffix == ".zarr" and path.is_dir())  # before any cell runs
    client = resolve_client(client, name="client")
    ds = _empty(grid)
    if path is not None and path.exists():
        _resume(ds, grid, path)
    todo = [c for c in grid.cells() if ds["done"].values[grid.index(c)] != 1]
    last = time.monotonic()
    done = 0

    def record(cell, result):
        nonlocal last, done
        _fill(ds, grid, cell, result)
        done += 1
        if tick:
            tick(done, len(todo))
        if path is not None and time.monotonic() - last >= save_every and done < len(todo):
            save_study(summarize(ds), path)
            last = time.monotonic()

    try:
        if client is None:
            _in_process(grid, todo, record)
        else:
            _on_cluster(client, grid, todo, record)
    except BaseException:
        if path is not None and done:
            save_study(summarize(ds), path)  # keep what was computed; the next call resumes
        raise
    ds = summarize(ds)
    if path is not None and (done or not path.exists()):
        _save_or_keep(ds, path)
    return ds


def _save_or_keep(ds, path: Path) -> None:
    """The final save; if ``path`` cannot be written now, the study goes to a temporary file and the
    error says where, so that a finished computation is never lost to a failed write."""
    try:
        save_study(ds, path)
    except OSError as exc:
        import tempfile

        fd, spare = tempfile.mkstemp(prefix="htsr-study-", suffix=path.suffix or ".nc")
        os.close(fd)
        os.unlink(spare)
        save_study(ds, spare)
        raise HtsrError(f"cannot write the study to {path} ({exc.strerror or exc}); "
                        f"it was saved to {spare} instead") from None


def _in_process(grid: Grid, todo: list, record) -> None:
    """The cells in order, each fitted (here) while the worker threads already draw and
    eigendecompose the replicates of the next ones.

    Every replicate is its own job (:func:`~htsr.calibration.cells.replicate_esd`) in one
    pool of one-BLAS-thread workers for the whole study, with the jobs of ``_AHEAD`` cells
    queued: no worker waits at the end of a cell for the other's last matrix, and memory
    is a matrix per worker plus the spectra of the queued cells.  Each cell's numbers are
    :func:`run_cell`'s."""
    workers = min(grid.reps, os.cpu_count() or 1)
    if grid.generator == "power_law" or workers == 1 or not todo:
        for cell in todo:
            record(cell, run_cell(grid, cell))
        return
    with one_blas_thread(), ThreadPoolExecutor(max_workers=workers) as pool:
        queued: list = []

        def enqueue(k):
            if k < len(todo):
                cell = todo[k]
                queued.append([pool.submit(replicate_esd, grid, cell, key) for key in cell_keys(grid, cell)])

        for k in range(_AHEAD):
            enqueue(k)
        try:
            for k, cell in enumerate(todo):
                futures = queued.pop(0)
                enqueue(k + _AHEAD)
                record(cell, fit_cell(grid, *spectra_rows([f.result() for f in futures])))
        except BaseException:
            for futures in queued:
                for f in futures:
                    f.cancel()
            raise


_AHEAD = 2  # cells whose replicates are queued while one is fitted


def _on_cluster(client, grid: Grid, todo: list, record) -> None:
    from distributed import as_completed

    futures = {client.submit(run_cell, grid, cell, pure=False): i for i, cell in enumerate(todo)}
    try:
        for fut in as_completed(futures):
            record(todo[futures[fut]], fut.result())
    except BaseException:
        client.cancel(list(futures))
        raise
