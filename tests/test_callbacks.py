"""Training callbacks (``htsr.track.HFCallback``, ``LightningCallback``, ``KerasCallback``) on tiny CPU runs.

Each framework trains a small network for a few steps; the callback reports the live model every
2 steps into a store.  What it recorded at the last step must be the report of the trained model's
final weights, and the store must hold those steps.  A test skips only when its framework cannot be
imported.
"""

from __future__ import annotations

import os
import warnings

import numpy as np
import pytest

import htsr

STEPS = 4  # optimizer steps per run; reports at 2 and 4 (and 0 with at_start)


def _final_alphas(source, ds, layers):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rep = htsr.report(source, intervals=None, bounded=False)
    t = rep.layers.set_index("name")
    np.testing.assert_array_equal(ds["alpha"].sel(step=STEPS, layer=layers).values, t.loc[layers, "alpha"].to_numpy())
    np.testing.assert_array_equal(ds["log_norm"].sel(step=STEPS, layer=layers).values,
                                  t.loc[layers, "log_norm"].to_numpy())


def _torch_data(torch):
    g = torch.Generator().manual_seed(0)
    return torch.randn(64, 24, generator=g), torch.randint(0, 4, (64,), generator=g)


def test_hugging_face_trainer_callback(tmp_path):
    torch = pytest.importorskip("torch")
    pytest.importorskip("transformers")
    pytest.importorskip("accelerate")
    from transformers import Trainer, TrainingArguments

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1, self.fc2 = torch.nn.Linear(24, 48), torch.nn.Linear(48, 4)

        def forward(self, x, labels=None):
            logits = self.fc2(torch.relu(self.fc1(x)))
            return {"loss": torch.nn.functional.cross_entropy(logits, labels), "logits": logits}

    torch.manual_seed(0)
    x, y = _torch_data(torch)
    data = [{"x": a, "labels": b} for a, b in zip(x, y)]
    cb = htsr.track.HFCallback(tmp_path / "hf.nc", every=2, at_start=True)
    args = TrainingArguments(output_dir=str(tmp_path / "out"), max_steps=STEPS, per_device_train_batch_size=16,
                             learning_rate=0.5, use_cpu=True, report_to=[], save_strategy="no",
                             logging_strategy="no", disable_tqdm=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = Net()
        Trainer(model=model, args=args, train_dataset=data, callbacks=[cb]).train()
    ds = htsr.track.open_trajectory(tmp_path / "hf.nc")
    assert ds["step"].values.tolist() == [0, 2, 4] and list(ds["layer"].values) == ["fc1.weight", "fc2.weight"]
    assert np.isnan(ds["alpha_lo"].values).all()  # intervals off by default
    assert ds["log_norm"].sel(step=0).values.tolist() != ds["log_norm"].sel(step=4).values.tolist()  # it trained
    _final_alphas(model, ds, ["fc1.weight", "fc2.weight"])


def test_lightning_callback(tmp_path):
    torch = pytest.importorskip("torch")
    L = pytest.importorskip("lightning")

    class Net(L.LightningModule):
        def __init__(self):
            super().__init__()
            self.fc1, self.fc2 = torch.nn.Linear(24, 48), torch.nn.Linear(48, 4)

        def training_step(self, batch, batch_idx):
            x, y = batch
            return torch.nn.functional.cross_entropy(self.fc2(torch.relu(self.fc1(x))), y)

        def configure_optimizers(self):
            return torch.optim.SGD(self.parameters(), lr=0.5)

    torch.manual_seed(0)
    x, y = _torch_data(torch)
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=16)
    cb = htsr.track.LightningCallback(tmp_path / "pl.zarr", every=2)
    model = Net()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        L.Trainer(max_steps=STEPS, accelerator="cpu", logger=False, enable_checkpointing=False,
                  enable_progress_bar=False, enable_model_summary=False, callbacks=[cb]).fit(model, loader)
    ds = htsr.track.open_trajectory(tmp_path / "pl.zarr")
    assert ds["step"].values.tolist() == [2, 4] and ds.attrs["step_unit"] == "step"
    _final_alphas(model, ds, ["fc1.weight", "fc2.weight"])


def test_keras_callback_by_steps_and_epochs(tmp_path):
    os.environ.setdefault("KERAS_BACKEND", "jax")
    keras = pytest.importorskip("keras")

    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((24,)), keras.layers.Dense(48, activation="relu", name="d1"),
                              keras.layers.Dense(4, name="d2")])
    model.compile(optimizer=keras.optimizers.SGD(0.5), loss=keras.losses.SparseCategoricalCrossentropy(True))
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((64, 24)).astype("float32"), rng.integers(0, 4, 64)
    by_step = htsr.track.KerasCallback(tmp_path / "k.nc", every=2)
    by_epoch = htsr.track.KerasCallback(every=1, unit="epoch")  # in memory
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(x, y, batch_size=32, epochs=2, verbose=0, callbacks=[by_step, by_epoch])  # 2 steps per epoch
    ds = htsr.track.open_trajectory(tmp_path / "k.nc")
    assert ds["step"].values.tolist() == [2, 4]
    assert by_epoch.dataset["step"].values.tolist() == [1, 2] and by_epoch.dataset.attrs["step_unit"] == "epoch"
    layers = [str(n) for n in ds["layer"].values]
    assert layers == ["d1/kernel", "d2/kernel"]
    _final_alphas(model, ds, layers)
    np.testing.assert_array_equal(by_epoch.dataset["alpha"].sel(step=2).values, ds["alpha"].sel(step=4).values)


def test_schedule_checks_its_options():
    from htsr.track.callbacks import Schedule

    with pytest.raises(htsr.HtsrError, match="every must be a positive integer"):
        Schedule(every=0)
    with pytest.raises(htsr.HtsrError, match="unit must be 'step' or 'epoch'"):
        Schedule(unit="batch")


def test_a_missing_framework_is_one_line_naming_the_extra(monkeypatch):
    import sys

    import htsr.track

    monkeypatch.delitem(vars(htsr.track), "HFCallback", raising=False)  # resolved by an earlier test
    monkeypatch.delitem(sys.modules, "htsr.track.hf", raising=False)
    monkeypatch.setitem(sys.modules, "transformers", None)  # import transformers -> ImportError
    with pytest.raises(htsr.HtsrError, match=r'needs the package "transformers".*pip install "htsr\[callbacks\]"'):
        htsr.track.HFCallback
    assert callable(htsr.track) and htsr.track is sys.modules["htsr.track"]  # the package, callable
    with pytest.raises(AttributeError, match="no attribute 'Nothing'"):
        htsr.track.Nothing
