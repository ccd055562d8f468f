"""Startup failures as an operator meets them: one line naming the cause and the fix, exit 1.

Each case runs the real `itop-intercom` command in a subprocess (what a shell, systemd or a
container runs) and checks that stderr is exactly one line, never a traceback. The same case is
then run in-process for the other commands that start from the settings (the same code path
without the cost of a new interpreter per command).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from itop_intercom.cli import main
from tests.conftest import POSTGRES_ADMIN_URL

#: Commands that start from the settings and stop before any side effect when they cannot
#: (no logging set up, no server started), safe to run in the test's own process.
IN_PROCESS = [["db", "upgrade"], ["events", "list"], ["events", "replay", "--dead"]]


def run(
    tmp_path: Path, argv: list[str], env: dict[str, str] | None = None, toml: str | None = ""
) -> subprocess.CompletedProcess[str]:
    if toml is not None:
        (tmp_path / "itop-intercom.toml").write_text(toml, encoding="utf-8")
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


def one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    return assert_one_line(result.returncode, result.stderr)


def assert_one_line(status: int, stderr: str) -> str:
    assert "Traceback" not in stderr, stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("itop-intercom: error: "), lines[0]
    assert status == 1, (status, stderr)
    return lines[0]


def in_process(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    env: dict[str, str] | None = None,
) -> list[str]:
    """The one error line of each `IN_PROCESS` command (settings file already written)."""
    for name, value in (env or {}).items():
        monkeypatch.setenv(name, value)
    capsys.readouterr()
    lines = []
    for argv in IN_PROCESS:
        status = main(argv)
        lines.append(assert_one_line(status, capsys.readouterr().err))
    return lines


def test_unreachable_postgresql(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    env = {"ITOP_INTERCOM_DATABASE__URL": "postgresql://itop:s3cret-pass@127.0.0.1:1/itop"}
    lines = [one_error_line(run(tmp_path, ["serve"], env))]
    lines += in_process(monkeypatch, capsys, env)
    for line in lines:
        assert "cannot use the database postgresql://itop:***@127.0.0.1:1/itop" in line
        assert "Connection refused" in line
        assert "check database.url (environment variable ITOP_INTERCOM_DATABASE__URL)" in line
        assert "s3cret-pass" not in line


def test_postgresql_database_that_does_not_exist(capsys: pytest.CaptureFixture[str]) -> None:
    # In-process: the subprocess case of a wrong URL is `test_unreachable_postgresql`.
    base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0]
    url = f"{base}/no_such_database_for_itop_intercom"
    (Path.cwd() / "itop-intercom.toml").write_text(f'[database]\nurl = "{url}"\n')
    line = assert_one_line(main(["db", "upgrade"]), capsys.readouterr().err)
    assert 'database "no_such_database_for_itop_intercom" does not exist' in line
    assert "database.url" in line


def test_unresolvable_postgresql_host(capsys: pytest.CaptureFixture[str]) -> None:
    url = "postgresql://u@db.invalid/x"
    (Path.cwd() / "itop-intercom.toml").write_text(f'[database]\nurl = "{url}"\n')
    line = assert_one_line(main(["events", "list"]), capsys.readouterr().err)
    assert "db.invalid" in line
    assert "ITOP_INTERCOM_DATABASE__URL" in line


def test_unwritable_data_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # A file where the data directory should be (tests run as root, so modes prove nothing).
    (tmp_path / "blocked").write_text("not a directory")
    toml = 'data_dir = "blocked/data"\n'
    lines = [one_error_line(run(tmp_path, ["serve"], toml=toml))]
    lines += in_process(monkeypatch, capsys)
    # The worker stops at its instance lock, before it sets up logging: safe in-process too.
    lines.append(assert_one_line(main(["worker"]), capsys.readouterr().err))
    for line in lines:
        assert f"cannot write the database directory {tmp_path / 'blocked' / 'data'}" in line
        assert "data_dir (ITOP_INTERCOM_DATA_DIR)" in line


def test_invalid_value_from_the_environment_is_blamed_on_the_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    env = {"ITOP_INTERCOM_SERVER__PORT": "abc"}
    lines = [one_error_line(run(tmp_path, ["check"], env, toml="[server]\nport = 8080\n"))]
    lines += in_process(monkeypatch, capsys, env)
    for line in lines:
        assert "environment variable ITOP_INTERCOM_SERVER__PORT (server.port)" in line
        assert "itop-intercom.toml" not in line


def test_invalid_value_from_the_file_is_blamed_on_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = [one_error_line(run(tmp_path, ["worker"], toml='[server]\nport = "abc"\n'))]
    lines += in_process(monkeypatch, capsys)
    for line in lines:
        assert "invalid settings in itop-intercom.toml: server.port:" in line
        assert "environment" not in line


def test_a_list_in_the_environment_that_is_not_json(tmp_path: Path) -> None:
    env = {"ITOP_INTERCOM_MESSENGER__ENABLED_PORTALS": "itop-portal,backoffice"}
    line = one_error_line(run(tmp_path, ["serve"], env))
    assert "ITOP_INTERCOM_MESSENGER__ENABLED_PORTALS is not valid JSON" in line
    assert """'["a", "b"]'""" in line


def test_unknown_key_in_the_file_gets_the_closest_one(tmp_path: Path) -> None:
    line = one_error_line(run(tmp_path, ["events", "list"], toml='[itop]\ntokn = "x"\n'))
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
    line = one_error_line(run(tmp_path, ["serve", "-c", "nope.toml"], toml=None))
    assert "settings file nope.toml does not exist" in line
