"""The database size and rows per table in /metrics, refreshed with a short cache."""

from __future__ import annotations

import httpx

from itop_intercom.runtime import Services
from tests.sync.test_retention import add_part


async def test_metrics_show_the_database_size_and_rows(
    client: httpx.AsyncClient, services: Services
) -> None:
    await add_part(services.engine, "a", 1, "planned", ("done", 1), ("pending", None))
    text = (await client.get("/metrics")).text
    assert 'itop_intercom_table_rows{table="conversation_parts"} 1.0' in text
    assert 'itop_intercom_table_rows{table="deliveries"} 2.0' in text
    size = next(
        line for line in text.splitlines() if line.startswith("itop_intercom_database_bytes ")
    )
    assert float(size.split()[1]) > 0
    # Cached: a second scrape right after does not count again.
    await add_part(services.engine, "b", 1, "ignored")
    assert 'table="conversation_parts"} 1.0' in (await client.get("/metrics")).text
