"""One instance per SQLite database file: the second `serve` or `worker` refuses to start."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from itop_intercom.store.instance_lock import InstanceLock, SecondInstance, hold_instance_lock
from tests.test_cli import free_port
from tests.test_cli_startup import one_error_line


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


def test_a_second_instance_on_the_same_sqlite_file_refuses(tmp_path: Path) -> None:
    port = free_port()
    config = tmp_path / "itop-intercom.toml"
    config.write_text(f"[server]\nport = {port}\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ITOP_INTERCOM_")}
    command = [sys.executable, "-m", "itop_intercom.cli"]
    first = subprocess.Popen(
        [*command, "serve"], cwd=tmp_path, env=env, stderr=subprocess.PIPE, stdout=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline and first.poll() is None
                time.sleep(0.1)
        for argv in (["worker", "--once"], ["serve", "--port", str(free_port())]):
            second = subprocess.run(
                [*command, *argv], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
            )
            line = one_error_line(second)
            assert f"already uses the SQLite database {tmp_path / 'data'}" in line
            assert f"(process {first.pid})" in line
            assert "use PostgreSQL (database.url, ITOP_INTERCOM_DATABASE__URL)" in line
    finally:
        first.send_signal(signal.SIGTERM)
        first.communicate(timeout=20)
    # Once the first one stopped, the database is free.
    again = subprocess.run(
        [*command, "worker", "--once"], cwd=tmp_path, env=env, capture_output=True, timeout=60
    )
    assert again.returncode == 0, again.stderr
