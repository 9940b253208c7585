"""htsr.plot.diagnostics: plot_cdf, the bootstrap diagnostics and the pointwise log-likelihood-ratio plot."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest

import htsr
from htsr.inference.bootstrap import BootstrapResult
from htsr.plot import plot_bootstrap, plot_cdf, plot_llr
from htsr.plot.diagnostics import running_moments


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def test_plot_cdf_of_data_draws_the_empirical_cdf():
    x = np.array([3.0, 1.0, 2.0, 2.0, 10.0])
    ax = plot_cdf(x)
    line = ax.lines[0]
    np.testing.assert_array_equal(line.get_xdata(), [1.0, 2.0, 3.0, 10.0])
    np.testing.assert_allclose(line.get_ydata(), [0.2, 0.6, 0.8, 1.0])
    assert ax.get_xscale() == "log" and len(ax.lines) == 1


def test_plot_cdf_of_a_fit_draws_the_tail_and_the_law():
    rng = np.random.default_rng(0)
    x = (1 - rng.random(300)) ** (-1 / 1.5)
    fit = htsr.compare(x, "power_law", "exponential", xmin=1.0).model1
    ax = plot_cdf(fit, points=50)
    data, law = ax.lines
    np.testing.assert_array_equal(data.get_xdata(), np.unique(fit.tail))
    grid = law.get_xdata()
    np.testing.assert_allclose(law.get_ydata(), 1 - grid ** (1 - fit.params["alpha"]), rtol=1e-10)


def test_bootstrap_diagnostics_plot_running_mean_and_sd():
    draws = np.array([2.0, 2.4, np.nan, 1.8, 2.2, 2.6])
    res = BootstrapResult(fit=None, draws={"alpha": draws, "xmin": draws * 3}, intervals={}, standard_error={},
                          level=0.95, reps=6, seed=0)
    axes = plot_bootstrap(res)
    assert axes.shape == (2, 2)
    mean = axes[0, 0].lines[0].get_ydata()
    sd = axes[1, 0].lines[0].get_ydata()
    for r in range(1, 7):  # running moments of the first r draws, NaN skipped
        head = draws[:r]
        assert mean[r - 1] == pytest.approx(np.nanmean(head))
        if np.sum(np.isfinite(head)) > 1:
            assert sd[r - 1] == pytest.approx(np.nanstd(head, ddof=1))
        else:
            assert np.isnan(sd[r - 1])
    np.testing.assert_allclose(axes[0, 1].lines[0].get_ydata(), running_moments(draws * 3)[0])
    with pytest.raises(KeyError, match="no bootstrap draws of"):
        plot_bootstrap(res, params=("beta",))


def test_llr_plot_draws_each_points_log_likelihood_ratio():
    rng = np.random.default_rng(1)
    x = (1 - rng.random(300)) ** (-1 / 1.5)
    res = htsr.compare(x, "power_law", "exponential", xmin=1.0)
    ax = plot_llr(res)
    pts = ax.lines[0]
    np.testing.assert_array_equal(pts.get_xdata(), res.model1.tail)
    llr = np.asarray(pts.get_ydata())
    ref = res.model1.log_pdf(res.model1.tail) - res.model2.log_pdf(res.model2.tail)
    np.testing.assert_allclose(llr, ref, rtol=1e-9, atol=1e-12)
    assert llr.sum() == pytest.approx(res.R, rel=1e-9)
