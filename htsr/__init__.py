"""htsr: heavy-tailed spectra.

Exact, fast power-law fits (Clauset, Shalizi & Newman 2009) in JAX, with
honest uncertainty.  The public API::

    htsr.fit(data, *, xmin=None, discrete=False, method="clauset")   # or method="bounded"
    htsr.gof(data, reps=1000, seed=0)     Clauset's bootstrap goodness-of-fit p-value
    htsr.bootstrap(data, reps=1000)       confidence intervals for alpha, xmin, n_tail
    htsr.compare(data, "power_law", "lognormal")   likelihood-ratio tests (compare_all: Table 6.2)
    htsr.fit_many(samples, ...)
    htsr.rmt                      random matrices, ESDs, Marchenko-Pastur, Tracy-Widom
"""

from . import errors, rmt
from ._jax import enable_compilation_cache
from .errors import DataAlteredWarning, DataError, FitError, HtsrError
from .fitting import BatchFit, KSCurve, PowerLawFit, fit, fit_many, fit_padded
from .inference import BootstrapResult, CompareResult, GofResult, TailFit, bootstrap, compare, compare_all, fit_model, gof

__version__ = "0.1.0"

__all__ = [
    "fit",
    "fit_many",
    "fit_padded",
    "PowerLawFit",
    "BatchFit",
    "KSCurve",
    "gof",
    "bootstrap",
    "GofResult",
    "BootstrapResult",
    "compare",
    "compare_all",
    "fit_model",
    "CompareResult",
    "TailFit",
    "errors",
    "rmt",
    "HtsrError",
    "DataError",
    "FitError",
    "DataAlteredWarning",
    "enable_compilation_cache",
]
