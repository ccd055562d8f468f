"""Steps 2 to 6 on the Intercom side: access tokens (`GET /me`), the workspaces they belong to,
client secrets and the public URLs."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from itop_intercom.intercom.client import IntercomClient
from itop_intercom.intercom.errors import (
    IntercomAuthError,
    IntercomError,
    IntercomForbidden,
    IntercomUnavailable,
)
from itop_intercom.ops.doctor.result import CheckGroup, CheckResult
from itop_intercom.ops.doctor.texts import secret_value
from itop_intercom.settings.model import Region, Settings


class IntercomChecks(CheckGroup):
    def __init__(
        self,
        settings: Settings,
        transport: httpx.AsyncBaseTransport | None,
        out: list[CheckResult],
    ) -> None:
        super().__init__(settings, transport, out, settings.intercom.timeout_seconds)
        self._me: dict[tuple[str, Region], asyncio.Task[dict[str, Any] | IntercomError]] = {}

    async def run(self) -> None:
        s = self.settings
        workspace_ids = sorted(s.workspaces)
        if not workspace_ids:
            await self._guess_workspace()
            return
        # One /me per distinct (token, region): workspaces sharing the global token share it.
        checks = []
        for workspace_id in workspace_ids:
            ws = s.workspace(workspace_id)
            if ws is None:  # pragma: no cover
                continue
            token = secret_value(ws.access_token)
            if token is None:
                self.out.append(
                    CheckResult(
                        "2",
                        f"Workspace {workspace_id}: the Intercom app cannot be checked without "
                        "an access token",
                        "skip",
                        key="intercom.app_skipped",
                    )
                )
                continue
            fallback = secret_value(s.workspaces[workspace_id].access_token) is None
            checks.append(self._workspace(workspace_id, token, ws.region, fallback))
        results = await asyncio.gather(*checks)
        for batch in results:
            self.out.extend(batch)

    def me_task(self, token: str, region: Region) -> asyncio.Task[dict[str, Any] | IntercomError]:
        """Intercom's `GET /me` for this token, asked once per run whoever needs it (the token
        checks here, the Messenger checks of step 7)."""
        key = (token, region)
        if key not in self._me:
            self._me[key] = asyncio.ensure_future(self._fetch_me(token, region))
        return self._me[key]

    async def _fetch_me(self, token: str, region: Region) -> dict[str, Any] | IntercomError:
        api_base = self.settings.intercom.api_base
        async with IntercomClient(
            token,
            region=region,
            api_base=str(api_base) if api_base is not None else None,
            api_version=self.settings.intercom.api_version,
            timeout=self.timeout,
            transport=self.transport,
        ) as client:
            try:
                return await asyncio.wait_for(client.me(), self.timeout)
            except TimeoutError:
                return IntercomUnavailable(
                    f"Intercom did not answer in {self.timeout:g} s", maybe_applied=False
                )
            except IntercomError as exc:
                return exc

    async def _workspace(
        self, workspace_id: str, token: str, region: Region, fallback: bool
    ) -> list[CheckResult]:
        which = (
            "the global access token (intercom.access_token)" if fallback else "its access token"
        )
        setting = "intercom.access_token" if fallback else f"workspaces.{workspace_id}.access_token"
        me = await self.me_task(token, region)
        if isinstance(me, IntercomError):
            return [
                self._token_failure(workspace_id, which, setting, region, me),
                CheckResult(
                    "2",
                    f"Workspace {workspace_id}: the Intercom app cannot be checked (see step 4)",
                    "skip",
                    key="intercom.app_skipped",
                ),
                CheckResult(
                    "6",
                    f"Workspace {workspace_id}: cannot check that the access token belongs to "
                    "this workspace (see step 4)",
                    "skip",
                    key="intercom.workspace_skipped",
                ),
            ]
        app = app_of(me)
        id_code = str(app.get("id_code") or "")
        name = str(app.get("name") or "")
        out = [
            CheckResult(
                "4",
                f"Workspace {workspace_id}: Intercom accepts {which}",
                "ok",
                key="intercom.token_ok",
            ),
            CheckResult(
                "2",
                f"Workspace {workspace_id}: the access token belongs to the Intercom workspace "
                f"{name!r} ({id_code or 'id not given'})",
                "ok",
                key="intercom.app_ok",
            ),
        ]
        if not id_code:
            out.append(
                CheckResult(
                    "6",
                    f"Workspace {workspace_id}: Intercom did not say which workspace the access "
                    "token belongs to",
                    "warn",
                    "The answer of GET /me has no app.id_code.",
                    key="intercom.workspace_unknown",
                )
            )
        elif id_code.lower() == workspace_id.lower():
            out.append(
                CheckResult(
                    "6",
                    f"Workspace {workspace_id} matches the workspace of its access token",
                    "ok",
                    key="intercom.workspace_ok",
                )
            )
        else:
            configured = any(w.lower() == id_code.lower() for w in self.settings.workspaces)
            if configured:
                detail = (
                    f"Workspace {id_code} is also in the settings: each workspace needs the "
                    "access token of its own Intercom app, or the service would read and "
                    "write the conversations of the wrong workspace."
                )
                fix = (
                    f"Put the access token of workspace {workspace_id}'s app in "
                    f"workspaces.{workspace_id}.access_token."
                )
            else:
                detail = (
                    f"Workspace {id_code} is not in the settings, so the service would refuse "
                    "its requests, and could not use this token for workspace "
                    f"{workspace_id}."
                )
                fix = (
                    f"If {id_code} is your workspace (the part after /a/apps/ in the address "
                    f"of your Inbox), rename [workspaces.{workspace_id}] to "
                    f"[workspaces.{id_code}]. Otherwise put the access token of workspace "
                    f"{workspace_id} in {setting}."
                )
            out.append(
                CheckResult(
                    "6",
                    f"Workspace {workspace_id} does not match its access token, which belongs "
                    f"to workspace {id_code}",
                    "fail",
                    detail,
                    fix,
                    key="intercom.workspace_mismatch",
                )
            )
        return out

    def _token_failure(
        self, workspace_id: str, which: str, setting: str, region: str, exc: IntercomError
    ) -> CheckResult:
        if isinstance(exc, IntercomAuthError):
            return CheckResult(
                "4",
                f"Workspace {workspace_id}: Intercom refuses {which}",
                "fail",
                f"GET /me answered HTTP {exc.status_code or 401}"
                + (f" ({exc.message})" if exc.message else "")
                + ": the token is wrong, revoked, or from another region.",
                "In the Intercom Developer Hub, open the app › Configure › Authentication, copy "
                f"the access token again into {setting}, and check that the region ({region}) "
                "is where the workspace is hosted.",
                key="intercom.token_refused",
            )
        if isinstance(exc, IntercomForbidden):
            return CheckResult(
                "4",
                f"Workspace {workspace_id}: Intercom forbids {which} to read the workspace",
                "fail",
                f"GET /me answered HTTP 403 ({exc.message}).",
                "In the Developer Hub, give the app the permissions read conversations and "
                "write conversations, and check the workspace's plan includes API access.",
                key="intercom.token_forbidden",
            )
        if isinstance(exc, IntercomUnavailable):
            return CheckResult(
                "4",
                f"Workspace {workspace_id}: Intercom's API cannot be reached",
                "fail",
                f"{exc.message}.",
                "Check that this machine can reach Intercom's API over https (proxy, firewall, "
                "DNS), then run check again.",
                key="intercom.unreachable",
            )
        return CheckResult(
            "4",
            f"Workspace {workspace_id}: Intercom answered an error to GET /me",
            "fail",
            exc.message,
            "Run check again; if it persists, contact Intercom support with the request id "
            "from the service's log.",
            key="intercom.error",
        )

    async def _guess_workspace(self) -> None:
        """No workspace configured: with a global token, say which workspace it belongs to."""
        token = secret_value(self.settings.intercom.access_token)
        if token is None:
            self.out.append(
                CheckResult(
                    "4",
                    "No Intercom access token to check (no workspace, no intercom.access_token)",
                    "skip",
                    key="intercom.token_skipped",
                )
            )
            return
        me = await self.me_task(token, self.settings.intercom.region)
        if isinstance(me, IntercomError):
            self.out.append(
                self._token_failure(
                    "(global)",
                    "the global access token (intercom.access_token)",
                    "intercom.access_token",
                    self.settings.intercom.region,
                    me,
                )
            )
            return
        app = app_of(me)
        id_code = str(app.get("id_code") or "")
        self.out.append(
            CheckResult(
                "4",
                "Intercom accepts the global access token (intercom.access_token)",
                "ok",
                key="intercom.token_ok",
            )
        )
        if id_code:
            self.out.append(
                CheckResult(
                    "6",
                    f"The access token belongs to workspace {id_code}, which is not configured",
                    "fail",
                    "No workspace is configured, so the service would refuse every request.",
                    f"Add a [workspaces.{id_code}] section to the settings.",
                    key="intercom.workspace_suggested",
                )
            )


def app_of(me: dict[str, Any]) -> dict[str, Any]:
    app = me.get("app")
    return app if isinstance(app, dict) else {}


def intercom_skipped() -> list[CheckResult]:
    return [
        CheckResult(step, f"{title}: not checked (--itop-only)", "skip", key="intercom.skipped")
        for step, title in (
            ("2", "Intercom app"),
            ("3", "Client secret"),
            ("4", "Intercom access token"),
            ("5", "Canvas Kit and webhook URLs"),
            ("6", "Workspaces"),
        )
    ]
