"""An iTop client on the fake, shared by the tests of the iTop operations."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from itop_intercom.itop.client import ItopClient
from tests.fakes.itop import ADMIN_TOKEN, FakeItop

REST_URL = "http://itop.test/webservices/rest.php"


@pytest.fixture
def fake() -> FakeItop:
    return FakeItop(instance="intercom")


def client_on(fake: FakeItop, token: str = ADMIN_TOKEN) -> ItopClient:
    """A client of the fake's intercom instance (API 1.4) with `token`."""
    return ItopClient(REST_URL, token, version="1.4", transport=fake.transport())


@pytest.fixture
async def itop(fake: FakeItop) -> AsyncIterator[ItopClient]:
    async with client_on(fake) as c:
        yield c
