"""Alembic environment: the URL comes from the service's settings (see store.db.upgrade)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context

from itop_intercom.store.tables import metadata

config = context.config


def run_migrations() -> None:
    url = config.get_main_option("sqlalchemy.url")
    assert url is not None
    # A PostgreSQL server that does not answer fails the start in seconds, not minutes.
    connect_args = {"connect_timeout": 10} if url.startswith("postgresql") else {}
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool, connect_args=connect_args)
    with engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            # Several instances may start together: one migrates, the others wait.
            connection.execute(sa.text("SELECT pg_advisory_lock(727001)"))
        context.configure(
            connection=connection,
            target_metadata=metadata,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()
        if connection.dialect.name == "postgresql":
            connection.execute(sa.text("SELECT pg_advisory_unlock(727001)"))
            connection.commit()
    engine.dispose()


run_migrations()
