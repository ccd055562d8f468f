"""Whether a contact's iTop identity proves who chats, or is only a hint.

A contact's `custom_attributes` (`itop_contact_class` / `itop_contact_id`) can be set by anyone
from a browser with `Intercom('update', …)`, unless the workspace enforces Messenger security.
The contact's `external_id` is the `user_id` the Messenger booted with; when the workspace has a
Messenger secret AND Intercom enforces it (`messenger_enforced`), Intercom only accepts a user id
signed by this service, so an `external_id` built with our template identifies the person. Every
other case is a hint: the Inbox uses it only if that person's email is the contact's email.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from itop_intercom.intercom.payloads import Contact
from itop_intercom.messenger.tokens import parse_user_id
from itop_intercom.settings.model import ResolvedWorkspace

Trust = Literal["trusted", "hint"]


@dataclass(frozen=True)
class ContactIdentity:
    person_class: str
    person_id: int
    trust: Trust


def contact_identity(
    contact: Contact | None, workspace: ResolvedWorkspace, user_id_template: str
) -> ContactIdentity | None:
    if contact is None:
        return None
    signed = workspace.messenger_secret is not None and workspace.messenger_enforced
    if signed and contact.external_id:
        parsed = parse_user_id(user_id_template, contact.external_id.strip())
        if parsed is not None:
            return ContactIdentity(parsed[0], parsed[1], "trusted")
    hint = _custom_attributes(contact)
    if hint is None:
        return None
    return ContactIdentity(hint[0], hint[1], "hint")


def _custom_attributes(contact: Contact) -> tuple[str, int] | None:
    attributes = contact.custom_attributes or {}
    class_ = attributes.get("itop_contact_class")
    raw_id = attributes.get("itop_contact_id")
    if not class_ or raw_id in (None, ""):
        return None
    try:
        person_id = int(str(raw_id))
    except ValueError:
        return None
    if not str(class_).isidentifier() or person_id <= 0:
        return None
    return str(class_), person_id
