"""Helpers shared by the subcommands: reading data, printing tables and JSON."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ..data import load_values, to_plain


def read_data(path: str) -> np.ndarray:
    """Numbers from FILE (text, comma/whitespace separated, or .npy) or '-' for stdin."""
    return load_values(path)


def to_json(obj) -> str:
    """JSON with NaN/inf written as null (strict JSON has no NaN)."""
    return json.dumps(to_plain(obj), indent=2)


def process_seconds() -> float:
    """Seconds since this process started (Linux: ``/proc``), so a printed time includes Python's
    start-up and the imports; elsewhere, since :mod:`htsr.cli.main` was imported."""
    import os
    import time

    try:
        ticks = int(Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()[19])  # field 22: starttime
        uptime = float(Path("/proc/uptime").read_text().split()[0])
        age = uptime - ticks / os.sysconf("SC_CLK_TCK")
        if 0 <= age < 1e7:
            return age
    except (OSError, ValueError, IndexError):
        pass
    from .main import STARTED

    return time.perf_counter() - STARTED


def table(rows: list[tuple[str, str]]) -> str:
    """Two aligned columns."""
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k:<{width}}  {v}" for k, v in rows)


def check_figure(path, name: str = "--plot"):
    """Before any work: the figure's place can be written (a missing folder is created when the figure
    is saved), and matplotlib knows its format."""
    from ..data import check_output
    from ..errors import HtsrError

    if path is None:
        return None
    out = check_output(path, name)
    suffix = out.suffix.lstrip(".").lower()
    if suffix:
        from matplotlib.backend_bases import FigureCanvasBase

        formats = FigureCanvasBase.get_supported_filetypes()
        if suffix not in formats:
            raise HtsrError(f"{name} {str(path)!r}: matplotlib cannot write .{suffix} figures "
                            f"(it can write {', '.join(sorted(formats))})")
    return out


def plain_help(text: str) -> str:
    """reST markup of a docstring as plain text for ``--help``: ``code`` and :func:`name` lose their marks."""
    import re

    text = re.sub(r":[a-z:]+:`(~?)([^`]+)`",
                  lambda m: m.group(2).rsplit(".", 1)[-1] if m.group(1) else m.group(2), text)
    return text.replace("``", "")


def save_figure(fig, path: str) -> None:
    from pathlib import Path

    from ..errors import DataError

    try:
        Path(path).parent.mkdir(parents=True, exist_ok=True)  # checked before the work (check_figure)
        fig.savefig(path, dpi=120, bbox_inches="tight")
    except (OSError, ValueError) as exc:
        raise DataError(f"cannot write the plot to {path}: {exc} (the results were printed before it)") from None
