"""One command-line style: help everywhere, one error prefix, exit 2 for usage, 1 for failures."""

from __future__ import annotations

import argparse
import os
import stat
from pathlib import Path
from typing import Any

import pytest

from itop_intercom import __version__
from itop_intercom.cli import build_parser, main

PHP_EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "legacy" / "config-itop.php"


def _parsers(parser: argparse.ArgumentParser, path: str = "") -> list[tuple[str, Any]]:
    found: list[tuple[str, Any]] = [(path or "itop-intercom", parser)]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                found += _parsers(child, f"{path} {name}".strip())
    return found


def test_every_command_has_a_description_and_every_argument_help() -> None:
    for name, parser in _parsers(build_parser()):
        assert parser.description, f"{name} has no description"
        for action in parser._actions:
            if isinstance(action, argparse._HelpAction | argparse._SubParsersAction):
                continue
            assert action.help, f"{name} {action.dest} has no help"


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["--version"])
    assert caught.value.code == 0
    assert capsys.readouterr().out.strip() == f"itop-intercom {__version__}"


@pytest.mark.parametrize(
    "argv", [["events"], ["db"], ["config"], ["events", "show", "x"], ["nope"]]
)
def test_usage_errors_exit_2_without_internal_names(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as caught:
        main(argv)
    assert caught.value.code == 2
    err = capsys.readouterr().err
    assert "itop-intercom" in err and ": error: " in err
    assert "_command" not in err


def test_replay_without_ids_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["events", "replay"]) == 2
    assert capsys.readouterr().err == "itop-intercom: error: give event ids or --dead\n"


def test_import_refuses_to_replace_an_existing_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    output = tmp_path / "itop-intercom.toml"
    output.write_text("# my edits\n")
    assert main(["config", "import", str(PHP_EXAMPLE), "-o", str(output)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith(f"itop-intercom: error: {output} already exists and was not replaced")
    assert "--force" in err
    assert output.read_text() == "# my edits\n"
    assert not Path(f"{output}.client_secret").exists()

    assert main(["config", "import", str(PHP_EXAMPLE), "-o", str(output), "--force"]) == 0
    assert "# my edits" not in output.read_text()


def test_import_refuses_to_replace_existing_secret_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    output = tmp_path / "new.toml"
    Path(f"{output}.access_token").write_text("kept\n")
    assert main(["config", "import", str(PHP_EXAMPLE), "-o", str(output)]) == 1
    assert "new.toml.access_token already exists" in capsys.readouterr().err
    assert not output.exists()
    assert Path(f"{output}.access_token").read_text() == "kept\n"


def test_secret_files_are_ignored_by_git() -> None:
    ignored = (Path(__file__).parents[1] / ".gitignore").read_text().splitlines()
    assert "*.access_token" in ignored
    assert "*.client_secret" in ignored


def test_a_secret_file_others_can_read_is_warned_about(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    token = tmp_path / "itop.token"
    token.write_text("itop-token-value\n")
    os.chmod(token, 0o644)
    config = tmp_path / "s.toml"
    config.write_text(
        'public_url = "https://bridge.example.org/"\n[itop]\ntoken_file = "itop.token"\n'
    )
    assert main(["urls", "-c", str(config)]) == 0
    err = capsys.readouterr().err
    assert err == (
        f"itop-intercom: warning: the secret file {token} (itop.token_file) can be read by "
        f"other users (mode 644); run: chmod 600 {token}\n"
    )
    os.chmod(token, stat.S_IRUSR | stat.S_IWUSR)
    assert main(["urls", "-c", str(config)]) == 0
    assert capsys.readouterr().err == ""
