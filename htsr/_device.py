"""Which JAX device htsr's array work runs on: ``"cpu"``, ``"gpu"`` or ``"auto"``.

One rule, for the report's ESDs, fits and bootstraps alike:

* ``"auto"``: the first GPU JAX sees (``jax.devices("gpu")``), else the CPU;
* ``"gpu"``: the first GPU, or an :class:`~htsr.errors.HtsrError` naming what JAX
  sees (``jax.devices()``) and how to install a CUDA build of JAX;
* ``"cpu"``: the CPU, even when a GPU is present (JAX's default device would be the GPU).

:func:`on_device` makes the chosen device JAX's default for the code run inside it
(``jax.default_device``, thread-local): the jitted fits and bootstrap refits place
their arrays there.  Float64 stays the caller's business (``htsr._jax.x64``, which
every public entry point uses).  JAX is imported only when a device is resolved.
"""

from __future__ import annotations

import os
from contextlib import contextmanager

from .errors import HtsrError

__all__ = ["DEVICES", "check_device", "resolve", "platform", "on_device", "run_on", "no_gpu_message"]

DEVICES = ("cpu", "gpu", "auto")


def check_device(device, name: str = "device") -> str:
    """``device`` if it is one of :data:`DEVICES`, else an HtsrError naming them."""
    if not isinstance(device, str) or device not in DEVICES:
        raise HtsrError(f"{name} must be one of {', '.join(DEVICES)}, got {device!r}")
    return device


def _gpus() -> list:
    import jax

    try:
        return list(jax.devices("gpu"))
    except RuntimeError:  # no GPU platform: a CPU-only jaxlib, JAX_PLATFORMS=cpu, or a plugin that failed
        return []


def no_gpu_message(name: str = "device") -> str:
    """Why ``"gpu"`` cannot be honoured: what JAX sees, and how to get a CUDA JAX."""
    import jax

    seen = ", ".join(repr(d) for d in jax.devices())
    env = os.environ.get("JAX_PLATFORMS")
    platforms = f", JAX_PLATFORMS={env!r}" if env else ""
    return (f"{name} gpu: JAX sees no GPU (jax.devices() = [{seen}]; jax {jax.__version__}{platforms}). "
            f"Install a CUDA build of JAX (pip install -U \"jax[cuda12]\", or \"jax[cuda13]\" for a CUDA 13 "
            f"driver; https://docs.jax.dev/en/latest/installation.html), or use {name} cpu or auto")


def resolve(device="auto", name: str = "device"):
    """The ``jax.Device`` that ``device`` names (a ``jax.Device`` is returned as it is).

    Raises
    ------
    HtsrError
        ``device`` is not one of :data:`DEVICES`, or it is ``"gpu"`` and JAX sees no GPU.
    """
    if not isinstance(device, str) and hasattr(device, "platform"):
        return device  # already a jax.Device (the tests force JAX's CPU backend this way)
    check_device(device, name)
    import jax

    if device == "cpu":
        return jax.devices("cpu")[0]
    gpus = _gpus()
    if gpus:
        return gpus[0]
    if device == "gpu":
        raise HtsrError(no_gpu_message(name))
    return jax.devices("cpu")[0]


def platform(device="auto", name: str = "device") -> str:
    """``"cpu"`` or ``"gpu"``: where ``device`` resolves on this machine (``"auto"`` becomes one of them)."""
    return "cpu" if resolve(device, name).platform == "cpu" else "gpu"


@contextmanager
def on_device(device="auto"):
    """Run the body with JAX's default device set to ``resolve(device)`` (thread-local)."""
    import jax

    with jax.default_device(resolve(device)):
        yield


def run_on(device, func, *args, **kwargs):
    """``func(*args, **kwargs)`` under :func:`on_device` (a picklable wrapper for Dask tasks)."""
    with on_device(device):
        return func(*args, **kwargs)
