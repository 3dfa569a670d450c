"""MkDocs hook: the command-line reference page (``cli.md``), generated from cnnlab's parsers.

Every command and option is read from :func:`cnnlab.cli.build_parser` at build time, so the
page says exactly what ``cnnlab COMMAND --help`` says and is never written twice.
"""

from __future__ import annotations

import argparse

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import File, Files

from cnnlab.cli import build_parser

PAGE = "cli.md"
USAGE_WIDTH = 96

INTRO = """# Command line

`cnnlab COMMAND [OPTIONS]`; `cnnlab COMMAND --help` prints what this page shows for the command.
`--debug` (before or after the command) shows a traceback instead of the one-line error.
Exit codes: 0 done, 1 a failure, 2 a bad command line, 130 interrupted.

This page is generated from the parsers themselves when the site is built.
"""


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    """The sub-parsers of ``parser`` by name, in the order they were added (none: ``{}``)."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _usage(parser: argparse.ArgumentParser) -> str:
    """The parser's usage line(s), wrapped at ``USAGE_WIDTH`` whatever the terminal."""
    formatter = parser.formatter_class(prog=parser.prog, width=USAGE_WIDTH)
    formatter.add_usage(parser.usage, parser._actions, parser._mutually_exclusive_groups)
    return formatter.format_help().strip()


def _cell(text: str) -> str:
    """``text`` on one line, safe inside a Markdown table cell."""
    return " ".join(text.split()).replace("|", "\\|")


def _help(action: argparse.Action, prog: str) -> str:
    """The option's help text with argparse's ``%(...)s`` fields filled in."""
    text = action.help or ""
    if "%" in text:
        text = text % {**vars(action), "prog": prog}
    return text


def _default(action: argparse.Action) -> str:
    """The option's default as shown in the table, or "" when there is none worth showing."""
    if action.default in (None, False, argparse.SUPPRESS) or action.nargs == 0:
        return ""
    return f"`{action.default}`"


def _option_rows(parser: argparse.ArgumentParser) -> list[str]:
    """One Markdown table row per documented argument of ``parser`` (help and hidden left out)."""
    rows = []
    for action in parser._actions:
        hidden = action.help == argparse.SUPPRESS
        if hidden or isinstance(action, (argparse._HelpAction, argparse._SubParsersAction)):
            continue
        names = ", ".join(f"`{name}`" for name in action.option_strings) or f"`{action.metavar}`"
        if action.option_strings and action.nargs != 0:
            metavar = action.metavar or action.dest.upper()
            names += f" `{metavar}`" if action.choices is None else ""
        text = _help(action, parser.prog)
        if action.choices is not None:
            choices = ", ".join(f"`{choice}`" for choice in action.choices)
            text = f"{text} (one of {choices})" if text else f"one of {choices}"
        rows.append(f"| {names} | {_cell(text)} | {_default(action)} |")
    return rows


def command_section(parser: argparse.ArgumentParser, level: int = 2) -> str:
    """The Markdown section of one command: its usage, description and options.

    Args:
        parser: the command's parser (its ``prog`` is the heading, e.g. ``cnnlab train``).
        level: the heading level of the section.

    Returns:
        Markdown text ending with a newline.
    """
    parts = [f"{'#' * level} `{parser.prog}`", f"```text\n{_usage(parser)}\n```"]
    if parser.description:
        parts.append(parser.description)
    rows = _option_rows(parser)
    if rows:
        parts.append("\n".join(["| argument | what | default |", "|---|---|---|", *rows]))
    return "\n\n".join(parts) + "\n"


def command_tree(parser: argparse.ArgumentParser, level: int = 2) -> list[str]:
    """The sections of a command and, one heading level down, of its sub-commands."""
    sections = [command_section(parser, level)]
    for child in _subcommands(parser).values():
        sections += command_tree(child, level + 1)
    return sections


def reference() -> str:
    """The whole page: an introduction, the global options, then every command in order."""
    parser = build_parser()
    sections = [INTRO, command_section(parser)]
    for command in _subcommands(parser).values():
        sections += command_tree(command)
    return "\n".join(sections)


def on_files(files: Files, config: MkDocsConfig) -> Files:
    """Add the generated ``cli.md`` to the site's files."""
    files.append(File.generated(config, PAGE, content=reference()))
    return files
