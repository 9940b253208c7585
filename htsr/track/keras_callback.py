"""A Keras 3 ``keras.callbacks.Callback`` that reports the live model during ``model.fit``."""

from __future__ import annotations

import keras

from .callbacks import Schedule

__all__ = ["KerasCallback"]


class KerasCallback(keras.callbacks.Callback):
    """Every ``every`` training batches (counted across epochs) or completed epochs, report ``self.model``.

    ``model.fit(x, y, callbacks=[htsr.track.KerasCallback("run/trajectory.nc", every=100)])``; the
    arguments are :class:`htsr.track.callbacks.Schedule`'s.  ``.dataset`` is the trajectory.
    """

    def __init__(self, store=None, **options):
        super().__init__()
        self.schedule = Schedule(store, **options)
        self.steps_done = 0

    @property
    def dataset(self):
        return self.schedule.dataset

    def on_train_begin(self, logs=None):
        self.schedule.start(self.model)

    def on_train_batch_end(self, batch, logs=None):
        self.steps_done += 1
        self.schedule.maybe_record(self.model, self.steps_done, "step")

    def on_epoch_end(self, epoch, logs=None):
        self.schedule.maybe_record(self.model, epoch + 1, "epoch")  # epochs completed
