"""Checks of the settings alone (no network): what is missing or cannot work."""

from __future__ import annotations

from itop_intercom.ops.doctor.result import CheckResult
from itop_intercom.ops.doctor.texts import safe_url, secret_value
from itop_intercom.settings.model import Settings


def settings_checks(settings: Settings, *, itop_only: bool) -> list[CheckResult]:
    out: list[CheckResult] = []
    if settings.itop.url is None:
        out.append(
            CheckResult(
                "1",
                "The iTop URL is not set (itop.url)",
                "fail",
                "The service does not know where iTop is.",
                "Set itop.url to iTop's application root, the address you open iTop with, "
                "for example https://itop.example.com/ (the folder that contains webservices/).",
                key="settings.itop_url_missing",
            )
        )
    if secret_value(settings.itop.token) is None:
        out.append(
            CheckResult(
                "1",
                "The iTop token is not set (itop.token)",
                "fail",
                "The service needs the token of an iTop token-based user to call iTop's REST API.",
                "In iTop, open the token-based user (Administration › User accounts), copy its "
                "token, and put it in itop.token, itop.token_file or the environment variable "
                "ITOP_INTERCOM_ITOP__TOKEN.",
                key="settings.itop_token_missing",
            )
        )
    if itop_only:
        return out

    if not settings.workspaces:
        out.append(
            CheckResult(
                "6",
                "No Intercom workspace is configured (workspaces)",
                "fail",
                "Every request from Intercom names its workspace, and the service answers only "
                "the workspaces listed in the settings.",
                "Add a [workspaces.<workspace id>] section; the workspace id is the part after "
                "/a/apps/ in the address of your Intercom Inbox.",
                key="settings.no_workspace",
            )
        )
    for workspace_id in sorted(settings.workspaces):
        ws = settings.workspace(workspace_id)
        if ws is None:  # pragma: no cover - the id comes from the same map
            continue
        own = settings.workspaces[workspace_id]
        secret = secret_value(ws.client_secret)
        if secret is None:
            out.append(
                CheckResult(
                    "3",
                    f"Workspace {workspace_id} has no client secret",
                    "fail",
                    "Without the Intercom app's client secret the service cannot check the "
                    "signature of what Intercom sends, so it refuses every Inbox request and "
                    "webhook.",
                    "In the Intercom Developer Hub, open the app › Configure › Basic information, "
                    f"copy the client secret, and put it in workspaces.{workspace_id}"
                    ".client_secret (or intercom.client_secret for all workspaces).",
                    key="settings.client_secret_missing",
                )
            )
        else:
            source = "its own" if secret_value(own.client_secret) else "the global"
            out.append(
                CheckResult(
                    "3",
                    f"Workspace {workspace_id} has a client secret ({source} one)",
                    "ok",
                    "It cannot be tested from here: a wrong secret shows as refused signatures "
                    "in the service's log when Intercom calls.",
                    key="settings.client_secret_present",
                )
            )
        token = secret_value(ws.access_token)
        if token is None:
            out.append(
                CheckResult(
                    "4",
                    f"Workspace {workspace_id} has no access token",
                    "fail",
                    "Without the Intercom app's access token the service cannot read "
                    "conversations nor post notes and replies.",
                    "In the Intercom Developer Hub, open the app › Configure › Authentication, "
                    f"copy the access token, and put it in workspaces.{workspace_id}"
                    ".access_token (or intercom.access_token for all workspaces).",
                    key="settings.access_token_missing",
                )
            )
        elif secret is not None and secret == token:
            out.append(
                CheckResult(
                    "3",
                    f"Workspace {workspace_id} has the same value as client secret and as "
                    "access token",
                    "warn",
                    "They are two different values in the Developer Hub; one of them was "
                    "probably pasted twice.",
                    "Copy the client secret (Basic information) and the access token "
                    "(Authentication) again, each into its own setting.",
                    key="settings.secret_equals_token",
                )
            )

    if settings.public_url is None:
        out.append(
            CheckResult(
                "5",
                "The service's public URL is not set (public_url)",
                "warn",
                "The service works without it, but it cannot print the Initialize, Submit and "
                "webhook URLs to paste in Intercom, nor build links to itself.",
                "Set public_url to the https address where Intercom reaches this service, then "
                "run `itop-intercom urls`.",
                key="settings.public_url_missing",
            )
        )
    elif settings.public_url.scheme != "https":
        out.append(
            CheckResult(
                "5",
                f"The service's public URL is not https ({safe_url(str(settings.public_url))})",
                "warn",
                "Intercom only calls https URLs for Canvas Kit and webhooks.",
                "Put the service behind an https reverse proxy (or a tunnel while testing) and "
                "set public_url to its https address.",
                key="settings.public_url_not_https",
            )
        )
    else:
        out.append(
            CheckResult(
                "5",
                f"The service's public URL is {safe_url(str(settings.public_url))}",
                "ok",
                "Run `itop-intercom urls` for the Initialize, Submit and webhook URLs to paste in "
                "the Intercom Developer Hub.",
                key="settings.public_url_ok",
            )
        )
    return out
