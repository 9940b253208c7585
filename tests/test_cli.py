"""The `htsr` command: output formats, errors as one line and exit status 2."""

import json
import subprocess
import sys

import numpy as np
import pytest
from conftest import pareto

import htsr
from htsr.cli.main import main


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
