"""Sample conversations for the preview page, shaped as Intercom's canvas requests carry them.

They exercise what the app does with a real conversation: an opening message with a subject,
the end user's and agents' replies (public log), a private note (private log), a bot part
(skipped) and an attachment. Times are fixed, a few minutes apart, so that the copied history
reads naturally.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

_START = 1_767_225_600  # 2026-01-01 00:00:00 UTC


def _author(kind: str, name: str, email: str, author_id: str) -> dict[str, Any]:
    return {"type": kind, "id": author_id, "name": name, "email": email}


def _part(
    part_id: int,
    part_type: str,
    body: str | None,
    minutes: int,
    author: dict[str, Any],
    attachments: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    created = _START + minutes * 60
    return {
        "type": "conversation_part",
        "id": str(part_id),
        "part_type": part_type,
        "body": body,
        "created_at": created,
        "updated_at": created,
        "notified_at": created,
        "author": author,
        "attachments": attachments or [],
        "redacted": False,
    }


@dataclass(frozen=True)
class Sample:
    id: str
    title: str
    subject: str
    messages: tuple[tuple[str, str, str | None], ...]
    """(part type, author kind, body): the opening message first."""

    def conversation(
        self, conversation_id: str, contact: dict[str, Any], agent: dict[str, Any]
    ) -> dict[str, Any]:
        """The conversation object of a canvas request, with every part."""
        user = _author("user", contact.get("name") or "", contact.get("email") or "", "contact")
        bot = _author("bot", "Fin", "", "bot")
        admin = _author("admin", agent["name"], agent.get("email") or "", agent["id"])
        by_kind = {"user": user, "admin": admin, "bot": bot}
        opening = self.messages[0]
        parts = [
            _part(1000 + index, part_type, body, index * 3, by_kind[kind])
            for index, (part_type, kind, body) in enumerate(self.messages[1:], start=1)
        ]
        return copy.deepcopy(
            {
                "type": "conversation",
                "id": conversation_id,
                "created_at": _START,
                "updated_at": _START + len(parts) * 180,
                "title": None,
                "state": "open",
                "source": {
                    "type": "conversation",
                    "id": f"{conversation_id}-source",
                    "delivered_as": "customer_initiated",
                    "subject": self.subject,
                    "body": opening[2],
                    "author": by_kind[opening[1]],
                    "attachments": [],
                    "url": None,
                    "redacted": False,
                },
                "contacts": {
                    "type": "contact.list",
                    "contacts": [{"type": "contact", "id": "contact"}],
                },
                "conversation_parts": {
                    "type": "conversation_part.list",
                    "conversation_parts": parts,
                    "total_count": len(parts),
                },
            }
        )


SAMPLES: tuple[Sample, ...] = (
    Sample(
        "printer",
        "Printer out of order (English)",
        "The printer on the 2nd floor is out of order",
        (
            (
                "source",
                "user",
                "<p>Hello, the printer on the 2nd floor prints blank pages since this morning.</p>",
            ),
            ("comment", "bot", "<p>Thanks! An agent will answer shortly.</p>"),
            ("comment", "admin", "<p>Hi! Did you try another tray?</p>"),
            ("comment", "user", "<p>Yes, same result with both trays.</p>"),
            ("note", "admin", "<p>Looks like the toner. Check the stock.</p>"),
        ),
    ),
    Sample(
        "vpn",
        "Accès VPN (français)",
        "",
        (
            (
                "source",
                "user",
                "<p>Bonjour, je n'arrive plus à me connecter au VPN depuis "
                "la mise à jour de mon poste.</p>",
            ),
            ("comment", "admin", "<p>Bonjour, quel message d'erreur voyez-vous ?</p>"),
            ("comment", "user", "<p>« Certificat expiré ».</p>"),
        ),
    ),
)


def sample(sample_id: str) -> Sample:
    for candidate in SAMPLES:
        if candidate.id == sample_id:
            return candidate
    return SAMPLES[0]
