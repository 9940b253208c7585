"""``htsr.report(..., tpl=True)``: the truncated power law per layer and the nested test against it.

The columns must be what ``htsr.compare(sample, "power_law", "truncated_power_law", xmin=...)`` gives on
the same eigenvalues (real MiniLM layers: one where the cutoff law is favoured, one where it runs to
its lambda = 0 boundary, one where its alpha runs to the box's -1), and a layer whose eigenvalues are
drawn from a power law with an exponential cutoff must favour the truncated law, with lambda recovered.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import htsr
from htsr.errors import HtsrError
from htsr.report import LayerFitOptions

LAYERS = ["encoder.layer.0.attention.self.query.weight",   # cutoff favoured (p ~ 1e-3)
          "encoder.layer.0.output.dense.weight",           # lambda -> 0: the power law itself
          "encoder.layer.0.attention.self.value.weight"]   # tpl alpha on its box's lower end
COLUMNS = ("tpl_alpha", "tpl_lambda", "tpl_R", "tpl_p", "tpl_verdict")


LAM = 0.02  # the planted cutoff


@pytest.fixture(scope="module")
def rep():
    """One report of three MiniLM layers (read from the shipped file) and two planted layers: one whose
    eigenvalues have an exponential cutoff, one a pure power law."""
    from safetensors import safe_open

    with safe_open(str(htsr.weights.example_path("minilm")), "numpy") as f:
        weights = {name: f.get_tensor(name) for name in LAYERS}
    M = 400
    weights["cutoff.weight"] = _matrix(_truncated_power_law(np.random.default_rng(7), M, 1.5, LAM), 2 * M)
    weights["pure.weight"] = _matrix(_truncated_power_law(np.random.default_rng(8), M, 2.5, 0.0), 2 * M)
    return htsr.report(weights, intervals=None, bounded=False, tpl=True, workers=1)


def _truncated_power_law(rng, n, alpha, lam, xmin=1.0):
    """Draws of p(x) ~ x^-alpha exp(-lam x) on x >= xmin: Pareto proposals kept with probability
    exp(-lam (x - xmin)) (rejection sampling, independent of htsr's sampler)."""
    out = np.empty(0)
    while out.size < n:
        x = xmin * (1.0 - rng.random(4 * n)) ** (-1.0 / (alpha - 1.0))
        out = np.r_[out, x[rng.random(4 * n) < np.exp(-lam * (x - xmin))]]
    return out[:n]


def _matrix(evals, N):
    """An N x M matrix whose W^T W has exactly these eigenvalues (their square roots on the diagonal)."""
    W = np.zeros((N, evals.size))
    W[np.arange(evals.size), np.arange(evals.size)] = np.sqrt(evals)
    return W


def test_columns_are_htsr_compare_on_each_layers_tail(rep):
    t = rep.layers.set_index("name")
    seen = set()
    for sp in rep.spectra:
        row = t.loc[sp.name]
        ref = htsr.compare(sp.sample, "power_law", "truncated_power_law", xmin=row["xmin"])
        assert ref.n_tail == row["n_tail"] and ref.nested
        assert row["tpl_alpha"] == pytest.approx(ref.model2.params["alpha"], rel=1e-9, abs=1e-12)
        assert row["tpl_lambda"] == pytest.approx(ref.model2.params["lam"], rel=1e-7, abs=1e-15)
        assert row["tpl_R"] == pytest.approx(ref.R, rel=1e-7, abs=1e-9)
        assert row["tpl_p"] == pytest.approx(ref.p, rel=1e-7, abs=1e-9)
        assert row["tpl_verdict"] == ref.verdict.replace("power law cutoff", "truncated power law")
        seen.add(row["tpl_verdict"])
    assert seen == {"truncated power law favoured", "inconclusive"}  # both outcomes are exercised
    assert t.loc[LAYERS[1], "tpl_lambda"] * t.loc[LAYERS[1], "xmin"] < 1e-9  # ran to the power law
    assert t.loc[LAYERS[2], "tpl_alpha"] == pytest.approx(-1.0)  # the box's lower end


def test_a_layer_with_an_exponential_cutoff_prefers_the_truncated_law(rep):
    t = rep.layers.set_index("name")
    cut, pure = t.loc["cutoff.weight"], t.loc["pure.weight"]
    assert cut["tpl_verdict"] == "truncated power law favoured" and cut["tpl_p"] < 0.01 and cut["tpl_R"] < 0
    ref = htsr.compare(rep.fits["cutoff.weight"].data, "power_law", "truncated_power_law", xmin=cut["xmin"])
    se = ref.model2.se["lam"]
    assert abs(cut["tpl_lambda"] - LAM) < 3 * se, (cut["tpl_lambda"], se)  # the planted cutoff, within 3 SE
    # no cutoff: the nested test rejects at 1% with probability <= 1% (chi-square(1), conservative at lambda = 0)
    assert pure["tpl_p"] > 0.01 and pure["tpl_verdict"] != "power law favoured"
    assert t.loc[LAYERS[0], "tpl_verdict"] == "truncated power law favoured"  # and a real MiniLM layer


def test_without_tpl_the_columns_do_not_apply_and_bad_values_are_refused():
    rows = [htsr.report.LayerRow(index=0, depth=0, name="x", kind="dense", shape="4x4", N=4, M=4, Q=1.0,
                                 n_evals=4, lambda_max=1.0, log_norm=0.0, log_spectral_norm=0.0, stable_rank=1.0,
                                 mp_softrank=1.0, num_spikes=0, entropy=1.0, rank_loss=0, label="no fit",
                                 verdict="", warning="").to_dict()]
    assert all(math.isnan(rows[0][c]) for c in COLUMNS[:4]) and rows[0]["tpl_verdict"] == ""
    assert all(c in htsr.report.COLUMNS for c in COLUMNS)
    assert LayerFitOptions().tpl is False
    with pytest.raises(HtsrError, match="tpl must be True or False"):
        LayerFitOptions(tpl="yes")


def test_the_figure_draws_the_truncated_law_with_its_test(rep):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from htsr.plot.layers import plot_layer_fits

    fig, ax = plt.subplots()
    plot_layer_fits(rep, "cutoff.weight", ax=ax)
    row = rep.layers.set_index("name").loc["cutoff.weight"]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert f"truncated, α = {row['tpl_alpha']:.3f}, λ = {row['tpl_lambda']:.3g} (p = {row['tpl_p']:.2g})" in labels
    line = next(ln for ln in ax.get_lines() if ln.get_label().startswith("truncated"))
    x, y = line.get_data()
    fit = rep.fits["cutoff.weight"]
    assert x[0] == pytest.approx(fit.xmin) and y[0] == pytest.approx(fit.n_tail / fit.n)  # on the data at xmin
    plt.close(fig)
