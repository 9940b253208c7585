"""report.html in a real browser: the layer table fits a 1400 px window, a phone's width does not break the
page, figure text is legible, and layers appear in the order the network runs them.

Headless Chromium renders the page, with a measuring script appended, in a frame of the width
under test; the script writes what it measured into the outer page, which ``--dump-dom`` returns.
Skipped only where no Chromium is installed (``apt-get install chromium``), and never in CI,
whose .ci/run installs it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess

import numpy as np
import pytest

import htsr

REPS = 60  # the page is checked, not the intervals

# Measures, on load: the viewport, the page's and the layer table's widths, the smallest SVG text in CSS px
# (its font-size times the scale from SVG user units to the screen), how far each figure is shrunk.
_MEASURE = """<script>window.addEventListener('load', function () {
  var de = document.documentElement, t = document.getElementById('layers');
  var box = t.parentElement, fonts = [], shrink = [];
  for (const el of document.querySelectorAll('svg text, svg tspan')) {
    if (!el.textContent.trim()) continue;
    var m = el.getScreenCTM(), px = parseFloat(getComputedStyle(el).fontSize);
    fonts.push(px * Math.sqrt(m.a * m.a + m.b * m.b));
  }
  for (const s of document.querySelectorAll('svg.fig')) {
    shrink.push(s.getBoundingClientRect().width / s.width.baseVal.value);
  }
  var out = {viewport: de.clientWidth, page: de.scrollWidth, table: t.getBoundingClientRect().width,
             table_box: box.clientWidth, table_scroll: box.scrollWidth, n_text: fonts.length,
             min_font_px: Math.min.apply(null, fonts), n_svg: shrink.length, min_scale: Math.min.apply(null, shrink),
             headers_with_tips: document.querySelectorAll('#layers th[title]').length,
             headers: document.querySelectorAll('#layers th').length,
             rows: Array.from(t.querySelectorAll('tbody tr')).map(r => r.cells[1].textContent)};
  parent.document.getElementById('measured').textContent = JSON.stringify(out);
});</script>"""


def _browser():
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        if path := shutil.which(name):
            return path
    return None


def _measure(page, width: int, tmp_path) -> dict:
    """Render ``page`` in an iframe ``width`` CSS px wide (a headless window is at least 500 px wide, so a
    phone's width needs a frame) and return what :data:`_MEASURE` found in it."""
    import html

    browser = _browser()
    inner = page.read_text(encoding="utf-8").replace("</body>", _MEASURE + "</body>")
    probe = page.with_name(f"probe-{width}.html")
    probe.write_text(f"<!DOCTYPE html><html><body style='margin:0'><pre id=measured></pre>"
                     f"<iframe style='border:0;width:{width}px;height:1000px' srcdoc=\"{html.escape(inner)}\">"
                     f"</iframe></body></html>", encoding="utf-8")
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={tmp_path / f'profile-{width}'}", f"--window-size={max(width + 40, 600)},1100"]
    dom = subprocess.run([browser, *flags, "--virtual-time-budget=10000", "--dump-dom", probe.as_uri()],
                         capture_output=True, text=True, timeout=120).stdout
    found = re.search(r'<pre id="measured">(.+?)</pre>', dom, re.S)
    assert found, dom[-2000:]
    return json.loads(html.unescape(found.group(1)))


def _model(path):
    """A safetensors file named like a BERT encoder: long names, blocks 2 and 10, a pretraining head
    (``cls.*``, first by name), an embedding too small to fit.  Name order is not the order it runs in."""
    from safetensors.numpy import save_file

    rng = np.random.default_rng(3)
    arrays = {"embeddings.word_embeddings.weight": rng.standard_t(3, (300, 48)),
              "embeddings.token_type_embeddings.weight": rng.normal(size=(2, 48)),
              "cls.predictions.transform.dense.weight": rng.standard_t(4, (48, 48)),
              "pooler.dense.weight": rng.standard_t(4, (48, 48))}
    for i in (0, 1, 2, 10):
        for part, df in (("attention.self.query", 2.5), ("attention.output.dense", 3), ("intermediate.dense", 4)):
            arrays[f"encoder.layer.{i}.{part}.weight"] = rng.standard_t(df + i / 4, (96, 48))
    save_file({k: v.astype(np.float32) for k, v in arrays.items()}, str(path))
    return path


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    if _browser() is None:
        if os.environ.get("CI"):  # .ci/run installs Chromium: in CI a missing browser is a failure
            pytest.fail("no Chromium installed in CI (.ci/run should have run apt-get install chromium)")
        pytest.skip("no Chromium installed (apt-get install chromium)")
    import matplotlib

    matplotlib.use("Agg")
    from htsr.plot.report import write_html

    d = tmp_path_factory.mktemp("html")
    rep = htsr.report(_model(d / "model.safetensors"), reps=REPS, workers=2)
    return rep, write_html(rep, d / "report.html")


def test_layer_table_fits_1400px_and_figure_text_is_legible(page, tmp_path):
    rep, path = page
    m = _measure(path, 1400, tmp_path)
    assert m["viewport"] >= 1360, m  # the window was 1400 px wide (less a scrollbar)
    assert m["page"] <= m["viewport"], m  # nothing sticks out of the page
    assert m["table"] <= m["table_box"] <= m["viewport"] and m["table_scroll"] <= m["table_box"], m  # no scrolling
    assert m["headers_with_tips"] == m["headers"] >= 10, m  # every column header explains itself
    fitted = int(np.isfinite(rep.layers["alpha"]).sum())
    assert m["n_svg"] == fitted + 1, m  # alpha by depth and one ESD per fitted layer, as inline SVG
    assert m["n_text"] >= 8 * m["n_svg"], m  # their text is text, not pixels
    assert m["min_font_px"] >= 10, m  # and no label smaller than 10 CSS px at 1x
    assert m["min_scale"] >= 0.999, m  # figures shown at their natural size, not shrunk


def test_layers_listed_in_the_order_the_network_runs_them(page, tmp_path):
    rep, path = page
    rows = _measure(path, 1400, tmp_path)["rows"]
    assert rows[:2] == ["embeddings.token_type_embeddings.weight", "embeddings.word_embeddings.weight"]
    blocks = [r.split(".", 3)[2:] for r in rows if r.startswith("encoder.")]
    assert [int(b) for b, _ in blocks] == [0] * 3 + [1] * 3 + [2] * 3 + [10] * 3  # 2 before 10
    assert [p for _, p in blocks[:3]] == ["attention.self.query.weight", "attention.output.dense.weight",
                                          "intermediate.dense.weight"]  # as a block runs them
    assert rows[-2:] == ["cls.predictions.transform.dense.weight", "pooler.dense.weight"]  # heads last
    t = rep.layers
    assert t["name"].iloc[0].startswith("cls.")  # the source's own (name) order stays in index
    assert sorted(t["depth"]) == list(range(len(t)))


def test_phone_width_scrolls_inside_boxes_not_the_page(page, tmp_path):
    _, path = page
    m = _measure(path, 390, tmp_path)
    assert m["page"] <= m["viewport"] <= 390, m  # the page itself does not scroll sideways
    assert m["table_box"] <= m["viewport"] and m["table_scroll"] > m["table_box"], m  # the table's box does


def test_the_esd_grid_drawn_on_one_reused_figure_is_each_layers_own_figure():
    """The page draws every layer's ESD on one figure (its ticks built once); each SVG is byte for
    byte the one a fresh figure per layer gives: nothing of a layer is left for the next."""
    import matplotlib.pyplot as plt
    import htsr.weights as hw

    from htsr.plot._svg import plain_log_ticks, svg
    from htsr.plot.report import _esd_grid, plot_layer_esd

    layers = ["embeddings.position_embeddings.weight", "encoder.layer.0.attention.self.query.weight",
              "encoder.layer.0.intermediate.dense.weight", "pooler.dense.weight"]
    rep = htsr.report(hw.example_path("minilm"), layers=layers, intervals=None)
    order = [n for n in rep.layers.sort_values(["depth", "index"])["name"] if n in rep.fits]
    fresh = []
    for k, name in enumerate(order):
        fig, ax = plt.subplots(figsize=(4.4, 3.1))
        fig.subplots_adjust(left=0.19, right=0.97, bottom=0.17, top=0.97)
        plot_layer_esd(rep, name, ax=ax, title=False)
        plain_log_ticks(ax)
        fresh.append(svg(fig, f"htsr-esd-{k}", f"ESD of {name}"))
    grid = _esd_grid(rep)
    got = re.findall(r"<svg .*?</svg>", grid, re.S)
    assert len(got) == len(order) == 4
    assert got == fresh
