"""Progress reporting, one convention for every long-running function.

A ``progress`` argument anywhere in htsr accepts:

* ``None`` or ``False``: no progress;
* ``True``: a one-line bar on stderr, drawn only when stderr is a terminal
  (functions that ask for it, such as :func:`htsr.report`, write a few plain
  lines instead when stderr is not a terminal: see :class:`Lines`);
* a callable ``progress(done, total)``, called as work completes.  A callable
  that accepts a third positional argument, ``progress(done, total, step)``,
  also gets a :class:`Step` from the functions that run in stages (the
  report: which stage, which layer was just finished, the time left in the
  stage).  Two-argument callables keep working: they are never given a third.

:func:`resolve` turns any of these into a callable or ``None`` and rejects
anything else with an :class:`~htsr.errors.HtsrError` that names the argument.
:class:`Stages` counts work over stages of unequal cost and calls the
resolved callable.
"""

from __future__ import annotations

import inspect
import shutil
import sys
import time
from typing import Callable, NamedTuple

from .errors import HtsrError

__all__ = ["Bar", "Lines", "Step", "Stages", "resolve", "takes_step", "duration"]

#: Seconds between two progress lines when stderr is not a terminal.
EVERY = 10.0


class Step(NamedTuple):
    """Where a staged computation stands: the third argument of ``progress(done, total, step)``.

    Attributes
    ----------
    stage : str
        The stage running (the report's: ``"spectra"``, ``"fits"``, ``"intervals"``).
    stage_done, stage_total : int
        Items (layers) of this stage done, and in it.
    item : str
        The item finished last (a layer's name), or "".
    fraction : float
        Cost-weighted fraction of the stage done, in [0, 1]: items of unequal
        cost (a 32000 x 2048 embedding against a 2048 x 256 projection) weigh
        what they cost, so the time left is not a plain count's.
    elapsed : float
        Seconds since the stage began.
    eta : float or None
        Seconds left in this stage, ``elapsed * (1 - fraction) / fraction``
        (None until some weighted work is done, 0 when the stage is done).
        Later stages are not included: their cost is not known from this one's.
    """

    stage: str
    stage_done: int
    stage_total: int
    item: str = ""
    fraction: float = 0.0
    elapsed: float = 0.0
    eta: float | None = None


def duration(seconds: float) -> str:
    """``"41 s"``, ``"3.2 min"``, ``"1.5 h"``."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def _describe(step: Step | None) -> str:
    """``"spectra 12/44 layers, model.layers.3.mlp.down_proj.weight"`` (no times)."""
    if step is None:
        return ""
    text = f"{step.stage} {step.stage_done}/{step.stage_total} layers"
    return f"{text}, {step.item}" if step.item else text


def _left(step: Step | None, start: float) -> str:
    """``"41 s, ~110 s left"``: time since ``start``, and the stage's time left when known."""
    text = duration(time.monotonic() - start)
    if step is not None and step.eta is not None and step.stage_done < step.stage_total:
        text += f", ~{duration(step.eta)} left" + ("" if step.stage == "spectra" else f" in {step.stage}")
    return text


class Bar:
    """A one-line progress bar on stderr; silent when stderr is not a terminal.

    Called as ``bar(done, total)`` or ``bar(done, total, step)``: with a :class:`Step`
    the line also names the stage, its count and the last item, and the time left is
    the stage's weighted estimate; without one it is ``elapsed / done * (total - done)``.
    The line is cut to the terminal's width, so it never wraps.
    """

    def __init__(self, label: str = "working", enabled: bool | None = None, stream=None):
        self.label = label
        self.stream = stream
        out = stream or sys.stderr
        self.enabled = out.isatty() if enabled is None else bool(enabled)
        self.start = time.monotonic()
        self.drawn = False

    def __call__(self, done: int, total: int, step: Step | None = None) -> None:
        if not self.enabled:
            return
        out = self.stream or sys.stderr
        width = 20 if step is not None else 30
        filled = int(width * done / max(total, 1))
        elapsed = time.monotonic() - self.start
        bar = f"{self.label} [{'#' * filled}{'.' * (width - filled)}]"
        if step is not None:
            line = f"{bar} {_describe(step)} ({_left(step, self.start)})"
        else:
            eta = f", {elapsed / done * (total - done):.0f}s left" if 0 < done < total else ""
            line = f"{bar} {done}/{total} ({elapsed:.0f}s{eta})"
        columns = shutil.get_terminal_size((100, 24)).columns
        if len(line) > columns - 1:
            line = line[:max(columns - 2, 10)] + "…"
        out.write(f"\r{line}\x1b[K")
        out.flush()
        self.drawn = True
        if done >= total:
            self.close()

    def close(self) -> None:
        if self.drawn:
            out = self.stream or sys.stderr
            out.write("\n")
            out.flush()
            self.drawn = False


class Lines:
    """Progress as plain lines on stderr, for logs (CI, ``nohup``, batch jobs, notebooks).

    ``htsr report: spectra 12/44 layers, model.layers.3.mlp.down_proj.weight, 41 s, ~110 s left``

    A line when the first item of a stage is done (the first estimate), then at most one
    every ``every`` seconds, and one when each stage ends; the time is since the
    object was made.  Without a :class:`Step` the line is ``done/total``.
    """

    def __init__(self, label: str = "working", every: float = EVERY, stream=None):
        self.label, self.every, self.stream = label, float(every), stream
        self.start = time.monotonic()
        self.last = -float("inf")
        self.stage, self.ended = None, False

    def __call__(self, done: int, total: int, step: Step | None = None) -> None:
        now = time.monotonic()
        if step is None:
            stage, stage_done, ended, what = "", done, done >= total, f"{done}/{total}"
        else:
            stage, stage_done = step.stage, step.stage_done
            ended, what = step.stage_done >= step.stage_total, _describe(step)
        if stage_done == 0:  # a stage begins: nothing to say yet
            return
        if step is not None and step.eta is None and not step.item and not ended:
            return  # only rows that took no time (ruled out by size): wait for a first estimate
        first = stage != self.stage
        if first:
            self.stage, self.ended = stage, False
        if (ended and self.ended) or not (first or ended or now - self.last >= self.every):
            return
        self.ended, self.last = ended, now
        times = _left(step, self.start) if step is not None else duration(now - self.start)
        out = self.stream or sys.stderr
        out.write(f"{self.label}: {what}, {times}{', done' if ended else ''}\n")
        out.flush()

    def close(self) -> None:
        """Nothing to end (each line is whole); here so that a Lines and a Bar are used alike."""


def takes_step(fn: Callable) -> bool:
    """Does ``fn`` accept a third positional argument (``progress(done, total, step)``)?"""
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):  # some builtins have no signature: call them with two
        return False
    try:
        sig.bind(0, 0, None)
    except TypeError:
        return False
    return True


def resolve(progress, label: str = "working", *, name: str = "progress", lines: bool = False,
            step: bool = False):
    """Normalise a ``progress`` argument to a callable or None.

    Parameters
    ----------
    progress : None, bool or callable
        See the module's docstring.
    label : str
        What the bar or the lines call the work (``"htsr report"``).
    name : str
        The argument's name, for the error message.
    lines : bool
        ``True`` gives :class:`Lines` when stderr is not a terminal (else nothing is shown there).
    step : bool
        The caller passes a :class:`Step` as a third argument: the callable returned then
        always takes ``(done, total, step=None)``, and a user's two-argument callable
        is wrapped so that it is called with two.

    Raises
    ------
    HtsrError
        ``progress`` is none of the above (``"yes"``, ``3``).
    """
    if progress is None or progress is False:
        return None
    if progress is True:
        if lines and not sys.stderr.isatty():
            return Lines(label)
        return Bar(label)
    if callable(progress):
        if step and not takes_step(progress):
            def two(done, total, _step=None, _fn=progress):
                return _fn(done, total)
            return two
        return progress
    raise HtsrError(f"{name} must be True, False, None or a callable progress(done, total), "
                    f"got {progress!r}")


class Stages:
    """Counts work done over stages of unequal cost and reports it to a progress callable.

    ``done/total`` (what a two-argument callable sees) counts items over all stages,
    as before; the :class:`Step` given to a three-argument callable carries the stage,
    its count, the last item and a cost-weighted time left for the stage.

    Parameters
    ----------
    progress : callable or None
        ``progress(done, total, step)`` (from :func:`resolve` with ``step=True``); None: nothing.
    total : int
        Items over every stage.

    Examples
    --------
    >>> seen = []
    >>> s = Stages(lambda d, t, st: seen.append((d, t, st.stage, st.stage_done)), total=4)
    >>> s.begin("spectra", 2, cost=3.0)
    >>> s.tick(item="a", cost=1.0); s.tick(item="b", cost=2.0)
    >>> s.begin("fits", 2); s.tick(2)
    >>> [x[:4] for x in seen][-1]
    (4, 4, 'fits', 2)
    """

    def __init__(self, progress, total: int):
        self.progress, self.total, self.done = progress, int(total), 0
        self.stage, self.stage_total, self.stage_done = "", 0, 0
        self.cost_total = self.cost_done = 0.0
        self.t_stage = time.monotonic()
        self.started = False

    def begin(self, stage: str, items: int, *, cost: float | None = None) -> None:
        """Start ``stage`` of ``items`` items, whose costs add up to ``cost`` (default: one each)."""
        self.stage, self.stage_total, self.stage_done = stage, int(items), 0
        self.cost_total = float(items if cost is None else cost)
        self.cost_done = 0.0
        self.t_stage = time.monotonic()
        if self.progress is not None and not self.started:
            self.started = True
            self.progress(self.done, self.total, self._step(""))

    def tick(self, n: int = 1, *, item: str = "", cost: float | None = None) -> None:
        """``n`` items of the stage done (``item``: the last one's name), costing ``cost`` (default ``n``).

        Items that took no time (loaded from a checkpoint, ruled out by their size) are
        ticked with ``cost=0`` and left out of the stage's ``cost`` given to :meth:`begin`,
        so they do not make the estimate optimistic.
        """
        self.done = min(self.done + n, self.total)
        self.stage_done = min(self.stage_done + n, self.stage_total)
        self.cost_done += float(n if cost is None else cost)
        if self.progress is not None:
            self.progress(self.done, self.total, self._step(item))

    def skip(self, n: int) -> None:
        """Count ``n`` items of the overall total done without a stage (a stage that does not run)."""
        if n > 0:
            self.done = min(self.done + n, self.total)
            if self.progress is not None:
                self.progress(self.done, self.total, self._step(""))

    def _step(self, item: str) -> Step:
        elapsed = time.monotonic() - self.t_stage
        if self.stage_done >= self.stage_total or self.cost_total <= 0:
            fraction = 1.0 if self.stage_done >= self.stage_total else 0.0
        else:
            fraction = min(self.cost_done / self.cost_total, 1.0)
        if self.stage_done >= self.stage_total:
            eta = 0.0
        elif fraction > 0:
            eta = elapsed * (1 - fraction) / fraction
        else:
            eta = None
        return Step(self.stage, self.stage_done, self.stage_total, item, fraction, elapsed, eta)

    def close(self) -> None:
        """End a bar's line (a no-op for lines and callables)."""
        close = getattr(self.progress, "close", None)
        if callable(close):
            close()
