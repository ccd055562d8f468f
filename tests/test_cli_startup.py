"""Startup failures as an operator meets them: the real command, one line, exit status 1.

Each case runs `itop-intercom` in a subprocess (what a shell, systemd or a container runs), and
checks that stderr is exactly one line naming the cause and the fix, never a traceback.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tests.conftest import POSTGRES_ADMIN_URL

#: Every command that starts from the settings, with arguments that make it do nothing else.
SETTINGS_COMMANDS = [
    ["serve"],
    ["worker", "--once"],
    ["db", "upgrade"],
    ["events", "list"],
    ["check", "--itop-only"],
]
DATABASE_COMMANDS = [c for c in SETTINGS_COMMANDS if c[0] != "check"]


def run(
    tmp_path: Path, argv: list[str], env: dict[str, str] | None = None, toml: str = ""
) -> subprocess.CompletedProcess[str]:
    config = tmp_path / "itop-intercom.toml"
    if not config.exists():
        config.write_text(toml, encoding="utf-8")
    environ = {k: v for k, v in os.environ.items() if not k.startswith("ITOP_INTERCOM_")}
    environ.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "itop_intercom.cli", *argv],
        capture_output=True,
        text=True,
        env=environ,
        cwd=tmp_path,
        timeout=60,
    )


def run_each(
    tmp_path: Path,
    commands: Sequence[list[str]],
    env: dict[str, str] | None = None,
    toml: str = "",
) -> list[str]:
    """Run each command (at the same time: they mostly wait for imports and the network) and
    return the one error line of each."""
    (tmp_path / "itop-intercom.toml").write_text(toml, encoding="utf-8")
    with ThreadPoolExecutor(max_workers=len(commands)) as pool:
        results = list(pool.map(lambda argv: run(tmp_path, argv, env), commands))
    return [one_error_line(result) for result in results]


def one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("itop-intercom: error: "), lines[0]
    assert result.returncode == 1, (result.returncode, result.stderr)
    return lines[0]


def _refused_postgres_url() -> str:
    return "postgresql://itop_intercom:s3cret-pass@127.0.0.1:1/itop_intercom"


def test_unreachable_postgresql(tmp_path: Path) -> None:
    env = {"ITOP_INTERCOM_DATABASE__URL": _refused_postgres_url()}
    for line in run_each(tmp_path, DATABASE_COMMANDS, env):
        assert_refused_postgresql(line)


def assert_refused_postgresql(line: str) -> None:
    assert "postgresql://itop_intercom:***@127.0.0.1:1/itop_intercom" in line
    assert "Connection refused" in line
    assert "ITOP_INTERCOM_DATABASE__URL" in line
    assert "s3cret-pass" not in line


def test_postgresql_database_that_does_not_exist(tmp_path: Path) -> None:
    base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0]
    env = {"ITOP_INTERCOM_DATABASE__URL": f"{base}/no_such_database_for_itop_intercom"}
    line = one_error_line(run(tmp_path, ["db", "upgrade"], env))
    assert 'database "no_such_database_for_itop_intercom" does not exist' in line
    assert "database.url" in line


def test_unresolvable_postgresql_host(tmp_path: Path) -> None:
    env = {"ITOP_INTERCOM_DATABASE__URL": "postgresql://u@db.invalid/x"}
    line = one_error_line(run(tmp_path, ["worker", "--once"], env))
    assert "db.invalid" in line
    assert "ITOP_INTERCOM_DATABASE__URL" in line


def test_unwritable_data_directory(tmp_path: Path) -> None:
    # A file where the data directory should be (tests run as root, so modes prove nothing).
    (tmp_path / "blocked").write_text("not a directory")
    for line in run_each(tmp_path, DATABASE_COMMANDS, toml='data_dir = "blocked/data"\n'):
        assert_unwritable(tmp_path, line)


def assert_unwritable(tmp_path: Path, line: str) -> None:
    assert f"cannot write the database directory {tmp_path / 'blocked' / 'data'}" in line
    assert "data_dir (ITOP_INTERCOM_DATA_DIR)" in line


def test_invalid_value_from_the_environment_is_blamed_on_the_variable(tmp_path: Path) -> None:
    env = {"ITOP_INTERCOM_SERVER__PORT": "abc"}
    for line in run_each(tmp_path, SETTINGS_COMMANDS, env, toml="[server]\nport = 8080\n"):
        assert_blames_the_variable(line)


def assert_blames_the_variable(line: str) -> None:
    assert "environment variable ITOP_INTERCOM_SERVER__PORT (server.port)" in line
    assert "itop-intercom.toml" not in line


def test_invalid_value_from_the_file_is_blamed_on_the_file(tmp_path: Path) -> None:
    for line in run_each(tmp_path, SETTINGS_COMMANDS, toml='[server]\nport = "abc"\n'):
        assert_blames_the_file(line)


def assert_blames_the_file(line: str) -> None:
    assert "invalid settings in itop-intercom.toml: server.port:" in line
    assert "environment" not in line


def test_a_list_in_the_environment_that_is_not_json(tmp_path: Path) -> None:
    env = {"ITOP_INTERCOM_MESSENGER__ENABLED_PORTALS": "itop-portal,backoffice"}
    for line in run_each(tmp_path, [["serve"], ["check"]], env):
        assert_not_json(line)


def assert_not_json(line: str) -> None:
    assert "ITOP_INTERCOM_MESSENGER__ENABLED_PORTALS is not valid JSON" in line
    assert """'["a", "b"]'""" in line


def test_unknown_key_in_the_file_gets_the_closest_one(tmp_path: Path) -> None:
    for line in run_each(tmp_path, [["worker"], ["events", "list"]], toml='[itop]\ntokn = "x"\n'):
        assert "itop.tokn: unknown setting; did you mean itop.token?" in line


def test_a_variable_that_matches_no_setting_is_warned_about(tmp_path: Path) -> None:
    result = run(
        tmp_path,
        ["urls"],
        {"ITOP_INTERCOM_ITOP_TOKEN": "t0ken-value"},
        toml='public_url = "https://bridge.example.org/"\n',
    )
    assert result.returncode == 0
    assert result.stderr.strip().splitlines() == [
        "itop-intercom: warning: environment variable ITOP_INTERCOM_ITOP_TOKEN matches no "
        "setting and is ignored; did you mean ITOP_INTERCOM_ITOP__TOKEN (itop.token)?"
    ]
    assert "t0ken-value" not in result.stderr + result.stdout


def test_a_missing_settings_file(tmp_path: Path) -> None:
    line = one_error_line(
        subprocess.run(
            [sys.executable, "-m", "itop_intercom.cli", "serve", "-c", "nope.toml"],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            timeout=60,
        )
    )
    assert "settings file nope.toml does not exist" in line
