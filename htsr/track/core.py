"""``htsr.track``: the layer report of every checkpoint of a training run, as one Dataset by step."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

from .. import weights as hw
from .._dask import resolve_client
from .._progress import resolve as resolve_progress
from ..errors import HtsrError
from .sources import Checkpoint, checkpoints
from .store import append, check_options, open_trajectory, save_trajectory, step_dataset, steps_of

__all__ = ["track", "TrackSpec", "Recorder"]


@dataclass(frozen=True, kw_only=True)
class TrackSpec:
    """The report options that decide a trajectory's numbers (stored with it, checked on resume).

    Each field is :func:`htsr.report`'s option of the same name.  ``intervals`` is
    ``"bootstrap"`` or None (no interval: ``alpha_lo``/``alpha_hi`` are NaN).  The bounded
    fit is never run: the trajectory does not store it.
    """

    layers: tuple | None = None
    exclude: tuple | None = None
    regex: bool = False
    kinds: tuple = hw.MATRIX_KINDS
    intervals: str | None = "bootstrap"
    reps: int = 1000
    level: float = 0.95
    ci: str = "bca"
    seed: int = 0
    normalize: bool = False
    min_evals: int = 8
    max_evals: int = 15000
    max_n: int = 50000

    def __post_init__(self):
        for name in ("layers", "exclude", "kinds"):
            v = getattr(self, name)
            if isinstance(v, str):
                object.__setattr__(self, name, (v,))
            elif v is not None:
                object.__setattr__(self, name, tuple(v))
        if self.intervals not in ("bootstrap", None):
            raise HtsrError(f"intervals must be 'bootstrap' or None for a trajectory, got {self.intervals!r}")

    def report_options(self) -> dict:
        """Keyword arguments of :func:`htsr.report`."""
        return dict(asdict(self), bounded=False)

    def to_dict(self) -> dict:
        d = asdict(self)
        return {k: list(v) if isinstance(v, tuple) else v for k, v in d.items()}


class Recorder:
    """Runs the report on checkpoints or live models and appends each as a step of a trajectory.

    The pure unit behind :func:`track` and the training callbacks
    (:mod:`htsr.track.callbacks`): ``record(source, step)`` reports ``source`` (a path or a
    live ``torch.nn.Module`` / Keras model / state dict) and, with a ``store``, saves the
    trajectory after every step.  Reports in one process share compiled kernels: the same
    layer shapes compile nothing after the first step.

    Parameters
    ----------
    spec : TrackSpec
    store : path, optional
        ``.nc`` (netCDF) or ``.zarr``; an existing store is loaded and its steps are kept.
    unit : {"step", "epoch"}
        What the steps count (the Dataset's ``step_unit`` attribute).
    client, workers, device
        As :func:`htsr.report`'s.
    """

    def __init__(self, spec: TrackSpec, store=None, *, unit: str = "step", client=None, workers=None,
                 device="auto"):
        self.spec, self.unit, self.client = spec, unit, resolve_client(client)
        self.workers, self.device = workers, device
        self.store = None if store is None else Path(store)
        self.dataset = None
        if self.store is not None and self.store.exists():
            self.dataset = open_trajectory(self.store)
            check_options(self.dataset, spec.to_dict(), self.store)  # before any work
            if self.dataset.attrs.get("step_unit", unit) != unit:
                raise HtsrError(f"the trajectory store {self.store} counts {self.dataset.attrs['step_unit']}s, "
                                f"not {unit}s: use another store")

    @property
    def steps(self) -> set:
        return steps_of(self.dataset)

    def record(self, source, step: int, label: str | None = None):
        """Report ``source`` as step ``step``; returns the :class:`htsr.report.Report`."""
        from ..report import report

        rep = report(source, **self.spec.report_options(), client=self.client, workers=self.workers,
                     device=self.device, progress=None)
        label = label if label is not None else Checkpoint(source, step).label
        self.dataset = append(self.dataset, step_dataset(rep, int(step), label, self.spec.to_dict(),
                                                                unit=self.unit))
        if self.store is not None:
            save_trajectory(self.dataset, self.store)
        return rep


def track(sources, *, steps=None, store=None, layers=None, exclude=None, regex: bool = False,
          kinds=hw.MATRIX_KINDS, intervals: str | None = "bootstrap", reps: int = 1000, level: float = 0.95,
          ci: str = "bca", seed: int = 0, normalize: bool = False, min_evals: int = 8, max_evals: int = 15000,
          max_n: int = 50000, client=None, workers: int | None = None, device: str = "auto", progress=None):
    """Per-layer alpha, its interval and the other report numbers over a training run.

    Parameters
    ----------
    sources : path, glob or sequence of paths
        The checkpoints: a list, a glob (``"run/step_*.safetensors"``) or a folder of them
        (``checkpoint-500/`` folders, ``epoch=3-step=200.ckpt``, ...; anything
        :func:`htsr.weights.load` reads), ordered by the step their ``trainer_state.json``
        or name gives (:mod:`htsr.track.sources`).
    steps : sequence of int or str, optional
        The step of each checkpoint, in the order given, when names do not say
        (``[0, 100, 200]`` or ``"0,100,200"``).
    store : path, optional
        Save the trajectory here after each checkpoint: ``.nc`` (netCDF) or ``.zarr``.  If it
        already holds a trajectory made with the same options, its steps are not redone
        (an interrupted run resumes; new checkpoints are added).
    layers, exclude, regex, kinds, intervals, reps, level, ci, seed, normalize, min_evals, max_evals, max_n
        As :func:`htsr.report` (``intervals``: ``"bootstrap"`` or None).
    client : distributed.Client or str, optional
        Each checkpoint's layers and bootstrap chunks run on this Dask cluster.
    workers, device
        As :func:`htsr.report`.
    progress : bool or callable, optional
        ``True``: a line on stderr per checkpoint; a callable gets ``(done, total)`` checkpoints.

    Returns
    -------
    xarray.Dataset
        Dims ``layer`` x ``step``: ``alpha``, ``alpha_lo``, ``alpha_hi``, ``xmin``, ``n_tail``,
        ``alpha_weighted``, ``log_norm``, ``verdict`` (the report's label); per step
        ``mean_alpha`` (with ``_lo``/``_hi``) and the coordinate ``checkpoint``.  Attribute
        ``step_unit`` is ``"step"`` or ``"epoch"``.  ``htsr.plot.track`` draws it;
        :func:`htsr.track.to_frame` gives the long table.

    Raises
    ------
    HtsrError
        No checkpoints; checkpoints that cannot be ordered (give ``steps``); a store made with
        other options.
    """
    spec = TrackSpec(layers=layers, exclude=exclude, regex=regex, kinds=kinds, intervals=intervals, reps=reps,
                     level=level, ci=ci, seed=seed, normalize=normalize, min_evals=min_evals,
                     max_evals=max_evals, max_n=max_n)
    found = checkpoints(sources, steps)
    units = {c.unit for c in found}
    rec = Recorder(spec, store, unit=units.pop() if len(units) == 1 else "step", client=client, workers=workers,
                   device=device)
    todo = [c for c in found if c.step not in rec.steps]
    tick = resolve_progress(progress, "htsr track", lines=True)
    if tick:
        tick(len(found) - len(todo), len(found))
    for k, c in enumerate(todo):
        rec.record(c.source, c.step, c.label)
        if tick:
            tick(len(found) - len(todo) + k + 1, len(found))
    if rec.dataset is None:
        raise HtsrError("no checkpoint was reported")
    return rec.dataset
