"""Each workspace's `scope` is OQL that this iTop accepts.

The scope selects the iTop users who get the chat widget. A typo in it only shows when the
Messenger asks, as an error nobody reads; the check runs it once, as a `core/get` with
`limit 1` and the `id` field only. iTop answers a malformed query or an unknown class or
attribute with code 100 and the parser's message ("Query failed to execute … OQLParser
SyntaxErrorException …"); that message is shown, shortened.
"""

from __future__ import annotations

import asyncio
import re

import httpx

from itop_intercom.itop.client import ItopClient
from itop_intercom.itop.errors import CODE_INTERNAL_ERROR, ItopApiError, ItopError
from itop_intercom.ops.doctor.result import CheckResult
from itop_intercom.settings.model import Settings

_CLASS = re.compile(r"^\s*SELECT\s+([A-Za-z_][A-Za-z0-9_]*)", re.IGNORECASE)
_MESSAGE = re.compile(r"exception_message = (.*)", re.DOTALL)


def _short(message: str, limit: int = 160) -> str:
    found = _MESSAGE.search(message)
    text = " ".join((found.group(1) if found else message).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


async def scope_checks(
    settings: Settings, transport: httpx.AsyncBaseTransport | None = None
) -> list[CheckResult]:
    scopes = {ws_id: ws.scope for ws_id, ws in sorted(settings.workspaces.items()) if ws.scope}
    rest_url = settings.itop.rest_url
    token = settings.itop.token
    if not scopes or rest_url is None or token is None:
        return []
    timeout = settings.itop.timeout_seconds
    async with ItopClient(
        rest_url,
        token.get_secret_value(),
        version=settings.itop.rest_version,
        timeout=timeout,
        read_retries=0,
        verify_tls=settings.itop.verify_tls,
        transport=transport,
    ) as client:
        results = await asyncio.gather(
            *(_one(client, ws_id, scope, timeout) for ws_id, scope in scopes.items())
        )
    return [r for r in results if r is not None]


async def _one(
    client: ItopClient, workspace_id: str, scope: str, seconds: float
) -> CheckResult | None:
    found = _CLASS.match(scope)
    if found is None:
        return _invalid(workspace_id, "it does not start with SELECT <class>")
    try:
        result = await asyncio.wait_for(client.get(found.group(1), scope, "id", limit=1), seconds)
    except ItopApiError as exc:
        if exc.code == CODE_INTERNAL_ERROR:
            return _invalid(workspace_id, _short(exc.message))
        return None  # a token or profile problem: reported by the iTop checks
    except (ItopError, TimeoutError):
        return None  # iTop unreachable: reported by the iTop checks
    return CheckResult(
        "6",
        f"Workspace {workspace_id}: iTop accepts its scope ({result.total} object(s) match)",
        "ok",
        key="itop.scope_ok",
    )


def _invalid(workspace_id: str, why: str) -> CheckResult:
    return CheckResult(
        "6",
        f"Workspace {workspace_id}: iTop refuses its scope",
        "fail",
        f"iTop says: {why}",
        f"Correct workspaces.{workspace_id}.scope: an OQL query such as "
        "SELECT Person WHERE org_id = 3 (try it in iTop's Run queries page first).",
        key="itop.scope_invalid",
    )
