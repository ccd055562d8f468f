"""One instance per SQLite database file: the second `serve` or `worker` refuses to start."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from itop_intercom.cli import main
from itop_intercom.store.instance_lock import InstanceLock, SecondInstance, hold_instance_lock
from tests.test_cli_startup import assert_one_line, one_error_line


def test_the_lock_is_exclusive_and_released(tmp_path: Path) -> None:
    database = tmp_path / "itop-intercom.sqlite3"
    first = InstanceLock(database)
    first.acquire()
    with pytest.raises(SecondInstance) as caught:
        InstanceLock(database).acquire()
    message = str(caught.value)
    assert f"(process {os.getpid()})" in message
    assert "use PostgreSQL" in message
    first.release()
    second = InstanceLock(database)
    second.acquire()  # free again
    second.release()


def test_postgresql_needs_no_lock() -> None:
    assert hold_instance_lock("postgresql+psycopg://u@h/db") is None


def test_a_second_instance_on_the_same_sqlite_file_refuses(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "itop-intercom.toml").write_text("", encoding="utf-8")
    database = tmp_path / "data" / "itop-intercom.sqlite3"
    # The first instance: this process holds the lock, as a running `serve` would.
    running = InstanceLock(database)
    running.acquire()
    try:
        env = {k: v for k, v in os.environ.items() if not k.startswith("ITOP_INTERCOM_")}
        second = subprocess.run(
            [sys.executable, "-m", "itop_intercom.cli", "serve"],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        lines = [one_error_line(second)]
        lines.append(assert_one_line(main(["worker", "--once"]), capsys.readouterr().err))
        for line in lines:
            assert f"already uses the SQLite database {database}" in line
            assert f"(process {os.getpid()})" in line
            assert "use PostgreSQL (database.url, ITOP_INTERCOM_DATABASE__URL)" in line
    finally:
        running.release()
    # Once the first one stopped, the database is free.
    assert main(["worker", "--once"]) == 0
