"""htsr: heavy-tailed spectra.

Exact, fast power-law fits (Clauset, Shalizi & Newman 2009) in JAX, with
honest uncertainty.  The public API::

    htsr.fit(data, *, xmin=None, discrete=False, method="clauset")   # or method="bounded"
    htsr.gof(data, reps=1000, seed=0)     Clauset's bootstrap goodness-of-fit p-value
    htsr.bootstrap(data, reps=1000)       confidence intervals for alpha, xmin, n_tail
    htsr.compare(data, "lognormal")       power law versus lognormal (compare_all: Table 6.2)
    htsr.fit_many(samples, ...)
    htsr.calibrate("pareto", mu=..., M=..., Q=...)   estimator bias on generated data (xarray)
    htsr.report(source)           per-layer spectral report of a network (the package, callable)
    htsr.track(checkpoints)       the report of every checkpoint of a training run, by step (xarray; callable)
    htsr.smooth(path, out)        SVD smoothing of a safetensors file (WeightWatcher's SVDSmoothing)
    htsr.rmt                      random matrices, ESDs, Marchenko-Pastur, Tracy-Widom
    htsr.weights                  weight files as (name, array, kind): safetensors, torch, npz, Keras

``import htsr`` is cheap: the names above are imported on first use (PEP 562),
so the command line can answer an argument error before JAX is loaded.
Array-level helpers stay in their modules (``htsr.fitting.fit_padded``,
``htsr.fitting.BatchFit``, ``htsr._jax.enable_compilation_cache``).
"""

from __future__ import annotations

import importlib

from . import errors
from .errors import *  # noqa: F403  (every error and warning class, as htsr.<name>: errors.__all__ is the list)

__version__ = "0.1.0"

# public name -> module that defines it (imported on first attribute access)
_LAZY = {
    "fit": "htsr.fitting",
    "fit_many": "htsr.fitting",
    "PowerLawFit": "htsr.fitting",
    "KSCurve": "htsr.fitting",
    "FitSpec": "htsr.fitting",
    "gof": "htsr.inference",
    "bootstrap": "htsr.inference",
    "GofResult": "htsr.inference",
    "BootstrapResult": "htsr.inference",
    "compare": "htsr.inference",
    "compare_all": "htsr.inference",
    "fit_model": "htsr.inference",
    "CompareResult": "htsr.inference",
    "CompareAllResult": "htsr.inference",
    "TailFit": "htsr.inference",
    "calibrate": "htsr.calibration",
    "fit_binned": "htsr.fitting.binned",
    "BinnedFit": "htsr.fitting.binned",
    "gof_binned": "htsr.inference.binned",
    "BinnedGofResult": "htsr.inference.binned",
    "smooth": "htsr.report.smooth",
    "SmoothResult": "htsr.report.smooth",
}
# ``htsr.report`` is the package in every import order (a callable one: htsr/report/__init__.py)
_SUBMODULES = ("report", "rmt", "plot", "models", "fitting", "inference", "data", "special", "bayes",
               "calibration", "weights", "datasets", "track")

__all__ = [*_LAZY, "report", "track", "errors", "rmt", "weights", *errors.__all__]

# array-level helpers: not top-level names, but an AttributeError says where they are
_ELSEWHERE = {"fit_padded": "htsr.fitting", "BatchFit": "htsr.fitting", "enable_compilation_cache": "htsr._jax"}


def __getattr__(name: str):
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
    elif name in _SUBMODULES:
        value = importlib.import_module(f"htsr.{name}")
    else:
        where = f" (array-level: {_ELSEWHERE[name]}.{name})" if name in _ELSEWHERE else ""
        raise AttributeError(f"module 'htsr' has no attribute {name!r}{where}")
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))
