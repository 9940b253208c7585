"""A PyTorch Lightning ``Callback`` that reports the live ``LightningModule`` during training."""

from __future__ import annotations

from lightning.pytorch.callbacks import Callback

from .callbacks import Schedule

__all__ = ["LightningCallback"]


class LightningCallback(Callback):
    """Every ``every`` optimizer steps (``trainer.global_step``) or completed epochs, report the module.

    ``L.Trainer(callbacks=[htsr.track.LightningCallback("run/trajectory.nc", every=100)])``; the
    arguments are :class:`htsr.track.callbacks.Schedule`'s.  ``.dataset`` is the trajectory.
    """

    def __init__(self, store=None, **options):
        self.schedule = Schedule(store, **options)

    @property
    def dataset(self):
        return self.schedule.dataset

    def on_train_start(self, trainer, pl_module):
        self.schedule.start(pl_module)

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        self.schedule.maybe_record(pl_module, trainer.global_step, "step")

    def on_train_epoch_end(self, trainer, pl_module):
        self.schedule.maybe_record(pl_module, trainer.current_epoch + 1, "epoch")  # epochs completed
