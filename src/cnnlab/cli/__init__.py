"""The ``cnnlab`` command.

Each sub-command lives in its own module under :mod:`cnnlab.cli` and exposes
``register(subparsers) -> None``, which adds its parser and sets ``func`` (called with the parsed
``argparse.Namespace``, returning an exit code). Add the module's name to ``COMMANDS`` below.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

COMMANDS: tuple[str, ...] = ("train", "models", "report", "knn", "autoencoder", "bench")


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with every registered sub-command."""
    from cnnlab import __version__

    parser = argparse.ArgumentParser(
        prog="cnnlab",
        description="Convolutional networks written by hand in NumPy.",
    )
    parser.add_argument("--version", action="version", version=f"cnnlab {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"cnnlab.cli.{name}").register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``cnnlab`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "func", None) is None:
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except (ValueError, FileNotFoundError) as exc:
        print(f"cnnlab {args.command}: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"cnnlab {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
