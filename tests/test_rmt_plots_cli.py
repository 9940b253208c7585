"""The RMT figures (Axes-returning functions) and the `htsr rmt` gallery command."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np

from htsr import rmt
from htsr.cli.main import main
from htsr.plot import rmt as prmt


def test_figures_return_axes_with_content():
    ax = prmt.plot_gaussian_esds(M=60)
    assert len(ax.lines) == 3 and ax.get_legend() is not None
    ax = prmt.plot_heavy_tailed_esds(M=60)
    assert ax.get_xscale() == "log" and len(ax.lines) >= 3
    alphas = np.full((2, 2), 1.5)
    ax = prmt.plot_alpha_vs_mu([1.0, 2.0], alphas=alphas)
    assert ax.get_ylabel().startswith("fitted")
    ev = rmt.esd(rmt.spiked(80, 2, [3.0]))
    ax = prmt.plot_esd_mp(ev, rmt.fit_mp(ev, 2))
    assert "1 above" in ax.get_legend().get_texts()[-1].get_text()
    plt.close("all")


def test_alpha_vs_mu_measures_a_grid():
    a = prmt.alpha_vs_mu([1.0], M=60, n_seeds=2)
    assert a.shape == (1, 2) and np.all((a > 1.0) & (a < 3.0))


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
    assert err.startswith("htsr: error:") and "not a directory" in err and err.count("\n") == 1
    assert main(["rmt", str(tmp_path / "d"), "--size", "3"]) == 2
    assert "--size" in capsys.readouterr().err
