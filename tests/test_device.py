"""The device choice (htsr._device) and ESDs on a JAX device (htsr.rmt.device), on JAX's CPU backend.

CI has no GPU: the device path is forced through JAX on the CPU (a ``jax.Device`` passed
as ``device``, or ``_gpus`` patched to answer with the CPU device), and its eigenvalues
are compared with the NumPy float64 path.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import ml_dtypes
import numpy as np
import pytest

import htsr
from htsr import _device
from htsr.cli.main import main
from htsr.errors import DataError, HtsrError
from htsr.rmt import esd, layer_esd
from htsr.rmt.device import checked_device_layer_esd, device_esd, device_layer_esd

CPU = jax.devices("cpu")[0]


@pytest.fixture
def no_gpu(monkeypatch):
    """JAX sees no GPU, whatever machine the suite runs on."""
    monkeypatch.setattr(_device, "_gpus", lambda: [])


@pytest.fixture
def cpu_as_gpu(monkeypatch):
    """The report's GPU path, run by JAX on the CPU: "gpu" resolves to the CPU device."""
    monkeypatch.setattr(_device, "_gpus", lambda: [CPU])
    monkeypatch.setattr("htsr.report.options.device_platform",
                        lambda device: "gpu" if device in ("gpu", "auto") else "cpu")


def _heavy(shape, mu, seed=0):
    """Symmetric Pareto entries of tail index mu, rounded to bf16 as LLM weights are (make_llm.py's law)."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(size=shape) ** (-1.0 / mu) * rng.choice([-1.0, 1.0], size=shape)
    x *= 0.02 / np.median(np.abs(x))
    return x.astype(ml_dtypes.bfloat16).astype(np.float32)


# ---------------------------------------------------------------- choosing the device
def test_cpu_and_auto_without_a_gpu_are_the_cpu(no_gpu):
    assert _device.resolve("cpu") == CPU and _device.resolve("auto") == CPU
    assert _device.platform("auto") == "cpu" and _device.platform("cpu") == "cpu"
    assert _device.resolve(CPU) is CPU  # a jax.Device is used as it is


def test_auto_takes_a_gpu_and_cpu_keeps_to_the_cpu(monkeypatch):
    class FakeGpu:
        platform = "gpu"

    gpu = FakeGpu()
    monkeypatch.setattr(_device, "_gpus", lambda: [gpu])
    assert _device.resolve("auto") is gpu and _device.resolve("gpu") is gpu
    assert _device.platform("auto") == "gpu"
    assert _device.resolve("cpu") == CPU and _device.platform("cpu") == "cpu"  # cpu forces the CPU


def test_gpu_without_a_gpu_says_what_jax_sees_and_how_to_install(no_gpu):
    with pytest.raises(HtsrError, match="JAX sees no GPU") as err:
        _device.resolve("gpu")
    msg = str(err.value)
    assert "jax.devices() = [" in msg and repr(CPU) in msg and 'jax[cuda12]' in msg and jax.__version__ in msg
    with pytest.raises(HtsrError, match="device must be one of cpu, gpu, auto, got 'tpu'"):
        _device.resolve("tpu")


def test_on_device_sets_the_default_device_and_run_on_wraps_a_call(no_gpu):
    with _device.on_device("cpu"):
        assert jnp.ones(3).devices() == {CPU}
    assert _device.run_on("cpu", lambda a, b=0: a + b, 2, b=3) == 5


# ---------------------------------------------------------------- ESDs on the device
@pytest.mark.parametrize("shape", [(300, 120), (120, 300), (3, 90, 70)])
def test_float64_gram_equals_the_numpy_path(shape):
    W = np.random.default_rng(1).standard_t(3, shape)
    for normalize in (True, False):
        ref = esd(W, normalize=normalize)
        got = device_esd(W, device=CPU, normalize=normalize, gram_dtype="float64")
        assert got.shape == ref.shape and got.dtype == np.float64
        np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-12 * ref.max())


def test_float32_gram_by_blocks_keeps_the_top_eigenvalues_to_1e6():
    """bf16 heavy-tailed weights (mu = 2.5): float32 blocks summed in float64; full precision, no TF32."""
    W = _heavy((1100, 256), 2.5)
    ref = esd(W, normalize=False)
    for block in (128, 2048):  # 128: 9 blocks of 128, the last one padded with 52 zero rows; 2048: one block
        got = device_esd(W, device=CPU, normalize=False, gram_dtype="float32", block=block)
        rel = np.abs(got - ref) / ref
        assert rel[-10:].max() < 1e-5  # measured ~1e-6; TF32 or bf16 sums would give ~1e-3
        assert np.abs(got - ref).max() < 1e-5 * ref[-1]
    wide = device_esd(W.T, device=CPU, normalize=False, block=128)  # (256, 1100): blocks over columns
    np.testing.assert_allclose(wide[-10:], ref[-10:], rtol=1e-5)


def test_float32_overflow_is_redone_in_float64():
    W = np.random.default_rng(2).normal(size=(200, 50)).astype(np.float32) * np.float32(1e20)
    ref = esd(W)  # float64 Gram: entries ~1e40, finite
    got = device_esd(W, device=CPU)  # float32 sums overflow (> 3.4e38): redone in float64
    np.testing.assert_allclose(got, ref, rtol=1e-10)


def test_layer_esd_on_the_device_pools_conv_slices_as_layer_esd_does():
    w = np.random.default_rng(3).normal(size=(16, 8, 3, 3))
    np.testing.assert_allclose(device_layer_esd(w, "conv2d", device=CPU, gram_dtype="float64"),
                               layer_esd(w, "conv2d"), rtol=1e-12, atol=1e-14)
    evals, why = checked_device_layer_esd(w, "conv2d", device=CPU)
    assert why == "" and evals.shape == (72,)


def test_device_esd_checks_its_input():
    with pytest.raises(DataError, match="NaN or infinite"):
        device_esd(np.array([[1.0, np.nan], [0.0, 1.0]]), device=CPU)
    with pytest.raises(HtsrError, match="gram_dtype"):
        device_esd(np.eye(3), device=CPU, gram_dtype="bfloat16")
    W = _heavy((90, 40), 3.0).astype(ml_dtypes.bfloat16)  # sent to the device in bf16, widened there
    np.testing.assert_array_equal(device_esd(W, device=CPU), device_esd(W.astype(np.float32), device=CPU))
    W[3, 4], W[5, 6] = np.nan, -np.inf
    with pytest.raises(DataError, match="2 NaN or infinite value"):
        device_esd(W, device=CPU)


# ---------------------------------------------------------------- the report
def _model(path):
    rng = np.random.default_rng(7)
    np.savez(path, **{"embed.weight": _heavy((400, 60), 3.0, 1), "block.0.dense.weight": _heavy((240, 120), 2.5, 2),
                      "block.1.dense.weight": rng.standard_t(4, (120, 200))})
    return path


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    return _model(tmp_path_factory.mktemp("dev") / "model.npz")


@pytest.fixture(scope="module")
def cpu_report(model):
    return htsr.report(model, intervals="bootstrap", reps=50, bounded=False, device="cpu", workers=1)


def test_auto_on_a_cpu_machine_is_the_cpu_report(model, cpu_report, no_gpu):
    rep = htsr.report(model, intervals="bootstrap", reps=50, bounded=False, device="auto", workers=1)
    assert rep.spec.fit.device == "cpu" and cpu_report.spec.fit.device == "cpu"
    cols = ["alpha", "xmin", "n_tail", "lambda_max", "alpha_lo", "alpha_hi"]
    assert rep.layers[cols].equals(cpu_report.layers[cols])


def test_the_gpu_path_run_by_jax_on_the_cpu_gives_the_cpu_report(model, cpu_report, cpu_as_gpu):
    rep = htsr.report(model, intervals="bootstrap", reps=50, bounded=False, device="gpu", workers=1)
    assert rep.spec.fit.device == "gpu"  # recorded: the ESDs went through htsr.rmt.device
    for a, b in zip(rep.spectra, cpu_report.spectra):
        np.testing.assert_allclose(a.evals[-10:], b.evals[-10:], rtol=1e-5)
        assert not np.array_equal(a.evals, b.evals)  # float32 Grams: not the NumPy path's bits
    got, want = rep.layers, cpu_report.layers
    np.testing.assert_allclose(got["alpha"], want["alpha"], rtol=1e-4)
    assert list(got["n_tail"]) == list(want["n_tail"])
    np.testing.assert_allclose(got[["alpha_lo", "alpha_hi"]], want[["alpha_lo", "alpha_hi"]], rtol=1e-3)


def test_cli_device_gpu_without_a_gpu_is_one_line_and_exit_2(model, tmp_path, capsys, no_gpu):
    assert main(["report", str(model), "--device", "gpu", "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "JAX sees no GPU" in err and "jax[cuda12]" in err
    assert not (tmp_path / "r" / "report.csv").exists()
