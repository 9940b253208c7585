"""Matplotlib figures.  Every function draws on an Axes (new or given) and returns it;
none calls ``plt.show()``."""

from .models import plot_models
from .powerlaw import plot_ccdf, plot_ks_curve, plot_pdf

__all__ = ["plot_pdf", "plot_ccdf", "plot_ks_curve", "plot_models"]
