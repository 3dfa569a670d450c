"""What the sub-command modules share: adding a command, and the options several commands take.

Every ``register(subparsers)`` of :mod:`cnnlab.cli` adds its commands with :func:`add_command`:
one line per command (its name and function, whose docstring is its help), then its options.
"""

from __future__ import annotations

import argparse
import inspect
from collections.abc import Callable

Run = Callable[[argparse.Namespace], int]
RUN_FOLDER = "a run folder written by `cnnlab train`"


def add_command(
    subparsers: argparse._SubParsersAction, name: str, run: Run
) -> argparse.ArgumentParser:
    """Add the sub-command ``name``, which calls ``run(args)`` for its exit code.

    ``run``'s docstring is the command's text: its first line the summary in ``cnnlab --help``,
    the whole of it the description in ``cnnlab NAME --help``.

    Args:
        subparsers: the top-level parser's sub-parsers.
        name: the command's name on the command line.
        run: called with the parsed arguments; returns the exit code.

    Returns:
        The command's parser, to add its options to.

    Raises:
        ValueError: ``run`` has no docstring.
    """
    doc = inspect.getdoc(run)
    if not doc:
        raise ValueError(f"add_command: {run.__qualname__} (command {name!r}) has no docstring")
    parser = subparsers.add_parser(name, help=doc.splitlines()[0], description=doc)
    parser.set_defaults(func=run)
    return parser


def add_model_option(parser: argparse.ArgumentParser) -> None:
    """``--model NAME``: one of the registered models, default three_layer."""
    from cnnlab import models

    parser.add_argument("--model", default="three_layer", choices=models.available())


def add_seed_option(parser: argparse.ArgumentParser, help: str = "random seed (default 0)") -> None:
    """``--seed N`` (an int, default 0)."""
    parser.add_argument("--seed", type=int, default=0, help=help)


def add_quiet_option(parser: argparse.ArgumentParser, help: str = "no progress output") -> None:
    """``--quiet``: a flag."""
    parser.add_argument("--quiet", action="store_true", help=help)
