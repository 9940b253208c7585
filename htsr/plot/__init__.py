"""Matplotlib figures.  Every function draws on an Axes (new or given) and returns it;
none calls ``plt.show()``."""

from .diagnostics import empirical_cdf, plot_bootstrap, plot_cdf, plot_llr
from .models import plot_models
from .powerlaw import empirical_ccdf, log_binned_density, plot_ccdf, plot_ks_curve, plot_pdf

__all__ = ["plot_cdf", "plot_bootstrap", "plot_llr", "empirical_cdf",
           "plot_pdf", "plot_ccdf", "plot_ks_curve", "plot_models", "log_binned_density", "empirical_ccdf"]
