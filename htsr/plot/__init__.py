"""Matplotlib figures.  Every function draws on an Axes (new or given) and returns it;
none calls ``plt.show()``."""

from .models import plot_models
from .powerlaw import empirical_ccdf, log_binned_density, plot_ccdf, plot_ks_curve, plot_pdf

__all__ = ["plot_pdf", "plot_ccdf", "plot_ks_curve", "plot_models", "log_binned_density", "empirical_ccdf"]
