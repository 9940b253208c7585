"""Progress reporting, one convention for every long-running function.

A ``progress`` argument anywhere in htsr accepts:

* ``None`` or ``False``: no progress;
* ``True``: a one-line bar on stderr, drawn only when stderr is a terminal;
* a callable ``progress(done, total)``, called as work completes.

:func:`resolve` turns any of these into a callable or ``None`` and rejects
anything else with an :class:`~htsr.errors.HtsrError` that names the argument.
"""

from __future__ import annotations

import sys
import time

from .errors import HtsrError

__all__ = ["Bar", "resolve"]


class Bar:
    """A one-line progress bar on stderr; silent when stderr is not a terminal."""

    def __init__(self, label: str = "working", enabled: bool | None = None):
        self.label = label
        self.enabled = sys.stderr.isatty() if enabled is None else bool(enabled)
        self.start = time.monotonic()
        self.drawn = False

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled:
            return
        width = 30
        filled = int(width * done / max(total, 1))
        elapsed = time.monotonic() - self.start
        eta = f", {elapsed / done * (total - done):.0f}s left" if 0 < done < total else ""
        sys.stderr.write(f"\r{self.label} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}"
                         f" ({elapsed:.0f}s{eta})")
        sys.stderr.flush()
        self.drawn = True
        if done >= total:
            self.close()

    def close(self) -> None:
        if self.drawn:
            sys.stderr.write("\n")
            sys.stderr.flush()
            self.drawn = False


def resolve(progress, label: str = "working", *, name: str = "progress"):
    """Normalise a ``progress`` argument to a callable ``(done, total)`` or None."""
    if progress is None or progress is False:
        return None
    if progress is True:
        return Bar(label)
    if callable(progress):
        return progress
    raise HtsrError(f"{name} must be True, False, None or a callable progress(done, total), "
                    f"got {progress!r}")
