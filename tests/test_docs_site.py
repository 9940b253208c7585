"""The documentation site builds: ``mkdocs build --strict`` (mkdocs.yml, docs/, .ci/mkdocs_hooks.py).

One build into a temporary directory (module fixture), then checks on what it produced:
the pages, the API reference generated from the docstrings, every notebook of notebooks/,
and the rewriting of links that leave docs/.  --strict turns every warning (a broken
link or #anchor, a griffe docstring warning, a nav entry without a page) into a failure.
Needs the ``docs`` extra (``pip install -e ".[docs]"``).
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("mkdocs") is None,
    reason='mkdocs is not installed: the site needs the docs extra (pip install -e ".[docs]")',
)

# a build on 2 shared cores takes 15-35 s; the budget is 60 s
BUILD_BUDGET_S = 60.0

PAGES = (
    "index.html",
    "theory/index.html",
    "theory/mle/index.html",
    "theory/bounded_cutoff/index.html",
    "theory/lrt/index.html",
    "theory/gof/index.html",
    "theory/bootstrap/index.html",
    "theory/bayes/index.html",
    "theory/rmt/index.html",
    "validation/index.html",
    "benchmarks/index.html",
    "report/index.html",
    "fitting/index.html",
    "uncertainty/index.html",
    "alternatives/index.html",
    "finite_size/index.html",
    "rmt/index.html",
    "bayes/index.html",
    "weights/index.html",
    "calibration/index.html",
    "coming_from_powerlaw/index.html",
    "coming_from_weightwatcher/index.html",
    "architecture/index.html",
    "api/index.html",
)

# API page -> objects whose documentation (an anchor named after the object) it must hold
API = {
    "api/fitting/index.html": ("htsr.fitting.fit", "htsr.fitting.fit_many", "htsr.fitting.PowerLawFit",
                               "htsr.fitting.FitSpec", "htsr._jax.enable_compilation_cache"),
    "api/inference/index.html": ("htsr.inference.gof", "htsr.inference.bootstrap", "htsr.inference.compare",
                                 "htsr.inference.compare_all", "htsr.inference.fit_model"),
    "api/models/index.html": ("htsr.models.law.Law", "htsr.models.powerlaw", "htsr.models.bounded"),
    "api/rmt/index.html": ("htsr.rmt.marchenko_pastur.fit_mp", "htsr.rmt.tracy_widom.tw1_cdf",
                           "htsr.rmt.universality.universality_class"),
    "api/bayes/index.html": ("htsr.bayes.fit", "htsr.bayes.fit_many", "htsr.bayes.loo_compare"),
    "api/weights/index.html": ("htsr.weights.load", "htsr.weights.Tensor"),
    "api/report/index.html": ("htsr.report.report", "htsr.report.Report", "htsr.report.Thresholds"),
    "api/plot/index.html": ("htsr.plot.powerlaw", "htsr.plot.rmt"),
    "api/errors/index.html": ("htsr.errors.HtsrError", "htsr.errors.DataError", "htsr.errors.SmallSampleWarning"),
}


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    out = tmp_path_factory.mktemp("site")
    env = dict(os.environ, NO_MKDOCS_2_WARNING="1")
    cmd = [sys.executable, "-m", "mkdocs", "build", "--strict", "--config-file", str(ROOT / "mkdocs.yml"),
           "--site-dir", str(out)]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    elapsed = time.perf_counter() - t0
    assert proc.returncode == 0, (
        f"mkdocs build --strict failed (exit {proc.returncode}):\n{proc.stderr[-8000:]}\n{proc.stdout[-2000:]}")
    return out, elapsed


def test_build_is_strict_and_within_budget(site):
    _, elapsed = site
    assert elapsed < BUILD_BUDGET_S, f"the site took {elapsed:.1f} s to build (budget {BUILD_BUDGET_S:.0f} s)"


@pytest.mark.parametrize("page", PAGES)
def test_page_is_built(site, page):
    out, _ = site
    html = (out / page).read_text(encoding="utf-8")
    assert "<article" in html


@pytest.mark.parametrize("page", sorted(API))
def test_api_reference_is_generated_from_the_docstrings(site, page):
    out, _ = site
    html = (out / page).read_text(encoding="utf-8")
    missing = [name for name in API[page] if f'id="{name}"' not in html]
    assert not missing, f"{page} documents none of {missing}"
    assert 'class="doc doc-object' in html  # rendered by mkdocstrings, not a stub


def test_calibration_api_when_the_package_exists(site):
    if not (ROOT / "htsr" / "calibration" / "__init__.py").exists():
        pytest.skip("htsr.calibration is not in this checkout")
    out, _ = site
    assert 'id="htsr.calibration"' in (out / "api/calibration/index.html").read_text(encoding="utf-8")


def test_every_notebook_is_a_page(site):
    out, _ = site
    notebooks = sorted((ROOT / "notebooks").glob("*.ipynb"))
    assert notebooks, "notebooks/ holds no notebook"
    home = (out / "index.html").read_text(encoding="utf-8")
    for nb in notebooks:
        page = out / "notebooks" / nb.stem / "index.html"
        assert page.exists(), f"{nb.name} has no page"
        assert "jp-Notebook" in page.read_text(encoding="utf-8"), f"{nb.name} was not rendered by mkdocs-jupyter"
        assert f"notebooks/{nb.stem}/" in home, f"{nb.name} is not in the Notebooks section of the nav"
        assert (out / "notebooks" / nb.stem / nb.name).exists(), f"{nb.name} is not downloadable beside its page"


def test_links_that_leave_docs_are_rewritten(site):
    out, _ = site
    html = (out / "validation/index.html").read_text(encoding="utf-8")
    raw = re.findall(r'href="((?:\.\./)+benchmarks/[^"]*\.py)"', html)
    assert not raw, f"links to the repository left relative to docs/: {raw}"
    targets = set(re.findall(r'href="([^"]*benchmarks/table61_fits\.py)"', html))
    assert targets, "validation.md's link to benchmarks/table61_fits.py is gone"
    for t in targets:  # repo_url unset: a copy in the site; set: the file in the repository
        if t.startswith("http"):
            assert "/blob/" in t
        else:
            assert (out / "validation" / t).resolve().is_file(), t
    # a link to a notebook goes to its page
    rmt = (out / "theory/rmt/index.html").read_text(encoding="utf-8")
    assert 'href="../../notebooks/universality_classes/"' in rmt


def test_formulas_are_marked_for_mathjax(site):
    out, _ = site
    html = (out / "theory/mle/index.html").read_text(encoding="utf-8")
    assert html.count('class="arithmatex"') > 10
    assert (out / "javascripts/mathjax.js").exists()
