"""Power-law fitting: the xmin scan, batched fitting and result types."""

from .api import fit, fit_many, fit_spec
from .batch import BatchFit, fit_padded
from .result import FitSpec, KSCurve, PowerLawFit

__all__ = ["fit", "fit_many", "fit_spec", "fit_padded", "BatchFit", "FitSpec", "PowerLawFit", "KSCurve"]
