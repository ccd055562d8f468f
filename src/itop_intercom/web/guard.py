"""The gate every Intercom request goes through before any work is done.

Order matters: size first (never buffer more than the limit), then the signature header's
presence, then JSON and the workspace id (needed to pick the workspace's secret), then the
signature itself over the raw bytes. Every refusal is an `Refused` with a precise status and a
short reason that is safe to log and to return: it never contains the body or a secret.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request

from itop_intercom.settings.model import ResolvedWorkspace, Settings


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
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            if int(declared) > limit:
                raise Refused(413, f"body larger than {limit} bytes")
        except ValueError:
            raise Refused(400, "invalid Content-Length") from None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise Refused(413, f"body larger than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


async def verify(
    request: Request,
    settings: Settings,
    *,
    signature_header: str,
    workspace_key: str,
    check: Callable[[bytes, str | None, str], bool],
) -> VerifiedRequest:
    raw = await read_body(request, settings.server.max_body_bytes)
    header = request.headers.get(signature_header)
    if not header:
        raise Refused(401, f"missing {signature_header} header")
    try:
        data = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise Refused(400, "body is not valid JSON") from None
    if not isinstance(data, dict):
        raise Refused(400, "body is not a JSON object")
    workspace_id = data.get(workspace_key)
    if not isinstance(workspace_id, str) or not workspace_id:
        raise Refused(400, f"missing {workspace_key}")
    workspace = settings.workspace(workspace_id)
    if workspace is None:
        raise Refused(403, "workspace not configured")
    if workspace.client_secret is None:
        raise Refused(403, "no client secret configured for this workspace")
    if not check(raw, header, workspace.client_secret.get_secret_value()):
        raise Refused(401, "signature does not match")
    return VerifiedRequest(workspace=workspace, data=data, raw=raw)
