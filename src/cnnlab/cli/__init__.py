"""The ``cnnlab`` command.

Each sub-command lives in its own module under :mod:`cnnlab.cli` and exposes
``register(subparsers) -> None``, which adds its parser and sets ``func`` (called with the parsed
``argparse.Namespace``, returning an exit code). Add the module's name to ``COMMANDS`` below.

Errors end the command with one line on stderr (``cnnlab <command>: error: <what>``) and a
non-zero exit code: 2 for a bad command line, 1 for a failure, 130 for an interrupt.
``--debug`` (before or after the sub-command) shows the traceback instead. Warnings are one
line too.
"""

from __future__ import annotations

import argparse
import importlib
import signal
import sys
import traceback
import warnings
import zipfile
from collections.abc import Sequence
from typing import NoReturn

COMMANDS: tuple[str, ...] = (
    "train",
    "models",
    "report",
    "knn",
    "autoencoder",
    "bench",
    "recipes",
    "search",
)

# Failures a user can cause and fix (bad values, files, memory, a diverging run); any other
# exception is reported as unexpected, with its type.
EXPECTED_ERRORS: tuple[type[BaseException], ...] = (
    ValueError,
    OSError,
    MemoryError,
    RuntimeError,
    EOFError,
    zipfile.BadZipFile,
)


class _Parser(argparse.ArgumentParser):
    """ArgumentParser whose usage errors are one line (the sub-parsers inherit the class)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with every registered sub-command."""
    from cnnlab import __version__

    parser = _Parser(
        prog="cnnlab",
        description="Convolutional networks written by hand in NumPy.",
    )
    parser.add_argument("--version", action="version", version=f"cnnlab {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks of errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"cnnlab.cli.{name}").register(sub)
    for command in sub.choices.values():
        command.add_argument(
            "--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS
        )
    return parser


def _one_line(exc: BaseException) -> str:
    """The exception's message on one line, with its type when it says little alone."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    if not isinstance(exc, EXPECTED_ERRORS):
        return f"{type(exc).__name__}: {text} (unexpected; --debug shows the traceback)"
    if isinstance(exc, (MemoryError, EOFError, zipfile.BadZipFile)):
        return f"{type(exc).__name__}: {text}"
    return text


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``cnnlab`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "func", None) is None:
        parser.print_help()
        return 2
    name = f"cnnlab {args.command}"

    def show_warning(message, category, filename, lineno, file=None, line=None) -> None:
        print(f"{name}: warning: {' '.join(str(message).split())}", file=sys.stderr)

    with warnings.catch_warnings():
        warnings.showwarning = show_warning
        try:
            return int(args.func(args) or 0)
        except KeyboardInterrupt:
            print(f"{name}: interrupted", file=sys.stderr)
            return 130
        except Exception as exc:
            if args.debug:
                traceback.print_exc()
            print(f"{name}: error: {_one_line(exc)}", file=sys.stderr)
            return 1


def run() -> None:
    """The process's entry point (the ``cnnlab`` script, ``python -m cnnlab``): main, then exit.

    Once the command is done a Ctrl-C has nothing left to stop, yet Python's handler would raise
    KeyboardInterrupt inside the interpreter's shutdown (matplotlib's atexit callback, say) and
    print a traceback. So SIGINT gets the default action back: such a Ctrl-C just ends the process.
    """
    try:
        code = main()
    except KeyboardInterrupt:  # one that lands after the command's own handling
        code = 130
    finally:
        if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
            signal.signal(signal.SIGINT, signal.SIG_DFL)
    sys.exit(code)


if __name__ == "__main__":  # pragma: no cover
    run()
