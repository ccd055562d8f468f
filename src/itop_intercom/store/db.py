"""Database engines and migrations, one code path for SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def sync_url(async_url: str) -> str:
    """Alembic runs synchronously: same database, blocking driver."""
    url = make_url(async_url)
    if url.drivername == "sqlite+aiosqlite":
        url = url.set(drivername="sqlite")
    return url.render_as_string(hide_password=False)


def ensure_sqlite_dir(url: str) -> None:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)


def _sqlite_pragmas(dbapi_connection, _record):  # type: ignore[no-untyped-def]
    # WAL lets the web requests read while the worker writes; foreign keys for cascades.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def create_engine(async_url: str) -> AsyncEngine:
    ensure_sqlite_dir(async_url)
    url = make_url(async_url)
    if url.get_backend_name() == "sqlite":
        engine = create_async_engine(async_url, connect_args={"timeout": 30})
        sa.event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    return create_async_engine(async_url, pool_size=10, max_overflow=10, pool_pre_ping=True)


def create_blocking_sqlite_engine(async_url: str) -> sa.Engine:
    """The same SQLite database through the blocking driver, for a whole transaction run in a
    thread (see `Database.write_in_thread`); connections may move between the threads of the
    default executor, one thread at a time."""
    engine = sa.create_engine(
        sync_url(async_url), connect_args={"timeout": 30, "check_same_thread": False}
    )
    sa.event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def alembic_config(async_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", sync_url(async_url).replace("%", "%%"))
    return config


def upgrade(async_url: str, revision: str = "head") -> None:
    """Bring the schema to `revision`; safe to run at every start and from several processes.

    A database that cannot be reached, opened or written raises `DatabaseUnavailable` with one
    line naming the database and the setting to fix.
    """
    from itop_intercom.store.problems import check_sqlite_directory, unavailable

    check_sqlite_directory(async_url)
    try:
        command.upgrade(alembic_config(async_url), revision)
    except (SQLAlchemyError, OSError) as exc:
        raise unavailable(exc, async_url) from None
