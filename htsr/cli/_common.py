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


def table(rows: list[tuple[str, str]]) -> str:
    """Two aligned columns."""
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k:<{width}}  {v}" for k, v in rows)


def save_figure(fig, path: str) -> None:
    from ..errors import DataError

    try:
        fig.savefig(path, dpi=120, bbox_inches="tight")
    except (OSError, ValueError) as exc:
        raise DataError(f"cannot write the plot to {path}: {exc}") from None
