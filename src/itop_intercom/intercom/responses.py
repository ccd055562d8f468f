"""Turning Intercom's HTTP answers into data or typed errors, with URLs and bodies kept out of
messages where they could carry a token."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import httpx

from itop_intercom.intercom.errors import (
    IntercomAuthError,
    IntercomError,
    IntercomForbidden,
    IntercomNotFound,
    IntercomRateLimited,
    IntercomUnavailable,
)

#: Wait used when a 429 carries no usable `X-RateLimit-Reset` (Intercom's windows are 10 s).
DEFAULT_RATE_LIMIT_WAIT = 2.0


@contextmanager
def transport_errors(operation: str, url: str) -> Iterator[None]:
    """Turn httpx transport failures into `IntercomUnavailable`, with `maybe_applied` set when
    the request may have been sent (anything after the connection was established)."""
    try:
        yield
    except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
        raise IntercomUnavailable(
            f"cannot connect to Intercom ({redact_url(url)}): {type(exc).__name__}",
            maybe_applied=False,
            operation=operation,
        ) from None
    except httpx.UnsupportedProtocol:
        raise IntercomError(f"unsupported URL {redact_url(url)}", operation=operation) from None
    except httpx.TimeoutException as exc:
        raise IntercomUnavailable(
            f"Intercom did not answer {operation} in time ({type(exc).__name__})",
            maybe_applied=True,
            operation=operation,
        ) from None
    except httpx.TransportError as exc:
        raise IntercomUnavailable(
            f"connection to Intercom failed during {operation}: {type(exc).__name__}",
            maybe_applied=True,
            operation=operation,
        ) from None


def segment(value: str) -> str:
    """One URL path segment: ids come from payloads and must not be able to change the path."""
    text = str(value)
    if not text:
        raise ValueError("an id is required")
    return quote(text, safe="")


def redact_url(url: str) -> str:
    """The URL without its query string and fragment (CDN URLs carry signatures there)."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


def content_length(response: httpx.Response) -> int | None:
    value = response.headers.get("Content-Length")
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        return None


def error_details(response: httpx.Response) -> tuple[str | None, str | None, str | None]:
    """(code, message, request_id) from Intercom's `error.list` body, when there is one."""
    try:
        body = json.loads(response.content)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None, None, None
    if not isinstance(body, dict):
        return None, None, None
    request_id = body.get("request_id")
    errors = body.get("errors")
    codes: list[str] = []
    messages: list[str] = []
    if isinstance(errors, list):
        for error in errors:
            if isinstance(error, dict):
                if error.get("code"):
                    codes.append(str(error["code"]))
                if error.get("message"):
                    messages.append(str(error["message"]))
    return (
        codes[0] if codes else None,
        "; ".join(messages) or None,
        str(request_id) if request_id else None,
    )


def reset_wait(response: httpx.Response) -> float:
    """Seconds until `X-RateLimit-Reset` (a unix time), or a default when it is missing. A
    `Retry-After` in seconds (not documented by Intercom, but sent by proxies) wins."""
    retry_after = response.headers.get("Retry-After")
    if retry_after is not None and retry_after.strip().isdigit():
        return min(float(retry_after.strip()), 3600.0)
    value = response.headers.get("X-RateLimit-Reset")
    if value is None:
        return DEFAULT_RATE_LIMIT_WAIT
    try:
        reset = float(value)
    except ValueError:
        return DEFAULT_RATE_LIMIT_WAIT
    return max(0.0, reset - time.time())


def raise_for_status(response: httpx.Response, operation: str) -> None:
    status = response.status_code
    if status < 400:
        return
    code, message, request_id = error_details(response)
    said = f": {message}" if message else ""
    common: dict[str, Any] = {
        "operation": operation,
        "status_code": status,
        "code": code,
        "request_id": request_id,
    }
    if status == 401:
        raise IntercomAuthError(f"Intercom refused the access token (401){said}", **common)
    if status == 403:
        raise IntercomForbidden(f"Intercom forbids {operation} (403){said}", **common)
    if status in (404, 410):
        raise IntercomNotFound(f"Intercom found nothing for {operation} ({status}){said}", **common)
    if status == 429:
        wait = reset_wait(response)
        raise IntercomRateLimited(
            f"Intercom rate limit reached for {operation}; the window resets in {wait:.1f} s",
            retry_after=wait,
            **common,
        )
    if status >= 500 or status == 408:
        raise IntercomUnavailable(
            f"Intercom answered HTTP {status} to {operation}{said}", maybe_applied=True, **common
        )
    raise IntercomError(f"Intercom rejected {operation} (HTTP {status}){said}", **common)


def decode(response: httpx.Response, operation: str) -> dict[str, Any]:
    try:
        body = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise IntercomUnavailable(
            f"Intercom's answer to {operation} is not JSON (HTTP {response.status_code})",
            maybe_applied=True,
            operation=operation,
            status_code=response.status_code,
        ) from None
    if not isinstance(body, dict):
        raise IntercomError(
            f"Intercom's answer to {operation} is not a JSON object",
            operation=operation,
            status_code=response.status_code,
        )
    return body
