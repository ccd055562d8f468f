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


@pytest.fixture
async def itop(fake: FakeItop) -> AsyncIterator[ItopClient]:
    async with ItopClient(REST_URL, ADMIN_TOKEN, version="1.4", transport=fake.transport()) as c:
        yield c
