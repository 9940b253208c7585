"""Power-law fitting: the xmin scan, batched fitting and result types."""

from .api import BatchFit, fit, fit_many, fit_padded
from .result import KSCurve, PowerLawFit

__all__ = ["fit", "fit_many", "fit_padded", "BatchFit", "PowerLawFit", "KSCurve"]
