"""Wording shared by the checks: secrets kept out of results, URLs, iTop answers, lists."""

from __future__ import annotations

import html
import re
import socket
import ssl
from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Literal
from urllib.parse import urlsplit, urlunsplit

import httpx
from pydantic import SecretStr

from itop_intercom.itop.errors import ItopApiError, ItopError, readable
from itop_intercom.ops.doctor.result import CheckResult
from itop_intercom.settings.model import Settings

#: The text iTop's token login plugin answers, in plain text, when `login_mode=rest-token` is
#: forced without a token (iTop's one REST answer that is not JSON, next to PHP errors).
FORCED_WITHOUT_TOKEN = "forced without any token passed"

#: How many single-attribute probes may run at once when iTop refuses a list of attributes.
PROBE_CONCURRENCY = 4

TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)


def secret_value(secret: SecretStr | None) -> str | None:
    if secret is None:
        return None
    value = secret.get_secret_value().strip()
    return value or None


def configured_secrets(settings: Settings) -> list[str]:
    values: list[SecretStr | None] = [
        settings.itop.token,
        settings.intercom.client_secret,
        settings.intercom.access_token,
        settings.messenger.shared_key,
    ]
    for ws in settings.workspaces.values():
        values.extend([ws.client_secret, ws.access_token, ws.messenger_secret])
    found = {v for v in (secret_value(s) for s in values) if v is not None}
    # Longest first, so that a secret containing another is removed whole.
    return sorted(found, key=len, reverse=True)


def scrub(result: CheckResult, secrets: Sequence[str]) -> CheckResult:
    def clean(text: str) -> str:
        for secret in secrets:
            # Shorter values would also hit ordinary words; no real token or secret is so short.
            if len(secret) >= 8:
                text = text.replace(secret, "[secret]")
        return text

    return replace(
        result, title=clean(result.title), detail=clean(result.detail), fix=clean(result.fix)
    )


def safe_url(url: str) -> str:
    """The URL without user info, query or fragment."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def connect_failure(
    exc: httpx.HTTPError,
) -> tuple[Literal["refused", "dns", "tls", "timeout", "other"], str]:
    """Why a connection failed, from the most specific exception in the chain.

    httpx only says "All connection attempts failed" for a refused connection; the OSError
    under it knows better.
    """
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ssl.SSLError):
            return "tls", f"the https connection failed ({excerpt(str(current))})"
        if isinstance(current, ConnectionRefusedError):
            return "refused", "the connection was refused"
        if isinstance(current, socket.gaierror):
            return "dns", f"the host name cannot be resolved ({excerpt(str(current))})"
        if isinstance(current, (TimeoutError, httpx.TimeoutException)):
            return "timeout", "the connection attempt timed out"
        current = current.__cause__ or current.__context__
    text = str(exc).strip() or type(exc).__name__
    lowered = text.lower()
    if "certificate" in lowered or "ssl" in lowered:
        return "tls", f"the https connection failed ({excerpt(text)})"
    if "refused" in lowered:
        return "refused", "the connection was refused"
    if "name or service" in lowered or "nodename" in lowered or "getaddrinfo" in lowered:
        return "dns", f"the host name cannot be resolved ({excerpt(text)})"
    return "other", excerpt(text)


def describe_body(text: str) -> str:
    """A short description of an answer that is not JSON: a page title or an excerpt."""
    stripped = text.strip()
    if not stripped:
        return "an empty body"
    if stripped.startswith("<"):
        match = TITLE.search(stripped)
        if match and match.group(1).strip():
            return f"a web page titled “{excerpt(html.unescape(match.group(1)), 80)}”"
        return "a web page"
    return f"the text “{excerpt(stripped, 80)}”"


def itop_error_text(exc: ItopError) -> str:
    if isinstance(exc, ItopApiError):
        return f"iTop answers with code {exc.code}: “{readable(exc.message)}”."
    return exc.message


def excerpt(text: str, limit: int = 120) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def is_code(name: str) -> bool:
    return bool(name) and not name[0].isdigit() and all(c.isalnum() or c == "_" for c in name)


def unique(codes: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(codes))


def names(codes: Iterable[str]) -> str:
    return ", ".join(codes)


def plural(count: int, word: str) -> str:
    return f"{count} {word}" + ("" if count == 1 else "s")
