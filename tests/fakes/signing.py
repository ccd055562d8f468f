"""Builders of signed Intercom requests for tests, based on the example payloads.

Bodies start from the payloads in `tests/data/intercom/` (written for this project in the shapes
Intercom documents) so that tests exercise realistic shapes, then get the fields a test cares
about. They are serialised the way Intercom's Rails
stack does it: UTF-8 text kept as is, `<`, `>` and `&` escaped as `\\u003c`, `\\u003e` and
`\\u0026`, and spacing that `json.dumps` would not reproduce. Parsing and re-serialising such a
body changes its bytes, so a signature check that does not use the raw body fails these tests.

The signatures are computed here with `hmac` directly, not with the code under test.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, TypedDict, Unpack

from tests.reference import DATA

#: The admin of `rest_api/me.json` and of the Canvas Kit requests.
DEFAULT_ADMIN_ID = "5130001"
DEFAULT_ADMIN_NAME = "Aline Martin"
DEFAULT_ADMIN_EMAIL = "aline.martin@example.com"
#: The contact of `rest_api/contact.json` and of the Canvas Kit requests.
DEFAULT_CONTACT_ID = "65f1c0de4a7b9e0012ab34cd"
DEFAULT_CONTACT_NAME = "Claire Dubois"
#: Where the example payloads live.
EXAMPLES = DATA / "intercom"


@functools.lru_cache(maxsize=128)
def _read_text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def load_example(relpath: str) -> dict[str, Any]:
    """A fresh copy of an example payload, e.g. `load_example("rest_api/me.json")`."""
    value = json.loads(_read_text(EXAMPLES / relpath))
    if not isinstance(value, dict):
        raise TypeError(f"{relpath} is not a JSON object")
    return value


def make_attachment(
    name: str,
    url: str,
    *,
    content_type: str = "application/pdf",
    filesize: int = 12345,
) -> dict[str, Any]:
    """An attachment of a part, as in the OpenAPI `part_attachment` schema."""
    return {
        "type": "upload",
        "name": name,
        "url": url,
        "content_type": content_type,
        "filesize": filesize,
        "width": None,
        "height": None,
    }


def make_part(
    part_id: str | int,
    part_type: str,
    body: str | None,
    created_at: int,
    author_type: str,
    author_email: str | None,
    author_name: str | None,
    attachments: Sequence[Mapping[str, Any]] = (),
    *,
    author_id: str | None = None,
    app_package_code: str | None = None,
) -> dict[str, Any]:
    """A conversation part in the 2.x webhook shape (part ids are kept as given: int or str)."""
    return {
        "type": "conversation_part",
        "id": part_id,
        "part_type": part_type,
        "body": body,
        "created_at": created_at,
        "updated_at": created_at,
        "notified_at": created_at,
        "assigned_to": None,
        "author": {
            "id": author_id or f"{author_type}-{author_email or author_name or 'anonymous'}",
            "type": author_type,
            "name": author_name,
            "email": author_email,
            "from_ai_agent": False,
            "is_ai_answer": False,
        },
        "attachments": [dict(a) for a in attachments],
        "external_id": None,
        "redacted": False,
        "metadata": {},
        "email_message_metadata": None,
        "state": "open",
        "tags": [],
        "event_details": {},
        "app_package_code": app_package_code,
    }


def canvas_initialize_body(
    workspace_id: str,
    *,
    conversation_id: str,
    contact_email: str | None,
    contact_custom_attributes: Mapping[str, Any] | None = None,
    admin_email: str = DEFAULT_ADMIN_EMAIL,
    parts: Sequence[Mapping[str, Any]] | None = None,
    use_customer_key: bool = False,
    admin_id: str = DEFAULT_ADMIN_ID,
    admin_name: str = DEFAULT_ADMIN_NAME,
    contact_id: str = DEFAULT_CONTACT_ID,
    contact_name: str | None = DEFAULT_CONTACT_NAME,
    workspace_region: str | None = "us",
    source_body: str | None = None,
) -> dict[str, Any]:
    """An Inbox Initialize request. `parts=None` keeps the example's four parts.

    `use_customer_key=True` sends the contact under the older key `customer`.
    """
    body = load_example("canvas_kit/initialize_request.json")
    body["workspace_id"] = workspace_id
    if workspace_region is None:
        body.pop("workspace_region", None)
    else:
        body["workspace_region"] = workspace_region
    body["admin"].update({"id": admin_id, "name": admin_name, "email": admin_email})

    conversation = body["conversation"]
    conversation["id"] = conversation_id
    conversation["contacts"]["contacts"][0]["id"] = contact_id
    if source_body is not None:
        conversation["source"]["body"] = source_body
    if parts is not None:
        conversation["conversation_parts"] = {
            "type": "conversation_part.list",
            "conversation_parts": [copy.deepcopy(dict(p)) for p in parts],
            "total_count": len(parts),
        }
    body["context"]["conversation_id"] = (
        int(conversation_id) if conversation_id.isdigit() else conversation_id
    )

    contact = body.pop("contact")
    contact.update(
        {
            "id": contact_id,
            "email": contact_email,
            "name": contact_name,
            "workspace_id": workspace_id,
            "custom_attributes": dict(contact_custom_attributes or {}),
        }
    )
    body["customer" if use_customer_key else "contact"] = contact
    return body


class CanvasContext(TypedDict, total=False):
    """The optional parts of a Canvas Kit request's context (see `canvas_initialize_body`)."""

    contact_custom_attributes: Mapping[str, Any] | None
    admin_email: str
    parts: Sequence[Mapping[str, Any]] | None
    use_customer_key: bool
    admin_id: str
    admin_name: str
    contact_id: str
    contact_name: str | None
    workspace_region: str | None
    source_body: str | None


def canvas_submit_body(
    workspace_id: str,
    *,
    conversation_id: str,
    contact_email: str | None,
    component_id: str,
    input_values: Mapping[str, Any],
    stored_data: Mapping[str, Any],
    components: Sequence[Mapping[str, Any]] | None = None,
    double_wrap: bool = False,
    **context: Unpack[CanvasContext],
) -> dict[str, Any]:
    """An Inbox Submit request: Initialize's context plus the click and the previous canvas.

    `components=None` keeps the example's canvas; `double_wrap=True` nests the canvas as the
    2.11 schema does (`current_canvas.current_canvas`).
    """
    body = canvas_initialize_body(
        workspace_id, conversation_id=conversation_id, contact_email=contact_email, **context
    )
    example = load_example("canvas_kit/submit_request.json")
    canvas = example["current_canvas"]
    if components is not None:
        canvas["content"] = {"components": [copy.deepcopy(dict(c)) for c in components]}
    canvas["stored_data"] = copy.deepcopy(dict(stored_data))
    body["component_id"] = component_id
    body["input_values"] = copy.deepcopy(dict(input_values))
    body["current_canvas"] = {"current_canvas": canvas} if double_wrap else canvas
    return body


def webhook_body(
    workspace_id: str,
    topic: str,
    conversation_id: str,
    parts: Sequence[Mapping[str, Any]],
    notification_id: str | None = None,
    *,
    created_at: int | None = None,
    first_sent_at: int | None = None,
    delivery_attempts: int = 1,
    contact_id: str = DEFAULT_CONTACT_ID,
) -> dict[str, Any]:
    """A webhook notification in the 2.x shape carrying `parts` (the new parts only, as
    Intercom does). For `topic="ping"` the ping fixture is used and `id` stays null;
    otherwise `notification_id=None` gets a fresh `notif_<uuid>`."""
    if topic == "ping":
        body = load_example("webhooks/ping.json")
        body["app_id"] = workspace_id
        now = created_at or int(time.time())
        body["created_at"] = now
        body["first_sent_at"] = first_sent_at or now
        body["delivery_attempts"] = delivery_attempts
        return body

    body = load_example("webhooks/conversation.user.replied.json")
    body["app_id"] = workspace_id
    body["topic"] = topic
    body["id"] = notification_id or f"notif_{uuid.uuid4()}"
    item = body["data"]["item"]
    item["id"] = conversation_id
    item["contacts"]["contacts"][0]["id"] = contact_id
    item["source"]["author"]["id"] = contact_id
    item["conversation_parts"] = {
        "type": "conversation_part.list",
        "conversation_parts": [copy.deepcopy(dict(p)) for p in parts],
        "total_count": len(parts),
    }
    latest = max((int(p.get("created_at") or 0) for p in parts), default=0)
    created = created_at or latest or int(time.time())
    item["updated_at"] = created
    body["created_at"] = created
    body["first_sent_at"] = first_sent_at or created + 1
    body["delivery_attempts"] = delivery_attempts
    return body


def serialize(body: Mapping[str, Any]) -> bytes:
    """The body as Intercom would send it: UTF-8 kept, `<>&` escaped, unusual spacing."""
    text = json.dumps(body, ensure_ascii=False, separators=(", ", ": "))
    # These three characters can only occur inside JSON strings, so escaping them is safe.
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return text.encode("utf-8")


def signed_canvas(body: Mapping[str, Any], secret: str) -> tuple[bytes, dict[str, str]]:
    """Raw body and headers of a Canvas Kit request (`X-Body-Signature`: hex HMAC-SHA256)."""
    raw = serialize(body)
    signature = hmac.new(secret.encode("utf-8"), raw, hashlib.sha256).hexdigest()
    return raw, {"Content-Type": "application/json", "X-Body-Signature": signature}


def signed_webhook(body: Mapping[str, Any], secret: str) -> tuple[bytes, dict[str, str]]:
    """Raw body and headers of a webhook (`X-Hub-Signature: sha1=<hex HMAC-SHA1>`)."""
    raw = serialize(body)
    signature = hmac.new(secret.encode("utf-8"), raw, hashlib.sha1).hexdigest()
    return raw, {
        "Content-Type": "application/json",
        "Accept": "application/json",
        "User-Agent": "intercom-parrot-service-client/1.0",
        "X-Hub-Signature": f"sha1={signature}",
    }
