"""`itop-intercom db purge [--dry-run]` as an operator runs it."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest

from itop_intercom.cli import main
from itop_intercom.runtime import Services
from tests.sync.test_retention import DAY, NOW, add_part


def _config(tmp_path: Path, database_url: str, extra: str = "") -> str:
    path = tmp_path / "itop-intercom.toml"
    path.write_text(f'[database]\nurl = "{database_url}"\n' + extra, encoding="utf-8")
    return str(path)


async def test_db_purge_command(
    services: Services, tmp_path: Path, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # Retention of one day: rows written "40 days ago" relative to now are past it.
    await add_part(services.engine, "a", (NOW - datetime.now(UTC).timestamp()) / DAY + 2, "ignored")
    config = _config(tmp_path, database_url, "[retention]\ndone_days = 1\n")

    assert await asyncio.to_thread(main, ["db", "purge", "--dry-run", "-c", config]) == 0
    out = capsys.readouterr().out
    assert "past retention (done: 1 days, dead: 90 days), dry run: nothing deleted" in out
    assert "  stored parts              1" in out
    assert "would delete 1 row(s)" in out
    assert "conversation_parts 1" in out

    assert await asyncio.to_thread(main, ["db", "purge", "-c", config]) == 0
    out = capsys.readouterr().out
    assert "deleted 1 row(s) in" in out
    assert "conversation_parts 0" in out
