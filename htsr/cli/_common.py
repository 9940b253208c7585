"""Helpers shared by the subcommands: reading data, printing tables and JSON."""

from __future__ import annotations

import json

import numpy as np

from ..data import load_values, to_plain


def read_data(path: str) -> np.ndarray:
    """Numbers from FILE (text, comma/whitespace separated, or .npy) or '-' for stdin."""
    return load_values(path)


def to_json(obj) -> str:
    """JSON with NaN/inf written as null (strict JSON has no NaN)."""
    return json.dumps(to_plain(obj), indent=2)


def process_seconds() -> float:
    """Seconds since the command started (:mod:`htsr.cli.main` imported, the first thing ``htsr`` and
    ``python -m htsr`` do), so a printed time includes loading: the imports, reading, writing.

    Not the process's age from ``/proc``: a shell that ``exec``s its last command (``bash -c "pip
    install ... && htsr report ..."``) hands that process its own start, installs included.
    """
    import time

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
