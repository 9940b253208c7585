"""Where parallel work runs: a Dask ``client`` argument, and BLAS threads on this machine.

Shared by the layer report and the calibration studies.  ``distributed`` is an
optional dependency (``pip install "htsr[dask]"``), imported only when a
scheduler address is given.  :func:`one_blas_thread` holds BLAS to one thread
while a pool of Python threads runs one eigendecomposition each
(``threadpoolctl``, a core dependency: without it the threads oversubscribe the
cores; docs/benchmarks.md).
"""

from __future__ import annotations

import contextlib
import os
import re

from .errors import HtsrError

__all__ = ["resolve_client", "check_address", "one_blas_thread", "MISSING"]

MISSING = 'running on a Dask cluster needs the optional package "distributed": pip install "htsr[dask]"'


_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://(.*)$")


def check_address(address, *, name: str = "scheduler") -> str:
    """A Dask scheduler address, ``SCHEME://HOST:PORT`` or ``HOST:PORT`` (port 1-65535), or an HtsrError.

    Checked before ``distributed`` sees it, whose own answers to a malformed address are a
    ``ValueError`` ("missing port number"), an ``int()`` error or a bare ``AssertionError``.
    ``inproc://`` addresses (one process) are passed through as they are.
    """
    text = str(address).strip()
    expected = "expected HOST:PORT or SCHEME://HOST:PORT (e.g. tcp://127.0.0.1:8786)"
    m = _SCHEME.match(text)
    scheme, rest = (m.group(1).lower(), m.group(2)) if m else (None, text)
    if scheme == "inproc":
        return text
    host, sep, port = rest.rpartition(":")
    if not sep or not port:
        raise HtsrError(f"{name} {text!r} is not a Dask scheduler address: no port number; {expected}")
    if ":" in host and not (host.startswith("[") and host.endswith("]")):
        raise HtsrError(f"{name} {text!r} is not a Dask scheduler address: an IPv6 host goes in brackets "
                        f"([::1]:8786); {expected}")
    if not host.strip("[]"):
        raise HtsrError(f"{name} {text!r} is not a Dask scheduler address: no host; {expected}")
    if not re.fullmatch(r"[0-9]{1,5}", port) or not 1 <= int(port) <= 65535:
        raise HtsrError(f"{name} {text!r} is not a Dask scheduler address: the port {port!r} is not an integer "
                        f"from 1 to 65535; {expected}")
    return text


def resolve_client(client, *, name: str = "scheduler"):
    """None, a ``distributed.Client``, or a scheduler address (``"tcp://host:8786"``) -> Client or None.

    A malformed address (:func:`check_address`) or one the scheduler refuses is an
    :class:`~htsr.errors.HtsrError`, before any work is done.
    """
    if client is None:
        return None
    if isinstance(client, (str, os.PathLike)):
        address = check_address(client, name=name)
        try:
            from distributed import Client
        except ImportError:
            raise HtsrError(f"{name}: {MISSING}") from None
        try:
            return Client(address, timeout="10s")
        except (OSError, TimeoutError) as exc:
            raise HtsrError(f"{name}: cannot reach the Dask scheduler at {address}: {exc}") from None
        except (ValueError, TypeError, AssertionError) as exc:  # distributed's answers to an address it cannot use
            raise HtsrError(f"{name} {address!r} is not a usable Dask scheduler address: {exc}") from None
    if not hasattr(client, "submit") or not hasattr(client, "gather"):
        raise HtsrError(f"client must be a distributed.Client or a scheduler address, got {client!r}")
    return client


@contextlib.contextmanager
def one_blas_thread():
    """Limit BLAS to one thread inside the block."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):
        yield
