"""A thin async client for the few Intercom REST endpoints this service needs.

Why not an SDK: the official Python SDK neither sends `Intercom-Version` nor exposes the 429 reset
time, and retries writes on its own (which could post a reply twice). Here every request states its
API version explicitly, uses the workspace's regional host, and follows these rules:

- 429: sleep until `X-RateLimit-Reset` (plus jitter, so that workers do not wake together) and
  retry, a bounded number of times and never longer than `max_rate_limit_wait` in total; past
  that, `IntercomRateLimited` tells the caller when to come back. A 429 means Intercom refused
  the request, so writes are retried too.
- Reads (GET) are retried with backoff on 5xx, timeouts and connection failures.
- A reply (POST) is retried only when the connection could not be made. Once the request may
  have reached Intercom (timeout while waiting, 5xx), sending it again could post the message
  twice in front of the end user, so the failure goes to the caller with `maybe_applied=True`.
- The access token is sent only to the API host, lives only in request headers, and never
  appears in an exception, a repr or a log line.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Literal, TypeVar
from urllib.parse import urlsplit

import httpx

from itop_intercom.intercom.errors import (
    IntercomError,
    IntercomRateLimited,
    IntercomTooLarge,
    IntercomUnavailable,
)
from itop_intercom.intercom.regions import rest_base_url
from itop_intercom.intercom.responses import (
    content_length,
    decode,
    raise_for_status,
    segment,
    transport_errors,
)
from itop_intercom.settings.model import Region

#: Called after each HTTP exchange with (operation, outcome, seconds); outcome is "ok" or the
#: exception class name. Same contract as the iTop client's, for metrics and benchmarks.
CallObserver = Callable[[str, str, float], None]

#: How many times a read is retried after a transient failure.
READ_RETRIES = 2
#: How many 429 answers in a row one call sits out before giving up.
RATE_LIMIT_RETRIES = 3
#: Intercom accepts at most this many `attachment_urls` per reply.
MAX_ATTACHMENT_URLS = 10

_T = TypeVar("_T")


class IntercomClient:
    """Calls Intercom's REST API on behalf of one workspace (one access token)."""

    def __init__(
        self,
        access_token: str,
        *,
        region: Region = "us",
        api_base: str | None = None,
        api_version: str = "2.11",
        timeout: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
        max_rate_limit_wait: float = 30.0,
        retry_delay: float = 0.1,
        observer: CallObserver | None = None,
    ) -> None:
        if not access_token:
            raise ValueError("an Intercom access token is required")
        self._token = access_token
        self._base = (api_base or rest_base_url(region)).rstrip("/")
        base = urlsplit(self._base)
        # The token goes only to the API itself, over the API's own scheme (never to a CDN,
        # never downgraded to http).
        self._api_origin = (base.scheme.lower(), base.netloc.lower())
        self._api_version = api_version
        self._max_rate_limit_wait = max_rate_limit_wait
        self._retry_delay = retry_delay
        """Base of the backoff between retries: delay × 2^attempt, capped at 2 s, jittered."""
        self._observer = observer
        # Only non-secret headers are client-wide; the token is added per API request so that
        # attachment downloads from other hosts (the CDN) never receive it.
        self._http = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)),
            transport=transport,
            headers={"User-Agent": "itop-intercom"},
            limits=httpx.Limits(max_connections=20, max_keepalive_connections=10),
        )

    def __repr__(self) -> str:
        return f"IntercomClient(api_base={self._base!r}, api_version={self._api_version!r})"

    @property
    def api_base(self) -> str:
        return self._base

    @property
    def api_version(self) -> str:
        return self._api_version

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> IntercomClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    # -- the endpoints ------------------------------------------------------------------------

    async def me(self) -> dict[str, Any]:
        """`GET /me`: the token's admin and its workspace (`app.id_code`, `app.region`)."""
        return await self._api("me", "GET", "/me", idempotent=True)

    async def list_conversations(self, per_page: int = 1) -> dict[str, Any]:
        """`GET /conversations`: the newest conversations (needs "Read conversations")."""
        return await self._api(
            "list_conversations",
            "GET",
            "/conversations",
            params={"per_page": str(per_page)},
            idempotent=True,
        )

    async def get_conversation(
        self, conversation_id: str, *, plaintext: bool = False
    ) -> dict[str, Any]:
        """`GET /conversations/{id}` with its parts (Intercom returns at most the last 500)."""
        params = {"display_as": "plaintext"} if plaintext else None
        return await self._api(
            "get_conversation",
            "GET",
            f"/conversations/{segment(conversation_id)}",
            params=params,
            idempotent=True,
        )

    async def reply(
        self,
        conversation_id: str,
        *,
        admin_id: str,
        body: str,
        message_type: Literal["comment", "note"],
        attachment_urls: list[str] | None = None,
    ) -> dict[str, Any]:
        """`POST /conversations/{id}/reply` as an admin: a `comment` the end user sees, or an
        internal `note`. Returns the conversation. Not retried once it may have been received."""
        if message_type not in ("comment", "note"):
            raise ValueError(f"message_type must be comment or note, not {message_type!r}")
        if not body:
            raise ValueError("Intercom requires a body for comments and notes")
        if not admin_id:
            raise ValueError("admin_id is required")
        payload: dict[str, Any] = {
            "type": "admin",
            "admin_id": str(admin_id),
            "message_type": message_type,
            "body": body,
        }
        if attachment_urls:
            if len(attachment_urls) > MAX_ATTACHMENT_URLS:
                raise ValueError(f"Intercom accepts at most {MAX_ATTACHMENT_URLS} attachment URLs")
            payload["attachment_urls"] = list(attachment_urls)
        return await self._api(
            "reply",
            "POST",
            f"/conversations/{segment(conversation_id)}/reply",
            json_body=payload,
            idempotent=False,
        )

    async def list_admins(self) -> list[dict[str, Any]]:
        """`GET /admins`: the workspace's teammates (`admins`; some versions say `teammates`)."""
        body = await self._api("list_admins", "GET", "/admins", idempotent=True)
        admins = body.get("admins", body.get("teammates"))
        return [a for a in admins or [] if isinstance(a, dict)]

    async def set_state(
        self, conversation_id: str, *, admin_id: str, state: Literal["close", "open"]
    ) -> dict[str, Any]:
        """`POST /conversations/{id}/parts` with `message_type` close or open, as an admin.
        Closing a closed conversation (or opening an open one) changes nothing, so it is safe
        to send again after a failure."""
        if state not in ("close", "open"):
            raise ValueError(f"state must be close or open, not {state!r}")
        payload = {"type": "admin", "admin_id": str(admin_id), "message_type": state}
        return await self._api(
            "set_state",
            "POST",
            f"/conversations/{segment(conversation_id)}/parts",
            json_body=payload,
            idempotent=True,
        )

    async def get_contact(self, contact_id: str) -> dict[str, Any]:
        """`GET /contacts/{id}`: the full contact, with its custom attributes."""
        return await self._api(
            "get_contact", "GET", f"/contacts/{segment(contact_id)}", idempotent=True
        )

    async def download(self, url: str, max_bytes: int) -> bytes:
        """Fetch an attachment, refusing more than `max_bytes`.

        The body is streamed and abandoned as soon as it (or its announced Content-Length)
        exceeds the limit, so a huge file never sits in memory. The token is sent only if the
        URL is on the API host; attachment URLs normally point at Intercom's CDN and are
        self-authorising, and a URL in a payload must not be a way to collect our token.
        """
        if max_bytes < 0:
            raise ValueError("max_bytes must be >= 0")
        scheme = urlsplit(url).scheme.lower()
        if scheme not in ("http", "https"):
            raise ValueError(f"cannot download a {scheme or 'relative'} URL")

        async def once() -> bytes:
            return await self._download_once(url, max_bytes)

        return await self._with_retries("download", once, idempotent=True)

    # -- the machinery ------------------------------------------------------------------------

    def _api_headers(self) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {self._token}",
            "Accept": "application/json",
            "Intercom-Version": self._api_version,
        }

    async def _api(
        self,
        operation: str,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        json_body: Mapping[str, Any] | None = None,
        idempotent: bool,
    ) -> dict[str, Any]:
        url = self._base + path

        async def once() -> dict[str, Any]:
            return await self._api_once(operation, method, url, params, json_body)

        return await self._with_retries(operation, once, idempotent=idempotent)

    async def _with_retries(
        self, operation: str, once: Callable[[], Awaitable[_T]], *, idempotent: bool
    ) -> _T:
        attempt = 0
        rate_limit_hits = 0
        waited = 0.0
        while True:
            try:
                return await once()
            except IntercomRateLimited as exc:
                rate_limit_hits += 1
                wait = exc.retry_after + 0.05 + random.random() * 0.25
                if (
                    rate_limit_hits > RATE_LIMIT_RETRIES
                    or waited + wait > self._max_rate_limit_wait
                ):
                    raise
                await asyncio.sleep(wait)
                waited += wait
            except IntercomUnavailable as exc:
                may_retry = idempotent or not exc.maybe_applied
                if not may_retry or attempt >= READ_RETRIES:
                    raise
                attempt += 1
                await asyncio.sleep(
                    min(2.0, self._retry_delay * 2**attempt) * (0.5 + random.random())
                )

    async def _observed(self, operation: str, call: Awaitable[_T]) -> _T:
        started = time.perf_counter()
        outcome = "ok"
        try:
            return await call
        except BaseException as exc:
            outcome = type(exc).__name__
            if isinstance(exc, IntercomError):
                # The httpx exception behind it holds the request, whose headers hold the token:
                # do not let it travel with ours (error reporters walk `__context__`).
                exc.__context__ = None
            raise
        finally:
            if self._observer is not None:
                self._observer(operation, outcome, time.perf_counter() - started)

    async def _api_once(
        self,
        operation: str,
        method: str,
        url: str,
        params: Mapping[str, str] | None,
        json_body: Mapping[str, Any] | None,
    ) -> dict[str, Any]:
        async def call() -> dict[str, Any]:
            with transport_errors(operation, url):
                response = await self._http.request(
                    method,
                    url,
                    params=dict(params) if params else None,
                    json=dict(json_body) if json_body is not None else None,
                    headers=self._api_headers(),
                )
            raise_for_status(response, operation)
            return decode(response, operation)

        return await self._observed(operation, call())

    async def _download_once(self, url: str, max_bytes: int) -> bytes:
        operation = "download"
        headers = {"Accept": "*/*"}
        target = urlsplit(url)
        if (target.scheme.lower(), target.netloc.lower()) == self._api_origin:
            headers.update(self._api_headers())
            headers["Accept"] = "*/*"

        async def call() -> bytes:
            with transport_errors(operation, url):
                async with self._http.stream(
                    "GET", url, headers=headers, follow_redirects=True
                ) as response:
                    if response.status_code >= 400:
                        await response.aread()
                        raise_for_status(response, operation)
                    announced = content_length(response)
                    if announced is not None and announced > max_bytes:
                        raise IntercomTooLarge(
                            f"attachment is {announced} bytes, over the {max_bytes}-byte limit",
                            limit=max_bytes,
                            size=announced,
                            operation=operation,
                        )
                    chunks: list[bytes] = []
                    total = 0
                    async for chunk in response.aiter_bytes():
                        total += len(chunk)
                        if total > max_bytes:
                            raise IntercomTooLarge(
                                f"attachment exceeds the {max_bytes}-byte limit",
                                limit=max_bytes,
                                operation=operation,
                            )
                        chunks.append(chunk)
                    return b"".join(chunks)

        return await self._observed(operation, call())
