"""The teaching notebooks run top to bottom in their fast mode and print the right numbers.

Each notebook reads ``HTSR_NOTEBOOK_FAST``; with ``"1"`` (set here) it does less work
(fewer Monte Carlo replicates, a smaller corpus, fewer and shorter trainings).  The
committed notebooks hold the outputs of a full run.  Cells run with
``allow_errors=True`` so that a failing cell is reported with its traceback and the
other cells' outputs can still be checked.

Known answers come from outside the notebooks where they exist:

* quickstart: Clauset, Shalizi & Newman (2009), Table 6.1 (xmin, alpha, n_tail, p) and
  Table 6.2 (likelihood ratios), the published values; the closed-form MLE of alpha on the
  published tail, computed here;
* layer_report_minilm: the alphas of all-MiniLM-L6-v2 that htsr and WeightWatcher 0.7.7
  agree on to 1e-12 (docs/report.md); the finger refit redone here, Clauset's scan in numpy
  on the eigenvalues of the pooler's weights read with safetensors;
* lsa_k_selection: the term-document matrix rebuilt here (notebooks/lsa_corpus.py) and
  fitted directly with ``htsr.fit``;
* generalization: rank correlations recomputed here from the accuracies and metrics the
  notebook prints, and the bounds any Spearman coefficient and interval must satisfy;
* svd_smoothing: the components kept against the report's n_tail and floor(f * min(N, M)), the sign
  test's p-value recomputed with scipy, and the keep=1.0 control changing no prediction;
* training_trajectory: the init and final reports against the trajectory's first and last steps,
  each delta against alpha - alpha_base, and ``changed`` against its rule, from the printed numbers.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import nbformat
import numpy as np
import pytest
from conftest import reference_path
from nbclient import NotebookClient

import htsr

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
NUM = r"[-+]?(?:\d+\.?\d*(?:[eE][-+]?\d+)?|nan)"


def _missing(*modules):
    return [m for m in modules if importlib.util.find_spec(m) is None]


def _execute(name: str):
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HTSR_NOTEBOOK_FAST", "1")  # the kernel inherits the environment
        NotebookClient(nb, kernel_name="python3", timeout=600, allow_errors=True,
                       resources={"metadata": {"path": str(NOTEBOOKS)}}).execute()
    return [c for c in nb.cells if c.cell_type == "code"]


def _text(cells) -> str:
    return "".join(o.get("text", "") for c in cells for o in c.get("outputs", []) if o.output_type == "stream")


def _errors(cells):
    return [(o.ename, o.evalue, "\n".join(o.traceback[-3:])) for c in cells for o in c.get("outputs", [])
            if o.output_type == "error"]


def _n_figures(cells) -> int:
    return sum("image/png" in o.get("data", {}) for c in cells for o in c.get("outputs", []))


def _one(pattern: str, text: str):
    m = re.findall(pattern, text)
    assert len(m) == 1, f"expected one line matching {pattern!r}, found {len(m)}"
    return m[0]


def _floats(groups):
    return [float(g) for g in (groups if isinstance(groups, tuple) else (groups,))]


def _continuous_mle(tail, xmin) -> float:
    """Clauset et al. (2009), eq. 3.1: alpha = 1 + n / sum(ln(x / xmin))."""
    return 1.0 + tail.size / np.sum(np.log(tail / xmin))


def _plfit(x) -> tuple[float, float]:
    """Clauset's continuous KS scan (plfit.m), written out in numpy: (alpha, xmin).

    Every distinct value but the largest is a candidate xmin; D = max_i |F(z_i) - i/n| over the
    sorted tail z_0..z_{n-1}, the KS distance plfit.m and WeightWatcher use (docs/report.md).
    """
    x = np.sort(np.asarray(x, dtype=np.float64))
    best = (np.inf, np.nan, np.nan)
    for xmin in np.unique(x)[:-1]:
        tail = x[x >= xmin]
        alpha = _continuous_mle(tail, xmin)
        D = np.max(np.abs(1.0 - (tail / xmin) ** (1.0 - alpha) - np.arange(tail.size) / tail.size))
        best = min(best, (D, alpha, xmin))
    return best[1], best[2]


# ---------------------------------------------------------------------------------- quickstart
@pytest.fixture(scope="module")
def quickstart():
    if _missing("powerlaw"):
        pytest.skip("the quickstart's data sets ship with the package powerlaw, which is not installed")
    cells = _execute("quickstart.ipynb")
    return cells, _text(cells)


def test_quickstart_runs_without_errors_and_draws_its_figures(quickstart):
    cells, text = quickstart
    assert not _errors(cells), _errors(cells)
    assert _n_figures(cells) == 3  # fits (pdf, ccdf, KS curve), bootstrap alphas, fitted laws
    assert "mode: fast" in text


# Clauset et al. (2009), Table 6.1: xmin, alpha to its published digits, n_tail
@pytest.mark.parametrize("name, xmin, alpha, digits, n_tail", [("words", 7, 1.95, 2, 2958),
                                                               ("blackouts", 230, 2.3, 1, 59)])
def test_quickstart_reproduces_table_6_1(quickstart, name, xmin, alpha, digits, n_tail):
    _, text = quickstart
    a, sigma, x, nt = _one(rf"\n{name}: alpha=({NUM}) sigma=({NUM}) xmin=({NUM}) n_tail=(\d+) ", "\n" + text)
    assert round(float(a), digits) == alpha
    assert float(x) == xmin
    assert int(nt) == n_tail
    assert 0 < float(sigma) < 0.5


def test_quickstart_gof_matches_the_published_p(quickstart):
    _, text = quickstart
    p, se, reps = _one(rf"blackouts: gof p=({NUM}) p_se=({NUM}) reps=(\d+)", text)
    p, se = float(p), float(se)
    assert se == pytest.approx(np.sqrt(p * (1 - p) / int(reps)), abs=1e-3)
    assert abs(p - 0.62) < 3 * se + 0.01  # Table 6.1: p = 0.62 (2,500 replicates)
    assert "words: gof" not in text  # the fast mode leaves words out of the Monte Carlo steps


def test_quickstart_bootstrap_interval_covers_the_published_alpha(quickstart):
    _, text = quickstart
    est, se, plo, phi, blo, bhi = _floats(_one(
        rf"blackouts: bootstrap alpha estimate=({NUM}) se=({NUM}) percentile=\[({NUM}), ({NUM})\] "
        rf"bca=\[({NUM}), ({NUM})\]", text))
    blackouts = np.loadtxt(reference_path("blackouts.txt")) * 1e-3
    assert est == pytest.approx(_continuous_mle(blackouts[blackouts >= 230], 230.0), abs=1e-5)  # Table 6.1 xmin
    assert plo < phi and blo < est < bhi
    assert blo < 2.3 < bhi  # Table 6.1: 2.3(3)
    assert 0.15 < se < 0.45  # the published bootstrap error is 0.3


@pytest.mark.parametrize("alternative, lr, p, rel", [("lognormal", -0.412, 0.68, 0.05),
                                                     ("stretched_exponential", -0.417, 0.68, 0.05),
                                                     ("power_law_cutoff", -0.382, 0.38, 0.02)])
def test_quickstart_likelihood_ratios_match_table_6_2(quickstart, alternative, lr, p, rel):
    _, text = quickstart
    got_lr, got_p, verdict = _one(rf"blackouts vs {alternative}: LR=({NUM}) p=({NUM}) nested=\w+ verdict=([a-z ]+)",
                                  text)
    assert float(got_lr) == pytest.approx(lr, rel=rel)
    assert float(got_p) == pytest.approx(p, abs=0.011)
    assert verdict.strip() == "inconclusive"


# ------------------------------------------------------------------------- layer_report_minilm
@pytest.fixture(scope="module")
def minilm():
    import htsr.weights as hw

    try:
        hw.example_path("minilm")
    except htsr.HtsrError as e:
        pytest.skip(f"the MiniLM weights are not installed: {e}")
    cells = _execute("layer_report_minilm.ipynb")
    return cells, _text(cells)


def test_minilm_runs_without_errors_and_draws_its_figures(minilm):
    cells, text = minilm
    assert not _errors(cells), _errors(cells)
    assert _n_figures(cells) == 3  # alpha by depth, four ESDs, interval width vs n_tail
    assert "mode: fast" in text


# docs/report.md, "Against WeightWatcher 0.7.7 on MiniLM": alpha (agreeing with WeightWatcher to 1e-12), n_tail
@pytest.mark.parametrize("name, alpha, n_tail, label", [
    ("embeddings.position_embeddings", 1.552, 284, "over-trained"),
    ("embeddings.word_embeddings", 4.535, 24, None),
    ("encoder.layer.0.intermediate.dense", 2.479, 188, "typical"),
    ("encoder.layer.4.attention.self.value", 8.444, 9, "too short"),
    ("pooler.dense", 12.35, 16, "under-trained"),
])
def test_minilm_layer_alphas_match_the_published_table(minilm, name, alpha, n_tail, label):
    _, text = minilm
    a, lo, hi, nt, lab = _one(rf"layer {re.escape(name)}\.weight: alpha=({NUM}) lo=({NUM}) hi=({NUM}) "
                              rf"n_tail=(\d+) fingers=-?\d+ label=([a-z -]+)\n", text)
    assert float(a) == pytest.approx(alpha, rel=6e-4)
    assert int(nt) == n_tail
    if name == "encoder.layer.4.attention.self.value":
        # a 9-point tail: with 1,000 resamples its bootstrap misses alpha and it gets no interval (docs/report.md);
        # with the fast mode's 100 it may have one, and then the interval must hold alpha
        assert lo == hi == "nan" or float(lo) <= float(a) <= float(hi)
    else:
        assert float(lo) < float(a) < float(hi)
    if label:
        assert lab == label


def test_minilm_summary_and_fingers(minilm):
    _, text = minilm
    n, fitted, mean, lo, hi, wmean, wlo, whi = _floats(_one(
        rf"summary: layers=(\d+) fitted=(\d+) mean_alpha=({NUM}) interval=\[({NUM}), ({NUM})\] "
        rf"mean_alpha_weighted=({NUM}) interval_weighted=\[({NUM}), ({NUM})\]", text))
    assert (n, fitted) == (40, 39)  # the 2 x 384 token-type embeddings have no fit
    assert mean == pytest.approx(4.117, abs=6e-4) and wmean == pytest.approx(5.065, abs=6e-4)  # docs/report.md
    # a layer without an interval (its bootstrap missed its alpha) leaves the means without one; the summary
    # then gives them over the layers that have one
    missing = len(re.findall(rf"\nlayer \S+: alpha={NUM} lo=nan hi=nan ", text)) - 1  # minus the unfitted layer
    if missing:
        assert np.isnan([lo, hi, wlo, whi]).all()
        assert f"summary note: no interval: {missing} of 39 fitted layers" in text
        k, smean, slo, shi, swmean, swlo, swhi = _floats(_one(
            rf"summary with_interval: layers=(\d+) mean_alpha=({NUM}) interval=\[({NUM}), ({NUM})\] "
            rf"mean_alpha_weighted=({NUM}) interval_weighted=\[({NUM}), ({NUM})\]", text))
        assert k == 39 - missing and slo < smean < shi and swlo < swmean < swhi
    else:
        assert lo < mean < hi and wlo < wmean < whi and "summary note" not in text
    layers = [float(a) for a in re.findall(rf"\nlayer \S+: alpha=({NUM}) ", text) if a != "nan"]
    assert len(layers) == 39 and np.mean(layers) == pytest.approx(mean, abs=1e-3)
    assert "labels: over-trained=1, " in text and "under-trained=1" in text
    # the pooler's finger: dropping its top eigenvalue lowers alpha by more than 1 (WeightWatcher's
    # finger_thresh), redone here from the weights with a numpy scan
    whole, k, a = _one(rf"finger pooler\.dense\.weight: alpha=({NUM}) num_fingers=(\d+) "
                       rf"alpha_no_fingers=({NUM})", text)
    alpha, clipped = _pooler_alphas()
    assert float(whole) == pytest.approx(alpha, abs=6e-4) and float(a) == pytest.approx(clipped, abs=6e-4)
    assert int(k) == 1 and alpha - clipped > 1.0


def _pooler_alphas() -> tuple[float, float]:
    """Alpha of the pooler's ESD, and with its largest eigenvalue removed (the ESD as in
    docs/report.md: eigenvalues of W^T W / N above 1e-5, in float64)."""
    from safetensors import safe_open

    import htsr.weights as hw

    with safe_open(hw.example_path("minilm"), "np") as f:
        W = f.get_tensor("pooler.dense.weight").astype(np.float64)
    evals = np.linalg.eigvalsh(W.T @ W / W.shape[0])
    sample = np.sort(evals[evals > 1e-5])
    return _plfit(sample)[0], _plfit(sample[:-1])[0]


def test_minilm_goodness_of_fit_rejects_the_position_embeddings_power_law(minilm):
    _, text = minilm
    p, se, reps, n_tail = _one(rf"gof embeddings\.position_embeddings\.weight: p=({NUM}) p_se=({NUM}) "
                               rf"reps=(\d+) n_tail=(\d+)", text)
    assert int(n_tail) == 284
    assert float(p) <= 0.05  # 0 of 1,000 synthetic sets in the full run: its ESD tail is not a power law


# ----------------------------------------------------------------------------- lsa_k_selection
@pytest.fixture(scope="module")
def lsa():
    if _missing("sklearn"):
        pytest.skip("the LSA notebook builds its matrix with scikit-learn, which is not installed")
    cells = _execute("lsa_k_selection.ipynb")
    return cells, _text(cells)


@pytest.fixture(scope="module")
def lsa_matrix():
    if _missing("sklearn"):
        pytest.skip("scikit-learn is not installed")
    sys.path.insert(0, str(NOTEBOOKS))
    try:
        import lsa_corpus
    finally:
        sys.path.remove(str(NOTEBOOKS))
    X, _ = lsa_corpus.tfidf(lsa_corpus.paragraphs(fast=True))
    evals, _, _ = lsa_corpus.spectrum(X)
    return X, evals


def test_lsa_runs_without_errors_and_draws_its_figures(lsa):
    cells, text = lsa
    assert not _errors(cells), _errors(cells)
    assert _n_figures(cells) == 3  # power-law fit, explained variance, localization
    assert "mode: fast" in text


def test_lsa_K_is_n_tail_of_a_direct_fit_of_the_same_spectrum(lsa, lsa_matrix):
    _, text = lsa
    X, evals = lsa_matrix
    docs, terms = map(int, _one(r"tfidf: docs=(\d+) terms=(\d+) ", text))
    assert (docs, terms) == X.shape
    rank, total = _one(rf"spectrum: rank=(\d+) of \d+, lambda_max={NUM}, sum=({NUM})", text)
    assert int(rank) == evals.size
    # TF-IDF rows have unit length: the eigenvalues sum to the number of non-empty documents
    assert float(total) == pytest.approx(np.count_nonzero(X.getnnz(axis=1)), abs=1e-3)
    alpha, xmin, n_tail = _one(rf"power-law fit: alpha=({NUM}) sigma={NUM} xmin=({NUM}) n_tail=(\d+) ", text)
    fit = htsr.fit(evals)
    assert int(n_tail) == fit.n_tail
    assert float(alpha) == pytest.approx(fit.alpha, abs=1e-4)
    assert float(xmin) == pytest.approx(fit.xmin, rel=1e-5)
    K = int(_one(r"\nK_powerlaw=(\d+)\n", text))
    assert K == fit.n_tail
    assert 5 <= K <= evals.size // 2  # a tail, not the whole spectrum


def test_lsa_intervals_and_the_other_criteria(lsa, lsa_matrix):
    _, text = lsa
    _, evals = lsa_matrix
    K, plo, phi, blo, bhi = _floats(_one(
        rf"K_powerlaw=(\d+) bootstrap n_tail: percentile=\[({NUM}), ({NUM})\] (?:bca|percentile)=\[({NUM}), ({NUM})\]",
        text))
    assert 1 <= plo <= phi <= evals.size and 1 <= blo <= bhi <= evals.size
    klo, khi = map(int, _one(r"eigenvalues above it: K_interval=\[(\d+), (\d+)\]", text))
    assert 1 <= klo <= khi <= evals.size
    elbow = int(_one(r"K_elbow=(\d+) \(Kneedle", text))
    kaiser = int(_one(r"K_kaiser=(\d+) \(eigenvalues above the mean\)", text))
    loc = int(_one(r"K_localization=(\d+) \(change point of log IPR\)", text))
    assert kaiser == np.sum(evals > evals.mean())
    assert 1 < elbow < evals.size and 1 < loc < evals.size
    summary = _one(r"summary: (.*)\n", text)
    assert f"K_powerlaw={int(K)} " in summary and f"K_elbow={elbow} " in summary


# ------------------------------------------------------------------------------ generalization
@pytest.fixture(scope="module")
def generalization():
    missing = _missing("torch", "sklearn")
    if missing:
        pytest.skip(f"the generalization notebook needs {' and '.join(missing)}, not installed")
    cells = _execute("generalization.ipynb")
    return cells, _text(cells)


def _models(text):
    rows = re.findall(rf"model batch_size=(\d+): test_acc=({NUM}) train_acc=({NUM}) mean_alpha=({NUM}) "
                      rf"\[({NUM}), ({NUM})\] mean_alpha_weighted=({NUM}) \[({NUM}), ({NUM})\]", text)
    return np.array([[float(v) for v in r] for r in rows])


def test_generalization_runs_without_errors_and_draws_its_figure(generalization):
    cells, text = generalization
    assert not _errors(cells), _errors(cells)
    assert _n_figures(cells) == 1
    assert "mode: fast" in text


def test_generalization_models_learn_and_report(generalization):
    _, text = generalization
    m = _models(text)
    assert m.shape == (3, 9)
    assert np.all(m[:, 1] > 0.1 + 0.2)  # well above chance (10 classes)
    for _, _, _, a, lo, hi, w, wlo, whi in m:
        assert lo < a < hi and wlo < w < whi
    for bs, a in zip(m[:, 0].astype(int), m[:, 3]):  # the mean over the three reported layers
        layers = [float(v) for v in re.findall(rf"layer batch_size={bs} fc\d\.weight \(\d+x\d+\): alpha=({NUM}) ", text)]
        assert len(layers) == 3 and np.mean(layers) == pytest.approx(a, abs=2e-3)


@pytest.mark.parametrize("metric, column", [("mean_alpha", 3), ("mean_alpha_weighted", 6), ("train_acc", 2)])
def test_generalization_spearman_and_its_intervals(generalization, metric, column):
    from scipy import stats

    _, text = generalization
    m = _models(text)
    line = _one(rf"spearman test_acc vs {metric}: (.*)\n", text)
    rho, lo, hi = _floats(_one(rf"rho=({NUM}) over_models=\[({NUM}), ({NUM})\]", line))
    assert -1 <= lo <= rho <= hi <= 1
    assert rho == pytest.approx(stats.spearmanr(m[:, 1], m[:, column]).statistic, abs=1e-3)
    if metric != "train_acc":
        dlo, dhi = _floats(_one(rf"alpha_draws=\[({NUM}), ({NUM})\]", line))
        assert -1 <= dlo <= dhi <= 1



# ------------------------------------------------------------------------------ svd_smoothing
@pytest.fixture(scope="module")
def smoothing():
    missing = _missing("torch", "sklearn")
    if missing:
        pytest.skip(f"the SVD smoothing notebook needs {' and '.join(missing)}, not installed")
    cells = _execute("svd_smoothing.ipynb")
    return cells, _text(cells)


def test_smoothing_runs_and_keeps_what_it_says(smoothing):
    """kept = the report's n_tail (tail), detX_num (detX) or floor(f * min(N, M)) (fractions); the sign
    test's p recomputed here."""
    from scipy import stats

    cells, text = smoothing
    assert not _errors(cells), _errors(cells)
    assert _n_figures(cells) == 1 and "mode: fast" in text
    reports = {bs: (n.split(","), d.split(",")) for bs, n, d in re.findall(
        r"report batch_size=(\d+): alpha=\[[^\]]*\] n_tail=\[([\d, ]+)\] detX_num=\[([\d, ]+)\]", text)}
    rows = re.findall(rf"smooth batch_size=(\d+) keep=(\S+): kept=\[([\d, ]+)\] energy=\[[^\]]*\] "
                      rf"test_acc=({NUM}) delta=({NUM}) gained=(\d+) lost=(\d+) p=({NUM})", text)
    fractions = _one(r"mode: fast; .* fractions \[([\d., ]+)\]", text).split(",")
    assert len(reports) == 2 and len(rows) == 2 * (2 + len(fractions))  # tail, detX and each fraction
    for bs, keep, kept, acc, delta, gained, lost, p in rows:
        kept = [int(k) for k in kept.split(",")]
        if keep in ("tail", "detX"):  # the report's n_tail or detX_num, at most min(N, M)
            counts = reports[bs][keep == "detX"]
            assert kept == [min(int(n), m) for n, m in zip(counts, (64, 256, 256))]
        else:
            assert kept == [max(1, int(float(keep) * m)) for m in (64, 256, 256)]
        g, lo = int(gained), int(lost)
        assert g - lo == round(float(delta) * 450)  # 450 test images
        assert float(p) == pytest.approx(stats.binomtest(g, g + lo).pvalue if g + lo else 1.0, rel=1e-2)
        if keep == "1.0":  # the control: nothing cut, nothing changed
            assert g == lo == 0
    assert "every model unchanged on every test image: True" in text


# -------------------------------------------------------------------------- training_trajectory
@pytest.fixture(scope="module")
def trajectory():
    missing = _missing("torch", "sklearn")
    if missing:
        pytest.skip(f"the training trajectory notebook needs {' and '.join(missing)}, not installed")
    cells = _execute("training_trajectory.ipynb")
    return cells, _text(cells)


def _trajectory_rows(text):
    rows = re.findall(rf"trajectory (\S+) step=(\d+): alpha=({NUM}) \[({NUM}), ({NUM})\] n_tail=(\d+)", text)
    return {(name, int(step)): tuple(float(v) for v in rest) for name, step, *rest in rows}


def _compare_rows(text, what):
    rows = re.findall(rf"compare {what} (\S+): alpha=({NUM}) alpha_base=({NUM}) delta_alpha=({NUM}) "
                      rf"\[({NUM}), ({NUM})\] changed=(True|False)", text)
    return {name: (*(float(v) for v in vals), changed == "True") for name, *vals, changed in rows}


def test_trajectory_runs_and_tracks_every_checkpoint(trajectory):
    cells, text = trajectory
    assert not _errors(cells), _errors(cells)
    assert _n_figures(cells) == 2 and "mode: fast" in text
    steps = [int(s) for s in re.findall(r"step_(\d+)\.safetensors", _one(r"checkpoints: (.*)\n", text))]
    rows = _trajectory_rows(text)
    assert sorted({s for _, s in rows}) == sorted(steps) and len(steps) >= 3
    assert {n for n, _ in rows} == {"fc1.weight", "fc2.weight", "fc3.weight"}
    for alpha, lo, hi, n_tail in rows.values():
        assert lo < alpha < hi and n_tail >= 10
    train, test = _floats(_one(rf"main run: train_acc=({NUM}) test_acc=({NUM})", text))
    o_train, o_test = _floats(_one(rf"overfit run: train_acc=({NUM}) test_acc=({NUM})", text))
    assert test > 0.5 and o_train > o_test + 0.2  # it learned; the small-data run overfits


def test_trajectory_comparisons_agree_with_the_trajectory(trajectory):
    """Init and final reports are the trajectory's first and last steps; deltas and flags follow their rule."""
    _, text = trajectory
    rows = _trajectory_rows(text)
    first, last = min(s for _, s in rows), max(s for _, s in rows)
    runs = {w: _compare_rows(text, w) for w in ("final_vs_init", "overfit_vs_final", "overfit_vs_init")}
    for name, (alpha, base, *_) in runs["final_vs_init"].items():
        assert alpha == pytest.approx(rows[(name, last)][0], abs=1e-3)
        assert base == pytest.approx(rows[(name, first)][0], abs=1e-3)
        assert runs["overfit_vs_final"][name][1] == alpha and runs["overfit_vs_init"][name][1] == base
    for what, layers in runs.items():
        assert len(layers) == 3
        for alpha, base, delta, lo, hi, changed in layers.values():
            assert delta == pytest.approx(alpha - base, abs=2e-3) and lo <= delta <= hi
            assert changed == ((lo > 0 or hi < 0) and abs(delta) >= 0.1)
        mean = _floats(_one(rf"compare {what} mean: delta_alpha=({NUM})", text))[0]
        assert mean == pytest.approx(np.mean([v[2] for v in layers.values()]), abs=2e-3)
    assert "give the same alphas: True" in text


# ------------------------------------------------------------------- stored outputs (the site)
@pytest.mark.parametrize("path", sorted(NOTEBOOKS.glob("*.ipynb")), ids=lambda p: p.stem)
def test_stored_outputs_are_a_complete_full_mode_run(path):
    """The site renders the stored outputs: every code cell ran, in order, without error, in full mode.

    ``python3 .ci/execute_notebooks.py`` writes them; a notebook saved after a fast run or with a
    cell left unexecuted fails here.
    """
    cells = [c for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code" and c.source.strip()]
    counts = [c.get("execution_count") for c in cells]
    assert cells and all(isinstance(k, int) for k in counts), f"{path.name}: unexecuted cells"
    assert counts == sorted(counts) and len(set(counts)) == len(counts), f"{path.name}: cells run out of order"
    assert not _errors(cells), f"{path.name}: a stored output is an error"
    text = _text(cells)
    assert "fast mode" not in text and "mode: fast" not in text, f"{path.name}: outputs of a fast-mode run"
    assert _n_figures(cells) >= 1, f"{path.name}: no figure in the stored outputs"
