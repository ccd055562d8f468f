"""The Intercom REST client against the fake Intercom."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import httpx
import pytest

from itop_intercom.intercom.client import READ_RETRIES, IntercomClient
from itop_intercom.intercom.errors import (
    IntercomAuthError,
    IntercomError,
    IntercomForbidden,
    IntercomNotFound,
    IntercomRateLimited,
    IntercomTooLarge,
    IntercomUnavailable,
)
from itop_intercom.intercom.regions import REST_BASE_URLS
from itop_intercom.settings.model import Region
from tests.fakes.intercom import DEFAULT_TOKEN, FakeIntercom
from tests.fakes.signing import (
    DEFAULT_ADMIN_EMAIL,
    DEFAULT_ADMIN_ID,
    DEFAULT_ADMIN_NAME,
    DEFAULT_CONTACT_ID,
    load_example,
)

CONVERSATION_ID = "1042"


@pytest.fixture
def fake() -> FakeIntercom:
    fake = FakeIntercom(workspace_id="ws_eu_1", region="eu")
    fake.add_conversation(load_example("rest_api/conversation.json"))
    fake.add_contact(load_example("rest_api/contact.json"))
    return fake


@pytest.fixture
async def client(fake: FakeIntercom) -> AsyncIterator[IntercomClient]:
    async with IntercomClient(DEFAULT_TOKEN, transport=fake.transport()) as client:
        yield client


def _api_calls(fake: FakeIntercom, method: str | None = None) -> int:
    return sum(
        1
        for c in fake.calls
        if not c.path.startswith("/_attachments") and (method is None or c.method == method)
    )


class _Flaky(httpx.AsyncBaseTransport):
    """Fails the first `failures` requests (connection refused, or a given status)."""

    def __init__(self, inner: httpx.AsyncBaseTransport, failures: int, status: int | None = None):
        self.inner = inner
        self.failures = failures
        self.status = status
        self.seen = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.seen += 1
        if self.seen <= self.failures:
            if self.status is None:
                raise httpx.ConnectError("refused", request=request)
            return httpx.Response(self.status, json={"type": "error.list", "errors": []})
        return await self.inner.handle_async_request(request)


# -- headers, regions, base URLs -------------------------------------------------------------------


async def test_headers(fake: FakeIntercom, client: IntercomClient) -> None:
    me = await client.me()
    assert me["app"]["id_code"] == "ws_eu_1"
    assert me["app"]["region"] == "EU"
    headers = fake.calls[-1].headers
    assert headers["authorization"] == f"Bearer {DEFAULT_TOKEN}"
    assert headers["accept"] == "application/json"
    assert headers["intercom-version"] == "2.11"


async def test_explicit_api_version(fake: FakeIntercom) -> None:
    async with IntercomClient(DEFAULT_TOKEN, api_version="2.14", transport=fake.transport()) as c:
        await c.get_contact(DEFAULT_CONTACT_ID)
    assert fake.calls[-1].headers["intercom-version"] == "2.14"


@pytest.mark.parametrize(
    ("region", "base"),
    [
        ("us", "https://api.intercom.io"),
        ("eu", "https://api.eu.intercom.io"),
        ("au", "https://api.au.intercom.io"),
    ],
)
async def test_regions(fake: FakeIntercom, region: Region, base: str) -> None:
    assert REST_BASE_URLS[region] == base
    async with IntercomClient(DEFAULT_TOKEN, region=region, transport=fake.transport()) as c:
        assert c.api_base == base
        await c.get_conversation(CONVERSATION_ID)
    assert fake.calls[-1].url == f"{base}/conversations/{CONVERSATION_ID}"


async def test_api_base_override() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(200, json={"type": "admin", "id": "1"})

    transport = httpx.MockTransport(handler)
    async with IntercomClient(
        "t", region="au", api_base="https://proxy.example/intercom/", transport=transport
    ) as c:
        assert await c.me() == {"type": "admin", "id": "1"}
        await c.get_conversation("a/b?c")
    assert seen == [
        "https://proxy.example/intercom/me",
        "https://proxy.example/intercom/conversations/a%2Fb%3Fc",
    ]


# -- errors ----------------------------------------------------------------------------------------


async def test_401_auth_error_without_token(fake: FakeIntercom) -> None:
    secret_token = "dG9rOsecret-token-value-123"
    async with IntercomClient(secret_token, transport=fake.transport()) as c:
        with pytest.raises(IntercomAuthError) as info:
            await c.me()
        assert secret_token not in repr(c)
    error = info.value
    assert error.status_code == 401
    assert error.code == "unauthorized"
    assert "Access Token Invalid" in str(error)
    assert error.request_id == "0b6f4a8e-1c2d-4e5f-8a9b-000000000401"
    assert not error.transient
    for text in (str(error), repr(error), str(error.args), str(vars(error))):
        assert secret_token not in text
    assert error.__cause__ is None
    assert fake.calls[-1].headers["authorization"] == f"Bearer {secret_token}"


async def test_404_not_found(fake: FakeIntercom, client: IntercomClient) -> None:
    with pytest.raises(IntercomNotFound) as info:
        await client.get_conversation("999")
    assert info.value.code == "not_found"
    assert "Resource Not Found" in str(info.value)
    with pytest.raises(IntercomNotFound):
        await client.get_contact("nobody")
    with pytest.raises(IntercomNotFound):
        await client.reply("999", admin_id="1", body="x", message_type="note")


async def test_403_forbidden(fake: FakeIntercom, client: IntercomClient) -> None:
    fake.fail_status = 403
    with pytest.raises(IntercomForbidden) as info:
        await client.reply(CONVERSATION_ID, admin_id="1", body="x", message_type="comment")
    assert not info.value.transient
    assert len(fake.replies) == 0


async def test_other_4xx_is_a_plain_error(fake: FakeIntercom) -> None:
    transport = _Flaky(fake.transport(), failures=1, status=422)
    async with IntercomClient(DEFAULT_TOKEN, transport=transport) as c:
        with pytest.raises(IntercomError) as info:
            await c.me()
    assert type(info.value) is IntercomError
    assert info.value.status_code == 422
    assert transport.seen == 1


# -- rate limits -----------------------------------------------------------------------------------


async def test_429_waits_until_reset_then_succeeds(
    fake: FakeIntercom, client: IntercomClient
) -> None:
    fake.rate_limit_next = 1
    fake.rate_limit_reset_in = 1.0
    started = time.monotonic()
    me = await client.me()
    elapsed = time.monotonic() - started
    assert me["type"] == "admin"
    assert _api_calls(fake) == 2
    assert 0.95 <= elapsed < 3.0


async def test_429_over_the_wait_cap_raises(fake: FakeIntercom) -> None:
    fake.rate_limit_next = 1
    fake.rate_limit_reset_in = 5.0
    async with IntercomClient(
        DEFAULT_TOKEN, max_rate_limit_wait=1.0, transport=fake.transport()
    ) as c:
        started = time.monotonic()
        with pytest.raises(IntercomRateLimited) as info:
            await c.get_conversation(CONVERSATION_ID)
        assert time.monotonic() - started < 0.5
    assert info.value.transient
    assert 4.0 <= info.value.retry_after <= 6.0
    assert _api_calls(fake) == 1


async def test_429_retries_are_bounded(fake: FakeIntercom, client: IntercomClient) -> None:
    fake.rate_limit_next = 100
    fake.rate_limit_reset_in = -5.0  # already reset: only the jitter is waited
    with pytest.raises(IntercomRateLimited):
        await client.me()
    assert 2 <= _api_calls(fake) <= 6


async def test_429_on_reply_is_retried(fake: FakeIntercom, client: IntercomClient) -> None:
    fake.rate_limit_next = 1
    fake.rate_limit_reset_in = -5.0
    await client.reply(
        CONVERSATION_ID, admin_id=DEFAULT_ADMIN_ID, body="hello", message_type="comment"
    )
    assert len(fake.replies) == 1
    assert _api_calls(fake, "POST") == 2


# -- reads, writes and retries ---------------------------------------------------------------------


async def test_get_conversation_and_plaintext(fake: FakeIntercom, client: IntercomClient) -> None:
    conversation = await client.get_conversation(CONVERSATION_ID)
    assert (
        conversation["conversation_parts"]["conversation_parts"][0]["body"]
        == "<p>Sorry to hear that! Is the power light on?</p>"
    )
    assert fake.calls[-1].query == {}
    plain = await client.get_conversation(CONVERSATION_ID, plaintext=True)
    assert fake.calls[-1].query == {"display_as": "plaintext"}
    assert (
        plain["conversation_parts"]["conversation_parts"][0]["body"]
        == "Sorry to hear that! Is the power light on?"
    )


async def test_get_contact(client: IntercomClient) -> None:
    contact = await client.get_contact(DEFAULT_CONTACT_ID)
    assert contact["email"] == "claire.dubois@example.org"


async def test_reply_recorded(fake: FakeIntercom, client: IntercomClient) -> None:
    url = "https://example.com/a.pdf"
    conversation = await client.reply(
        CONVERSATION_ID,
        admin_id=DEFAULT_ADMIN_ID,
        body="<p>Ticket R-000123 created</p>",
        message_type="note",
        attachment_urls=[url],
    )
    assert fake.replies == [
        {
            "conversation_id": CONVERSATION_ID,
            "type": "admin",
            "admin_id": DEFAULT_ADMIN_ID,
            "message_type": "note",
            "body": "<p>Ticket R-000123 created</p>",
            "attachment_urls": [url],
        }
    ]
    call = fake.calls[-1]
    assert call.method == "POST"
    assert call.path == f"/conversations/{CONVERSATION_ID}/reply"
    assert call.headers["content-type"] == "application/json"
    assert call.headers["intercom-version"] == "2.11"
    last = conversation["conversation_parts"]["conversation_parts"][-1]
    assert last["part_type"] == "note"
    assert last["author"] == {
        "id": DEFAULT_ADMIN_ID,
        "type": "admin",
        "name": DEFAULT_ADMIN_NAME,
        "email": DEFAULT_ADMIN_EMAIL,
    }
    assert last["app_package_code"] == "itop-intercom"
    assert last["attachments"][0]["url"] == url
    assert fake.conversation(CONVERSATION_ID)["conversation_parts"]["total_count"] == 5


async def test_reply_refuses_bad_arguments(fake: FakeIntercom, client: IntercomClient) -> None:
    with pytest.raises(ValueError):
        await client.reply(CONVERSATION_ID, admin_id="1", body="", message_type="comment")
    with pytest.raises(ValueError):
        await client.reply(
            CONVERSATION_ID,
            admin_id="1",
            body="x",
            message_type="quick_reply",  # type: ignore[arg-type]
        )
    with pytest.raises(ValueError):
        await client.reply(
            CONVERSATION_ID,
            admin_id="1",
            body="x",
            message_type="note",
            attachment_urls=[f"https://example.com/{i}" for i in range(11)],
        )
    assert fake.calls == []


async def test_fake_validates_reply_bodies(fake: FakeIntercom) -> None:
    auth = {"Authorization": f"Bearer {DEFAULT_TOKEN}"}
    async with httpx.AsyncClient(transport=fake.transport(), base_url="https://x") as http:
        url = f"/conversations/{CONVERSATION_ID}/reply"
        bad = [
            {"type": "admin", "message_type": "note", "body": "x"},
            {"type": "admin", "admin_id": "1", "message_type": "shout", "body": "x"},
            {"type": "admin", "admin_id": "1", "message_type": "comment"},
            {"type": "bot", "admin_id": "1", "message_type": "comment", "body": "x"},
            {"type": "admin", "admin_id": "1", "message_type": "quick_reply"},
        ]
        for body in bad:
            response = await http.post(url, json=body, headers=auth)
            assert response.status_code == 400, body
            assert response.json()["type"] == "error.list"
        ok = load_example("rest_api/reply_admin_note.request.json")  # admin_id as an int
        response = await http.post(url, json=ok, headers=auth)
        assert response.status_code == 200
        ok = load_example("rest_api/reply_user_comment.request.json")
        assert (await http.post(url, json=ok, headers=auth)).status_code == 200
    assert len(fake.replies) == 2


async def test_post_not_retried_after_timeout(fake: FakeIntercom) -> None:
    fake.latency = 0.5
    async with IntercomClient(DEFAULT_TOKEN, timeout=0.2, transport=fake.transport()) as c:
        with pytest.raises(IntercomUnavailable) as info:
            await c.reply(CONVERSATION_ID, admin_id="1", body="once", message_type="comment")
    assert info.value.maybe_applied
    assert info.value.transient
    assert _api_calls(fake, "POST") == 1
    assert len(fake.replies) == 1  # it did reach Intercom: sending it again would duplicate it


async def test_post_not_retried_after_5xx(fake: FakeIntercom, client: IntercomClient) -> None:
    fake.fail_status = 502
    with pytest.raises(IntercomUnavailable) as info:
        await client.reply(CONVERSATION_ID, admin_id="1", body="x", message_type="comment")
    assert info.value.status_code == 502
    assert _api_calls(fake, "POST") == 1


async def test_post_retried_on_connect_error(fake: FakeIntercom) -> None:
    transport = _Flaky(fake.transport(), failures=1)
    async with IntercomClient(DEFAULT_TOKEN, transport=transport) as c:
        await c.reply(CONVERSATION_ID, admin_id="1", body="x", message_type="comment")
    assert transport.seen == 2
    assert len(fake.replies) == 1


async def test_get_retried_on_5xx(fake: FakeIntercom) -> None:
    transport = _Flaky(fake.transport(), failures=2, status=503)
    # The retries are the subject, not the backoff's length (settings: retry_delay_seconds).
    async with IntercomClient(DEFAULT_TOKEN, transport=transport, retry_delay=0.001) as c:
        conversation = await c.get_conversation(CONVERSATION_ID)
    assert conversation["id"] == CONVERSATION_ID
    assert transport.seen == 3


async def test_get_retried_on_timeout_then_gives_up(fake: FakeIntercom) -> None:
    fake.latency = 0.5
    async with IntercomClient(
        DEFAULT_TOKEN, timeout=0.1, transport=fake.transport(), retry_delay=0.001
    ) as c:
        with pytest.raises(IntercomUnavailable):
            await c.get_conversation(CONVERSATION_ID)
    assert _api_calls(fake) == 1 + READ_RETRIES


async def test_down(fake: FakeIntercom, client: IntercomClient) -> None:
    fake.down = True
    with pytest.raises(IntercomUnavailable) as info:
        await client.me()
    assert not info.value.maybe_applied
    assert DEFAULT_TOKEN not in str(info.value)
    assert info.value.__context__ is None and info.value.__cause__ is None


async def test_observer(fake: FakeIntercom) -> None:
    seen: list[tuple[str, str]] = []

    def observe(operation: str, outcome: str, seconds: float) -> None:
        assert seconds >= 0
        seen.append((operation, outcome))

    async with IntercomClient(DEFAULT_TOKEN, transport=fake.transport(), observer=observe) as c:
        await c.me()
        with pytest.raises(IntercomNotFound):
            await c.get_conversation("nope")
    assert seen == [("me", "ok"), ("get_conversation", "IntercomNotFound")]


# -- downloads -------------------------------------------------------------------------------------


@pytest.mark.parametrize("send_length", [True, False])
async def test_download(fake: FakeIntercom, client: IntercomClient, send_length: bool) -> None:
    content = bytes(range(256)) * 40  # 10 240 bytes
    url = fake.add_attachment("scan é.pdf", content, send_length=send_length)
    assert await client.download(url, max_bytes=len(content)) == content
    call = fake.calls[-1]
    assert call.path.startswith("/_attachments/")
    assert "authorization" not in call.headers  # the token only goes to the API host
    with pytest.raises(IntercomTooLarge) as info:
        await client.download(url, max_bytes=len(content) - 1)
    assert info.value.limit == len(content) - 1
    assert info.value.size == (len(content) if send_length else None)
    assert not info.value.transient


async def test_download_errors(fake: FakeIntercom, client: IntercomClient) -> None:
    with pytest.raises(IntercomNotFound):
        await client.download(f"{fake.attachment_base}/_attachments/zz/none.pdf", max_bytes=10)
    with pytest.raises(ValueError):
        await client.download("file:///etc/passwd", max_bytes=10)
    with pytest.raises(ValueError):
        await client.download("/relative", max_bytes=10)


# -- a real socket, for benchmarks -----------------------------------------------------------------


async def test_serve_in_thread() -> None:
    fake = FakeIntercom(valid_token="tok")
    base_url, stop = fake.serve_in_thread()
    try:
        url = fake.add_attachment("a.txt", b"hello")
        assert url.startswith(base_url)
        async with IntercomClient("tok", api_base=base_url) as c:
            me = await c.me()
            assert me["app"]["id_code"] == fake.workspace_id
            assert await c.download(url, max_bytes=5) == b"hello"
    finally:
        stop()
    assert fake.calls[0].path == "/me"


async def test_the_token_never_goes_to_the_api_host_over_plain_http() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content=b"data")

    client = IntercomClient(
        "tok-secret-123456",
        api_base="https://api.example.test",
        transport=httpx.MockTransport(answer),
    )
    try:
        await client.download("https://api.example.test/files/1", max_bytes=100)
        await client.download("http://api.example.test/files/1", max_bytes=100)
    finally:
        await client.aclose()
    assert seen[0].headers.get("Authorization") == "Bearer tok-secret-123456"
    assert "Authorization" not in seen[1].headers


async def test_a_retry_after_header_is_honoured_over_the_reset_time() -> None:
    import httpx as _httpx

    from itop_intercom.intercom.responses import reset_wait

    response = _httpx.Response(429, headers={"Retry-After": "7", "X-RateLimit-Reset": "1"})
    assert reset_wait(response) == 7.0
    assert reset_wait(_httpx.Response(429, headers={"Retry-After": "soon"})) == 2.0
