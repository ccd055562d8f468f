"""How big the database is: its size on disk and the rows of each table.

Shown by `db purge` and exported in `/metrics`. For the metrics, `UsageGauges` refreshes the
figures at most once per `max_age` seconds, at scrape time: a Prometheus server scraping every
few seconds costs one count per table per `max_age`, not per scrape.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import sqlalchemy as sa
from prometheus_client import Gauge
from sqlalchemy.ext.asyncio import AsyncEngine

from itop_intercom.store.tables import metadata


@dataclass(frozen=True)
class Usage:
    size_bytes: int
    rows: dict[str, int]


async def database_usage(engine: AsyncEngine) -> Usage:
    async with engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            pages = (await conn.execute(sa.text("PRAGMA page_count"))).scalar_one()
            page_size = (await conn.execute(sa.text("PRAGMA page_size"))).scalar_one()
            size = int(pages) * int(page_size)
        else:
            query = sa.text("SELECT pg_database_size(current_database())")
            size = int((await conn.execute(query)).scalar_one())
        rows = {}
        for table in metadata.sorted_tables:
            count = sa.select(sa.func.count()).select_from(table)
            rows[table.name] = int((await conn.execute(count)).scalar_one())
    return Usage(size_bytes=size, rows=rows)


def human_size(size: int) -> str:
    value = float(size)
    for unit in ("bytes", "kB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} GB"  # pragma: no cover - the loop returns


class UsageGauges:
    """The database gauges of `/metrics`, refreshed at most every `max_age` seconds."""

    def __init__(
        self, engine: AsyncEngine, size: Gauge, rows: Gauge, *, max_age: float = 30.0
    ) -> None:
        self.engine = engine
        self.size = size
        self.rows = rows
        self.max_age = max_age
        self._refreshed_at: float | None = None
        self._lock = asyncio.Lock()

    async def refresh(self) -> None:
        """Update the gauges when they are older than `max_age`; a failure leaves them as
        they were (the scrape still answers)."""
        async with self._lock:
            at = time.monotonic()
            if self._refreshed_at is not None and at - self._refreshed_at < self.max_age:
                return
            self._refreshed_at = at
            try:
                usage = await database_usage(self.engine)
            except sa.exc.SQLAlchemyError:
                return
            self.size.set(usage.size_bytes)
            for name, count in usage.rows.items():
                self.rows.labels(name).set(count)
