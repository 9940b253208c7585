"""The RMT figures (Axes-returning functions) and the `htsr rmt` gallery command."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest

import htsr
from htsr import rmt
from htsr.cli.main import main
from htsr.errors import HtsrError
from htsr.plot import rmt as prmt


@pytest.fixture(scope="module")
def study():
    return htsr.calibrate("pareto", mu=[1.0, 2.5, 5.0], M=40, Q=2, reps=3, estimators=("clauset",), seed=0)


def test_figures_return_axes_with_content(study):
    ax = prmt.plot_gaussian_esds(M=60)
    assert len(ax.lines) == 3 and ax.get_legend() is not None
    ax = prmt.plot_heavy_tailed_esds(M=60)
    assert ax.get_xscale() == "log" and len(ax.lines) >= 3
    ax = prmt.plot_alpha_vs_mu(study)
    assert ax.get_ylabel().startswith("fitted")
    ev = rmt.esd(rmt.spiked(80, 2, [3.0]))
    ax = prmt.plot_esd_mp(ev, rmt.fit_mp(ev, 2))
    assert "1 above" in ax.get_legend().get_texts()[-1].get_text()
    plt.close("all")


def test_alpha_vs_mu_draws_the_study_it_is_given(study):
    """Points at the mean of the fitted alphas over replicates, bars one sd; the study is only read."""
    before = study.copy(deep=True)
    ax = prmt.plot_alpha_vs_mu(study)
    (bars,) = ax.containers
    points, _, (stems,) = bars
    fitted = study["alpha_hat"].sel(estimator="clauset", M=40, Q=2.0)
    np.testing.assert_array_equal(points.get_xdata(), [1.0, 2.5, 5.0])
    np.testing.assert_allclose(np.asarray(points.get_ydata(), float), fitted.mean("rep"), rtol=1e-12)
    half = [abs(seg[1, 1] - seg[0, 1]) / 2 for seg in stems.get_segments()]
    np.testing.assert_allclose(half, fitted.std("rep", ddof=1), rtol=1e-12)
    assert any(line.get_linestyle() == "--" for line in ax.lines)  # 1 + mu/2 past its class, mu = 5
    assert study.identical(before)
    plt.close("all")


def test_alpha_vs_mu_needs_a_study_over_mu():
    samples = htsr.calibrate("power_law", alpha=[2.0], n=[50], reps=2, estimators=("clauset",))
    with pytest.raises(HtsrError, match="study over mu"):
        prmt.plot_alpha_vs_mu(samples)


def test_cli_writes_the_gallery(tmp_path, capsys):
    out = tmp_path / "gallery"
    assert main(["rmt", str(out), "--size", "40", "--seeds", "1", "--dpi", "40"]) == 0
    names = sorted(p.name for p in out.iterdir())
    assert names == ["alpha_vs_mu.png", "gaussian_esd.png", "heavy_tailed_esd.png"]
    assert all((out / n).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for n in names)
    assert capsys.readouterr().out.count(".png") == 3


def test_cli_errors_are_one_line_exit_2(tmp_path, capsys):
    f = tmp_path / "file"
    f.write_text("x")
    assert main(["rmt", str(f)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("htsr: error:") and "is a file, not a folder" in err and err.count("\n") == 1
    assert main(["rmt", str(tmp_path / "d"), "--size", "3"]) == 2
    assert "--size" in capsys.readouterr().err
