"""The `htsr` command: output formats, errors as one line and exit status 2."""

import json
import subprocess
import sys

import numpy as np
import pytest
from conftest import pareto

import htsr
from htsr.cli.main import main

import time as _t0_time

_MODULE_T0 = _t0_time.perf_counter()


@pytest.fixture(scope="module")
def sample_file(tmp_path_factory):
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.uniform(0.1, 1, 200), pareto(rng, 2.5, 800)])
    path = tmp_path_factory.mktemp("cli") / "sample.txt"
    np.savetxt(path, x)
    return path, x


def test_fit_json(sample_file, capsys):
    import htsr

    path, x = sample_file
    assert main(["fit", str(path), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    for key in ("alpha", "xmin", "xmax", "n", "n_tail", "D", "sigma", "discrete", "method"):
        assert key in out
    ref = htsr.fit(np.loadtxt(path))
    assert out["alpha"] == ref.alpha and out["xmin"] == ref.xmin and out["n_tail"] == ref.n_tail


def test_fit_table_and_options(sample_file, capsys):
    path, _ = sample_file
    x = np.loadtxt(path)
    assert main(["fit", str(path), "--xmin", "1.5"]) == 0
    out = capsys.readouterr().out
    ref = htsr.fit(x, xmin=1.5)
    assert f"{ref.alpha:.6g} ± {ref.sigma:.2g}" in out and f"{ref.n_tail} / {ref.n}" in out
    assert main(["fit", str(path), "--json", "--min-tail", "700", "--unbiased"]) == 0
    out = json.loads(capsys.readouterr().out)
    ref = htsr.fit(x, min_tail=700, estimator="unbiased")
    assert (out["alpha"], out["xmin"], out["n_tail"]) == (ref.alpha, ref.xmin, ref.n_tail)
    assert out["n_tail"] >= 700 and out["estimator"] == "unbiased"
    mle = htsr.fit(x, xmin=ref.xmin)  # the unbiased alpha is 1 + (n-1)/sum: below the MLE by (alpha-1)/n
    assert out["alpha"] == pytest.approx(1 + (mle.alpha - 1) * (ref.n_tail - 1) / ref.n_tail, rel=1e-12)


def test_fit_discrete_npy_and_plot(tmp_path, capsys):
    x = np.floor(pareto(np.random.default_rng(1), 2.3, 600))
    path = tmp_path / "d.npy"
    np.save(path, x)
    png = tmp_path / "fit.png"
    assert main(["fit", str(path), "--discrete", "--json", "--plot", str(png)]) == 0
    assert json.loads(capsys.readouterr().out)["discrete"] is True
    assert png.stat().st_size > 10_000


def test_fit_alpha_grid(tmp_path, capsys):
    import htsr

    x = np.floor(pareto(np.random.default_rng(2), 2.3, 600))
    path = tmp_path / "d.txt"
    np.savetxt(path, x)
    assert main(["fit", str(path), "--discrete", "--alpha-grid", "plfit", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    ref = htsr.fit(x, discrete=True, alpha_grid="plfit")
    assert out["alpha"] == ref.alpha and round(out["alpha"], 2) == out["alpha"] and out["xmin"] == ref.xmin
    assert main(["fit", str(path), "--alpha-grid", "plfit"]) == 2  # continuous fit: a one-line error
    assert "alpha_grid applies to the discrete power law" in capsys.readouterr().err


def test_stdin_and_errors_in_a_subprocess(tmp_path):
    """Through a real process: stdin input; bad input -> one line on stderr, exit 2."""
    run = lambda args, stdin="": subprocess.run(  # noqa: E731
        [sys.executable, "-m", "htsr", *args], input=stdin, capture_output=True, text=True, timeout=120
    )
    ok = run(["fit", "-", "--json"], "\n".join(str(v) for v in pareto(np.random.default_rng(2), 2.5, 300)))
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["n"] == 300
    bad = tmp_path / "bad.txt"
    bad.write_text("1\n2\nnan\n4\n")
    cases = {
        ("fit", str(bad)): "NaN",
        ("fit", str(tmp_path / "missing.txt")): "no such file",
        ("fit", "-"): "contains no numbers",
    }
    for args, message in cases.items():
        res = run(list(args))
        assert res.returncode == 2
        lines = res.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("htsr: error:") and message in lines[0]
        assert "Traceback" not in res.stderr


def test_zeros_warn_on_stderr(tmp_path, capsys):
    path = tmp_path / "z.txt"
    x = np.concatenate([np.zeros(5), pareto(np.random.default_rng(3), 2.5, 200)])
    np.savetxt(path, x)
    with pytest.warns(Warning, match="dropped 5 non-positive"):
        assert main(["fit", str(path), "--json"]) == 0


def test_constant_and_short_data_exit_2(tmp_path, capsys):
    for content, message in [("3\n3\n3\n", "constant"), ("7\n", "at least 2")]:
        path = tmp_path / "c.txt"
        path.write_text(content)
        assert main(["fit", str(path)]) == 2
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1


def test_demo_runs(tmp_path, capsys):
    png = tmp_path / "demo.png"
    assert main(["demo", "--M", "200", "--json", "--plot", str(png)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["expected_alpha"] == 1.75 and out["n"] == 200
    assert png.exists()


# ---------------------------------------------------------------- issue 21 (items 3, 4, 8)
def _one_line_error(capsys, *needles):
    err = capsys.readouterr().err
    assert err.startswith("htsr: error:") and err.count("\n") == 1 and "Traceback" not in err, err
    for n in needles:
        assert n in err, err
    return err


def _must_not_run(*_, **__):
    raise AssertionError("the computation ran before its output path or scheduler was checked")


@pytest.fixture
def tiny_weights(tmp_path):
    path = tmp_path / "w.npz"
    np.savez(path, **{"layer.weight": np.random.default_rng(0).standard_t(3, size=(60, 40))})
    return path


@pytest.mark.parametrize("address, why", [("foo:bar", "the port 'bar'"), ("notanaddress", "no port number"),
                                          ("tcp://host:99999", "from 1 to 65535")])
def test_bad_scheduler_addresses_are_one_line_before_any_work(tmp_path, tiny_weights, capsys, monkeypatch,
                                                             address, why):
    import sys as _sys

    import htsr.calibration
    import htsr.report  # noqa: F401  (the package, in every import order)

    monkeypatch.setattr(htsr.calibration, "calibrate", _must_not_run)
    monkeypatch.setattr(_sys.modules["htsr.report"], "report", _must_not_run)
    assert main(["calibrate", "--generator", "power_law", "--alpha", "2", "--n", "50", "--reps", "2",
                 "--scheduler", address, "--out", str(tmp_path / "s.nc")]) == 2
    _one_line_error(capsys, f"--scheduler {address!r} is not a Dask scheduler address", why)
    assert main(["report", str(tiny_weights), "--scheduler", address, "--out", str(tmp_path / "rep")]) == 2
    _one_line_error(capsys, "--scheduler", why)


def test_plot_folder_is_created_and_the_figure_written(sample_file, tmp_path, capsys):
    path, _ = sample_file
    png = tmp_path / "new" / "deeper" / "x.png"
    assert main(["fit", str(path), "--quiet", "--plot", str(png)]) == 0
    assert png.exists() and "alpha" in capsys.readouterr().out


def test_unwritable_outputs_are_refused_before_the_work(sample_file, tmp_path, tiny_weights, capsys, monkeypatch):
    import sys as _sys

    import htsr.calibration
    import htsr.fitting
    import htsr.inference.compare
    import htsr.report  # noqa: F401

    for module, name in [("htsr.fitting", "fit"), ("htsr.inference.compare", "compare_all"),
                         ("htsr.calibration", "calibrate"), ("htsr.report", "report")]:
        monkeypatch.setattr(_sys.modules[module], name, _must_not_run)  # modules: some names are shadowed
    path, _ = sample_file
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder\n")
    under = str(blocker / "sub" / "x.png")
    assert main(["fit", str(path), "--gof", "200", "--plot", under]) == 2
    _one_line_error(capsys, "cannot write --plot", "is a file, not a folder")
    assert main(["compare", str(path), "--plot", under]) == 2
    _one_line_error(capsys, "cannot write --plot")
    assert main(["fit", str(path), "--plot", str(tmp_path / "x.notaformat")]) == 2
    _one_line_error(capsys, "matplotlib cannot write .notaformat")
    assert main(["report", str(tiny_weights), "--out", str(blocker / "rep")]) == 2
    _one_line_error(capsys, "cannot write --out")
    assert main(["calibrate", "--generator", "power_law", "--alpha", "2", "--out", str(blocker / "s.nc")]) == 2
    _one_line_error(capsys, "cannot write --out")
    assert main(["calibrate", "--generator", "power_law", "--alpha", "2", "--out", str(tmp_path)]) == 2
    _one_line_error(capsys, "is a folder; give a file name")
    assert main(["rmt", str(blocker / "figs")]) == 2
    _one_line_error(capsys, "cannot write OUTDIR")


def test_a_failed_figure_write_does_not_lose_the_results(sample_file, capsys, monkeypatch):
    import htsr.cli.fit
    from htsr.errors import DataError

    def fail(fig, path):
        raise DataError(f"cannot write the plot to {path}: disk full")

    monkeypatch.setattr(htsr.cli.fit, "save_figure", fail)
    path, _ = sample_file
    assert main(["fit", str(path), "--json", "--plot", "x.png"]) == 2
    captured = capsys.readouterr()
    assert json.loads(captured.out)["alpha"] == htsr.fit(np.loadtxt(path)).alpha  # printed before the write
    assert "disk full" in captured.err


def test_a_failed_report_write_keeps_the_report_elsewhere(tmp_path, tiny_weights, capsys, monkeypatch):
    import htsr.plot.report
    from htsr.errors import HtsrError

    real, out = htsr.plot.report.save_report, tmp_path / "rep"

    def fail_at_out(rep, out_dir, **kw):
        if str(out_dir) == str(out):
            raise HtsrError(f"cannot write the report into {out_dir}: [Errno 28] No space left on device")
        return real(rep, out_dir, **kw)

    monkeypatch.setattr(htsr.plot.report, "save_report", fail_at_out)
    assert main(["report", str(tiny_weights), "--out", str(out), "--no-intervals", "--no-html", "--quiet"]) == 2
    err = _one_line_error(capsys, "No space left", "the report was written to")
    from pathlib import Path

    spare = err.split("the report was written to ")[1].split("/ instead")[0]
    assert (Path(spare) / "report.csv").exists()


def test_help_texts_are_plain_text(capsys):
    from htsr.cli.main import COMMANDS

    for command in COMMANDS:
        with pytest.raises(SystemExit):
            main([command, "--help"])
        out = capsys.readouterr().out
        for mark in ("``", ":func:", ":class:", ":mod:", ":meth:"):
            assert mark not in out, (command, mark)


def test_warnings_say_whose_they_are(sample_file, monkeypatch, capsys):
    import sys
    import warnings

    import htsr.cli.fit
    from htsr.errors import DataAlteredWarning

    def noisy(args):
        warnings.warn("TypedStorage is deprecated. It will be removed in the future", UserWarning)
        warnings.warn("Detected pickle protocol 4 in the checkpoint, ... please file an issue", UserWarning)
        warnings.warn("Glyph 8722 (\\N{MINUS SIGN}) missing from current font.", UserWarning)
        warnings.warn("kept", UserWarning)
        warnings.warn_explicit("dropped 3", DataAlteredWarning, "/x/y.py", 1)
        warnings.warn_explicit("odd", UserWarning, "/usr/lib/python3/site-packages/torch/serialization.py", 1)
        warnings.warn_explicit("dep", DeprecationWarning, "/v/lib/python3.11/site-packages/matplotlib/x.py", 1)
        return 0

    def show(message, category, filename, lineno, file=None, line=None):  # Python's own hook, minus pytest's capture
        sys.stderr.write(warnings.formatwarning(message, category, filename, lineno, line))

    monkeypatch.setattr(htsr.cli.fit, "run", noisy)
    monkeypatch.setattr(warnings, "showwarning", show)
    monkeypatch.setattr(warnings, "formatwarning", warnings.formatwarning)  # the command sets its own
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        assert main(["fit", str(sample_file[0])]) == 0
    assert capsys.readouterr().err.splitlines() == [
        "warning (test_cli): kept", "htsr: warning: dropped 3", "warning (torch): odd", "warning (matplotlib): dep"]


def test_interrupt_says_whether_a_rerun_resumes(sample_file, tmp_path, capsys, monkeypatch):
    import htsr.calibration
    import htsr.fitting

    def interrupt(*_, **__):
        raise KeyboardInterrupt

    monkeypatch.setattr(htsr.calibration, "calibrate", interrupt)
    monkeypatch.setattr(htsr.fitting, "fit", interrupt)
    store = tmp_path / "s.nc"
    assert main(["calibrate", "--generator", "power_law", "--alpha", "2", "--out", str(store)]) == 130
    err = capsys.readouterr().err
    assert err.startswith("htsr: interrupted") and f"saved in {store}" in err and "resumes" in err
    assert main(["fit", str(sample_file[0])]) == 130  # a fit keeps nothing: no promise
    assert capsys.readouterr().err == "htsr: interrupted\n"


def test_compare_says_when_an_alternative_is_degenerate(tmp_path, capsys):
    rng = np.random.default_rng(1)
    path = tmp_path / "pl.txt"
    np.savetxt(path, (1 - rng.random(300)) ** (-1 / 1.5))  # lognormal and stretched run to their box
    assert main(["compare", str(path)]) == 0
    out = capsys.readouterr().out
    assert "lognormal: at the boundary of its parameter space (sigma): the fit is degenerate" in out
    rng = np.random.default_rng(0)
    np.savetxt(path, (1 - rng.random(3000)) ** (-1 / 1.5))  # lognormal interior, mu = -99.8
    assert main(["compare", str(path)]) == 0
    out = capsys.readouterr().out
    assert "mu = -99.83 lies far below ln(xmin)" in out and "the fit is degenerate" in out


def test_docs_show_one_too_short_example():
    """docs/report.md's verdict table showed "interval 9.94-13.8" (the BCa interval the report had
    rejected) where `htsr report --example minilm` printed "interval 1.83-6.38", as
    docs/coming_from_weightwatcher.md does: every page must show the same, real line."""
    import re
    from pathlib import Path as P

    root = P(__file__).resolve().parents[1]
    shown = {}
    for page in [root / "README.md", *sorted((root / "docs").glob("*.md"))]:
        for text in re.findall(r"tail too short to tell \(n_tail = 9, [^)]*[0-9a-z]\)", page.read_text()):
            shown.setdefault(text, []).append(page.name)
    assert len(shown) == 1, shown


def test_default_outputs_are_ignored_by_git():
    import shutil
    from pathlib import Path as P

    root = P(__file__).resolve().parents[1]
    if shutil.which("git") is None or not (root / ".git").exists():
        pytest.skip("not a git checkout")

    def ignored(path):
        return subprocess.run(["git", "check-ignore", "-q", path], cwd=root).returncode == 0

    assert ignored("report/report.html") and ignored("study.nc")
    assert not ignored("htsr/report/new_module.py")  # the package's own report/ is not hidden


# ---------------------------------------------------------------- issue 21, item 6: the Bayesian fit's cost
@pytest.mark.filterwarnings("ignore::htsr.errors.ConvergenceWarning")  # 2 x 60 draws, on purpose
def test_fit_bayes_sampler_flags_reach_the_fit_and_progress_lines_go_to_stderr(sample_file, capsys, monkeypatch):
    """--draws/--warmup/--chains/--target-accept reach htsr.bayes.fit; off a terminal, progress is a few lines."""
    import htsr.bayes

    real, seen = htsr.bayes.fit, {}

    def recording(*args, **kwargs):
        seen.update(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(htsr.bayes, "fit", recording)
    path, _ = sample_file
    assert main(["fit", str(path), "--bayes", "--xmin", "1.5", "--draws", "60", "--warmup", "40", "--chains", "2",
                 "--target-accept", "0.85", "--json"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["bayes"]["alpha_mean"] > 1
    assert {k: seen[k] for k in ("draws", "warmup", "chains", "target_accept")} == dict(
        draws=60, warmup=40, chains=2, target_accept=0.85)
    lines = [line for line in captured.err.splitlines() if line.startswith("htsr: bayes (xmin fixed, 1000 points)")]
    assert "NUTS, 2 chains x (40 warmup + 60 draws)" in lines[0] and "sampling done after" in lines[-1], lines
    assert any("warmup done" in line for line in lines) and len(lines) <= 8
    assert main(["fit", str(path), "--bayes", "--xmin", "1.5", "--draws", "20", "--chains", "1", "--quiet"]) == 0
    assert "htsr: bayes" not in capsys.readouterr().err


def test_sampler_flags_are_checked_before_any_work(sample_file, tiny_weights, tmp_path, capsys, monkeypatch):
    import sys as _sys

    import htsr.bayes
    import htsr.fitting
    import htsr.report  # noqa: F401
    from htsr.errors import HtsrError

    monkeypatch.setattr(htsr.fitting, "fit", _must_not_run)
    path, _ = sample_file
    for flags, message in [(["--draws", "0"], "--draws must be an integer >= 1, got 0"),
                           (["--warmup", "1.5"], "--warmup must be an integer"),
                           (["--target-accept", "1"], "--target-accept must be in (0, 1), got 1.0")]:
        with pytest.raises(SystemExit) as exc:
            main(["fit", str(path), "--bayes", *flags])
        assert exc.value.code == 2 and message in capsys.readouterr().err
    assert main(["fit", str(path), "--chains", "2"]) == 2  # a sampler flag without --bayes
    _one_line_error(capsys, "--chains sets the Bayesian fit's sampler: add --bayes")
    monkeypatch.setattr(_sys.modules["htsr.report"], "report", _must_not_run)
    assert main(["report", str(tiny_weights), "--draws", "50", "--target-accept", "0.9"]) == 2
    _one_line_error(capsys, "--draws, --target-accept set the Bayesian fit's sampler: add --bayes")
    monkeypatch.undo()

    seen = {}

    def recording(samples, **kwargs):
        seen.update(kwargs)
        raise HtsrError("stopped after recording the sampler settings")

    monkeypatch.setattr(htsr.bayes, "fit_many", recording)
    assert main(["report", str(tiny_weights), "--bayes", "--no-intervals", "--draws", "30", "--warmup", "20",
                 "--chains", "3", "--target-accept", "0.97", "--no-progress", "--out", str(tmp_path / "rep")]) == 2
    _one_line_error(capsys, "stopped after recording")
    assert {k: seen[k] for k in ("draws", "warmup", "chains", "target_accept")} == dict(
        draws=30, warmup=20, chains=3, target_accept=0.97)
    from htsr.report import BayesSpec

    for bad, message in [(dict(chains=0), "chains must be an integer >= 1"),
                         (dict(target_accept=1.0), "target_accept must be in \\(0, 1\\)")]:
        with pytest.raises(HtsrError, match=message):
            BayesSpec(**bad)


def test_printed_time_counts_from_the_command_start():
    """`time:` includes loading (the imports come after htsr.cli.main): process_seconds() counts from
    htsr.cli.main's import, before this module's, and grows with the clock."""
    import time as _time

    from htsr.cli._common import process_seconds

    first = process_seconds()
    assert first >= _time.perf_counter() - _MODULE_T0 > 0
    _time.sleep(0.01)
    assert process_seconds() >= first + 0.01
