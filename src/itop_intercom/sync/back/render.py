"""The messages the back-sync posts, and the marker that recognises them afterwards.

Every post with a body ends with a small reference line: the ticket's ref, linking to the ticket
(the portal page for replies the end user reads, the back office for notes). The link's fragment
is the marker, `#itop-<op id>-<kind>`: it names the iTop change op and the kind of post, is
invisible in the text, and survives Intercom's HTML handling because links are kept. After a
crash between the post and its bookkeeping, the sender looks for it in the conversation's parts
before posting again.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import Any, Final, Literal

from itop_intercom.sync.back.html import has_text, to_intercom

Kind = Literal["reply", "note", "status", "resolution", "close", "reopen"]

#: The Intercom call of each kind: a reply (`comment`), a `note`, or closing / opening.
MESSAGE_TYPES: Final[Mapping[str, str]] = {
    "reply": "comment",
    "note": "note",
    "status": "note",
    "resolution": "comment",
    "close": "close",
    "reopen": "open",
}
#: Several posts of one change go out in this order (the note before the reply, the state last).
KIND_RANK: Final[Mapping[str, int]] = {
    "reply": 0,
    "note": 1,
    "status": 2,
    "resolution": 3,
    "close": 4,
    "reopen": 4,
}

_TEXTS: Final[Mapping[str, Mapping[str, str]]] = {
    "en": {
        "status": "{ref} is now {status}",
        "solution": "Solution: {solution}",
        "resolved_reply": "Your request {ref} has been resolved.",
        "wrote": "{name} wrote in iTop:",
        "private": "Private note in iTop",
    },
    "fr": {
        "status": "{ref} est maintenant {status}",
        "solution": "Solution : {solution}",
        "resolved_reply": "Votre demande {ref} a été résolue.",
        "wrote": "{name} a écrit dans iTop :",
        "private": "Note privée dans iTop",
    },
}

_STATUS_LABELS: Final[Mapping[str, Mapping[str, str]]] = {
    "en": {
        "new": "New",
        "escalated_tto": "Escalated (TTO)",
        "assigned": "Assigned",
        "escalated_ttr": "Escalated (TTR)",
        "waiting_for_approval": "Waiting for approval",
        "approved": "Approved",
        "rejected": "Rejected",
        "pending": "Pending",
        "dispatched": "Dispatched",
        "redispatched": "Redispatched",
        "resolved": "Resolved",
        "closed": "Closed",
    },
    "fr": {
        "new": "Nouveau",
        "escalated_tto": "Escaladé (TTO)",
        "assigned": "Assigné",
        "escalated_ttr": "Escaladé (TTR)",
        "waiting_for_approval": "En attente d'approbation",
        "approved": "Approuvé",
        "rejected": "Rejeté",
        "pending": "En attente",
        "dispatched": "Transmis",
        "redispatched": "Retransmis",
        "resolved": "Résolu",
        "closed": "Fermé",
    },
}


def texts(language: str) -> Mapping[str, str]:
    return _TEXTS.get(language, _TEXTS["en"])


def status_label(code: str, language: str) -> str:
    labels = _STATUS_LABELS.get(language, _STATUS_LABELS["en"])
    return labels.get(code) or code.replace("_", " ").capitalize()


def marker(op_id: int, kind: str) -> str:
    return f"itop-{int(op_id)}-{kind}"


def reference(payload: dict[str, Any], op_id: int, kind: str) -> str:
    url = f"{payload.get('ticket_url') or ''}#{marker(op_id, kind)}"
    ref = html.escape(str(payload.get("ticket_ref") or ""))
    return f'<p><a href="{html.escape(url, quote=True)}">{ref or "iTop"}</a></p>'


def entry_body(itop_html: str) -> str:
    """The body of a case-log entry, cleaned for Intercom ("" when nothing is left)."""
    body = to_intercom(itop_html)
    return body if has_text(body) or "<a " in body else ""


def status_body(ref: str, status: str, solution_html: str, language: str) -> str:
    """ "R-000123 is now Resolved", then the solution when the ticket is resolved or closed."""
    t = texts(language)
    line = html.escape(t["status"].format(ref=ref, status=status_label(status, language)))
    parts = [f"<p>{line}</p>"]
    solution = to_intercom(solution_html) if status in ("resolved", "closed") else ""
    if solution and has_text(solution):
        label = html.escape(t["solution"].format(solution="").rstrip())
        parts.append(f"<p>{label}</p>")
        parts.append(solution if solution.startswith("<") else f"<p>{solution}</p>")
    return "".join(parts)


def resolution_body(ref: str, solution_html: str, language: str) -> str:
    t = texts(language)
    parts = [f"<p>{html.escape(t['resolved_reply'].format(ref=ref))}</p>"]
    solution = to_intercom(solution_html)
    if solution and has_text(solution):
        parts.append(solution if solution.startswith("<") else f"<p>{solution}</p>")
    return "".join(parts)


def final_body(
    payload: dict[str, Any], op_id: int, kind: str, *, attributed: bool, language: str
) -> str:
    """What is posted: (the author's name when the admin is not them), the body, the reference."""
    parts = []
    if not attributed and payload.get("author_name") and kind in ("reply", "note"):
        wrote = texts(language)["wrote"].format(name=payload["author_name"])
        parts.append(f"<p><strong>{html.escape(wrote)}</strong></p>")
    parts.append(str(payload.get("body") or ""))
    parts.append(reference(payload, op_id, kind))
    return "".join(parts)
