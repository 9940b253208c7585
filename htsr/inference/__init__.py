"""Inference on fitted tails: goodness of fit, bootstrap uncertainty, model comparison."""

from .gof import GofResult, gof, reps_for_precision
from .bootstrap import BootstrapResult, bootstrap
from .compare import CompareAllResult, CompareResult, TailFit, compare, compare_all, fit_model
from .lrt import LRTResult, likelihood_ratio

__all__ = ["GofResult", "gof", "reps_for_precision", "BootstrapResult", "bootstrap", "CompareResult", "TailFit",
           "CompareAllResult", "compare", "compare_all", "fit_model", "LRTResult", "likelihood_ratio"]
