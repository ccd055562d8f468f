"""The command line's one style, shared by every module that adds sub-commands.

Errors are one line, `itop-intercom: error: <cause and fix>`. Exit status 0 when done, 1 when
the command could not do its work (settings, database, iTop, Intercom, files), 2 for a command
line that does not make sense (argparse's own convention for usage errors).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any, TextIO

PROG = "itop-intercom"

EXIT_FAILED = 1
EXIT_USAGE = 2

ConfigAdder = Callable[[argparse.ArgumentParser], argparse.ArgumentParser]
"""Adds the `--config FILE` option to a sub-command (`cli.with_config`)."""


class CommandListFormatter(argparse.HelpFormatter):
    """Help whose command list keeps each name and its summary on one line."""

    def __init__(self, prog: str) -> None:
        super().__init__(prog, max_help_position=30)
        self._action_max_length = 20


def fail(message: str, stderr: TextIO | None = None) -> int:
    """Print one error line; return the exit status of a runtime failure."""
    print(f"{PROG}: error: {message}", file=stderr or sys.stderr)
    return EXIT_FAILED


def usage_error(message: str, stderr: TextIO | None = None) -> int:
    """Print one error line about the command line itself; return the usage exit status."""
    print(f"{PROG}: error: {message}", file=stderr or sys.stderr)
    return EXIT_USAGE


def warn(message: str, stderr: TextIO | None = None) -> None:
    print(f"{PROG}: warning: {message}", file=stderr or sys.stderr)


SubParsers = Any
"""argparse's sub-parser action (its class is private)."""


def add_command(
    sub: SubParsers, name: str, summary: str, description: str | None = None
) -> argparse.ArgumentParser:
    """A sub-command with its one-line summary (in the parent's help) and its description."""
    parser: argparse.ArgumentParser = sub.add_parser(
        name, help=summary, description=description or summary[:1].upper() + summary[1:] + "."
    )
    return parser


def add_subcommands(parser: argparse.ArgumentParser, dest: str) -> SubParsers:
    """Sub-commands named COMMAND in messages (never the internal `dest`)."""
    return parser.add_subparsers(dest=dest, required=True, metavar="COMMAND")
