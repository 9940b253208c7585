"""Per-layer figure files (``htsr.plot.layers.write_layer_figures``, ``htsr report --figures DIR``).

``htsr report SRC --figures DIR`` runs once: each layer gets its ESD with the fitted laws, D against xmin,
the MP bulk and the randomized ESD, as SVG whose labels are text and as PNG large enough to read; file
names are safe whatever the layer is called; report.html links every file, relative to itself, and stays
one self-contained page whose own figures are inline SVG.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import struct
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import unquote

import numpy as np
import pandas as pd
import pytest

from htsr.cli.main import main

SVG = "{http://www.w3.org/2000/svg}"
NAMES = ["encoder/../layer 0.weight[q]", "encoder.layer.1.weight"]  # a path-like name with a space and brackets


def _weights():
    rng = np.random.default_rng(5)
    return {NAMES[0]: rng.standard_t(3.0, (160, 80)).astype(np.float32),
            NAMES[1]: rng.standard_t(5.0, (200, 80)).astype(np.float32)}


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    """``htsr report SRC --figures DIR --randomize``: the report's table, its figures and its page."""
    from safetensors.numpy import save_file

    d = tmp_path_factory.mktemp("figs")
    save_file(_weights(), str(d / "m.safetensors"))
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["report", str(d / "m.safetensors"), "--out", str(d / "out"), "--no-intervals",
                     "--randomize", "--quiet", "--figures", str(d / "figures")]) == 0
    return d, out.getvalue()


def _files(d: Path) -> dict:
    """Layer stem -> figure -> format -> path, from the folder itself."""
    found: dict = {}
    for p in (d / "figures").iterdir():
        stem, figure = p.stem.rsplit("-", 1)
        found.setdefault(stem, {}).setdefault(figure, {})[p.suffix[1:]] = p
    return found


def _png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", head[16:24])


def test_every_layer_gets_each_figure_in_both_formats(written):
    d, printed = written
    files = _files(d)
    assert sorted(files) == ["000-encoder_.._layer_0.weight_q", "001-encoder.layer.1.weight"]  # running order
    for stem, figs in files.items():
        assert set(figs) == {"esd", "ks", "mp", "randomized"}, stem
        for fmts in figs.values():
            assert set(fmts) == {"svg", "png"}
            width, height = _png_size(fmts["png"])
            assert width >= 900 and height >= 600  # not a 288 x 216 thumbnail
    assert f"figures written to {d / 'figures'}/ (16 files, SVG and PNG)" in printed


def test_svg_is_xml_with_its_labels_as_text(written):
    d, _ = written
    expect = {"esd": ("eigenvalue x", "power law, α =", "bounded at λ_max, α ="), "ks": ("candidate xmin", "KS distance D"),
              "mp": ("density", "MP bulk, σ² =", "TW threshold"), "randomized": ("log10 eigenvalue", "randomized")}
    for (stem, figs), name in zip(sorted(_files(d).items()), NAMES):
        for figure, words in expect.items():
            root = ET.parse(figs[figure]["svg"]).getroot()
            assert root.tag == SVG + "svg"
            texts = " | ".join("".join(t.itertext()) for t in root.iter(SVG + "text"))
            for w in (name, *words):
                assert w in texts, (figure, w, texts)
            assert not list(root.iter(SVG + "image"))  # vector: no embedded raster


def test_file_names_are_safe_and_unique():
    from htsr.plot.layers import figure_stems

    names = ["../../etc/passwd", "", "a b", "A_b", "a_b", "λ.weight", "x" * 500, "CON", ".hidden"]
    stems = figure_stems(names)
    assert len({s.lower() for s in stems.values()}) == len(names)
    for s in stems.values():
        assert re.fullmatch(r"[0-9]{3}-[A-Za-z0-9][A-Za-z0-9._-]*", s) and len(s) <= 130, s
    assert list(stems.values())[:5] == ["000-etc_passwd", "001-layer", "002-a_b", "003-A_b", "004-a_b"]


def test_html_links_every_file_relative_to_itself(written):
    d, _ = written
    page = d / "out" / "report.html"
    text = page.read_text(encoding="utf-8")
    hrefs = [unquote(h) for h in re.findall(r"href='([^'#]+)'", text)]
    assert all(not os.path.isabs(h) and h.startswith("../figures") for h in hrefs)
    linked = {(page.parent / h).resolve() for h in hrefs}
    assert {p.resolve() for p in (d / "figures").iterdir()} <= linked  # every file, from the page's folder
    fitted = int(pd.read_csv(d / "out" / "report.csv")["alpha"].notna().sum())
    assert text.count("<svg") == fitted + 1  # its own figures stay inline vector graphics (alpha by depth + ESDs)
    assert "<img" not in text and "data:image/png" not in text  # no rasters in the page
    assert text.count("<details><summary>2 layers</summary>") == 1  # the file list is folded


def test_a_bad_figures_folder_is_refused_before_any_work(tmp_path, capsys):
    (tmp_path / "file").write_text("x")
    assert main(["report", "--example", "minilm", "--out", str(tmp_path / "r"), "--figures",
                 str(tmp_path / "file")]) == 2
    assert "--figures" in capsys.readouterr().err and not (tmp_path / "r").exists()


def test_the_randomized_figure_counts_the_rows_traps_on_a_pruned_layer(tmp_path):
    """With zero eigenvalues in the randomized ESD the figure's MP fit is still the report's: same trap count."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    import htsr
    from htsr.plot.layers import plot_layer_randomized

    rng = np.random.default_rng(3)
    W = rng.standard_normal((300, 200)) * (rng.random((300, 200)) < 0.01)  # 99% pruned
    rep = htsr.report({"w": W.astype(np.float32)}, intervals=None, randomize=True, bounded=False)
    row = rep.layers.set_index("name").loc["w"]
    ax = plot_layer_randomized(rep, "w")
    label = next(t.get_text() for t in ax.get_legend().get_texts() if "bulk edge" in t.get_text())
    n = int(row["num_traps"])
    assert f": {n} trap{'s' if n != 1 else ''};" in label
    plt.close(ax.figure)
