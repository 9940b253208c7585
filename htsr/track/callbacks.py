"""What the training callbacks share: when to report, and the recorder they append with.

The framework classes (:mod:`htsr.track.hf`, :mod:`htsr.track.lightning`,
:mod:`htsr.track.keras_callback`) each subclass their framework's callback and call
:meth:`Schedule.maybe_record` from its step and epoch hooks with the live model (no
checkpoint file: :func:`htsr.weights.load` reads ``torch.nn.Module`` objects and
in-memory Keras models).  This module imports no framework.
"""

from __future__ import annotations

from ..errors import HtsrError
from .core import Recorder, TrackSpec

__all__ = ["Schedule"]


class Schedule:
    """Every ``every`` steps (or epochs), report the live model into a trajectory.

    Parameters
    ----------
    store : path, optional
        ``.nc`` or ``.zarr``: the trajectory is saved there after each report (and an existing
        one is appended to, as :func:`htsr.track` does).  Without it the trajectory stays in
        memory, in ``.dataset``.
    every : int
        Report when the step (or epoch) count is a multiple of this.
    unit : {"step", "epoch"}
        Count optimizer steps (default) or completed epochs.
    at_start : bool
        Also report the initial weights, as step 0, when training begins.
    intervals : {None, "bootstrap"}
        Bootstrap intervals for alpha (default off, for speed); ``reps`` resamples.
    layers, exclude, seed, level
        As :func:`htsr.report`.
    """

    def __init__(self, store=None, *, every: int = 100, unit: str = "step", at_start: bool = False,
                 intervals: str | None = None, reps: int = 200, level: float = 0.95, seed: int = 0,
                 layers=None, exclude=None, workers: int | None = None):
        if not isinstance(every, int) or isinstance(every, bool) or every < 1:
            raise HtsrError(f"every must be a positive integer, got {every!r}")
        if unit not in ("step", "epoch"):
            raise HtsrError(f"unit must be 'step' or 'epoch', got {unit!r}")
        self.every, self.unit, self.at_start = every, unit, bool(at_start)
        spec = TrackSpec(layers=layers, exclude=exclude, intervals=intervals, reps=reps, level=level, seed=seed)
        self.recorder = Recorder(spec, store, unit=unit, workers=workers)

    @property
    def dataset(self):
        """The trajectory so far (an xarray Dataset, dims layer x step), or None before the first report."""
        return self.recorder.dataset

    def maybe_record(self, model, count: int, unit: str) -> bool:
        """Report ``model`` if ``unit`` is this schedule's and ``count`` a multiple of ``every`` (not yet stored)."""
        count = int(count)
        if unit != self.unit or count % self.every or count in self.recorder.steps:
            return False
        self.recorder.record(model, count, label=f"<live {type(model).__name__} at {unit} {count}>")
        return True

    def start(self, model) -> None:
        if self.at_start and 0 not in self.recorder.steps:
            self.recorder.record(model, 0, label=f"<live {type(model).__name__} at start>")
