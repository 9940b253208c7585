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


def _drawn(ax, i=0):
    xs, ys = ax.get_lines()[i].get_data()
    return np.asarray(xs, dtype=np.float64), np.asarray(ys, dtype=np.float64)


def overlapping_xlabels(ax):
    """Pairs of drawn x tick labels (major and minor, inside the view) whose boxes overlap."""
    fig = ax.figure
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    lo, hi = sorted(ax.get_xlim())
    drawn = []
    for minor in (False, True):
        locs = ax.xaxis.get_minorticklocs() if minor else ax.xaxis.get_majorticklocs()
        for loc, label in zip(locs, ax.xaxis.get_ticklabels(minor=minor)):
            if lo <= loc <= hi and label.get_visible() and label.get_text():
                drawn.append((label.get_text(), label.get_window_extent(renderer)))
    pairs = [(a, b) for i, (a, box_a) in enumerate(drawn) for b, box_b in drawn[i + 1:] if box_a.overlaps(box_b)]
    return pairs, [t for t, _ in drawn]


@pytest.fixture(scope="module")
def discrete_result():
    rng = np.random.default_rng(3)
    x = np.concatenate([rng.integers(1, 6, 400), np.floor(pareto(rng, 2.2, 1600))])
    return htsr.fit(x, discrete=True)


def test_pdf_is_a_density(result):
    """Continuous: the drawn bin densities integrate to 1 over the bins (every point is in one)."""
    from htsr.plot.powerlaw import log_binned_density

    ax = plot_pdf(result)
    xs, ys = _drawn(ax)
    binned = log_binned_density(result.data)
    edges = binned.edges
    assert edges[0] <= result.data.min() and edges[-1] >= result.data.max()
    keep = binned.counts > 0
    np.testing.assert_allclose(xs, binned.centers[keep])
    width = np.diff(edges)[keep]
    assert np.sum(ys * width) == pytest.approx(1.0, rel=1e-12)
    # recount each drawn bin straight from the data: count / (n * width)
    x, n = result.data, result.n
    lo, hi = edges[:-1][keep], edges[1:][keep]
    recount = [np.sum((x >= a) & ((x < b) | (b == edges[-1]))) for a, b in zip(lo, hi)]
    np.testing.assert_allclose(ys, np.array(recount) / (n * width), rtol=1e-12)
    plt.close(ax.figure)


def test_discrete_pdf_is_a_pmf_on_integer_bins(discrete_result):
    """Discrete: bins hold whole integers, the drawn values are a pmf (<= 1, sum of mass = 1)."""
    r = discrete_result
    x = r.data
    ax = plot_pdf(r)
    xs, ys = _drawn(ax)
    assert np.all(ys <= 1.0)
    # a one-integer bin is drawn on its integer with the exact empirical pmf
    assert xs[0] == 1.0 and ys[0] == pytest.approx(np.mean(x == 1), rel=1e-12)
    from htsr.plot.powerlaw import log_binned_density

    edges = log_binned_density(x, discrete=True).edges
    lower, upper = edges[:-1] + 0.5, edges[1:] - 0.5  # first and last integer of each bin
    np.testing.assert_array_equal(lower, np.round(lower))
    np.testing.assert_array_equal(upper, np.round(upper))
    assert np.all(upper >= lower) and lower[0] == x.min() and upper[-1] == x.max()
    n_ints = upper - lower + 1
    mass = np.array([np.sum((x >= a) & (x <= b)) for a, b in zip(lower, upper)]) / x.size
    keep = mass > 0
    np.testing.assert_allclose(ys, mass[keep] / n_ints[keep], rtol=1e-12)
    assert np.sum(ys * n_ints[keep]) == pytest.approx(1.0, rel=1e-12)
    # the fitted pmf is drawn at integers only
    gx, _ = _drawn(ax, 1)
    np.testing.assert_array_equal(gx, np.round(gx))
    plt.close(ax.figure)


def test_ccdf_has_one_point_per_distinct_value(result, discrete_result):
    rng = np.random.default_rng(5)
    tied = htsr.fit(np.round(pareto(rng, 2.5, 800), 1))  # continuous data with ties
    for r in (discrete_result, tied, result):
        for tail_only in (False, True):
            ax = plot_ccdf(r, tail_only=tail_only)
            xs, ys = _drawn(ax)
            data = r.tail if tail_only else r.data
            np.testing.assert_array_equal(xs, np.unique(data))
            np.testing.assert_allclose(ys, [np.mean(data >= v) for v in xs], rtol=1e-12)
            plt.close(ax.figure)


def test_discrete_ccdf_overlay_matches_the_data_convention(discrete_result):
    """Fitted and empirical CCDF are both P(X >= x), the fitted one at integers."""
    r = discrete_result
    ax = plot_ccdf(r)
    xs, ys = _drawn(ax)
    gx, gy = _drawn(ax, 1)
    np.testing.assert_array_equal(gx, np.round(gx))
    at_xmin = np.flatnonzero(xs == r.xmin)[0]
    assert gx[0] == r.xmin and gy[0] == pytest.approx(ys[at_xmin], rel=1e-12)
    plt.close(ax.figure)


@pytest.mark.parametrize("width", [3.0, 4.5, 6.0])
def test_log_x_tick_labels_do_not_overlap(width):
    """A tail spanning between one and two decades (matplotlib then labels 2,3,4,6 x 10^k)."""
    rng = np.random.default_rng(6)
    r = htsr.fit(np.exp(rng.uniform(np.log(150.0), np.log(8000.0), 400)))
    for draw in (plot_pdf, plot_ccdf, plot_ks_curve):
        fig, ax = plt.subplots(figsize=(width, 3))
        draw(r, ax=ax)
        pairs, labels = overlapping_xlabels(ax)
        assert not pairs, (draw.__name__, pairs)
        assert len(labels) >= 2, labels  # the axis still has a readable scale
        plt.close(fig)


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
