"""Power-law fitting: the xmin scan, batched fitting and result types."""

from .api import fit, fit_many
from .batch import BatchFit, fit_padded
from .result import KSCurve, PowerLawFit

__all__ = ["fit", "fit_many", "fit_padded", "BatchFit", "PowerLawFit", "KSCurve"]
