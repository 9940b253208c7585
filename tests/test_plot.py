"""Figures return Axes with the data and the fit drawn on them."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from conftest import pareto  # noqa: E402

import htsr  # noqa: E402
from htsr.plot import plot_ccdf, plot_ks_curve, plot_pdf  # noqa: E402


@pytest.fixture(scope="module")
def result():
    rng = np.random.default_rng(0)
    return htsr.fit(np.concatenate([rng.uniform(0.1, 1, 300), pareto(rng, 2.5, 700)]))


def test_ccdf_line_passes_through_the_tail(result):
    ax = plot_ccdf(result)
    data, fitted = ax.get_lines()[:2]
    xs, ys = fitted.get_data()
    # at xmin the fitted CCDF equals the tail fraction
    assert xs[0] == pytest.approx(result.xmin)
    assert ys[0] == pytest.approx(result.n_tail / result.n)
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    plt.close(ax.figure)


def test_pdf_is_a_density(result):
    ax = plot_pdf(result)
    xs, ys = ax.get_lines()[0].get_data()
    assert np.all(ys > 0) and len(xs) > 5
    plt.close(ax.figure)


def test_ks_curve_marks_the_minimum(result):
    _, ax = plt.subplots()
    out = plot_ks_curve(result, ax=ax)
    assert out is ax
    curve_line, marker = ax.get_lines()[:2]
    assert np.min(curve_line.get_data()[1]) == pytest.approx(result.D)
    assert marker.get_data()[0][0] == result.xmin
    plt.close(ax.figure)


def test_bounded_fit_is_drawn_with_the_bounded_law():
    rng = np.random.default_rng(4)
    u = rng.random(2000)
    x = (1 - u * (1 - 100.0**-1.5)) ** (-1 / 1.5)  # truncated Pareto, alpha = 2.5 on [1, 100]
    r = htsr.fit(x, method="bounded", xmin=1.0)
    ax = plot_ccdf(r)
    xs, ys = ax.get_lines()[1].get_data()
    assert ys[-1] == pytest.approx(r.ccdf(r.xmax) * r.n_tail / r.n)
    assert ys[-1] < 0.01 * (r.xmax / r.xmin) ** (1 - r.alpha)  # far below the unbounded line
    plt.close(ax.figure)
