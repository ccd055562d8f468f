"""A throw-away PostgreSQL database, for the test suite, the migration tests and the benchmarks."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator

import sqlalchemy as sa

from itop_intercom.settings.model import to_async_url
from itop_intercom.store import db as store_db


@contextlib.contextmanager
def temporary_postgres_database(
    admin_url: str, prefix: str, *, durable: bool = True
) -> Iterator[str]:
    """Create an empty database next to `admin_url` (a `postgresql://…/postgres` URL), yield its
    async SQLAlchemy URL (not migrated), and drop it afterwards, even with open connections.

    `durable=False` (the test suite): commits do not wait for the disk (`synchronous_commit =
    off`); a crash of the server could lose the last commits of a database thrown away anyway.
    Benchmarks keep the default, to measure what production does."""
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(
        store_db.sync_url(to_async_url(admin_url)), isolation_level="AUTOCOMMIT"
    )
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
            if not durable:
                conn.execute(sa.text(f'ALTER DATABASE "{name}" SET synchronous_commit = off'))
        try:
            yield to_async_url(admin_url.rsplit("/", 1)[0] + f"/{name}")
        finally:
            with admin.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()
