"""Training trajectories (``htsr.track``, ``htsr track``): ordering, resuming, stores, numbers, figures.

Three small checkpoints of one network (three Student-t matrices, a drift added per step) are
reported once per module; the numbers of the trajectory are checked against ``htsr.report`` run
on each checkpoint on its own, and the kernels compiled for the first checkpoint serve the rest.
"""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from safetensors.numpy import save_file

import htsr
from htsr.cli.main import main
from htsr.track import checkpoints, parse_step

REPS = 50
STEPS = (0, 100, 200)
OPTS = dict(reps=REPS, seed=3)


def _write_run(folder, steps=STEPS, names="step_{}.safetensors"):
    rng = np.random.default_rng(0)
    base = {f"l{i}.weight": rng.standard_t(2.5 + i, size=(96, 64)).astype(np.float32) for i in range(3)}
    paths = []
    for s in steps:
        w = {k: v + (s / 400) * rng.standard_normal(v.shape).astype(np.float32) for k, v in base.items()}
        w["l0.bias"] = np.zeros(96, np.float32)
        paths.append(folder / names.format(s))
        save_file(w, paths[-1])
    return paths


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    folder = tmp_path_factory.mktemp("run")
    paths = _write_run(folder)
    traced, at_tick = [], []
    from jax import monitoring

    def listen(event, duration, **_):
        if event == "/jax/core/compile/jaxpr_trace_duration":
            traced.append(event)

    monitoring.register_event_duration_secs_listener(listen)
    try:
        ds = htsr.track(str(folder / "step_*.safetensors"), store=folder / "t.nc",
                        progress=lambda done, total: at_tick.append(len(traced)), **OPTS)
    finally:
        monitoring.unregister_event_duration_listener(listen)
    return folder, paths, ds, at_tick


# ------------------------------------------------------------------ ordering
@pytest.mark.parametrize("name, step, unit", [
    ("step_1000.safetensors", 1000, "step"), ("epoch=3-step=200.ckpt", 200, "step"),
    ("global_step1500.pt", 1500, "step"), ("checkpoint-500", 500, "step"), ("epoch_7.pt", 7, "epoch"),
    ("ckpt12.npz", 12, "step"), ("model.safetensors", None, None), ("run2-final-v3.pt", None, None)])
def test_step_from_the_name(tmp_path, name, step, unit):
    got = parse_step(tmp_path / name)
    assert (got[:2] if got else (None, None)) == (step, unit)


def test_trainer_folders_ordered_by_trainer_state(tmp_path):
    """HF Trainer folders: ``global_step`` of trainer_state.json wins over the name; a final model is left out."""
    for name, step in (("checkpoint-10", 900), ("checkpoint-2", 20), ("checkpoint-300", 300)):
        (tmp_path / name).mkdir()
        (tmp_path / name / "trainer_state.json").write_text(json.dumps({"global_step": step}))
    (tmp_path / "model.safetensors").write_bytes(b"")
    with pytest.warns(UserWarning, match="1 entry of the folder without a step left out: model.safetensors"):
        found = checkpoints(tmp_path)
    assert [(c.step, c.origin) for c in found] == [(20, "trainer_state.json"), (300, "trainer_state.json"),
                                                   (900, "trainer_state.json")]
    assert [c.source.rsplit("/", 1)[-1] for c in found] == ["checkpoint-2", "checkpoint-300", "checkpoint-10"]


def test_names_ordered_numerically_and_steps_given(tmp_path):
    names = ["epoch=0-step=1000.ckpt", "epoch=0-step=200.ckpt", "epoch=1-step=30.ckpt"]
    found = checkpoints([str(tmp_path / n) for n in names])
    assert [c.step for c in found] == [30, 200, 1000]
    given = checkpoints([str(tmp_path / n) for n in ("a.pt", "b.pt", "c.pt")], steps="5,0,9")
    assert [(c.source.rsplit("/", 1)[-1], c.step, c.origin) for c in given] == [("b.pt", 0, "given"),
                                                                                ("a.pt", 5, "given"),
                                                                                ("c.pt", 9, "given")]


@pytest.mark.parametrize("names, match", [
    (["final.pt", "best.pt"], "no step in the name of 'final.pt' and 1 more"),
    (["step_5.pt", "run_a_b.pt"], "no step in the name of 'run_a_b.pt'"),
    (["epoch_1.pt", "step_5.pt"], "some names give epochs, others steps"),
    (["a/step_5.pt", "b/step_5.pt"], "both say step 5")])
def test_unorderable_checkpoints_ask_for_an_order(tmp_path, names, match):
    with pytest.raises(htsr.HtsrError, match=match) as e:
        checkpoints([str(tmp_path / n) for n in names])
    assert "give the order with steps= (--steps 0,100,200" in str(e.value)
    with pytest.raises(htsr.HtsrError, match="steps gives 1 step"):
        checkpoints([str(tmp_path / n) for n in names], steps=[0])


# ------------------------------------------------------------------ the numbers
def test_dataset_equals_each_checkpoints_report(run):
    folder, paths, ds, _ = run
    assert ds.sizes == {"layer": 3, "step": 3} and ds["step"].values.tolist() == list(STEPS)
    assert ds.attrs["step_unit"] == "step" and list(ds["checkpoint"].values) == [str(p) for p in paths]
    for step, path in zip(STEPS, paths):
        rep = htsr.report(str(path), bounded=False, **OPTS)
        t = rep.layers.set_index("name")
        for v in ("alpha", "alpha_lo", "alpha_hi", "xmin", "n_tail", "alpha_weighted", "log_norm"):
            np.testing.assert_array_equal(ds[v].sel(step=step).values, t.loc[ds["layer"].values, v].to_numpy(), v)
        assert list(ds["verdict"].sel(step=step).values) == list(t.loc[ds["layer"].values, "label"])
        assert ds["mean_alpha"].sel(step=step).item() == rep.summary.mean_alpha
    assert np.isfinite(ds["alpha_lo"].values).all()  # intervals on, with these options
    for step in STEPS:  # what got no row is kept per step, with its reason
        assert htsr.track.skipped_at(ds, step) == {"l0.bias": "1-D: a bias has no spectrum"}


def test_no_recompilation_after_the_first_checkpoint(run):
    *_, at_tick = run
    assert len(at_tick) == 4  # (0 done), then after each checkpoint
    assert at_tick[1] == at_tick[-1], f"traced after the first checkpoint: {np.diff(at_tick)}"


def test_netcdf_and_zarr_round_trip(run, tmp_path):
    folder, _, ds, _ = run
    xr.testing.assert_identical(htsr.track.open_trajectory(folder / "t.nc"), ds)
    htsr.track.save_trajectory(ds, tmp_path / "t.zarr")
    xr.testing.assert_identical(htsr.track.open_trajectory(tmp_path / "t.zarr"), ds)
    with pytest.raises(htsr.HtsrError, match="no trajectory at"):
        htsr.track.open_trajectory(tmp_path / "none.nc")


def test_resume_does_not_redo_steps(run, tmp_path, monkeypatch):
    folder, paths, ds, _ = run
    htsr.track.save_trajectory(ds.isel(step=[0, 1]), tmp_path / "r.nc")  # as if interrupted after two
    reported = []
    real = htsr.report.report
    monkeypatch.setattr(htsr.report, "report", lambda source, **kw: reported.append(source) or real(source, **kw))
    again = htsr.track(str(folder / "step_*.safetensors"), store=tmp_path / "r.nc", **OPTS)
    assert reported == [str(paths[2])]
    xr.testing.assert_identical(again, ds.assign_coords(checkpoint=again["checkpoint"]))
    reported.clear()
    with pytest.raises(htsr.HtsrError, match=r"made with other report options \(reps: stored 50, asked 51\)"):
        htsr.track(paths[:1], store=tmp_path / "r.nc", steps=[7], reps=REPS + 1, seed=3)
    assert reported == []  # refused before any work


def test_layers_appearing_later_are_missing_before(tmp_path):
    rng = np.random.default_rng(5)
    a, b = tmp_path / "step_1.npz", tmp_path / "step_2.npz"
    np.savez(a, x=rng.standard_t(3, (96, 64)))  # the fixture's shapes: its compiled kernels serve
    np.savez(b, x=rng.standard_t(3, (96, 64)), y=rng.standard_t(3, (80, 64)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = htsr.track([b, a], intervals=None)
    assert list(ds["layer"].values) == ["x", "y"] and np.isnan(ds["alpha"].sel(layer="y", step=1))
    assert ds["n_tail"].sel(layer="y", step=1) == -1 and ds["verdict"].sel(layer="y", step=1) == ""
    assert len(htsr.track.to_frame(ds)) == 3  # no row for the absent layer


def test_on_a_dask_cluster_the_same_numbers(run):
    distributed = pytest.importorskip("distributed")
    folder, paths, ds, _ = run
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None) as c, \
            distributed.Client(c) as client:
        on_dask = htsr.track(paths[1:], client=client, **OPTS)
    xr.testing.assert_identical(on_dask, ds.isel(step=[1, 2]))


# ------------------------------------------------------------------ the command
def test_cli_writes_store_csv_and_figures(run, tmp_path, capsys):
    folder, paths, ds, _ = run
    out = tmp_path / "out"
    out.mkdir()
    htsr.track.save_trajectory(ds.isel(step=[0, 2]), out / "trajectory.nc")  # resumed: step 100 is computed
    args = ["track", *map(str, paths), "--out", str(out), "--reps", str(REPS), "--seed", "3"]
    assert main(args) == 0
    text = capsys.readouterr().out
    assert "3 layers x 3 steps (0 .. 200)" in text and "trajectory written to" in text
    assert {p.name for p in out.iterdir()} == {"trajectory.nc", "trajectory.csv", "alpha_steps.png",
                                               "alpha_heatmap.png"}
    assert all((out / f).read_bytes()[:4] == b"\x89PNG" for f in ("alpha_steps.png", "alpha_heatmap.png"))
    xr.testing.assert_identical(htsr.track.open_trajectory(out / "trajectory.nc"), ds)
    csv = pd.read_csv(out / "trajectory.csv")
    assert list(csv.columns) == ["step", "checkpoint", "layer", *htsr.track.VARIABLES] and len(csv) == 9
    row = csv[(csv.step == 100) & (csv.layer == "l1.weight")].iloc[0]
    assert row.alpha == ds["alpha"].sel(step=100, layer="l1.weight").item()
    assert row.verdict == ds["verdict"].sel(step=100, layer="l1.weight").item()


def test_cli_unorderable_is_one_line_and_exit_2(tmp_path, capsys):
    assert main(["track", str(tmp_path / "final.pt"), str(tmp_path / "best.pt"), "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("htsr: error: cannot order the checkpoints") and "--steps 0,100,200" in err
    assert err.count("\n") == 1
