"""A Hugging Face ``transformers.TrainerCallback`` that reports the live model during training."""

from __future__ import annotations

from transformers import TrainerCallback

from .callbacks import Schedule

__all__ = ["HFCallback"]


class HFCallback(TrainerCallback):
    """Every ``every`` optimizer steps (``state.global_step``) or epochs, report the Trainer's model.

    ``trainer = Trainer(..., callbacks=[htsr.track.HFCallback("run/trajectory.nc", every=100)])``;
    the arguments are :class:`htsr.track.callbacks.Schedule`'s.  ``.dataset`` is the trajectory.
    """

    def __init__(self, store=None, **options):
        self.schedule = Schedule(store, **options)

    @property
    def dataset(self):
        return self.schedule.dataset

    def on_train_begin(self, args, state, control, model=None, **kwargs):
        if model is not None:
            self.schedule.start(model)

    def on_step_end(self, args, state, control, model=None, **kwargs):
        if model is not None:
            self.schedule.maybe_record(model, state.global_step, "step")

    def on_epoch_end(self, args, state, control, model=None, **kwargs):
        if model is not None and state.epoch is not None:
            self.schedule.maybe_record(model, round(state.epoch), "epoch")
