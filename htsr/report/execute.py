"""Where the per-layer work runs: a thread pool on this machine, or a Dask cluster.

Local runs read tensors one at a time in the calling thread (the loaders are
lazy) and hand them to a pool of ``workers`` threads.  While ESDs run, BLAS is
held to one thread (``threadpoolctl``, when installed): layers in parallel use
the cores instead, and OpenBLAS threads never oversubscribe a busy machine
(docs/report.md, "Fits, intervals and fingers", has the measurement).
With a ``distributed.Client`` (or a scheduler address) each layer is a task
that reads its own tensor (for a source on a path the workers can see) and the
bootstrap chunks are tasks too: the numbers are the same as a local run's.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

from .._dask import one_blas_thread, resolve_client
from .spectra import layer_spectrum, spectrum_of

__all__ = ["resolve_client", "run_spectra", "run_chunks"]


def run_spectra(todo, open_stream, selection, fit, *, workers: int, client=None, source=None, tick=None):
    """:class:`~htsr.report.spectra.LayerSpectrum` of the layers ``todo`` (a list of ``(index, info)``).

    ``open_stream(names)`` opens a :func:`htsr.weights.load` stream of those tensors;
    returns a dict index -> LayerSpectrum.
    """
    if not todo:
        return {}
    if client is not None:
        return _dask_spectra(client, todo, open_stream, selection, fit, source, tick)
    index_of = {info.name: i for i, info in todo}
    out = {}
    with open_stream([info.name for _, info in todo]) as stream:
        if workers <= 1:
            with one_blas_thread():
                for tensor in stream:
                    i = index_of[tensor.name]
                    out[i] = layer_spectrum(i, tensor, selection, fit)
                    if tick:
                        tick()
            return out
        with one_blas_thread(), ThreadPoolExecutor(max_workers=workers) as pool:
            pending = []
            for tensor in stream:
                i = index_of[tensor.name]
                pending.append((i, pool.submit(layer_spectrum, i, tensor, selection, fit)))
                while len(pending) >= 2 * workers:  # bounded memory: ~2 tensors per worker in flight
                    j, fut = pending.pop(0)
                    out[j] = fut.result()
                    if tick:
                        tick()
            for j, fut in pending:
                out[j] = fut.result()
                if tick:
                    tick()
    return out


def _dask_spectra(client, todo, open_stream, selection, fit, source, tick):
    from distributed import as_completed

    futures = {}
    if isinstance(source, (str, os.PathLike)):  # each worker reads its own tensor
        path = os.path.abspath(source)  # a worker's working directory is not ours
        for i, info in todo:
            fut = client.submit(spectrum_of, i, path, info.name, info.layout, selection, fit,
                                pure=False)
            futures[fut] = i
    else:  # an in-memory source: ship each tensor to a worker
        index_of = {info.name: i for i, info in todo}
        with open_stream([info.name for _, info in todo]) as stream:
            for tensor in stream:
                i = index_of[tensor.name]
                futures[client.submit(layer_spectrum, i, tensor, selection, fit, pure=False)] = i
    out = {}
    for fut in as_completed(list(futures)):
        out[futures[fut]] = fut.result()
        if tick:
            tick()
    return out


def run_chunks(func, chunks, *, client=None, tick=None):
    """``[func(*args) for args in chunks]``, as Dask tasks when there is a client."""
    if client is None:
        results = []
        for args in chunks:
            results.append(func(*args))
            if tick:
                tick(args)
        return results
    futures = [client.submit(func, *args, pure=False) for args in chunks]
    results = []
    for fut, args in zip(futures, chunks):
        results.append(fut.result())
        if tick:
            tick(args)
    return results
