"""Migration 0002 (the sync queue) goes up and down on both databases, matching the tables."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from itop_intercom.store import db as store_db
from itop_intercom.store.tables import metadata
from tests.conftest import POSTGRES_ADMIN_URL
from tests.pgtemp import temporary_postgres_database


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'm.sqlite3'}"
        return
    with temporary_postgres_database(POSTGRES_ADMIN_URL, "itop_intercom_mig") as url:
        yield url


def test_upgrade_downgrade_upgrade_matches_the_tables(empty_database: str) -> None:
    store_db.upgrade(empty_database, "0001")
    engine = sa.create_engine(store_db.sync_url(empty_database))
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO conversation_parts (workspace_id, conversation_id, part_id, topic, "
                "part_type, attachments, part_created_at, received_at, state, attempts) VALUES "
                "('ws', 'c', 'p', 't', 'comment', '[]', 1, '2026-01-01 00:00:00', 'pending', 0)"
            )
        )
    store_db.upgrade(empty_database)
    command.downgrade(store_db.alembic_config(empty_database), "0001")
    store_db.upgrade(empty_database)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
        plan = conn.execute(sa.text("SELECT plan FROM conversation_parts")).scalar_one()
    engine.dispose()
    assert diff == []
    assert plan == "new"  # a part stored before the upgrade is decided by the planner
