"""Long reports (issue 23, item 7): per-layer checkpoints that resume an interrupted report, and
progress with a stage, a layer and a time left (htsr.report.resume, htsr._progress)."""

from __future__ import annotations

import io
import os

import numpy as np
import pandas as pd
import pytest

import htsr
import htsr.report.execute as execute
from htsr._progress import Bar, Lines, Stages, Step, resolve, takes_step
from htsr.cli.main import main
from htsr.errors import CheckpointWarning, HtsrError
from htsr.report.resume import MANIFEST, PARTIAL, count, layer_file

REPS = 60


def _model(path, seed=7, scale=1.0):
    """Five small heavy-tailed layers of unequal shapes, and a bias."""
    rng = np.random.default_rng(seed)
    arrays = {f"block.{i}.dense.weight": scale * rng.standard_t(3, (160 + 20 * i, 40 + 10 * i)) for i in range(5)}
    arrays["block.0.dense.bias"] = rng.normal(size=160)
    np.savez(path, **arrays)
    return path


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    return str(_model(tmp_path_factory.mktemp("m") / "model.npz"))


@pytest.fixture(scope="module")
def whole(model):
    """The uninterrupted report, with bootstrap intervals."""
    return htsr.report(model, reps=REPS, workers=2)


class Stop(Exception):
    pass


def _stop_after(k):
    """A three-argument progress callable that interrupts the report after ``k`` ESDs."""
    def progress(done, total, step):
        if step.stage == "spectra" and step.stage_done >= k:
            raise Stop
    return progress


def _counting(monkeypatch):
    """Count the layers whose ESD is computed (execute.layer_spectrum, the local path)."""
    computed = []
    real = execute.layer_spectrum

    def counted(index, tensor, *args):
        computed.append(tensor.name)
        return real(index, tensor, *args)

    monkeypatch.setattr(execute, "layer_spectrum", counted)
    return computed


def test_an_interrupted_report_resumes_and_equals_an_uninterrupted_one(model, whole, tmp_path, monkeypatch):
    ck = tmp_path / "ck"
    with pytest.raises(Stop):
        htsr.report(model, reps=REPS, workers=2, checkpoint=ck, progress=_stop_after(2))
    assert count(ck) == 2 and (ck / MANIFEST).is_file()
    assert not [p for p in os.listdir(ck) if p.startswith(".tmp-")]  # written atomically: no temporaries left
    computed = _counting(monkeypatch)
    steps = []
    rep = htsr.report(model, reps=REPS, workers=2, checkpoint=ck, progress=lambda d, t, s: steps.append(s))
    assert len(computed) == 3 and len(set(computed)) == 3  # only the layers not saved are computed
    saved = {n for n in whole.layers["name"] if (ck / layer_file(n)).exists()}
    assert not saved and not ck.exists()  # the checkpoint is removed once the report is whole
    pd.testing.assert_frame_equal(rep.layers, whole.layers, check_exact=True)
    assert rep.summary.to_dict() == whole.summary.to_dict()
    for a, b in zip(rep.spectra, whole.spectra):
        assert np.array_equal(a.evals, b.evals) and np.array_equal(a.sample, b.sample) and a.metrics == b.metrics
    first = next(s for s in steps if s.stage_done > 0)
    assert first.stage == "spectra" and first.stage_done == 2 and "from the checkpoint" in first.item


def test_bootstrap_chunks_are_saved_too_and_a_resume_redoes_only_the_rest(model, tmp_path, monkeypatch):
    import htsr.report.intervals as iv

    real_chunks, real_chunk, ran = iv.chunks, iv.bootstrap_chunk, []
    monkeypatch.setattr(iv, "chunks", lambda sizes, reps, groups: real_chunks(sizes, reps, groups, budget=1))

    def chunk(samples, names, spec):
        ran.append(tuple(names))
        return real_chunk(samples, names, spec)

    monkeypatch.setattr(iv, "bootstrap_chunk", chunk)
    whole = htsr.report(model, reps=REPS, workers=1)  # one layer per chunk, uninterrupted
    assert len(ran) == 5

    def stop_in_intervals(done, total, step):
        if step.stage == "intervals" and step.stage_done >= 2:
            raise Stop

    ck = tmp_path / "ck"
    with pytest.raises(Stop):
        htsr.report(model, reps=REPS, workers=1, checkpoint=ck, progress=stop_in_intervals)
    assert count(ck) == 5 and len([p for p in os.listdir(ck) if p.startswith("chunk-")]) == 2
    ran.clear()
    computed = _counting(monkeypatch)
    rep = htsr.report(model, reps=REPS, workers=1, checkpoint=ck)
    assert computed == [] and len(ran) == 3  # no ESD, three bootstrap chunks of five
    pd.testing.assert_frame_equal(rep.layers, whole.layers, check_exact=True)
    for name in whole.draws:
        assert np.array_equal(rep.draws[name], whole.draws[name])
    assert not ck.exists()


def test_a_killed_layer_function_leaves_whole_files_and_keep_checkpoint_keeps_them(model, tmp_path, monkeypatch):
    ck, calls = tmp_path / "ck", []
    real = execute.layer_spectrum

    def dies_on_the_fourth(index, tensor, *args):
        calls.append(index)
        if len(calls) == 4:
            raise KeyboardInterrupt
        return real(index, tensor, *args)

    monkeypatch.setattr(execute, "layer_spectrum", dies_on_the_fourth)
    with pytest.raises(KeyboardInterrupt):
        htsr.report(model, intervals=None, workers=1, checkpoint=ck)
    assert count(ck) == 3
    monkeypatch.setattr(execute, "layer_spectrum", real)
    rep = htsr.report(model, intervals=None, workers=1, checkpoint=ck, keep_checkpoint=True)
    assert count(ck) == 5  # kept: every layer's file
    fresh = htsr.report(model, intervals=None, workers=1)
    pd.testing.assert_frame_equal(rep.layers, fresh.layers, check_exact=True)
    with pytest.raises(HtsrError, match="keep_checkpoint must be True or False"):
        htsr.report(model, intervals=None, checkpoint=ck, keep_checkpoint="yes")


def test_changed_options_or_source_discard_the_partial_results_with_a_message(tmp_path, monkeypatch):
    path, ck = str(_model(tmp_path / "m.npz")), tmp_path / "ck"
    with pytest.raises(Stop):
        htsr.report(path, intervals=None, workers=1, checkpoint=ck, progress=_stop_after(3))
    computed = _counting(monkeypatch)
    with pytest.warns(CheckpointWarning, match=r"3 partial layer result\(s\) are not this report's "
                                               r"\(normalize False -> True\).*computed again"):
        rep = before = htsr.report(path, intervals=None, workers=1, checkpoint=ck, normalize=True,
                                   keep_checkpoint=True)
    assert len(computed) == 5
    fresh = htsr.report(path, intervals=None, workers=1, normalize=True)
    pd.testing.assert_frame_equal(rep.layers, fresh.layers, check_exact=True)

    _model(path, seed=8)  # the same names and shapes, other values: a rewritten file
    os.utime(path, ns=(os.stat(path).st_atime_ns, os.stat(path).st_mtime_ns + 10**9))
    computed.clear()
    with pytest.warns(CheckpointWarning, match=r"file\(s\) changed since: m\.npz"):
        rep = htsr.report(path, intervals=None, workers=1, checkpoint=ck, normalize=True)
    assert len(computed) == 5
    fresh = htsr.report(path, intervals=None, workers=1, normalize=True)
    pd.testing.assert_frame_equal(rep.layers, fresh.layers, check_exact=True)
    assert not (rep.layers["lambda_max"] == before.layers["lambda_max"]).any()  # the new values, not the old


def test_other_limits_and_a_damaged_layer_file_are_not_used(tmp_path, monkeypatch):
    path, ck = str(_model(tmp_path / "m.npz")), tmp_path / "ck"
    htsr.report(path, intervals=None, workers=1, checkpoint=ck, keep_checkpoint=True)
    with pytest.warns(CheckpointWarning, match=r"max_evals 15000 -> 60"):
        htsr.report(path, intervals=None, workers=1, checkpoint=ck, max_evals=60, keep_checkpoint=True)
    with pytest.warns(CheckpointWarning, match=r"max_evals 60 -> 15000"):  # rewrites all five
        htsr.report(path, intervals=None, workers=1, checkpoint=ck, keep_checkpoint=True)
    (ck / layer_file("block.2.dense.weight")).write_bytes(b"not an npz")
    computed = _counting(monkeypatch)
    with pytest.warns(CheckpointWarning, match="block.2.dense.weight is computed again"):
        rep = htsr.report(path, intervals=None, workers=1, checkpoint=ck)
    assert computed == ["block.2.dense.weight"]
    pd.testing.assert_frame_equal(rep.layers, htsr.report(path, intervals=None).layers, check_exact=True)


def test_a_dask_report_saves_and_resumes_on_the_client(model, tmp_path):
    distributed = pytest.importorskip("distributed")
    ck = tmp_path / "ck"
    fresh = htsr.report(model, intervals=None, workers=1)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None) as c, \
            distributed.Client(c) as client:
        with pytest.raises(Stop):
            htsr.report(model, intervals=None, client=client, checkpoint=ck, progress=_stop_after(2))
        assert count(ck) >= 2
        rep = htsr.report(model, intervals=None, client=client, checkpoint=ck, keep_checkpoint=True)
    assert count(ck) == 5
    pd.testing.assert_frame_equal(rep.layers, fresh.layers, check_exact=True)


def test_a_checkpoint_that_cannot_be_written_warns_once_and_the_report_goes_on(model, tmp_path, monkeypatch):
    import htsr.report.resume as resume

    real, writes = resume._atomic, []

    def disk_full_after_the_manifest(path, write):
        writes.append(path.name)
        if path.name != MANIFEST:
            raise OSError(28, "No space left on device")
        return real(path, write)

    monkeypatch.setattr(resume, "_atomic", disk_full_after_the_manifest)
    with pytest.warns(CheckpointWarning, match="No space left on device.*without saving more") as record:
        rep = htsr.report(model, intervals=None, workers=1, checkpoint=tmp_path / "ck")
    assert len([w for w in record if issubclass(w.category, CheckpointWarning)]) == 1 and len(writes) == 2
    pd.testing.assert_frame_equal(rep.layers, htsr.report(model, intervals=None).layers, check_exact=True)


def test_a_checkpoint_needs_a_source_on_disk_and_a_folder(tmp_path):
    rng = np.random.default_rng(0)
    state = {"a.weight": rng.standard_t(3, (100, 40)), "b.weight": rng.standard_t(3, (90, 30))}
    with pytest.raises(HtsrError, match="checkpoint needs weights read from files"):
        htsr.report(state, intervals=None, checkpoint=tmp_path / "ck")
    path = str(_model(tmp_path / "m.npz"))
    (tmp_path / "file").write_text("x")
    with pytest.raises(HtsrError, match="is a file, not a folder"):
        htsr.report(path, intervals=None, checkpoint=tmp_path / "file")
    with pytest.raises(HtsrError, match="checkpoint must be a folder"):
        htsr.report(path, intervals=None, checkpoint=3)


def test_cli_resume_after_an_interrupt(model, tmp_path, monkeypatch, capsys):
    whole, out = tmp_path / "whole", tmp_path / "out"
    assert main(["report", model, "--out", str(whole), "--no-html", "--no-intervals", "--quiet"]) == 0
    real, calls = execute.layer_spectrum, []

    def interrupted(index, tensor, *args):
        calls.append(index)
        if len(calls) == 3:
            raise KeyboardInterrupt  # Ctrl-C during the third layer
        return real(index, tensor, *args)

    monkeypatch.setattr(execute, "layer_spectrum", interrupted)
    args = ["report", model, "--out", str(out), "--no-html", "--no-intervals", "--workers", "1"]
    assert main(args) == 130
    err = capsys.readouterr().err
    assert "htsr: interrupted" in err and f"saved in {out / PARTIAL}" in err and "--resume" in err
    assert count(out / PARTIAL) == 2
    computed = _counting(monkeypatch)
    assert main([*args, "--resume", "--keep-partial"]) == 0
    assert len(computed) == 3 and count(out / PARTIAL) == 5
    err = capsys.readouterr().err
    assert "htsr report: spectra" in err and "fits 5/5 layers" in err  # stderr is no terminal here: lines
    assert (out / "report.csv").read_text() == (whole / "report.csv").read_text()
    assert main([*args, "--quiet"]) == 0  # no --resume: the earlier partial results are discarded, said so
    err = capsys.readouterr().err
    assert "5 layer(s) of an earlier, interrupted report" in err and "htsr report: spectra" not in err
    assert not (out / PARTIAL).exists() and len(computed) == 8
    assert main([*args, "--no-progress"]) == 0
    assert "htsr report:" not in capsys.readouterr().err
    assert main([*args, "--resume", "--base", model]) == 2  # a LoRA merge is made in memory: nothing to check
    assert "--resume cannot be used with --base" in capsys.readouterr().err


# ---------------------------------------------------------------------------------------- progress


def test_two_argument_callables_keep_working_and_three_get_steps(model):
    two, three = [], []
    htsr.report(model, reps=REPS, workers=2, progress=lambda d, t: two.append((d, t)))
    htsr.report(model, reps=REPS, workers=2, progress=lambda d, t, s: three.append((d, t, s)))
    assert two[0] == (0, 15) and two[-1] == (15, 15) and all(a[0] <= b[0] for a, b in zip(two, two[1:]))
    assert [(d, t) for d, t, _ in three] == two
    steps = [s for _, _, s in three]
    stages = [s.stage for s in steps]
    assert stages == sorted(stages, key=["spectra", "fits", "intervals"].index)  # in order
    layer_steps = [s for s in steps if s.stage == "spectra" and s.stage_done > 0]
    assert sorted(s.item for s in layer_steps) == [f"block.{i}.dense.weight" for i in range(5)]
    assert [s.stage_done for s in layer_steps] == [1, 2, 3, 4, 5] and layer_steps[-1].eta == 0.0
    assert all(0 < s.fraction < 1 and s.eta is not None for s in layer_steps[:-1])
    assert steps[-1].stage == "intervals" and steps[-1].fraction == 1.0


def test_stage_time_left_weighs_items_by_cost():
    seen = []
    stages = Stages(resolve(lambda d, t, s: seen.append(s), step=True), total=3)
    stages.begin("spectra", 3, cost=100.0)
    stages.tick(item="small", cost=10.0)
    assert seen[-1].fraction == pytest.approx(0.1) and seen[-1].eta == pytest.approx(9 * seen[-1].elapsed)
    stages.tick(item="big", cost=80.0)
    assert seen[-1].fraction == pytest.approx(0.9) and seen[-1].stage_done == 2
    stages.tick(item="last", cost=10.0)
    assert seen[-1] == seen[-1]._replace(stage_done=3, fraction=1.0, eta=0.0, item="last")
    calls = []
    wrapped = resolve(lambda d, t: calls.append((d, t)), step=True)
    wrapped(1, 2, Step("spectra", 1, 2))  # a two-argument callable is called with two
    assert calls == [(1, 2)] and takes_step(lambda d, t, s: 0) and not takes_step(lambda d, t: 0)
    assert takes_step(lambda *a: 0) and takes_step(lambda d, t, s=None: 0)


def test_lines_are_few_and_readable_and_the_bar_names_the_layer(monkeypatch):
    out = io.StringIO()
    lines = Lines("htsr report", every=3600.0, stream=out)
    stages = Stages(lines, total=200)
    stages.begin("spectra", 100, cost=100.0)
    for i in range(100):
        stages.tick(item=f"model.layers.{i}.mlp.down_proj.weight")
    stages.begin("fits", 100)
    stages.tick(100)
    text = out.getvalue().splitlines()
    assert len(text) == 3, text  # the first layer (an estimate), the end of each stage; nothing in between
    assert text[0].startswith("htsr report: spectra 1/100 layers, model.layers.0.mlp.down_proj.weight, ")
    assert text[0].endswith(" left") and text[1].endswith("done") and text[2].startswith("htsr report: fits 100/100")

    class Tty(io.StringIO):
        def isatty(self):
            return True

    monkeypatch.setenv("COLUMNS", "200")
    tty = Tty()
    bar = Bar("htsr report", stream=tty)
    assert bar.enabled and not Bar("x", stream=io.StringIO()).enabled
    bar(3, 10, Step("spectra", 3, 10, "model.layers.3.mlp.down_proj.weight", 0.3, 12.0, 28.0))
    drawn = tty.getvalue()
    assert drawn.startswith("\rhtsr report [") and "spectra 3/10 layers, model.layers.3.mlp.down_proj.weight" in drawn
    assert "~28 s left" in drawn and "\n" not in drawn
    bar(10, 10, Step("fits", 10, 10, "", 1.0, 1.0, 0.0))
    assert tty.getvalue().endswith("\n")  # the bar's line ends with the work
    monkeypatch.setenv("COLUMNS", "60")
    narrow = Tty()
    Bar("htsr report", stream=narrow)(3, 10, Step("spectra", 3, 10, "model.layers.3.mlp.down_proj.weight", 0.3))
    assert len(narrow.getvalue()) <= 60 + len("\r\x1b[K")  # cut to the terminal's width: it never wraps


def test_progress_true_writes_lines_off_a_terminal(model, capsys):
    htsr.report(model, intervals=None, progress=True)
    err = [line for line in capsys.readouterr().err.splitlines() if line.startswith("htsr report:")]
    assert err[0].startswith("htsr report: spectra 1/5 layers, block.") and err[-1].startswith("htsr report: fits 5/5")
    assert len(err) <= 4 and "\r" not in "".join(err)
    with pytest.raises(HtsrError, match="progress must be True, False, None or a callable"):
        htsr.report(model, intervals=None, progress="yes")
