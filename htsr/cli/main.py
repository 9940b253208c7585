"""Entry point of the ``htsr`` command.

Each subcommand lives in its own module ``htsr.cli.<name>`` exposing
``add_parser(subparsers)``, which registers an argparse sub-parser whose
``func(args) -> int`` does the work.  Library errors (:class:`htsr.HtsrError`)
become one line on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time
import warnings

STARTED = time.perf_counter()  # the fallback start of a printed time, where /proc is not there

from ..errors import HtsrError

# Subcommand modules, in the order `htsr --help` lists them.
COMMANDS = ("fit", "compare", "rmt", "demo", "report", "smooth", "track", "calibrate")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="htsr",
        description="Heavy-tailed spectra: exact power-law fits with honest uncertainty.",
    )
    from .. import __version__

    parser.add_argument("--version", action="version", version=f"htsr {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"{__package__}.{name}").add_parser(sub)
    return parser


# Other packages' warnings that say nothing a user of htsr can act on: silenced in the command.
NOISE = (
    r"TypedStorage is deprecated",  # torch, from its own checkpoint loader
    r"Detected pickle protocol \d+ in the checkpoint",  # torch.load: "... please file an issue ..."
    r"Glyph \d+ .*missing from (current )?font",  # matplotlib, a character the font lacks
)


def _origin(category, filename: str) -> str:
    """The package a warning comes from: ``htsr`` for htsr's own, else ``torch``, ``matplotlib``, ..."""
    from pathlib import Path

    top = (getattr(category, "__module__", "") or "").split(".")[0]
    if top not in ("", "builtins", "warnings"):
        return top  # htsr.errors.DataAlteredWarning, matplotlib's MatplotlibDeprecationWarning, ...
    path = Path(filename or "").resolve()
    if Path(__file__).resolve().parents[1] in path.parents:
        return "htsr"
    parts = path.parts
    for marker in ("site-packages", "dist-packages"):
        if marker in parts[:-1]:
            i = len(parts) - 1 - parts[::-1].index(marker)
            return Path(parts[i + 1]).stem.split("-")[0]
    return path.stem or "python"


def _format_warning(message, category, filename, lineno, line=None):
    origin = _origin(category, filename)
    if origin == "htsr":
        return f"htsr: warning: {message}\n"
    return f"warning ({origin}): {message}\n"


def _quiet_noise() -> None:
    for pattern in NOISE:
        warnings.filterwarnings("ignore", message=pattern)


def in_cli_terms(message: str, args: argparse.Namespace) -> str:
    """Say the library's option names as the command line spells them.

    ``min_tail=500`` becomes ``--min-tail=500`` and ``xmin must ...`` becomes
    ``--xmin must ...``, for every option the subcommand has (its argparse dests).
    """
    import re

    options = {k for k in vars(args) if k not in ("func", "command", "file")}

    def flag(m):
        name = m.group(1)
        return f"--{name.replace('_', '-')}" if name in options else name

    message = re.sub(r"\b([A-Za-z][A-Za-z_]*)(?==)", flag, message)
    return re.sub(r"^([A-Za-z][A-Za-z_]*)(?= must )", flag, message)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    warnings.formatwarning = _format_warning
    try:
        with warnings.catch_warnings():
            _quiet_noise()
            return int(args.func(args) or 0)
    except HtsrError as exc:
        print(f"htsr: error: {in_cli_terms(str(exc), args)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # a subcommand that keeps its work says so in args.on_interrupt
        hint = getattr(args, "on_interrupt", None)
        print("htsr: interrupted" + (f" ({hint})" if hint else ""), file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
