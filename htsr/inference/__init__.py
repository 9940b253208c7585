"""Inference on fitted tails: goodness of fit, bootstrap uncertainty, model comparison."""

from .gof import GofResult, gof, reps_for_precision
from .bootstrap import BootstrapResult, bootstrap
