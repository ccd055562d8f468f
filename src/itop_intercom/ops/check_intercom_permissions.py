"""The Intercom access token may read and write conversations.

`GET /me` proves the token is valid but says nothing of its permissions, and a token without
"Read conversations" or "Write conversations" only shows when the first note or history copy
fails. So, for each distinct token:
- read: `GET /conversations?per_page=1`;
- write: a note posted to conversation `0`, an id Intercom never gives (its conversation ids are
  large numbers). A token allowed to write gets 404 "not found"; one that is not gets 401 or 403
  before Intercom looks for the conversation. No real conversation is ever written to.
A 403 `api_plan_restricted` is the workspace's plan, not the token: said as such.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from itop_intercom.intercom.client import IntercomClient
from itop_intercom.intercom.errors import (
    IntercomAuthError,
    IntercomError,
    IntercomForbidden,
    IntercomNotFound,
)
from itop_intercom.ops.doctor.result import CheckResult
from itop_intercom.settings.model import Region, Settings

#: A conversation id Intercom never assigns: the write probe can only ever find nothing.
PROBE_CONVERSATION = "0"
PROBE_NOTE = "itop-intercom check: permission probe (never posted)"


MeOf = Callable[[str, Region], Awaitable[Any]]
"""The `GET /me` answer (a dict) or the `IntercomError` of a (token, region)."""


async def permission_checks(
    settings: Settings, me_of: MeOf, transport: httpx.AsyncBaseTransport | None = None
) -> list[CheckResult]:
    tokens: dict[tuple[str, Region], list[str]] = {}
    for workspace_id in sorted(settings.workspaces):
        ws = settings.workspace(workspace_id)
        if ws is None or ws.access_token is None:
            continue
        tokens.setdefault((ws.access_token.get_secret_value(), ws.region), []).append(workspace_id)
    checks = [
        _one(settings, token, region, ids, me_of, transport)
        for (token, region), ids in tokens.items()
    ]
    results = await asyncio.gather(*checks)
    return [r for batch in results for r in batch]


async def _one(
    settings: Settings,
    token: str,
    region: Region,
    workspace_ids: list[str],
    me_of: MeOf,
    transport: httpx.AsyncBaseTransport | None,
) -> list[CheckResult]:
    me = await me_of(token, region)
    if not isinstance(me, dict):
        return []  # token refused or Intercom unreachable: reported by the token check
    who = "Workspace" + ("s " if len(workspace_ids) > 1 else " ") + ", ".join(workspace_ids)
    api_base = settings.intercom.api_base
    timeout = settings.intercom.timeout_seconds
    async with IntercomClient(
        token,
        region=region,
        api_base=str(api_base) if api_base is not None else None,
        api_version=settings.intercom.api_version,
        timeout=timeout,
        transport=transport,
    ) as client:
        admin_id = str(me.get("id") or "")
        read, write = await asyncio.gather(
            _probe(client.list_conversations(), timeout),
            _probe(
                client.reply(
                    PROBE_CONVERSATION,
                    admin_id=admin_id or "0",
                    body=PROBE_NOTE,
                    message_type="note",
                ),
                timeout,
            ),
        )
    return [
        _result(who, "read", read, expected=None),
        _result(who, "write", write, expected=IntercomNotFound),
    ]


async def _probe(call: Any, seconds: float) -> str | IntercomError | None:
    """None when the call succeeded, the error otherwise ("timeout" when it did not answer)."""
    try:
        await asyncio.wait_for(call, seconds)
    except IntercomError as exc:
        return exc
    except TimeoutError:
        return "timeout"
    return None


def _result(
    who: str, what: str, outcome: str | IntercomError | None, *, expected: type | None
) -> CheckResult:
    permission = f"{what.capitalize()} conversations"
    allowed = outcome is None if expected is None else isinstance(outcome, expected)
    if allowed:
        return CheckResult(
            "4",
            f"{who}: the access token may {what} conversations",
            "ok",
            key=f"intercom.{what}_conversations_ok",
        )
    if isinstance(outcome, IntercomError) and outcome.code == "api_plan_restricted":
        return CheckResult(
            "4",
            f"{who}: Intercom's plan does not allow the API to {what} conversations",
            "fail",
            f"Intercom answered: {outcome}",
            "Check the workspace's Intercom subscription (the API needs an active plan).",
            key="intercom.plan_restricted",
        )
    if isinstance(outcome, IntercomAuthError | IntercomForbidden):
        return CheckResult(
            "4",
            f"{who}: the access token may not {what} conversations",
            "fail",
            f"Intercom accepts the token but refuses to let it {what} conversations.",
            f"In the Intercom Developer Hub, open the app › Configure › Authentication, tick "
            f'"{permission}", save, and copy the access token again if Intercom changed it.',
            key=f"intercom.{what}_conversations_missing",
        )
    if expected is not None and outcome is None:
        # The probe note was accepted: Intercom has a conversation 0 after all.
        return CheckResult(
            "4",
            f"{who}: the access token may {what} conversations",
            "ok",
            key=f"intercom.{what}_conversations_ok",
        )
    said = "did not answer" if outcome == "timeout" else f"answered: {outcome}"
    return CheckResult(
        "4",
        f"{who}: could not tell whether the access token may {what} conversations",
        "warn",
        f"Intercom {said}.",
        "Run the check again; if it persists, make sure the app has the "
        f'"{permission}" permission in the Developer Hub.',
        key="intercom.permissions_unknown",
    )
