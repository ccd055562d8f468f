"""The iTop client and iTop's PHP session cookie: never stored, never sent back.

A real iTop sets a session cookie on every answer and refuses ("Invalid login") a call whose
session is in use by a concurrent call; the fake reproduces that race (first test), so the other
tests would fail with a client that kept cookies.
"""

from __future__ import annotations

import asyncio
import json

import httpx

from itop_intercom.itop.client import ItopClient
from tests.fakes.itop import ADMIN_TOKEN, FakeItop

REST_URL = "http://itop.test/webservices/rest.php"
GET_PERSON = {"operation": "core/get", "class": "Person", "key": 15, "output_fields": "id"}


class _Recording(httpx.AsyncBaseTransport):
    """Records the Cookie header of every request before passing it on."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.cookie_headers: list[str | None] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.cookie_headers.append(request.headers.get("cookie"))
        return await self.inner.handle_async_request(request)


async def test_fake_refuses_concurrent_calls_sharing_a_session_cookie() -> None:
    fake = FakeItop(latency=0.01)
    form = {"version": "1.4", "auth_token": ADMIN_TOKEN, "json_data": json.dumps(GET_PERSON)}
    # A plain httpx client keeps the cookie of the first answer and sends it with the others.
    async with httpx.AsyncClient(transport=fake.transport()) as http:
        first = await http.post(REST_URL, data=form)
        assert first.json()["code"] == 0 and http.cookies
        answers = await asyncio.gather(*(http.post(REST_URL, data=form) for _ in range(6)))
    bodies = [answer.json() for answer in answers]
    assert {"code": 1, "message": "Error: Invalid login"} in bodies
    assert fake.sessions.refused == sum(1 for body in bodies if body["code"] == 1) >= 1


async def test_client_never_sends_back_the_session_cookie() -> None:
    fake = FakeItop()
    recording = _Recording(fake.transport())
    async with ItopClient(REST_URL, ADMIN_TOKEN, version="1.4", transport=recording) as itop:
        for _ in range(3):
            await itop.get("Person", 15)
    assert recording.cookie_headers == [None, None, None]


async def test_concurrent_reads_and_writes_are_never_refused() -> None:
    fake = FakeItop(latency=0.01)
    ticket = fake.add_ticket(title="Printer")
    async with ItopClient(REST_URL, ADMIN_TOKEN, version="1.4", transport=fake.transport()) as c:
        await c.get("Person", 15)  # an answer that sets a cookie before the burst

        async def write(n: int) -> None:
            await c.update("UserRequest", ticket, {"public_log": f"entry {n}"}, comment="test")

        outcomes = await asyncio.gather(
            *(c.get("Person", 15) for _ in range(12)),
            *(write(n) for n in range(6)),
            return_exceptions=True,
        )
    assert not [o for o in outcomes if isinstance(o, Exception)]
    assert fake.sessions.refused == 0
    assert len(fake.log_entries(ticket)) == 6
