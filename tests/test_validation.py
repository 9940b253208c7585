"""Hardening of the public boundary (issue 10, items 1-3, 6, 7).

Each test here failed before the fix it guards: silent wrong answers (a 2-D
file, a masked array, a two-point tail), raw Python errors instead of the
package's, the one-model comparison, the start-up time of argument errors and
the compilation cache default.
"""

from __future__ import annotations

import os
import subprocess
import sys
import warnings

import numpy as np
import pytest

import htsr
from htsr.cli.main import main
from htsr.errors import DataAlteredWarning, FitError, HtsrError, SmallSampleWarning

from conftest import pareto


@pytest.fixture(scope="module")
def x():
    return pareto(np.random.default_rng(3), 2.5, 400)


# ----------------------------------------------------------- silent answers
def test_cli_refuses_a_matrix_file_and_names_its_shape(tmp_path, capsys):
    path = tmp_path / "W.npy"
    np.save(path, np.random.default_rng(0).random((30, 20)))
    assert main(["fit", str(path)]) == 2
    err = capsys.readouterr().err
    assert "(30, 20)" in err and "htsr.rmt.esd" in err and err.count("\n") == 1


def test_cli_accepts_a_column_vector_file(tmp_path, capsys):
    path = tmp_path / "v.npy"
    v = pareto(np.random.default_rng(1), 2.2, 300)
    np.save(path, v[:, None])
    assert main(["fit", str(path), "--json"]) == 0
    assert '"alpha"' in capsys.readouterr().out


def test_masked_entries_are_dropped_with_a_count(x):
    data = np.concatenate([x, [1e9]])
    masked = np.ma.masked_array(data, mask=np.r_[np.zeros(len(x), bool), True])
    with pytest.warns(DataAlteredWarning, match="dropped 1 masked value"):
        r = htsr.fit(masked)
    ref = htsr.fit(x)
    assert r.alpha == ref.alpha and r.n == len(x)
    assert htsr.fit(data).alpha != ref.alpha  # the masked 1e9 would have changed alpha


def test_two_point_sample_warns():
    with pytest.warns(SmallSampleWarning, match="2 point"):
        r = htsr.fit([1.0, 3.0])
    assert r.n_tail == 2


def test_small_tail_warning_threshold(x):
    tail = np.sort(x)
    with pytest.warns(SmallSampleWarning, match="9 point"):
        htsr.fit(x, xmin=float(tail[-9]))
    with warnings.catch_warnings():
        warnings.simplefilter("error", SmallSampleWarning)
        htsr.fit(x, xmin=float(tail[-10]))


def test_fit_many_warns_once_with_a_count(x):
    with pytest.warns(SmallSampleWarning, match="1 of 2 samples") as rec:
        htsr.fit_many([x, [1.0, 2.0, 4.0]])
    assert sum(issubclass(w.category, SmallSampleWarning) for w in rec) == 1


# ----------------------------------------------------------- raw errors
def test_none_is_not_a_nan():
    with pytest.raises(htsr.DataError, match="data is None"):
        htsr.fit(None)
    with pytest.raises(htsr.DataError, match="1 None value"):
        htsr.fit([1.0, None, 3.0, 4.0])


@pytest.mark.parametrize("call, argument", [
    (lambda x: htsr.fit(x, xmin="abc"), "xmin"),
    (lambda x: htsr.fit(x, xmin=[1, 2]), "xmin"),
    (lambda x: htsr.fit(x, min_tail="abc"), "min_tail"),
    (lambda x: htsr.fit(x, min_tail=3.5), "min_tail"),
    (lambda x: htsr.fit(x, xmin_range="ab"), "xmin_range"),
    (lambda x: htsr.fit(x, xmin_range=(1, "b")), "xmin_range"),
    (lambda x: htsr.fit(x, xmin_candidates="abc"), "xmin_candidates"),
    (lambda x: htsr.fit(x, exhaustive="no"), "exhaustive"),
    (lambda x: htsr.fit(x, method="bounded", xmax="abc"), "xmax"),
    (lambda x: htsr.fit(x, progress="yes"), "progress"),
    (lambda x: htsr.gof(x, reps="abc"), "reps"),
    (lambda x: htsr.gof(x, reps=0), "reps"),
    (lambda x: htsr.gof(x, reps=10, seed=-1), "seed"),
    (lambda x: htsr.gof(x, reps=10, seed="s"), "seed"),
    (lambda x: htsr.gof(x, reps=10, procedure="x"), "procedure"),
    (lambda x: htsr.gof(x, reps=10, progress=3), "progress"),
    (lambda x: htsr.bootstrap(x, reps="abc"), "reps"),
    (lambda x: htsr.bootstrap(x, reps=10, level="high"), "level"),
    (lambda x: htsr.bootstrap(x, reps=10, level=1.5), "level"),
    (lambda x: htsr.bootstrap(x, reps=10, jackknife_groups="x"), "jackknife_groups"),
    (lambda x: htsr.compare(x, "lognormal", xmin="abc"), "xmin"),
    (lambda x: htsr.compare(x, "lognormal", discrete="no"), "discrete"),
    (lambda x: htsr.fit_model(x, "exponential", xmin="abc"), "xmin"),
    (lambda x: htsr.fit_many(None), "samples"),
    (lambda x: htsr.fit_many([x], min_tail="abc"), "min_tail"),
])
def test_bad_options_name_the_argument(x, call, argument):
    with pytest.raises(HtsrError, match=argument):
        call(x)


@pytest.mark.parametrize("progress", [False, None, True])
def test_progress_accepts_booleans(x, progress):
    r = htsr.gof(x, reps=20, seed=0, progress=progress)
    b = htsr.bootstrap(x, reps=20, seed=0, progress=progress)
    assert r.reps == 20 and b.reps == 20


def test_progress_callable_sees_the_total(x):
    seen = []
    htsr.gof(x, reps=20, seed=0, progress=lambda done, total: seen.append((done, total)))
    assert seen[-1] == (20, 20)


def test_cli_errors_use_the_cli_option_names(tmp_path, capsys):
    path = tmp_path / "v.txt"
    path.write_text("\n".join(str(v) for v in range(1, 101)))
    assert main(["fit", str(path), "--min-tail", "500"]) == 2
    err = capsys.readouterr().err
    assert "--min-tail=500" in err and "xmin_candidates" not in err and "min_tail" not in err
    assert main(["fit", str(path), "--xmin", "-3"]) == 2
    assert capsys.readouterr().err.startswith("htsr: error: --xmin must be")


# ----------------------------------------------------------- comparison API
def test_one_model_means_power_law_versus_it(x):
    one = htsr.compare(x, "exponential")
    two = htsr.compare(x, "power_law", "exponential")
    assert (one.model1.name, one.model2.name) == ("power_law", "exponential")
    assert one.R == two.R and one.p == two.p
    ln = htsr.compare(x, "lognormal")
    assert (ln.model1.name, ln.model2.name) == ("power_law", "lognormal")
    assert htsr.compare(x).R == ln.R  # no names: the power law against the lognormal


def test_two_models_compare_those_two(x):
    r = htsr.compare(x, "exponential", "lognormal")
    assert (r.model1.name, r.model2.name) == ("exponential", "lognormal")
    assert r.R == pytest.approx(r.model1.loglik - r.model2.loglik)


def test_one_model_power_law_is_refused(x):
    with pytest.raises(FitError, match="name an alternative"):
        htsr.compare(x, "power_law")
    with pytest.raises(FitError, match="model1 is None"):
        htsr.compare(x, model2="lognormal")


# ----------------------------------------------------------- start-up and cache
def _run(code: str, **env):
    full = dict(os.environ, **env)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=full)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def test_argument_errors_answer_before_jax_is_imported():
    code = ("import sys\nfrom htsr.cli.main import main\n"
            "try:\n    main(['fit', '--gof', 'abc', 'x.txt'])\n"
            "except SystemExit as e:\n    print(e.code, 'jax' in sys.modules)\n")
    assert _run(code) == "2 False"
    assert _run("import sys, htsr; print('jax' in sys.modules)") == "False"


def test_compilation_cache_is_on_by_default_and_can_be_turned_off(tmp_path):
    code = ("import htsr, jax; htsr.fit([1.0, 2.0, 3.0, 5.0, 8.0, 13.0, 21.0, 34.0, 55.0, 89.0]); "
            "print(jax.config.jax_compilation_cache_dir)")
    cache = tmp_path / "cache"
    assert _run(code, HTSR_CACHE_DIR=str(cache)) == str(cache)
    assert any(cache.iterdir())  # compiled kernels were written
    assert _run(code, HTSR_CACHE_DIR=str(cache), HTSR_NO_COMPILATION_CACHE="1") == "None"


def test_a_cache_directory_the_user_set_is_kept(tmp_path):
    mine = tmp_path / "mine"
    code = (f"import jax; jax.config.update('jax_compilation_cache_dir', {str(mine)!r}); "
            "import htsr; htsr.fit([1.0, 2.0, 3.0, 5.0, 8.0, 13.0, 21.0, 34.0, 55.0, 89.0]); "
            "print(jax.config.jax_compilation_cache_dir)")
    assert _run(code, HTSR_CACHE_DIR=str(tmp_path / "theirs")) == str(mine)


# ---------------------------------------------------------------- Dask addresses (issue 21, item 3)
@pytest.mark.parametrize("address, why", [
    ("notanaddress", "no port number"), ("foo:bar", "the port 'bar' is not an integer"),
    ("tcp://foo:bar", "the port 'bar'"), ("localhost:99999", "from 1 to 65535"), ("host:0", "from 1 to 65535"),
    (":8786", "no host"), ("::1:8786", "IPv6 host goes in brackets"),
])
def test_malformed_scheduler_addresses_are_htsr_errors(address, why):
    from htsr._dask import resolve_client

    with pytest.raises(HtsrError, match=why):
        resolve_client(address)


@pytest.mark.parametrize("address", ["127.0.0.1:8786", "tcp://scheduler.local:8786", "tls://[::1]:8786",
                                     "inproc://10.0.0.1/123/1"])
def test_well_formed_addresses_pass_the_check(address):
    from htsr._dask import check_address

    assert check_address(address) == address


def test_distributed_value_errors_become_htsr_errors(monkeypatch):
    distributed = pytest.importorskip("distributed")
    from htsr._dask import resolve_client

    def refuse(address, **kw):
        raise ValueError(f"unknown address scheme in {address!r}")

    monkeypatch.setattr(distributed, "Client", refuse)  # no cluster is started
    with pytest.raises(HtsrError, match="not a usable Dask scheduler address: unknown address scheme"):
        resolve_client("weird://host:8786", name="client")


# ---------------------------------------------------------------- one place for each rule (issue 22, item 7)
EV = np.linspace(0.1, 2.0, 50)


@pytest.mark.parametrize("call, message", [
    (lambda: htsr.rmt.mp_pdf(1.0, 0.5), r"Q must be >= 1 \(Q = N/M"),
    (lambda: htsr.rmt.gaussian(10, "2"), "Q must be a finite number"),
    (lambda: htsr.rmt.pareto(10, 2, 0.0), "mu must be a positive finite number"),
    (lambda: htsr.rmt.gaussian(10, N=12, batch=0), "batch must be an integer >= 1"),
    (lambda: htsr.rmt.wishart_edge(10, 5), "N must be >= M"),
    (lambda: htsr.rmt.wishart_edge(2.5, 5), "M must be an integer"),
    (lambda: htsr.rmt.fit_mp(EV, 2.0, confidence=1.5), r"confidence must be in \(0, 1\)"),
    (lambda: htsr.rmt.fit_mp(EV, 2.0, p_range=(0.1, "x")), r"p_range\[1\] must be a finite number"),
    (lambda: htsr.rmt.AlphaMuRelation.from_samples([1, 1, 2, 2], [1.5, 1.6, 2.0, 2.1], coverage=2), "coverage"),
    (lambda: htsr.rmt.esd(np.ones((3, 2)), method="qr"), "method must be one of 'gram', 'svd', 'auto'"),
    (lambda: htsr.rmt.esd([[1.0, np.nan]]), "W contains 1 NaN"),
    (lambda: htsr.rmt.conv2d_matrices(np.ones((2, 2, 3, 3)), layout="jax"), "layout must be one of 'pytorch'"),
    (lambda: htsr.rmt.layer_esd(np.ones((3, 3)), "lstm"), "kind must be one of 'dense'"),
    (lambda: htsr.calibrate("pareto", mu=1, Q=0.5), r"Q must be >= 1 \(Q = N/M"),
    (lambda: htsr.calibrate("pareto", mu=[1, "x"]), "mu must be a finite number"),
    (lambda: htsr.calibrate("pareto", mu=1, estimators=["clauset", "mle"]), "estimators must be one of"),
    (lambda: htsr.calibrate("power_law", alpha=1.0), "alpha must be > 1"),
])
def test_rmt_and_calibration_errors_name_the_argument(call, message):
    with pytest.raises(HtsrError, match=message):
        call()


@pytest.mark.parametrize("kwargs, message", [
    (dict(kinds=("lstm",)), "kinds must be one of 'dense'"),
    (dict(kinds=()), "kinds is empty"),
    (dict(min_evals=1), "min_evals must be an integer >= 2"),
])
def test_report_selection_errors_name_the_argument(kwargs, message):
    from htsr.report import Selection

    with pytest.raises(HtsrError, match=message):
        Selection(**kwargs)


@pytest.mark.parametrize("kwargs, message", [
    (dict(method="jackknife"), "intervals must be one of 'bootstrap', 'bayes'"),
    (dict(ci="basic"), "ci must be one of 'bca', 'percentile'"),
    (dict(seed=-1), "seed must be an integer >= 0"),
    (dict(level=1.0), r"level must be in \(0, 1\)"),
])
def test_report_interval_errors_name_the_argument(kwargs, message):
    from htsr.report import IntervalSpec

    with pytest.raises(HtsrError, match=message):
        IntervalSpec(**kwargs)


def test_one_rule_gives_one_message_in_every_layer():
    """A wide aspect ratio is refused in the same words by the generators, the MP law and a study."""
    messages = set()
    for call in (lambda: htsr.rmt.gaussian(10, 0.5), lambda: htsr.rmt.mp_edges(0.5),
                 lambda: htsr.rmt.spike_threshold(0.5), lambda: htsr.calibrate("pareto", mu=1, Q=0.5)):
        with pytest.raises(HtsrError) as info:
            call()
        messages.add(str(info.value))
    assert len(messages) == 1, messages


def test_integers_follow_one_rule_everywhere():
    """An integer-valued float is an integer for the generators as for a study (htsr.data.check_int)."""
    assert htsr.rmt.gaussian(10.0, N=20.0).shape == (20, 10)
    assert htsr.rmt.wishart_edge(10.0, 20) == htsr.rmt.wishart_edge(10, 20)
    for call in (lambda: htsr.rmt.gaussian(10.5, 2), lambda: htsr.calibrate("pareto", mu=1, M=10.5)):
        with pytest.raises(HtsrError, match="M must be an integer"):
            call()
