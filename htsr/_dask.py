"""Where parallel work runs: a Dask ``client`` argument, and BLAS threads on this machine.

Shared by the layer report and the calibration studies.  ``distributed`` is an
optional dependency (``pip install "htsr[dask]"``), imported only when a
scheduler address is given.  :func:`one_blas_thread` holds BLAS to one thread
while a pool of Python threads runs one eigendecomposition each (``threadpoolctl``,
when installed): on this 2-core machine under load, 39 MiniLM ESDs took 21 s
with OpenBLAS's own threads and 1.4 s with one thread per layer.
"""

from __future__ import annotations

import contextlib
import os

from .errors import HtsrError

__all__ = ["resolve_client", "one_blas_thread", "MISSING"]

MISSING = 'running on a Dask cluster needs the optional package "distributed": pip install "htsr[dask]"'


def resolve_client(client, *, name: str = "scheduler"):
    """None, a ``distributed.Client``, or a scheduler address (``"tcp://host:8786"``) -> Client or None."""
    if client is None:
        return None
    if isinstance(client, (str, os.PathLike)):
        try:
            from distributed import Client
        except ImportError:
            raise HtsrError(f"{name}: {MISSING}") from None
        try:
            return Client(str(client), timeout="10s")
        except (OSError, TimeoutError) as exc:
            raise HtsrError(f"{name}: cannot reach the Dask scheduler at {client}: {exc}") from None
    if not hasattr(client, "submit") or not hasattr(client, "gather"):
        raise HtsrError(f"client must be a distributed.Client or a scheduler address, got {client!r}")
    return client


@contextlib.contextmanager
def one_blas_thread():
    """Limit BLAS to one thread inside the block (no-op without ``threadpoolctl``)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        yield
        return
    with threadpool_limits(limits=1, user_api="blas"):
        yield
