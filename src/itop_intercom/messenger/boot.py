"""The Messenger boot settings for one person and workspace, as the iTop module renders them.

With a Messenger secret, the identity (`user_id`, `email`, `itop_contact_class`,
`itop_contact_id`) travels signed: inside the JWT (`intercom_user_jwt`) and nowhere else, so the
browser cannot change it, or beside a `user_hash` for workspaces on the legacy scheme. Without a
secret the Messenger boots as the PHP extension's did (unsigned attributes) and `check` warns.
The secret itself never leaves the service: only what it signs does.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import Any

from itop_intercom.intercom.regions import messenger_api_base
from itop_intercom.messenger.request import ItopPerson
from itop_intercom.messenger.tokens import company_id, jwt_hs256, user_hash, user_id
from itop_intercom.settings.model import ResolvedWorkspace, Settings

#: The module renders a cached answer until this long before its token expires, so that a page
#: never boots the Messenger with a token about to lapse.
EXPIRY_MARGIN_SECONDS = 300


def boot_answer(
    settings: Settings,
    workspace: ResolvedWorkspace,
    person: ItopPerson,
    *,
    shared_key: str,
    now: float | None = None,
) -> dict[str, Any]:
    issued = int(time.time() if now is None else now)
    messenger = settings.messenger
    expires = issued + messenger.token_seconds
    uid = user_id(messenger.user_id_template, person.class_, person.id)
    identity: dict[str, Any] = {
        "user_id": uid,
        "email": person.email,
        "itop_contact_class": person.class_,
        "itop_contact_id": person.id,
    }
    boot: dict[str, Any] = {
        "app_id": workspace.id,
        "api_base": messenger_api_base(workspace.region),
        "name": person.name,
    }
    if person.org_id:
        boot["company"] = {
            "company_id": company_id(messenger.company_id_template, person.org_id),
            "name": person.org_name,
        }
    secret = workspace.messenger_secret
    if secret is not None and workspace.messenger_security == "jwt":
        claims = {**identity, "iat": issued, "exp": expires}
        boot["intercom_user_jwt"] = jwt_hs256(claims, secret.get_secret_value())
    elif secret is not None:
        boot.update(identity)
        boot["user_hash"] = user_hash(secret.get_secret_value(), uid)
    else:
        boot.update(identity)
    return {
        "status": "boot",
        "workspace": workspace.id,
        "widget_url": messenger.widget_url.replace("{app_id}", workspace.id),
        "settings": boot,
        "verified": secret is not None,
        "marker": session_marker(shared_key, workspace.id, uid),
        "cache_seconds": max(0, messenger.token_seconds - EXPIRY_MARGIN_SECONDS),
    }


def session_marker(shared_key: str, workspace_id: str, uid: str) -> str:
    """An opaque tag of (workspace, person) the snippet keeps in the browser: when the next page
    shows another tag (another user logged in), the Messenger is shut down before booting, and
    the previous person's id is never readable from the browser's storage."""
    message = f"marker\n{workspace_id}\n{uid}".encode()
    return hmac.new(shared_key.encode(), message, hashlib.sha256).hexdigest()[:32]
