"""One exception hierarchy for htsr.

Every error that htsr raises on purpose is an :class:`HtsrError`, which is a
:class:`ValueError`, so ``except ValueError`` keeps working for callers who do
not know about htsr.  The command line turns an :class:`HtsrError` into one
line on stderr and exit status 2.

Data that is used but altered (non-positive values dropped before a power-law
fit, for example) raises no error: it emits a :class:`DataAlteredWarning`
that says how much was changed.
"""

from __future__ import annotations

__all__ = ["HtsrError", "DataError", "FitError", "DataAlteredWarning", "SmallSampleWarning"]


class HtsrError(ValueError):
    """Base class of every error htsr raises on purpose."""


class DataError(HtsrError):
    """The input data cannot be used as given (NaN, empty, constant, ...)."""


class FitError(HtsrError):
    """A fit cannot be carried out on otherwise valid data (e.g. too short a tail)."""


class DataAlteredWarning(UserWarning):
    """The data was used, but only after htsr changed it (for example dropped zeros)."""


class SmallSampleWarning(UserWarning):
    """The fit ran, but on too few points for its numbers to mean much (see docs/fitting.md)."""


class WeightsError(HtsrError):
    """Weights cannot be read: a missing or corrupt file, an unknown format, a refused pickle."""


__all__ += ["WeightsError"]


class ConvergenceWarning(UserWarning):
    """An MCMC run finished but its diagnostics (divergences, r_hat > 1.01) say not to trust it yet."""


__all__ += ["ConvergenceWarning"]


class IntervalWarning(UserWarning):
    """An interval was computed, but not by the method asked for (see docs/uncertainty.md)."""


__all__ += ["IntervalWarning"]


class CheckpointWarning(UserWarning):
    """A report's checkpoint was not used as found: results of another source or options (docs/report.md)."""


__all__ += ["CheckpointWarning"]


class BaselineWarning(UserWarning):
    """A comparison with a baseline went on, but not for every layer, or with nothing to compare (docs/compare.md)."""


__all__ += ["BaselineWarning"]
