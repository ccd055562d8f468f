"""Payload models against every example payload (ours and, when it is there, Intercom's own)
and the known variations."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from itop_intercom.intercom.payloads import (
    CanvasObject,
    CanvasRequest,
    Conversation,
    ConversationPart,
    OtherItem,
    WebhookNotification,
)
from tests.fakes.signing import (
    EXAMPLES,
    canvas_initialize_body,
    canvas_submit_body,
    load_example,
    make_attachment,
    make_part,
    signed_canvas,
    signed_webhook,
    webhook_body,
)
from tests.reference import reference, shared_dir

#: Intercom's own example payloads: reference material outside the repository.
INTERCOM_EXAMPLES = "intercom/examples"
CONVERSATION_TOPICS = (
    "conversation.user.replied",
    "conversation.admin.replied",
    "conversation.admin.noted",
)


def _examples(kind: str) -> list[Any]:
    """Our payloads of `kind`, then Intercom's (resolved in the test, so that their absence
    is a visible skip rather than fewer parameters)."""
    ours = [
        pytest.param(path, id=f"ours/{path.name}")
        for path in sorted((EXAMPLES / kind).glob("*.json"))
    ]
    folder = shared_dir() / INTERCOM_EXAMPLES / kind
    theirs = [
        pytest.param(path, id=f"intercom/{path.name}") for path in sorted(folder.glob("*.json"))
    ] or [pytest.param(Path(INTERCOM_EXAMPLES) / kind, id=f"intercom/{kind}-not-found")]
    return ours + theirs


def _example_path(path: Path) -> Path:
    return path if path.is_absolute() else reference(str(path))


def test_our_examples_are_there() -> None:
    assert len(list((EXAMPLES / "canvas_kit").glob("*.json"))) >= 6
    assert len(list((EXAMPLES / "webhooks").glob("*.json"))) >= 6


@pytest.mark.parametrize("path", _examples("canvas_kit"))
def test_every_canvas_kit_example_parses(path: Path) -> None:
    raw = _example_path(path).read_bytes()
    data = json.loads(raw)
    if "workspace_id" in data:  # a request Intercom sends us
        request = CanvasRequest.model_validate_json(raw)
        assert request.workspace_id
        assert request.admin is not None and request.admin.id
        assert request.conversation is not None and request.conversation.parts
        assert request.contact is not None and request.contact.email
    elif "canvas" in data:  # a response (initialize / submit / gallery)
        canvas = CanvasObject.model_validate(data["canvas"])
        assert canvas.content is not None and canvas.content["components"]
    else:  # a bare content object, or the docs' wrapped current_canvas
        canvas = CanvasObject.model_validate(data)
        assert canvas.content is not None and canvas.content["components"]


@pytest.mark.parametrize("path", _examples("webhooks"))
def test_every_webhook_example_parses(path: Path) -> None:
    notification = WebhookNotification.model_validate_json(_example_path(path).read_bytes())
    assert notification.app_id
    assert notification.topic
    if notification.topic in CONVERSATION_TOPICS:
        conversation = notification.conversation
        assert conversation is not None and conversation.id
        assert len(notification.parts) == 1
        part = notification.parts[0]
        assert part.id and part.part_type in ("comment", "note", "assignment")
        assert part.author is not None and part.author.type in ("user", "lead", "admin")
        assert part.created_at
        assert conversation.source is not None
        assert conversation.contact_ids
    else:
        assert notification.conversation is None
        assert notification.parts == []
        assert isinstance(notification.data.item if notification.data else None, OtherItem)


def test_ping_has_no_id() -> None:
    notification = WebhookNotification.model_validate(load_example("webhooks/ping.json"))
    assert notification.is_ping
    assert notification.id is None
    assert notification.first_sent_at == 1700002000


def test_v2_attachment_fields() -> None:
    notification = WebhookNotification.model_validate(
        load_example("webhooks/conversation.admin.noted.json")
    )
    (part,) = notification.parts
    (attachment,) = part.attachments
    assert attachment.name == "jam-report.pdf"
    assert attachment.url and attachment.url.startswith("https://")
    assert attachment.content_type == "application/pdf"
    assert attachment.filesize == 20480
    assert part.author is not None and part.author.email == "bruno.petit@example.com"
    assert notification.delivery_attempts == 1
    assert notification.created_at == 1700002000


def test_v2_blank_email_is_none() -> None:
    notification = WebhookNotification.model_validate(
        load_example("webhooks/conversation.user.replied.json")
    )
    (part,) = notification.parts
    assert part.author is not None and part.author.email is None


def test_legacy_shape_source_contacts_and_authors() -> None:
    notification = WebhookNotification.model_validate(
        load_example("webhooks/conversation.admin.noted.v1.json")
    )
    conversation = notification.conversation
    assert conversation is not None
    assert conversation.id == "880066001"
    # conversation_message becomes source; its author (the user) gets the user's email.
    assert conversation.source is not None
    assert conversation.source.body == "<p>I cannot log in to the portal.</p>"
    assert conversation.source.author is not None
    assert conversation.source.author.email == "paul.girard@example.net"
    assert conversation.contact_ids == ["65f1c0de4a7b9e0012ab99ef"]
    (part,) = conversation.parts
    assert part.part_type == "note"
    assert part.author is not None and part.author.type == "admin" and part.author.email is None


def test_legacy_admin_replied_is_an_assignment_part() -> None:
    notification = WebhookNotification.model_validate(
        load_example("webhooks/conversation.admin.replied.v1.json")
    )
    (part,) = notification.parts
    assert part.part_type == "assignment"
    assert part.body == "<p>Hello Paul, I am looking into it.</p>"


def test_customer_alias() -> None:
    body = canvas_initialize_body(
        "ws1",
        conversation_id="42",
        contact_email="joe@example.com",
        contact_custom_attributes={"itop_contact_class": "Person", "itop_contact_id": 7},
        use_customer_key=True,
    )
    assert "contact" not in body and "customer" in body
    request = CanvasRequest.model_validate(body)
    assert request.contact is not None
    assert request.contact.email == "joe@example.com"
    assert request.contact.custom_attributes == {
        "itop_contact_class": "Person",
        "itop_contact_id": 7,
    }


def test_contact_wins_over_customer() -> None:
    body = canvas_initialize_body("ws1", conversation_id="42", contact_email="new@example.com")
    body["customer"] = {"id": "old", "email": "old@example.com"}
    request = CanvasRequest.model_validate(body)
    assert request.contact is not None and request.contact.email == "new@example.com"


def test_initialize_has_empty_stored_data_and_region() -> None:
    request = CanvasRequest.model_validate(
        canvas_initialize_body("ws1", conversation_id="42", contact_email=None)
    )
    assert request.stored_data() == {}
    assert request.input_values == {}
    assert not request.is_submit
    assert request.region == "us"
    assert request.contact is not None and request.contact.email is None


@pytest.mark.parametrize("double_wrap", [False, True])
def test_submit_stored_data_flat_or_double_wrapped(double_wrap: bool) -> None:
    body = canvas_submit_body(
        "ws1",
        conversation_id="42",
        contact_email="joe@example.com",
        component_id="create",
        input_values={"title": "Printer", "urgency": "2", "tags": ["a", "b"]},
        stored_data={"screen": "create", "ticket_ids": [1, 2]},
        double_wrap=double_wrap,
    )
    if double_wrap:
        assert set(body["current_canvas"]) == {"current_canvas"}
    request = CanvasRequest.model_validate(body)
    assert request.is_submit
    assert request.component_id == "create"
    assert request.input_values["tags"] == ["a", "b"]
    assert request.stored_data() == {"screen": "create", "ticket_ids": [1, 2]}
    assert request.current_canvas is not None and request.current_canvas.content is not None


def test_submit_example_stored_data() -> None:
    request = CanvasRequest.model_validate(load_example("canvas_kit/submit_request.json"))
    assert request.stored_data() == {"screen": "search", "conversation_id": "1042"}
    assert request.input_values == {"ticket_ref": "R-000123", "scope": ["open"]}


def test_current_canvas_without_stored_data() -> None:
    body = load_example("canvas_kit/submit_request.json")
    body["current_canvas"] = load_example("canvas_kit/current_canvas_without_stored_data.json")
    request = CanvasRequest.model_validate(body)
    assert request.stored_data() == {}
    body["current_canvas"] = None
    assert CanvasRequest.model_validate(body).stored_data() == {}


@pytest.mark.parametrize("value", [None, ""])
def test_missing_workspace_id_fails(value: str | None) -> None:
    body = canvas_initialize_body("ws1", conversation_id="42", contact_email="joe@example.com")
    if value is None:
        del body["workspace_id"]
    else:
        body["workspace_id"] = value
    with pytest.raises(ValidationError):
        CanvasRequest.model_validate(body)


def test_signed_raw_bodies_parse() -> None:
    raw, _ = signed_canvas(
        canvas_initialize_body("ws1", conversation_id="42", contact_email="zoë@example.com"), "s"
    )
    request = CanvasRequest.model_validate_json(raw)
    assert request.contact is not None and request.contact.email == "zoë@example.com"
    part = make_part("5", "comment", "<p>a & b</p>", 1700000000, "user", "u@example.com", "U")
    raw, _ = signed_webhook(webhook_body("ws1", "conversation.user.replied", "42", [part]), "s")
    notification = WebhookNotification.model_validate_json(raw)
    assert notification.parts[0].body == "<p>a & b</p>"


def test_int_part_and_conversation_ids_coerced() -> None:
    request = CanvasRequest.model_validate(load_example("canvas_kit/initialize_request.json"))
    assert request.conversation is not None
    assert [p.id for p in request.conversation.parts] == ["1", "2", "3", "4"]
    assert request.conversation.admin_assignee_id == "5130002"

    body = webhook_body(
        "ws1",
        "conversation.admin.noted",
        "1",
        [make_part(37358200002, "note", "x", 1700000000, "admin", "a@example.com", "A")],
    )
    body["data"]["item"]["id"] = 215472621202693
    notification = WebhookNotification.model_validate(body)
    assert notification.conversation is not None
    assert notification.conversation.id == "215472621202693"
    assert notification.parts[0].id == "37358200002"


def test_part_model_details() -> None:
    url = "https://downloads.intercomcdn.com/i/o/1/a.png"
    part = ConversationPart.model_validate(
        make_part(
            7,
            "comment",
            "hi",
            1700000000,
            "user",
            "u@example.com",
            "U",
            [make_attachment("a.png", url, content_type="image/png", filesize=3)],
        )
    )
    assert part.id == "7"
    assert part.attachments[0].url == url
    assert part.model_extra is not None and part.model_extra["state"] == "open"
    with pytest.raises(ValidationError):
        ConversationPart.model_validate({"part_type": "comment"})
    with pytest.raises(ValidationError):
        ConversationPart.model_validate({"id": True})
    nulls = ConversationPart.model_validate({"id": "1", "attachments": None, "author": None})
    assert nulls.attachments == []


def test_webhook_requires_app_id_and_topic() -> None:
    body = webhook_body("ws1", "conversation.user.replied", "1", [])
    for key in ("app_id", "topic"):
        broken = dict(body)
        del broken[key]
        with pytest.raises(ValidationError):
            WebhookNotification.model_validate(broken)


def test_conversation_item_needs_an_id() -> None:
    body = webhook_body("ws1", "conversation.user.replied", "1", [])
    del body["data"]["item"]["id"]
    with pytest.raises(ValidationError):
        WebhookNotification.model_validate(body)


def test_rest_conversation_parses() -> None:
    conversation = Conversation.model_validate(load_example("rest_api/conversation.json"))
    assert conversation.id == "1042"
    assert conversation.conversation_parts is not None
    assert len(conversation.parts) == conversation.conversation_parts.total_count
