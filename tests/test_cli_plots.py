"""What the `htsr` figure options draw and say: the path written, readable tick labels, plain help."""

import json

import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from conftest import pareto  # noqa: E402
from test_plot import overlapping_xlabels  # noqa: E402

from htsr.cli import compare as compare_cli  # noqa: E402
from htsr.cli.main import main  # noqa: E402


@pytest.mark.parametrize("json_flag", [[], ["--json"]])
def test_fit_plot_names_the_file(tmp_path, capsys, json_flag):
    path = tmp_path / "x.txt"
    np.savetxt(path, pareto(np.random.default_rng(0), 2.5, 300))
    png = tmp_path / "fit figure.png"
    assert main(["fit", str(path), "--plot", str(png), *json_flag]) == 0
    out, err = capsys.readouterr()
    assert png.stat().st_size > 10_000
    assert f"wrote figure to {png}" in err
    if json_flag:
        json.loads(out)  # the message stays off stdout


def test_compare_plot_names_the_file_and_its_tick_labels_do_not_overlap(tmp_path, capsys, reference,
                                                                         monkeypatch):
    """Blackouts (Clauset et al.): a tail of 1.6 decades, where matplotlib's labels ran together."""
    path = tmp_path / "blackouts.txt"
    np.savetxt(path, reference("blackouts.txt", 1e-3))
    drawn = []

    def inspect_then_save(fig, out):
        drawn.append(overlapping_xlabels(fig.axes[0]))
        save(fig, out)

    save = compare_cli.save_figure
    monkeypatch.setattr(compare_cli, "save_figure", inspect_then_save)
    png = tmp_path / "compare.png"
    assert main(["compare", str(path), "--json", "--plot", str(png)]) == 0
    (pairs, labels), = drawn
    assert not pairs
    assert len(labels) >= 2, labels
    out, err = capsys.readouterr()
    json.loads(out)
    assert png.stat().st_size > 10_000 and f"wrote figure to {png}" in err


def test_rmt_help_is_plain_text(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["rmt", "--help"])
    assert exc.value.code == 0
    text = capsys.readouterr().out
    assert "OUTDIR" in text and "gaussian_esd.png" in text
    for markup in ("``", ":func:", ":class:", ":mod:"):
        assert markup not in text
