"""The gate every Intercom request goes through before any work is done.

Order matters, and nothing from the body is trusted before its signature is checked:

1. The body has been read in full by `web.body_gate` (size, time and number limits).
2. The signature header must be there.
3. The signature is checked over the raw bytes against the configured client secrets (there
   are few; several workspaces often share one app and so one secret). A workspace id found by
   a cheap search of the raw bytes only decides which secret is tried first: it is a hint, never
   trusted. Only an authentic body is parsed, so an unsigned sender costs an HMAC or two, not a
   JSON parse.
4. The body is parsed (`web.json_body`: depth, encoding and unstorable text handled there).
5. The workspace the authentic body names must be configured, and its secret must be the one
   that signed the body.

An unknown workspace and a bad signature get the same answer (401, same body), so a stranger
cannot learn which workspace ids are configured. A body signed with a configured secret that
names a workspace which is not configured is refused as such (403): its sender holds a secret.
Every refusal is a `Refused` with a precise status and a short reason that is safe to log and to
return: it never contains the body or a secret.
"""

from __future__ import annotations

import asyncio
import hmac
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from starlette.requests import Request

from itop_intercom.settings.model import ResolvedWorkspace, Settings
from itop_intercom.web import json_body
from itop_intercom.web.access_log import log_fields

#: Bodies at least this large are hashed outside the event loop.
THREAD_HASH_BYTES = 64 * 1024

#: The one answer to a body that no configured secret signed, whatever workspace it names.
UNAUTHENTICATED = "signature does not match"


class Refused(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass(frozen=True)
class VerifiedRequest:
    workspace: ResolvedWorkspace
    data: dict[str, Any]
    raw: bytes


async def read_body(request: Request, limit: int) -> bytes:
    """The request body (already received in full by `web.body_gate`, within the server's
    limits); 413 when it is over `limit`, an endpoint's own smaller limit."""
    raw: bytes = await request.body()
    if len(raw) > limit:
        raise Refused(413, f"body larger than {limit} bytes")
    return raw


def workspace_hint(raw: bytes, workspace_key: str) -> str | None:
    """A workspace id as it appears in the raw body, found without parsing (may be wrong)."""
    pattern = re.compile(
        rb'"' + re.escape(workspace_key.encode()) + rb'"\s*:\s*"([A-Za-z0-9_-]{1,64})"'
    )
    found = pattern.search(raw)
    return found.group(1).decode("ascii") if found else None


def client_secrets(settings: Settings) -> list[str]:
    """Every configured client secret once (computed when the app is built: settings do not
    change while it runs)."""
    values = [settings.intercom.client_secret]
    values += [ws.client_secret for ws in settings.workspaces.values()]
    return list(dict.fromkeys(v.get_secret_value() for v in values if v is not None and v))


def candidate_secrets(settings: Settings, secrets: Sequence[str], hint: str | None) -> list[str]:
    """`secrets`, the hinted workspace's first."""
    workspace = settings.workspace(hint) if hint is not None else None
    first = workspace.client_secret if workspace is not None else None
    if first is None:
        return list(secrets)
    value = first.get_secret_value()
    return [value, *(s for s in secrets if s != value)]


def _signed_with(
    raw: bytes, header: str, secrets: list[str], check: Callable[[bytes, str | None, str], bool]
) -> str | None:
    """The first of `secrets` whose signature of `raw` is `header`, else None."""
    return next((s for s in secrets if check(raw, header, s)), None)


async def verify(
    request: Request,
    settings: Settings,
    *,
    signature_header: str,
    workspace_key: str,
    check: Callable[[bytes, str | None, str], bool],
    secrets: Sequence[str],
    unstorable: Literal["refuse", "repair"] = "refuse",
) -> VerifiedRequest:
    """The authentic, parsed request; raises `Refused` otherwise.

    `secrets` are every configured client secret (`client_secrets`). `unstorable` says what
    becomes of text that cannot be stored (lone surrogates, NUL):
    refused (webhooks: a 400) or replaced by U+FFFD (canvases: the agent still gets a screen).
    """
    raw = await read_body(request, settings.server.max_body_bytes)
    header = request.headers.get(signature_header)
    if not header:
        raise Refused(401, f"missing {signature_header} header")
    hint = workspace_hint(raw, workspace_key)
    if hint is not None:
        log_fields(request.scope)["claimed_workspace"] = hint
    candidates = candidate_secrets(settings, secrets, hint)
    if len(raw) >= THREAD_HASH_BYTES:
        # hashlib releases the GIL on large inputs: hashing in a thread lets the event loop
        # serve other requests meanwhile (a 1 MB body takes milliseconds per secret).
        secret = await asyncio.to_thread(_signed_with, raw, header, candidates, check)
    else:
        secret = _signed_with(raw, header, candidates, check)
    if secret is None:
        raise Refused(401, UNAUTHENTICATED)
    try:
        data = json_body.checked(raw, unstorable=unstorable)
    except json_body.UnsafeJson as exc:
        raise Refused(400, exc.reason) from None
    if not isinstance(data, dict):
        raise Refused(400, "body is not a JSON object")
    workspace_id = data.get(workspace_key)
    if not isinstance(workspace_id, str) or not workspace_id:
        raise Refused(400, f"missing {workspace_key}")
    workspace = settings.workspace(workspace_id)
    if workspace is None:
        raise Refused(403, "workspace not configured")
    own = workspace.client_secret
    if own is None or not hmac.compare_digest(own.get_secret_value().encode(), secret.encode()):
        # Signed with another workspace's secret: as unauthenticated as no signature at all.
        raise Refused(401, UNAUTHENTICATED)
    return VerifiedRequest(workspace=workspace, data=data, raw=raw)
