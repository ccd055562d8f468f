"""The public surface of the package, stated once: what `import itop_intercom` gives and the
`itop-intercom` commands with their options (as `itop-intercom <command> --help` lists them).

A change here is a change for users and scripts: when you add, rename or remove a command or an
option, update the explicit lists below in the same commit, and say it in CHANGELOG.md.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import types

import itop_intercom
from itop_intercom.cli import build_parser

#: The names `itop_intercom` exports (its sub-packages and modules aside).
PACKAGE_NAMES = {"__version__"}

#: Every command (sub-commands joined by a space) and its arguments: the longest option string
#: of each option, and the name of each positional argument. `--help` is left out.
COMMANDS: dict[str, set[str]] = {
    "serve": {"--config", "--host", "--port", "--no-worker"},
    "worker": {"--config", "--once"},
    "urls": {"--config"},
    "check": {"--config", "--itop-only"},
    "config import": {"file", "--output", "--force", "--secrets"},
    "db upgrade": {"--config"},
    "db purge": {"--config", "--dry-run"},
    "events list": {"--config", "--state", "--conversation", "--limit", "--jobs", "--outbound"},
    "events show": {"--config", "id"},
    "events replay": {"--config", "ids", "--dead", "--jobs", "--outbound"},
    "messenger module": {"--output", "--force"},
}


def _commands(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()) -> dict[str, set[str]]:
    """The leaf commands of `parser` and their arguments, as `COMMANDS` states them."""
    found: dict[str, set[str]] = {}
    arguments: set[str] = set()
    sub: argparse._SubParsersAction[argparse.ArgumentParser] | None = None
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            sub = action
        elif not isinstance(action, argparse._HelpAction):
            strings = action.option_strings
            arguments.add(max(strings, key=len) if strings else action.dest)
    if sub is None:
        return {" ".join(path): arguments}
    for name, child in sub.choices.items():
        found.update(_commands(child, (*path, name)))
    return found


def test_the_package_exports_its_version_only() -> None:
    exported = {
        name
        for name, value in vars(itop_intercom).items()
        if not isinstance(value, types.ModuleType)
        and (not name.startswith("_") or name == "__version__")
    }
    assert exported == PACKAGE_NAMES


def test_the_version_is_the_installed_distribution_s() -> None:
    assert itop_intercom.__version__ == importlib.metadata.version("itop-intercom")


def test_the_commands_and_their_options_are_the_stated_ones() -> None:
    assert _commands(build_parser()) == COMMANDS


def test_the_top_level_help_lists_every_command() -> None:
    help_text = build_parser().format_help()
    for command in {name.split()[0] for name in COMMANDS}:
        assert f"    {command} " in help_text, command
