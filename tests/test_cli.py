"""The `itop-intercom` command as an administrator runs it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from itop_intercom.cli import main

ROOT = Path(__file__).resolve().parents[1]


def write_config(tmp_path: Path, extra: str = "") -> Path:
    path = tmp_path / "itop-intercom.toml"
    path.write_text(
        'public_url = "https://support-bridge.example.org/base/"\n'
        '[itop]\nurl = "http://127.0.0.1:9/"\n'
        '[workspaces.abc123]\nscope = "SELECT Person"\n' + extra,
        encoding="utf-8",
    )
    return path


def test_urls_prints_the_three_developer_hub_urls(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["urls", "--config", str(write_config(tmp_path))]) == 0
    out = capsys.readouterr().out
    assert "https://support-bridge.example.org/base/intercom/canvas/initialize" in out
    assert "https://support-bridge.example.org/base/intercom/canvas/submit" in out
    assert "https://support-bridge.example.org/base/intercom/webhooks" in out
    assert "Warning" not in out


def test_urls_warns_when_public_url_is_not_https(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "s.toml"
    path.write_text('public_url = "http://localhost:8080"\n')
    assert main(["urls", "--config", str(path)]) == 0
    assert "not https" in capsys.readouterr().out


def test_urls_without_public_url_explains(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "s.toml"
    path.write_text("")
    assert main(["urls", "--config", str(path)]) == 1
    assert "public_url is not set" in capsys.readouterr().err


def test_invalid_settings_stop_with_the_key_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "s.toml"
    path.write_text('[itop]\nrest_version = "9"\n')
    assert main(["serve", "--config", str(path)]) == 1
    assert "itop.rest_version" in capsys.readouterr().err


def test_db_upgrade_creates_the_sqlite_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path)
    assert main(["db", "upgrade", "--config", str(config)]) == 0
    assert (tmp_path / "data" / "itop-intercom.sqlite3").exists()
    assert "up to date" in capsys.readouterr().out


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_serve_starts_migrates_and_answers_health(tmp_path: Path) -> None:
    port = free_port()
    config = write_config(tmp_path, f"[server]\nport = {port}\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ITOP_INTERCOM_")}
    env["ITOP_INTERCOM_ITOP__TOKEN"] = "token-that-must-not-be-logged"
    process = subprocess.Popen(
        [sys.executable, "-m", "itop_intercom.cli", "serve", "--config", str(config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        cwd=tmp_path,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise
                time.sleep(0.2)
        assert response.json() == {"status": "alive"}
        ready = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=5)
        assert ready.status_code == 503  # no client secret for the workspace
        assert "workspace abc123: no client secret" in ready.json()["problems"]
        assert (tmp_path / "data" / "itop-intercom.sqlite3").exists()
    finally:
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=20)
    # uvicorn shuts down gracefully, then re-raises SIGTERM so the exit status tells why.
    assert process.returncode in (0, -signal.SIGTERM)
    assert b"Traceback" not in err
    assert b"token-that-must-not-be-logged" not in err
    assert b'"event": "starting"' in err
