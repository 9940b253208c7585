"""Calibration studies (htsr.calibrate): grids, keyed reproducibility, storage and resume,
Dask, and the uses of a study (line fit, inversion, bias correction), checked against
known answers: the true alpha of power-law samples, the line 1 + mu/2 of very
heavy-tailed matrices, the exact Gamma posterior, and the Neyman belt's coverage."""

from __future__ import annotations

import math

import jax
import numpy as np
import pytest
import xarray as xr
from scipy import stats

import htsr
from htsr import streams
from htsr.calibration import (Grid, calibrate, correct, invert, line_fit, load_table, make_grid, open_study,
                              run_cell, save_study, summarize)
from htsr.cli.main import main
from htsr.errors import HtsrError
from htsr.models import registry

ALPHAS = [1.5, 2.5, 3.5]


@pytest.fixture(scope="module")
def samples():
    """Power-law samples, n = 400 and 1000, every estimator, 40 replicates."""
    return calibrate("power_law", alpha=ALPHAS, n=[400, 1000], reps=40, seed=3,
                     estimators=("clauset", "unbiased", "bounded", "bayes"))


@pytest.fixture(scope="module")
def matrices():
    return calibrate("pareto", mu=[0.75, 1.25, 1.75, 3.0], M=[60, 120], Q=[1, 2], reps=6, seed=0)


# ---------------------------------------------------------------- grids
@pytest.mark.parametrize("kwargs, message", [
    (dict(generator="cauchy", mu=1), "generator must be one of"),
    (dict(generator="pareto"), "needs mu"),
    (dict(generator="pareto", mu=-1), "mu must be > 0"),
    (dict(generator="pareto", mu=[]), "mu is empty"),
    (dict(generator="pareto", mu=1, Q=0.5), "Q must be >= 1"),
    (dict(generator="pareto", mu=1, M=1), "M must be an integer >= 2"),
    (dict(generator="pareto", mu=[1, 1]), "repeated"),
    (dict(generator="pareto", mu=1, alpha=2), "has no alpha"),
    (dict(generator="power_law", alpha=1.0), "alpha must be > 1"),
    (dict(generator="gaussian", mu=1), "has no mu"),
    (dict(generator="pareto", mu=1, estimators=("clauset", "magic")), "estimators must be one of .* got 'magic'"),
    (dict(generator="pareto", mu=1, reps=0), "reps"),
    (dict(generator="pareto", mu=1, level=1.5), "level"),
])
def test_bad_grids_are_refused_with_the_argument_named(kwargs, message):
    with pytest.raises(HtsrError, match=message):
        calibrate(**kwargs)


def test_grid_cells_and_dims():
    g = make_grid("pareto", mu=[1, 2], M=[100, 200], Q=[1, 2, 4], reps=3)
    assert isinstance(g, Grid) and g.dims == ("mu", "M", "Q")
    assert len(g.cells()) == 12 and g.cells()[0] == {"mu": 1.0, "M": 100, "Q": 1.0}
    assert make_grid("gaussian", M=50).dims == ("M", "Q")


# ---------------------------------------------------------------- reproducibility
def test_a_cell_depends_on_its_coordinates_and_seed_only():
    cell = {"mu": 1.5, "M": 50, "Q": 2.0}
    a = run_cell(make_grid("pareto", mu=[1.5], M=50, Q=2, reps=5, seed=7), cell)
    b = run_cell(make_grid("pareto", mu=[0.5, 1.5, 3.0], M=[50, 80], Q=[1, 2], reps=3, seed=7), cell)
    for f in ("alpha_hat", "xmin", "n_tail"):  # replicate r does not depend on the grid or on reps
        np.testing.assert_array_equal(a[f][:, :3], b[f])
    c = run_cell(make_grid("pareto", mu=[1.5], M=50, Q=2, reps=5, seed=8), cell)
    assert not np.array_equal(a["alpha_hat"], c["alpha_hat"])


def test_same_study_identical_in_process_and_on_a_local_cluster(tmp_path):
    distributed = pytest.importorskip("distributed")
    kw = dict(mu=[1.0, 2.5], M=[40], Q=[1, 2], reps=4, seed=5, estimators=("clauset", "bounded"))
    local = calibrate("pareto", **kw)
    # worker processes: the grid and the cells' results cross a process boundary
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=True,
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        remote = calibrate("pareto", **kw, client=client, store=tmp_path / "s.nc")
    xr.testing.assert_identical(local, remote)
    xr.testing.assert_identical(local, open_study(tmp_path / "s.nc"))


# ---------------------------------------------------------------- storage
def test_interrupted_study_resumes_from_the_stored_cells(tmp_path):
    kw = dict(alpha=[1.8, 2.2, 2.6, 3.0], n=[100, 200], reps=6, seed=11)
    full = calibrate("power_law", **kw)
    store = tmp_path / "study.nc"

    def stop_after_three(done, total):
        if done == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        calibrate("power_law", **kw, store=store, progress=stop_after_three, save_every=1e9)
    partial = open_study(store)
    assert int(partial["done"].sum()) == 3  # saved on the way out
    seen = []
    resumed = calibrate("power_law", **kw, store=store, progress=lambda d, t: seen.append((d, t)))
    assert seen[-1] == (5, 5)  # only the five missing cells were computed
    xr.testing.assert_identical(resumed, full)
    with pytest.raises(HtsrError, match="different study.*seed"):
        calibrate("power_law", **{**kw, "seed": 12}, store=store)


def test_zarr_store_round_trip(tmp_path, matrices):
    pytest.importorskip("zarr")
    path = save_study(matrices, tmp_path / "m.zarr")
    xr.testing.assert_identical(open_study(path), matrices)
    save_study(matrices, path)  # overwrite in place
    xr.testing.assert_identical(open_study(path), matrices)


def test_open_study_refuses_other_files(tmp_path):
    with pytest.raises(HtsrError, match="no calibration study"):
        open_study(tmp_path / "none.nc")
    xr.Dataset({"x": ("a", [1.0])}).to_netcdf(tmp_path / "x.nc", engine="h5netcdf")
    with pytest.raises(HtsrError, match="not an htsr calibration study"):
        open_study(tmp_path / "x.nc")


# ---------------------------------------------------------------- known answers
def test_layout_of_the_dataset(samples):
    assert samples["alpha_hat"].dims == ("alpha", "n", "estimator", "rep")
    assert list(samples["estimator"].values) == ["clauset", "unbiased", "bounded", "bayes"]
    assert samples["alpha_mean"].dims == ("alpha", "n", "estimator")
    assert int(samples["done"].sum()) == 6
    np.testing.assert_array_equal(samples["target"], ALPHAS)
    assert samples.attrs["generator"] == "power_law" and samples.attrs["reps"] == 40


def test_power_law_samples_recover_alpha(samples):
    """Pure power laws above xmin = 1: every estimator is within 4 standard errors of alpha."""
    for est in ("clauset", "unbiased", "bounded", "bayes"):
        s = samples.sel(n=1000, estimator=est)
        se = s["alpha_sd"] / np.sqrt(s["n_fitted"])
        z = np.abs(s["bias"] / se)
        assert float(z.max()) < 4, (est, s["bias"].values)
    # the Clauset fit keeps most of a pure power law: xmin near the true xmin 1
    assert float(samples["xmin"].sel(n=1000, estimator="clauset").median()) < 1.6


def test_summaries_match_their_definitions(samples):
    s = samples.sel(alpha=2.5, n=400, estimator="clauset")
    a = s["alpha_hat"].values
    assert float(s["alpha_mean"]) == pytest.approx(a.mean())
    assert float(s["alpha_sd"]) == pytest.approx(a.std(ddof=1))
    assert float(s["rmse"]) == pytest.approx(np.sqrt(np.mean((a - 2.5) ** 2)))
    inside = (s["alpha_lo"].values <= 2.5) & (2.5 <= s["alpha_hi"].values)
    assert float(s["coverage"]) == pytest.approx(inside.mean())
    xr.testing.assert_identical(summarize(samples), samples)


def test_interval_coverage_is_near_nominal(samples):
    """95% Wald and HDI intervals on 240 pure power-law samples.

    Both condition on the scanned xmin, so they miss its uncertainty and cover a little
    less than 95% (0.91-0.92 over 3,800 samples in docs/calibration.md); far below
    would mean a wrong sigma or HDI.
    """
    for est in ("clauset", "bayes"):
        cov = float(samples["coverage"].sel(estimator=est).mean())
        assert 0.86 < cov < 0.99, (est, cov)


def test_bayes_estimator_is_the_exact_gamma_posterior(samples):
    """The study's Bayesian estimate of a replicate, against the posterior computed by hand.

    Replicate r of cell (alpha=2.5, n=400) is redrawn from its documented stream (htsr.streams:
    the cell's ``calibration`` word) with the power law's sampler; with the study's xmin, the
    default prior alpha - 1 ~ Gamma(2, rate 0.5) gives alpha - 1 | x ~ Gamma(2 + n, 0.5 + sum ln(x/xmin)).
    Its mean comes from scipy.stats.gamma, and the HDI is checked by its two defining properties.
    """
    s = samples.sel(alpha=2.5, n=400)
    key = streams.keys(3, "calibration", 0, 40, streams.cell_word("power_law", {"alpha": 2.5, "n": 400}))
    law = registry.get("power_law")
    for r in (0, 7):
        with jax.enable_x64(True):
            x = np.sort(np.asarray(law.sample(key[r], (2.5,), 1.0, (400,))))
        xmin = float(s["xmin"].sel(estimator="bayes", rep=r))
        assert xmin == float(s["xmin"].sel(estimator="clauset", rep=r)) and xmin in x
        tail = x[x >= xmin]
        assert int(s["n_tail"].sel(estimator="bayes", rep=r)) == tail.size
        post = stats.gamma(2.0 + tail.size, scale=1.0 / (0.5 + np.log(tail / xmin).sum()))
        assert float(s["alpha_hat"].sel(estimator="bayes", rep=r)) == pytest.approx(1.0 + post.mean(), rel=1e-12)
        lo = float(s["alpha_lo"].sel(estimator="bayes", rep=r)) - 1.0
        hi = float(s["alpha_hi"].sel(estimator="bayes", rep=r)) - 1.0
        assert post.cdf(hi) - post.cdf(lo) == pytest.approx(0.95, abs=1e-8)
        assert post.pdf(lo) == pytest.approx(post.pdf(hi), rel=1e-4)  # equal density at the ends: the HDI
        assert hi - lo < post.ppf(0.975) - post.ppf(0.025)  # and narrower than the equal-tailed interval


def test_very_heavy_tailed_matrices_follow_one_plus_mu_over_two(matrices):
    s = matrices.sel(estimator="clauset", Q=2.0, M=120)
    for mu in (0.75, 1.25):
        assert float(s["alpha_mean"].sel(mu=mu)) == pytest.approx(1 + mu / 2, abs=0.2)
    np.testing.assert_allclose(matrices["target"].values, [1.375, 1.625, 1.875, 2.5])


def test_gaussian_study_has_no_target():
    ds = calibrate("gaussian", M=[40], Q=[1, 4], reps=3, estimators=("clauset",))
    assert ds["alpha_hat"].dims == ("M", "Q", "estimator", "rep")
    assert np.isnan(float(ds["target"])) and bool(ds["coverage"].isnull().all())
    assert bool(ds["alpha_hat"].notnull().any())


# ---------------------------------------------------------------- using a study
def test_line_fit_recovers_the_identity_on_power_law_samples(samples):
    lf = line_fit(samples, 1.0, 4.0, estimator="clauset", n=1000)
    assert lf.slope == pytest.approx(1.0, abs=4 * lf.slope_se + 0.02)
    assert lf.intercept == pytest.approx(0.0, abs=4 * lf.intercept_se + 0.05)
    assert lf.n == 120 and lf.at == {"n": 1000}


def test_invert_covers_the_true_alpha_at_the_belt_level(samples):
    """Fresh samples (other seed) of true alpha 2.5 inverted through the study's belt."""
    fresh = calibrate("power_law", alpha=[2.5], n=[1000], reps=60, seed=99, estimators=("clauset",))
    hits = []
    for a in fresh["alpha_hat"].sel(estimator="clauset").values.ravel():
        inv = invert(samples, float(a), n=1000)
        assert inv.param == "alpha" and inv.lo <= inv.value <= inv.hi
        hits.append(inv.lo <= 2.5 <= inv.hi)
    assert np.mean(hits) >= 0.85  # nominal 0.95, with 40-replicate quantiles and 60 draws
    far = invert(samples, 50.0, n=1000)
    assert np.isnan(far.value) and np.isnan(far.lo)
    edge = invert(samples, 1.5, n=1000)
    assert edge.lo_censored and not edge.hi_censored


def test_invert_and_correct_matrix_studies(matrices):
    inv = invert(matrices, 1.6, M=100, Q=2)  # nearest cell on a log scale: M = 120
    assert inv.at == {"M": 120, "Q": 2.0} and inv.param == "mu"
    assert 0.75 <= inv.lo <= inv.value <= inv.hi <= 3.0
    c = correct(1.6, matrices, M=120, Q=2)
    assert c.alpha == pytest.approx(1 + inv.value / 2) and c.alpha_fitted == 1.6
    with pytest.raises(HtsrError, match="give M"):
        invert(matrices, 1.6, Q=2)
    with pytest.raises(HtsrError, match="not in this study"):
        invert(matrices, 1.6, M=120, Q=2, estimator="bayes")


def test_correct_a_fit_result_with_a_power_law_study(samples):
    x = np.asarray(htsr.rmt.pareto(10, N=100, mu=1.5, symmetric=False).ravel())  # a Pareto sample, alpha 2.5
    r = htsr.fit(x)
    c = correct(r, samples)
    assert c.inversion.at["n"] in (400, 1000) and c.alpha_fitted == r.alpha
    assert c.lo <= c.alpha <= c.hi and c.lo < 2.5 < c.hi
    b = correct(htsr.fit(x, method="bounded"), samples)
    assert b.inversion.estimator == "bounded"


def test_shipped_table_inverts_common_layer_shapes():
    table = load_table()
    assert table.attrs["generator"] == "pareto" and table["alpha_hat"].dims[:3] == ("mu", "M", "Q")
    assert int(table["done"].sum()) == table["done"].size  # complete
    inv = invert(table, 1.75, M=384, Q=4)
    assert inv.at == {"M": 384, "Q": 4.0} and 1.0 < inv.value < 2.2


# ---------------------------------------------------------------- CLI and plots
def test_cli_runs_a_study_and_plots_it(tmp_path, capsys):
    out = tmp_path / "study.nc"
    rc = main(["calibrate", "--generator", "pareto", "--mu", "1:2:0.5", "--M", "40", "--Q", "1,2",
               "--reps", "3", "--out", str(out), "--quiet"])
    assert rc == 0 and f"study written to {out}" in capsys.readouterr().out
    ds = open_study(out)
    np.testing.assert_allclose(ds["mu"], [1.0, 1.5, 2.0])
    assert main(["calibrate", "plot", str(out), "--out", str(tmp_path / "fig")]) == 0
    names = sorted(p.name for p in (tmp_path / "fig").iterdir())
    assert "alpha_vs_mu_M40_Q1.png" in names and "alpha_vs_Q_mu1.png" in names


@pytest.mark.parametrize("args, message", [
    (["--mu", "5:0.5:0.25"], "--mu '5:0.5:0.25' is an empty range"),
    (["--mu", "1", "--Q", "0.5"], "--Q must be >= 1"),
    (["--mu", "1", "--M", "1"], "--M must be an integer >= 2"),
    (["--mu", "-0.5"], "--mu must be > 0"),
    (["--generator", "levy", "--mu", "1"], "--generator must be one of"),
    (["--mu", "1:2"], "a range is START:STOP:STEP"),
    (["plot"], "usage: htsr calibrate plot"),
])
def test_cli_bad_grids_are_one_line_and_exit_2(tmp_path, capsys, args, message):
    assert main(["calibrate", *args, "--out", str(tmp_path / "x.nc")]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


def test_plots_draw_the_seed_figures(samples, matrices):
    import matplotlib

    matplotlib.use("Agg")
    from htsr.plot.calibration import plot_alpha_vs_mu, plot_alpha_vs_size, plot_fitted_vs_true

    ax = plot_fitted_vs_true(samples, n=1000)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert {"clauset", "bounded", "perfect estimate"} <= set(labels)
    ax = plot_alpha_vs_mu(matrices, M=120, Q=2, estimators=["clauset"])
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any(l.startswith("clauset fit on 0<mu<2") for l in labels)
    assert any("1 + \\mu/2" in l for l in labels)
    ax = plot_alpha_vs_size(matrices, "Q", mu=1.25)
    assert len(ax.containers) == 2  # one errorbar series per M
    with pytest.raises(HtsrError, match="power_law study"):
        plot_fitted_vs_true(matrices)


# ---------------------------------------------------------------- issue 21 (items 4, 8)
def test_a_different_study_is_named_in_plain_numbers(tmp_path):
    store = tmp_path / "s.nc"
    kw = dict(alpha=[2.0], n=[50], reps=2)
    calibrate("power_law", **kw, seed=0, store=store)
    with pytest.raises(HtsrError) as info:
        calibrate("power_law", **kw, seed=1, store=store)
    assert "seed: stored 0, asked 1" in str(info.value) and "np." not in str(info.value)


def test_a_failed_final_save_keeps_the_study_elsewhere(tmp_path, monkeypatch):
    import htsr.calibration.study as study

    real, store = study.save_study, tmp_path / "s.nc"

    def fail_at_store(ds, path):
        if str(path) == str(store):
            raise PermissionError(13, "Permission denied")
        return real(ds, path)

    monkeypatch.setattr(study, "save_study", fail_at_store)
    with pytest.raises(HtsrError, match="cannot write the study to .*saved to (.*) instead") as info:
        calibrate("power_law", alpha=[2.0], n=[50], reps=2, store=store)
    spare = str(info.value).split("saved to ")[1].split(" instead")[0]
    assert int(open_study(spare)["done"].sum()) == 1


def test_a_store_that_cannot_be_written_is_refused_before_any_cell(tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("")
    ran = []
    with pytest.raises(HtsrError, match="cannot write store .*is a file, not a folder"):
        calibrate("power_law", alpha=[2.0], n=[50], reps=2, store=blocker / "s.nc",
                  progress=lambda d, t: ran.append(d))
    assert ran == []


def test_the_reports_implied_mu_is_invert_on_the_shipped_table():
    """The report reads the table's alphas with h5py (no xarray in a report's fresh process);
    every value equals htsr.calibration.invert on load_table(), the Dataset users get."""
    import sys

    from htsr.calibration import invert, load_table
    from htsr.report.calibrated import MAX_SHAPE_RATIO, implied_mu

    ds = load_table()
    shapes = [(384, 384), (1536, 384), (768, 768), (3072, 768), (2000, 500), (600, 500), (512, 384), (30522, 384)]
    checked = 0
    for N, M in shapes:
        for alpha in np.linspace(1.3, 9.0, 23):
            got = implied_mu(float(alpha), N, M)
            inv = invert(ds, float(alpha), M=M, Q=N / M)
            far = (max(inv.at["M"] / M, M / inv.at["M"]) > MAX_SHAPE_RATIO
                   or max(inv.at["Q"] / (N / M), (N / M) / inv.at["Q"]) > MAX_SHAPE_RATIO)
            want = (math.nan,) * 3 if far else (inv.value, inv.lo, inv.hi)
            np.testing.assert_array_equal([got["mu"], got["mu_lo"], got["mu_hi"]], want)
            checked += not far and math.isfinite(inv.value)
    assert checked > 60  # most of them inside the table's belts
    code = ("import sys, htsr.report.calibrated as c; c.implied_mu(2.5, 1536, 384); "
            "print('xarray' in sys.modules)")
    out = __import__("subprocess").run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
