"""An iTop client on the fake, shared by the tests of the iTop operations."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from itop_intercom.itop.client import ItopClient
from tests.fakes.itop import FakeItop
from tests.service import client_on


@pytest.fixture
def fake() -> FakeItop:
    return FakeItop(instance="intercom")


@pytest.fixture
async def itop(fake: FakeItop) -> AsyncIterator[ItopClient]:
    async with client_on(fake) as c:
        yield c
