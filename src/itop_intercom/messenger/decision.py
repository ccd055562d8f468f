"""Who gets the Messenger, and for which workspace.

The rules of the PHP extension: the portal must be enabled (`backoffice` is the console), one of
the user's profiles must be allowed (no allowed profile listed: everyone), and the first
workspace, in the settings' order, whose scope OQL returns at least one object for that user
wins. A workspace without a scope is never offered. iTop's REST API always runs as its token
user, so the scope is evaluated by the iTop module inside the user's own session (with the user's
rights); the service asks for the results it lacks and decides from them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from itop_intercom.messenger.request import BootRequest, scope_key
from itop_intercom.settings.model import Settings

Refusal = Literal["portal", "profile", "no_person", "scope"]


@dataclass(frozen=True)
class Scope:
    key: str
    oql: str


@dataclass(frozen=True)
class Decision:
    workspace_id: str | None = None
    refusal: Refusal | None = None
    evaluate: list[Scope] = field(default_factory=list)


def decide(settings: Settings, request: BootRequest) -> Decision:
    messenger = settings.messenger
    if request.portal not in messenger.enabled_portals:
        return Decision(refusal="portal")
    allowed = messenger.allowed_profiles
    if allowed and not set(allowed) & set(request.user.profiles):
        return Decision(refusal="profile")
    if request.person is None:
        # Without a person there is no stable identity to sign.
        return Decision(refusal="no_person")
    missing: list[Scope] = []
    for workspace_id, workspace in settings.workspaces.items():
        oql = workspace.scope.strip()
        if not oql:
            continue
        key = scope_key(oql)
        result = request.scopes.get(key)
        if result is None:
            missing.append(Scope(key, oql))
        elif result and not missing:
            return Decision(workspace_id=workspace_id)
        elif result:
            # An earlier scope is unknown: it might win, so it must be evaluated first.
            break
    if missing:
        return Decision(evaluate=missing)
    return Decision(refusal="scope")
