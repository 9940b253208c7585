"""Where the per-layer work runs: a thread pool on this machine, or a Dask cluster.

Local runs read tensors one at a time in the calling thread (the loaders are
lazy) and hand them to a pool of ``workers`` threads.  While ESDs run, BLAS is
held to one thread (``threadpoolctl``, when installed): layers in parallel use
the cores instead, and OpenBLAS threads never oversubscribe a busy machine
(docs/report.md, "Fits, intervals and fingers", has the measurement).
Tensors read block by block (safetensors: ``htsr.weights.load(..., lazy=True)``)
hold no values until their ESD runs, so all of them are queued at once, the
costliest first (``k M^2 (N + M)`` flops): the last layers to finish are small
ones and no core idles at the end; memory in flight is one Gram matrix and a
block or two per worker (docs/benchmarks.md, "Speed and memory at LLM scale").
Tensors read whole (other formats) go as they come, at most ``2 * workers`` in
flight.
With a ``distributed.Client`` (or a scheduler address) each layer is a task
that reads its own tensor (for a source on a path the workers can see) and the
bootstrap chunks are tasks too: the numbers are the same as a local run's.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor, as_completed


from .._dask import one_blas_thread, resolve_client
from ..rmt.esd import is_blocked
from .spectra import esd_cost, layer_spectrum, spectrum_of

__all__ = ["resolve_client", "run_spectra", "run_chunks"]


def run_spectra(todo, open_stream, selection, fit, *, workers: int, client=None, source=None,
                on_result=None):
    """:class:`~htsr.report.spectra.LayerSpectrum` of the layers ``todo`` (a list of ``(index, info)``).

    ``open_stream(names)`` opens a :func:`htsr.weights.load` stream of those tensors;
    returns a dict index -> LayerSpectrum.  ``on_result(index, spectrum)``, when given, is
    called in the calling thread as each layer's result is collected:
    the report's checkpoint saves it there (:mod:`htsr.report.resume`).
    """
    if not todo:
        return {}
    if client is not None:
        return _dask_spectra(client, todo, open_stream, selection, fit, source, on_result)
    index_of = {info.name: i for i, info in todo}
    out = {}

    def collect(j, spectrum):
        out[j] = spectrum
        if on_result:
            on_result(j, spectrum)

    with open_stream([info.name for _, info in todo]) as stream:
        if workers <= 1:
            with one_blas_thread():
                for tensor in stream:
                    i = index_of[tensor.name]
                    collect(i, layer_spectrum(i, tensor, selection, fit))
            return out
        with one_blas_thread(), ThreadPoolExecutor(max_workers=workers) as pool:
            pending, lazy = [], []
            for tensor in stream:
                if is_blocked(tensor.array):  # nothing read yet: held, then run largest first
                    lazy.append(tensor)
                    continue
                i = index_of[tensor.name]
                pending.append((i, pool.submit(layer_spectrum, i, tensor, selection, fit)))
                while len(pending) >= 2 * workers:  # bounded memory: ~2 read tensors per worker in flight
                    collect(*_result(pending.pop(0)))
            for j, fut in pending:
                collect(j, fut.result())
            lazy.sort(key=lambda t: esd_cost(t.info), reverse=True)
            futures = {pool.submit(layer_spectrum, index_of[t.name], t, selection, fit): index_of[t.name]
                       for t in lazy}
            for fut in as_completed(futures):
                collect(futures[fut], fut.result())
    return out


def _result(item):
    j, fut = item
    return j, fut.result()


def _dask_spectra(client, todo, open_stream, selection, fit, source, on_result=None):
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
        if on_result:
            on_result(futures[fut], out[futures[fut]])
    return out


def run_chunks(func, chunks, *, client=None, tick=None, on_result=None):
    """``[func(*args) for args in chunks]``, as Dask tasks when there is a client.

    ``on_result(args, result)``, when given, is called in the calling thread as each result
    is collected (before ``tick(args)``): the report's checkpoint saves bootstrap chunks there.
    """
    if client is None:
        results = []
        for args in chunks:
            results.append(func(*args))
            if on_result:
                on_result(args, results[-1])
            if tick:
                tick(args)
        return results
    futures = [client.submit(func, *args, pure=False) for args in chunks]
    results = []
    for fut, args in zip(futures, chunks):
        results.append(fut.result())
        if on_result:
            on_result(args, results[-1])
        if tick:
            tick(args)
    return results
