"""`check`, step 7: the end users' chat (the iTop module and Messenger security).

- Whether the shared key the iTop module signs with is set (without it the Messenger is off,
  a valid setup for the Inbox app alone: the result says how to turn it on).
- The module's endpoint answers an authentic request at `public_url` (what the module's
  `service_url` usually is): a 401 means the running service has another key.
- Each workspace with a scope has a Messenger secret (else identities are not verified and the
  Inbox only trusts them once the contact's email confirms them), and `messenger_enforced` is
  only claimed with a secret and when Intercom says it enforces it (`GET /me`).
No secret or key is ever part of a result.
"""

from __future__ import annotations

import httpx

from itop_intercom.intercom.client import IntercomClient
from itop_intercom.intercom.errors import IntercomError
from itop_intercom.messenger import signing
from itop_intercom.messenger.routes import PING_PATH
from itop_intercom.ops.doctor.result import CheckResult
from itop_intercom.settings.model import Settings

STEP = "7"
STEP_TITLE = "End users' chat (iTop module)"


async def messenger_checks(
    settings: Settings,
    transport: httpx.AsyncBaseTransport | None = None,
    *,
    intercom: bool = True,
    intercom_transport: httpx.AsyncBaseTransport | None = None,
) -> list[CheckResult]:
    messenger = settings.messenger
    if messenger.shared_key is None:
        return [
            CheckResult(
                STEP,
                "The Messenger in iTop is not used (messenger.shared_key is not set)",
                "ok",
                "To give iTop's users the chat, install the iTop module (itop-intercom "
                "messenger module) and set messenger.shared_key (or messenger.shared_key_file, "
                "or ITOP_INTERCOM_MESSENGER__SHARED_KEY) to a long random value, the same as "
                "shared_key in iTop's configuration.",
                key="messenger.off",
            )
        ]
    out = [await _endpoint(settings, transport), *_workspaces(settings)]
    if intercom:
        for workspace_id in settings.workspaces:
            result = await _enforcement(settings, workspace_id, intercom_transport)
            if result is not None:
                out.append(result)
    return out


async def _endpoint(settings: Settings, transport: httpx.AsyncBaseTransport | None) -> CheckResult:
    if settings.public_url is None:
        return CheckResult(
            STEP,
            "The module's endpoint was not tested: public_url is not set",
            "skip",
            key="messenger.endpoint_skipped",
        )
    url = str(settings.public_url).rstrip("/") + PING_PATH
    assert settings.messenger.shared_key is not None
    key = settings.messenger.shared_key.get_secret_value()
    headers = signing.sign(key, "POST", PING_PATH, b"").as_dict()
    try:
        async with httpx.AsyncClient(transport=transport, timeout=5.0) as client:
            response = await client.post(url, content=b"", headers=headers)
    except httpx.HTTPError as exc:
        return CheckResult(
            STEP,
            f"The module's endpoint {url} did not answer ({type(exc).__name__})",
            "warn",
            "iTop calls this service at the module's service_url; it must answer there.",
            "Start the service (itop-intercom serve) and make sure iTop's server can reach it.",
            key="messenger.endpoint_unreachable",
        )
    if response.status_code == 200:
        return CheckResult(
            STEP,
            f"The module's endpoint answers with the shared key ({url})",
            "ok",
            key="messenger.endpoint_ok",
        )
    if response.status_code == 401:
        return CheckResult(
            STEP,
            f"The service at {url} refuses the shared key",
            "fail",
            "The running service has another messenger.shared_key, or one of the two clocks "
            "is more than messenger.request_max_age_seconds off.",
            "Restart the service with these settings, and keep both machines' clocks in sync "
            "(NTP).",
            key="messenger.endpoint_refused",
        )
    return CheckResult(
        STEP,
        f"The module's endpoint {url} answered HTTP {response.status_code}",
        "fail",
        "A proxy in front of the service may not forward /itop/messenger/.",
        "Forward /itop/messenger/ to the service, like /intercom/.",
        key="messenger.endpoint_http",
    )


def _workspaces(settings: Settings) -> list[CheckResult]:
    out: list[CheckResult] = []
    for workspace_id, ws in settings.workspaces.items():
        if not ws.scope.strip():
            continue
        if ws.messenger_secret is None:
            out.append(
                CheckResult(
                    STEP,
                    f"Workspace {workspace_id}: the Messenger boots without identity verification",
                    "warn",
                    "Without the Messenger's identity-verification secret, anyone can chat "
                    "under another person's name from a browser; the Inbox then only trusts an "
                    "iTop identity that the contact's email confirms.",
                    f"Copy the secret from Intercom (Settings › Messenger › Security) into "
                    f"workspaces.{workspace_id}.messenger_secret (or messenger_secret_file).",
                    key="messenger.no_secret",
                )
            )
        elif not ws.messenger_enforced:
            out.append(
                CheckResult(
                    STEP,
                    f"Workspace {workspace_id}: identities are signed, not yet enforced",
                    "warn",
                    "Until Intercom enforces Messenger security, unsigned sessions are "
                    "accepted, so the Inbox still confirms identities by email.",
                    "Turn on Enforce in Intercom's Messenger security settings, then set "
                    f"workspaces.{workspace_id}.messenger_enforced = true.",
                    key="messenger.not_enforced",
                )
            )
        else:
            out.append(
                CheckResult(
                    STEP,
                    f"Workspace {workspace_id}: identities are signed and enforced",
                    "ok",
                    key="messenger.verified",
                )
            )
        if ws.messenger_enforced and ws.messenger_secret is None:
            out.append(
                CheckResult(
                    STEP,
                    f"Workspace {workspace_id}: messenger_enforced is set without a secret",
                    "fail",
                    "Intercom would refuse every Messenger session this service boots.",
                    f"Set workspaces.{workspace_id}.messenger_secret.",
                    key="messenger.enforced_without_secret",
                )
            )
    return out


async def _enforcement(
    settings: Settings, workspace_id: str, transport: httpx.AsyncBaseTransport | None
) -> CheckResult | None:
    """Compare `messenger_enforced` with what Intercom says (`GET /me`, app.identity_verification):
    claiming enforcement that Intercom does not do would make the Inbox trust user ids that
    anyone can set from a browser."""
    ws = settings.workspace(workspace_id)
    if ws is None or not ws.scope.strip() or ws.access_token is None:
        return None
    api_base = settings.intercom.api_base
    try:
        async with IntercomClient(
            ws.access_token.get_secret_value(),
            region=ws.region,
            api_base=str(api_base) if api_base else None,
            api_version=settings.intercom.api_version,
            timeout=min(settings.intercom.timeout_seconds, 10.0),
            transport=transport,
            max_rate_limit_wait=0,
        ) as client:
            me = await client.me()
    except (IntercomError, httpx.HTTPError):
        return None  # steps 2 and 4 say why Intercom cannot be reached
    app = me.get("app") if isinstance(me.get("app"), dict) else {}
    enforced_in_intercom = app.get("identity_verification") if app else None
    if not isinstance(enforced_in_intercom, bool):
        return None
    if ws.messenger_enforced and not enforced_in_intercom:
        return CheckResult(
            STEP,
            f"Workspace {workspace_id}: messenger_enforced is set, Intercom does not enforce",
            "fail",
            "Intercom reports identity verification off for this workspace, so anyone can "
            "chat under any user id; the Inbox would take such an id as proof.",
            "Turn on Enforce in Intercom's Messenger security settings, or set "
            f"workspaces.{workspace_id}.messenger_enforced = false.",
            key="messenger.enforced_mismatch",
        )
    if enforced_in_intercom and not ws.messenger_enforced and ws.messenger_secret is not None:
        return CheckResult(
            STEP,
            f"Workspace {workspace_id}: Intercom enforces Messenger security",
            "warn",
            "The Inbox still confirms identities by email because messenger_enforced is off.",
            f"Set workspaces.{workspace_id}.messenger_enforced = true.",
            key="messenger.enforce_available",
        )
    return None
