"""Choices read from iTop: sorted, cached, shared between concurrent look-ups."""

from __future__ import annotations

import asyncio

import pytest

from itop_intercom.itop.catalog import Catalog
from itop_intercom.itop.client import ItopClient
from itop_intercom.itop.errors import ItopApiError
from tests.fakes.itop import ADMIN_TOKEN, FakeItop

REST_URL = "http://itop.test/webservices/rest.php"


async def test_choices_are_sorted_cached_and_shared() -> None:
    fake = FakeItop()
    fake.latency = 0.05
    async with ItopClient(REST_URL, ADMIN_TOKEN, transport=fake.transport()) as client:
        catalog = Catalog(client, ttl=60)
        query = "SELECT Organization"
        first, second = await asyncio.gather(catalog.choices(query), catalog.choices(query))
        assert first == second
        assert [label for _, label in first.options] == sorted(
            (label for _, label in first.options), key=str.casefold
        )
        assert ("3", "Demo") in first.options
        await catalog.choices(query)
        assert len(fake.calls) == 1
        catalog.clear()
        await catalog.choices(query, "name")
        assert len(fake.calls) == 2


async def test_failures_are_not_cached() -> None:
    fake = FakeItop()
    async with ItopClient(REST_URL, ADMIN_TOKEN, transport=fake.transport()) as client:
        catalog = Catalog(client)
        fake.fail_next.append({"code": 100, "message": "Error: boom"})
        with pytest.raises(ItopApiError, match="boom"):
            await catalog.choices("SELECT Organization")
        assert (await catalog.choices("SELECT Organization")).total == 3
