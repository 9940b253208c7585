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
import warnings

from ..errors import HtsrError

# Subcommand modules, in the order `htsr --help` lists them.
COMMANDS = ("fit", "compare", "rmt", "demo", "report", "calibrate")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="htsr",
        description="Heavy-tailed spectra: exact power-law fits with honest uncertainty.",
    )
    from .. import __version__

    parser.add_argument("--version", action="version", version=f"htsr {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        try:
            module = importlib.import_module(f"{__package__}.{name}")
        except ModuleNotFoundError as exc:  # a subcommand not built yet
            if exc.name == f"{__package__}.{name}":
                continue
            raise
        module.add_parser(sub)
    return parser


def _format_warning(message, category, filename, lineno, line=None):
    return f"htsr: warning: {message}\n"


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
        return int(args.func(args) or 0)
    except HtsrError as exc:
        print(f"htsr: error: {in_cli_terms(str(exc), args)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("htsr: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
