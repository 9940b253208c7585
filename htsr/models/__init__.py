"""Tail models: one module per law, each a set of pure JAX functions.

Every law exposes the same functions of ``(x, params, xmin)``: ``log_pdf``,
``cdf``, ``ccdf``, ``sample`` and ``mle``.  The fitters, the bootstrap and the
Bayesian models all call these, so each density exists exactly once.
"""

from . import powerlaw

__all__ = ["powerlaw"]

from . import bounded  # noqa: E402

__all__ += ["bounded"]

from . import cutoff, exponential, lognormal, stretched  # noqa: E402

__all__ += ["exponential", "stretched", "lognormal", "cutoff"]
