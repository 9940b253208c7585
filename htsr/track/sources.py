"""Which checkpoints a trajectory reads, and in what order.

A run's checkpoints come as a list of paths, a glob (``"run/step_*.safetensors"``)
or a folder of them (Hugging Face Trainer's ``checkpoint-500/`` folders, Lightning's
``epoch=3-step=200.ckpt`` files, ``step_1000.safetensors``, ...: anything
:func:`htsr.weights.load` reads).  Each one's step is, in this order of precedence:

1. ``global_step`` of a ``trainer_state.json`` inside a checkpoint folder (Hugging Face Trainer);
2. a number after ``step`` / ``global_step`` in its name (``step_1000``, ``epoch=3-step=200``,
   ``global_step1000``), or after ``checkpoint-`` (``checkpoint-500``);
3. a number after ``epoch`` (``epoch_3.pt``): the trajectory's unit is then the epoch;
4. the only number in its name (``ckpt7.pt``).

Checkpoints whose steps cannot all be read this way, that mix epochs and steps, or
share a step, are refused with one line asking for an order (``steps=`` /
``--steps 0,100,200``).
"""

from __future__ import annotations

import glob as globlib
import json
import os
import re
import warnings
from dataclasses import dataclass
from pathlib import Path

from ..errors import HtsrError
from ..weights import FORMATS

__all__ = ["Checkpoint", "checkpoints", "parse_step", "parse_steps"]

_STEP = re.compile(r"(?:global_step|step|checkpoint)[=_\-]?(\d+)", re.I)
_EPOCH = re.compile(r"epoch[=_\-]?(\d+)", re.I)
_NUMBER = re.compile(r"\d+")
_WEIGHT_SUFFIXES = tuple(s for group in FORMATS.values() for s in group) + (".index.json",)
_GLOB_CHARS = set("*?[")


@dataclass(frozen=True)
class Checkpoint:
    """One checkpoint of a run: what to read, its step, and where the step came from.

    Attributes
    ----------
    source : str or object
        A path :func:`htsr.weights.load` reads (or an in-memory model, from a callback).
    step : int
    unit : {"step", "epoch"}
    origin : str
        ``"trainer_state.json"``, ``"name"`` or ``"given"`` (``steps=``).
    """

    source: object
    step: int
    unit: str = "step"
    origin: str = "name"

    @property
    def label(self) -> str:
        return str(self.source) if isinstance(self.source, (str, os.PathLike)) else f"<{type(self.source).__name__}>"


def parse_step(path) -> tuple[int, str, str] | None:
    """``(step, unit, origin)`` of a checkpoint path, or None when it says no step (module docstring)."""
    path = Path(path)
    state = path / "trainer_state.json"
    if path.is_dir() and state.is_file():
        try:
            step = json.loads(state.read_text(encoding="utf-8"))["global_step"]
            return int(step), "step", "trainer_state.json"
        except (OSError, ValueError, KeyError, TypeError):
            pass  # an unreadable state file: fall back on the name
    name = path.name
    for suffix in _WEIGHT_SUFFIXES:
        if name.lower().endswith(suffix):
            name = name[: -len(suffix)]
            break
    if (m := _STEP.findall(name)):
        return int(m[-1]), "step", "name"
    if (m := _EPOCH.findall(name)):
        return int(m[-1]), "epoch", "name"
    numbers = _NUMBER.findall(name)
    if len(numbers) == 1:
        return int(numbers[0]), "step", "name"
    return None


def parse_steps(text) -> tuple[int, ...]:
    """``"0,100,200"`` (or a sequence of integers) -> a tuple of distinct non-negative ints."""
    items = text.split(",") if isinstance(text, str) else list(text)
    try:
        steps = tuple(int(str(s).strip()) for s in items if str(s).strip() != "")
    except ValueError:
        raise HtsrError(f"steps must be integers separated by commas, got {text!r}") from None
    if any(s < 0 for s in steps):
        raise HtsrError(f"steps must be non-negative, got {list(steps)}")
    if len(set(steps)) != len(steps):
        raise HtsrError(f"steps must be distinct, got {list(steps)}")
    return steps


def _expand(sources) -> tuple[list[str], bool]:
    """Paths from a list, a glob or a folder; True when they came from a folder listing."""
    if isinstance(sources, (str, os.PathLike)):
        text = str(sources)
        if _GLOB_CHARS & set(text) and not Path(text).exists():
            found = sorted(globlib.glob(os.path.expanduser(text)))
            if not found:
                raise HtsrError(f"no checkpoint matches {text!r}")
            return found, False
        path = Path(text).expanduser()
        if not path.exists():
            raise HtsrError(f"{path}: no such file or directory")
        if path.is_dir() and not (path / "trainer_state.json").is_file():
            listing = _listing(path)  # a folder of checkpoints, unless none of its entries says a step
            if any(parse_step(p) is not None for p in listing) or parse_step(path) is None:
                return listing, True
        return [str(path)], False
    paths = []
    for s in sources:
        if not isinstance(s, (str, os.PathLike)):
            raise HtsrError(f"a checkpoint must be a path, got {type(s).__name__} (a live model: use a callback)")
        paths.append(str(s))
    if not paths:
        raise HtsrError("no checkpoints given")
    return paths, False


def _listing(folder: Path) -> list[str]:
    children = sorted(p for p in folder.iterdir() if not p.name.startswith("."))
    found = [str(p) for p in children if p.is_dir() or p.name.lower().endswith(_WEIGHT_SUFFIXES)]
    if not found and parse_step(folder) is None:
        raise HtsrError(f"{folder}: holds no checkpoints (folders, or weight files such as *.safetensors, *.pt)")
    return found


def checkpoints(sources, steps=None) -> list[Checkpoint]:
    """The checkpoints of ``sources`` (list, glob or folder), in order of step.

    Parameters
    ----------
    sources : path, glob or sequence of paths
    steps : sequence of int or str, optional
        The step of each checkpoint, in the order given (``"0,100,200"`` works too); needed
        when names and ``trainer_state.json`` do not say.

    Raises
    ------
    HtsrError
        Nothing found; ``steps`` of the wrong length; checkpoints that cannot be ordered.
    """
    paths, listed = _expand(sources)
    if steps is not None:
        given = parse_steps(steps)
        if len(given) != len(paths):
            raise HtsrError(f"steps gives {len(given)} step(s) for {len(paths)} checkpoint(s)")
        return sorted((Checkpoint(p, s, "step", "given") for p, s in zip(paths, given)), key=lambda c: c.step)
    parsed = {p: parse_step(p) for p in paths}
    unknown = [p for p, v in parsed.items() if v is None]
    if listed and unknown and len(unknown) < len(paths):  # a Trainer's output folder also holds its final model
        warnings.warn(f"{len(unknown)} entr{'y' if len(unknown) == 1 else 'ies'} of the folder without a step "
                      f"left out: {', '.join(Path(p).name for p in unknown[:5])}", stacklevel=3)
        paths, unknown = [p for p in paths if parsed[p] is not None], []
    ask = "give the order with steps= (--steps 0,100,200 on the command line), one per checkpoint"
    if unknown:
        raise HtsrError(f"cannot order the checkpoints: no step in the name of {Path(unknown[0]).name!r}"
                        f"{f' and {len(unknown) - 1} more' if len(unknown) > 1 else ''} "
                        f"(nor a trainer_state.json); {ask}")
    units = {parsed[p][1] for p in paths}
    if len(units) > 1:
        raise HtsrError(f"cannot order the checkpoints: some names give epochs, others steps; {ask}")
    seen: dict = {}
    for p in paths:
        if parsed[p][0] in seen:
            raise HtsrError(f"cannot order the checkpoints: {Path(seen[parsed[p][0]]).name!r} and "
                            f"{Path(p).name!r} both say step {parsed[p][0]}; {ask}")
        seen[parsed[p][0]] = p
    return sorted((Checkpoint(p, *parsed[p]) for p in paths), key=lambda c: c.step)
