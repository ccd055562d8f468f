"""A thin async client for iTop's `webservices/rest.php`.

It speaks the protocol exactly as iTop expects it: a form-encoded
POST with `json_data` as a JSON string, `version` and `auth_token` in the form, and a `comment` on
every write. iTop's habit of answering HTTP 200 with an error code, or plain text, is turned into
the typed exceptions of `errors`. Only reads, and failures that happened before the request left,
are retried: a write that timed out may have been applied, so retrying it could duplicate it.

The client keeps no cookies. Every rest.php answer sets a PHP session cookie; sent back with
calls that run at the same time, a shared session makes iTop answer code 1 "Invalid login" to a
valid token (measured on iTop 3.2: 32 of 1,200 concurrent calls with one shared cookie, none
without). The token authenticates each call on its own, so the session is never needed. Nothing
else is shared between concurrent calls but the connection pool: each call builds its own form,
the headers are constant, and retries keep their state on the stack.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import time
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.cookiejar import Cookie, CookieJar
from typing import Any

import httpx

from itop_intercom.itop.errors import (
    CODE_OK,
    ItopError,
    ItopHttpError,
    ItopNotRestEndpoint,
    ItopTimeout,
    ItopUnreachable,
    api_error,
    may_have_been_applied,
)

#: What every write says in iTop's history (`userinfo`), so that entries are traceable.
DEFAULT_COMMENT = "itop-intercom"

#: Called after each HTTP exchange with (operation, outcome, seconds); outcome is "ok" or the
#: exception class name. Used for metrics and for counting calls in benchmarks.
CallObserver = Callable[[str, str, float], None]

_READ_OPERATIONS = frozenset({"core/get", "list_operations", "core/check_credentials"})


@dataclass(frozen=True)
class ItopObject:
    """One object of a REST answer; every scalar is a string, as iTop sends it."""

    class_: str
    key: str
    fields: Mapping[str, Any] = field(default_factory=dict)

    def get(self, attcode: str, default: str = "") -> str:
        value = self.fields.get(attcode, default)
        return default if value is None else str(value)

    @property
    def id(self) -> int:
        return int(self.key)


@dataclass(frozen=True)
class GetResult:
    objects: list[ItopObject]
    total: int
    """iTop's `Found: N`: the total count of matches, not the size of the page returned."""


class NoCookieJar(CookieJar):
    """A cookie jar that stores nothing and sends nothing, whatever the server sets."""

    def set_cookie(self, cookie: Cookie) -> None:
        return None

    def set_cookie_if_ok(self, cookie: Cookie, request: urllib.request.Request) -> None:
        return None

    def extract_cookies(self, response: Any, request: urllib.request.Request) -> None:
        return None

    def add_cookie_header(self, request: urllib.request.Request) -> None:
        return None


class ItopClient:
    def __init__(
        self,
        rest_url: str,
        token: str,
        *,
        version: str = "1.3",
        timeout: float = 10.0,
        read_retries: int = 2,
        verify_tls: bool = True,
        transport: httpx.AsyncBaseTransport | None = None,
        observer: CallObserver | None = None,
        comment: str = DEFAULT_COMMENT,
        retry_delay: float = 0.1,
    ) -> None:
        self._rest_url = rest_url
        self._retry_delay = retry_delay
        """Base of the backoff between retries: delay × 2^attempt, capped at 2 s, jittered."""
        self._token = token
        self._version = version
        self._read_retries = read_retries
        self._observer = observer
        self._comment = comment
        self._http = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)),
            verify=verify_tls,
            transport=transport,
            headers={"User-Agent": "itop-intercom"},
            cookies=NoCookieJar(),
            limits=httpx.Limits(max_connections=20, max_keepalive_connections=10),
        )

    @property
    def rest_url(self) -> str:
        return self._rest_url

    @property
    def comment(self) -> str:
        """The default `comment` of writes; read-only, so that concurrent writes never see
        another caller's comment (callers pass their own per call instead)."""
        return self._comment

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> ItopClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    # -- the protocol -------------------------------------------------------------------------

    async def call(
        self,
        payload: Mapping[str, Any],
        *,
        extra_params: Mapping[str, str] | None = None,
        send_token: bool = True,
    ) -> dict[str, Any]:
        """POST one operation; return the decoded body when `code` is 0, raise otherwise."""
        operation = str(payload.get("operation", "?"))
        retryable = operation in _READ_OPERATIONS
        attempt = 0
        while True:
            try:
                return await self._call_once(payload, operation, extra_params, send_token)
            except ItopError as exc:
                # A write is retried only when it certainly never reached iTop.
                never_sent = isinstance(exc, ItopUnreachable) and not may_have_been_applied(exc)
                may_retry = never_sent or (retryable and exc.transient)
                if not may_retry or attempt >= self._read_retries:
                    raise
            attempt += 1
            await asyncio.sleep(min(2.0, self._retry_delay * 2**attempt) * (0.5 + random.random()))

    async def _call_once(
        self,
        payload: Mapping[str, Any],
        operation: str,
        extra_params: Mapping[str, str] | None,
        send_token: bool,
    ) -> dict[str, Any]:
        form = {"version": self._version, "json_data": json.dumps(payload)}
        if send_token:
            form["auth_token"] = self._token
        started = time.perf_counter()
        outcome = "ok"
        try:
            try:
                response = await self._http.post(
                    self._rest_url, data=form, params=dict(extra_params or {})
                )
            except (httpx.ConnectError, httpx.ConnectTimeout, httpx.UnsupportedProtocol) as exc:
                raise ItopUnreachable(
                    f"cannot connect to iTop at {self._rest_url}: {type(exc).__name__}",
                    operation=operation,
                ) from None
            except httpx.TimeoutException:
                raise ItopTimeout(
                    f"iTop did not answer {operation} in time", operation=operation
                ) from None
            except httpx.TransportError as exc:
                raise ItopUnreachable(
                    f"connection to iTop failed: {type(exc).__name__}",
                    operation=operation,
                    request_sent=True,
                ) from None
            return self._decode(response, operation)
        except ItopError as exc:
            outcome = type(exc).__name__
            raise
        finally:
            if self._observer is not None:
                self._observer(operation, outcome, time.perf_counter() - started)

    @staticmethod
    def _decode(response: httpx.Response, operation: str) -> dict[str, Any]:
        if response.status_code != 200:
            raise ItopHttpError(
                f"iTop answered HTTP {response.status_code} to {operation}",
                status_code=response.status_code,
                operation=operation,
            )
        try:
            body = response.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            excerpt = response.text[:200].strip()
            raise ItopNotRestEndpoint(
                f"iTop's answer to {operation} is not JSON",
                body_excerpt=excerpt,
                operation=operation,
            ) from None
        if not isinstance(body, dict) or "code" not in body:
            raise ItopNotRestEndpoint(
                f"the answer to {operation} is not an iTop REST answer",
                body_excerpt=str(body)[:200],
                operation=operation,
            )
        code = int(body["code"])
        if code != CODE_OK:
            raise api_error(code, str(body.get("message") or f"code {code}"), operation=operation)
        return body

    # -- the verbs ------------------------------------------------------------------------------

    async def get(
        self,
        class_: str,
        key: int | str | Mapping[str, Any],
        output_fields: str = "id,friendlyname",
        *,
        limit: int | None = None,
        page: int | None = None,
    ) -> GetResult:
        payload: dict[str, Any] = {
            "operation": "core/get",
            "class": class_,
            "key": key,
            "output_fields": output_fields,
        }
        if limit is not None:
            payload["limit"] = limit
            payload["page"] = page or 1
        body = await self.call(payload)
        objects = _objects(body)
        message = str(body.get("message") or "")
        total = len(objects)
        if message.startswith("Found: "):
            with contextlib.suppress(ValueError):
                total = int(message[len("Found: ") :])
        return GetResult(objects=objects, total=total)

    async def create(
        self,
        class_: str,
        fields: Mapping[str, Any],
        output_fields: str = "id,friendlyname",
        *,
        comment: str | None = None,
    ) -> ItopObject:
        body = await self.call(
            {
                "operation": "core/create",
                "comment": comment or self.comment,
                "class": class_,
                "output_fields": output_fields,
                "fields": dict(fields),
            }
        )
        return _single(body, "core/create")

    async def update(
        self,
        class_: str,
        key: int | str | Mapping[str, Any],
        fields: Mapping[str, Any],
        output_fields: str = "id",
        *,
        comment: str | None = None,
    ) -> ItopObject:
        body = await self.call(
            {
                "operation": "core/update",
                "comment": comment or self.comment,
                "class": class_,
                "key": key,
                "output_fields": output_fields,
                "fields": dict(fields),
            }
        )
        return _single(body, "core/update")

    async def list_operations(self) -> list[str]:
        body = await self.call({"operation": "list_operations"})
        return [str(op.get("verb")) for op in body.get("operations") or []]


def _objects(body: Mapping[str, Any]) -> list[ItopObject]:
    # `objects` is a map keyed "Class::id" (not a list), or null when nothing matched.
    raw = body.get("objects") or {}
    return [
        ItopObject(
            class_=str(obj.get("class")), key=str(obj.get("key")), fields=obj.get("fields") or {}
        )
        for obj in raw.values()
    ]


def _single(body: Mapping[str, Any], operation: str) -> ItopObject:
    objects = _objects(body)
    if len(objects) != 1:
        raise ItopNotRestEndpoint(
            f"{operation} answered {len(objects)} objects instead of one",
            body_excerpt="",
            operation=operation,
        )
    return objects[0]
