"""Power-law fitting: the xmin scan, the engine every fit goes through, and result types."""

from .api import fit, fit_many, fit_spec
from .refit import fit_padded, refit
from .result import BatchFit, FitSpec, KSCurve, PowerLawFit

__all__ = ["fit", "fit_many", "fit_spec", "fit_padded", "refit", "BatchFit", "FitSpec", "PowerLawFit", "KSCurve"]
