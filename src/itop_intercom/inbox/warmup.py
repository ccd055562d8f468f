"""Reading Home's data in the background when a webhook announces a new message, so that the
agent who opens the conversation next gets Home without waiting for iTop.

The webhook's acknowledgement never waits for it: `after_webhook` only offers the work to the
services' bounded queue (one warm-up at a time, so the agents' screens and the sync keep
iTop's few workers; a full queue drops the offer). Nothing is read when Home is already fresh
in the cache. A warm-up reads the contact from Intercom first (its email and iTop attributes,
the same inputs the canvas request will carry; the notification only names the contact), then
Home's data in one iTop round trip, and puts it in the cache. A failure only leaves the cache
cold.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from itop_intercom.errors import NotConfigured
from itop_intercom.inbox import home_data
from itop_intercom.inbox.person import Who
from itop_intercom.intercom.errors import IntercomError
from itop_intercom.intercom.payloads import Contact
from itop_intercom.logs import get_logger
from itop_intercom.messenger.trust import contact_identity
from itop_intercom.settings.model import ResolvedWorkspace

if TYPE_CHECKING:
    from itop_intercom.runtime import Services

log = get_logger("itop_intercom.inbox.warmup")

#: Authors whose email is the contact's (an admin or a bot writes to the contact).
_CONTACT_AUTHORS = frozenset({"user", "lead", "contact"})


def after_webhook(services: Services, workspace: ResolvedWorkspace, data: dict[str, Any]) -> bool:
    """Offer a warm-up of Home for a stored notification's conversation; True when queued.

    Reads the few fields it needs from the (already verified and stored) notification without
    validating it again: this runs before the acknowledgement is sent."""
    item = _dict(_dict(data.get("data")).get("item"))
    conversation_id = item.get("id")
    if item.get("type") != "conversation" or not isinstance(conversation_id, str | int):
        return False
    conversation_id = str(conversation_id)
    if not conversation_id or services.home_cache.get(workspace.id, conversation_id):
        return False
    refs = _dict(item.get("contacts")).get("contacts")
    contact_ids = [_dict(ref).get("id") for ref in refs] if isinstance(refs, list) else []
    contact_id = next((str(i) for i in contact_ids if isinstance(i, str | int) and i), None)
    parts = _dict(item.get("conversation_parts")).get("conversation_parts")
    parts = parts if isinstance(parts, list) else []
    authors = [_dict(_dict(part).get("author")) for part in parts]
    authors.append(_dict(_dict(item.get("source")).get("author")))
    email = next(
        (
            str(a["email"]).strip()
            for a in authors
            if a.get("type") in _CONTACT_AUTHORS and isinstance(a.get("email"), str)
        ),
        "",
    )

    async def warm() -> None:
        who = await _who(services, workspace, contact_id, email)
        view = await home_data.load(services, workspace.id, conversation_id, who)
        services.home_cache.put(workspace.id, conversation_id, view)

    return services.warmups.offer(("home", workspace.id, conversation_id), warm)


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


async def _who(
    services: Services, workspace: ResolvedWorkspace, contact_id: str | None, email: str
) -> Who:
    """The contact's person inputs as the canvas request will give them."""
    if contact_id:
        try:
            raw = await services.intercom(workspace).get_contact(contact_id)
            contact = Contact.model_validate(raw)
        except (IntercomError, NotConfigured, ValidationError) as exc:
            log.info("warm-up without the contact", error=type(exc).__name__)
        else:
            template = services.settings.messenger.user_id_template
            identity = contact_identity(contact, workspace, template)
            return Who(identity, (contact.email or "").strip())
    return Who(None, email)
