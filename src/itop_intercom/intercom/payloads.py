"""Typed views of what Intercom sends us: Canvas Kit requests and webhook notifications.

The models are deliberately lenient. Intercom's payloads differ between API versions (1.x
webhooks carry `user` and `conversation_message`; 2.x carry `contacts` and `source`), between
webhooks and REST (ISO dates vs integers, `teammates` shapes), and between the docs and reality
(`contact` vs `customer`, `current_canvas` wrapped once or twice). So unknown keys are kept
(`extra="allow"`), nearly every field is optional, and ids are strings even when Intercom sends
numbers (part ids are integers in some examples, strings in others; comparing `1` with `"1"`
would break deduplication).

Only what the service cannot work without is required: `workspace_id` of a canvas request,
`app_id` and `topic` of a notification, and the `id` of a conversation or a part. A payload
missing one of them raises pydantic's `ValidationError`, which the web layer turns into a 400.
"""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    model_validator,
)

from itop_intercom.intercom.regions import normalize_region
from itop_intercom.settings.model import Region


def _id_to_str(value: Any) -> Any:
    # bool is an int subclass; True must not become the id "True".
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


def _none_to_list(value: Any) -> Any:
    return [] if value is None else value


def _none_to_dict(value: Any) -> Any:
    return {} if value is None else value


def _blank_to_none(value: Any) -> Any:
    # Leads often come with `"email": ""`; an empty email must never match anybody.
    if isinstance(value, str) and not value.strip():
        return None
    return value


#: Latest instant a date can show (9999-12-31T23:59:59Z).
MAX_EPOCH = 253_402_300_799

#: Intercom's times are unix seconds. Values outside 0 … year 9999 are refused at the edge:
#: past 64 bits they cannot be stored, and any of them would break every date shown later.
Epoch = Annotated[int, Field(ge=0, le=MAX_EPOCH)]

IdStr = Annotated[str, BeforeValidator(_id_to_str)]
OptionalId = Annotated[str | None, BeforeValidator(_id_to_str)]
OptionalEmail = Annotated[str | None, BeforeValidator(_blank_to_none)]


class IntercomModel(BaseModel):
    """Base of every payload model: unknown keys kept, field names or aliases accepted."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)


class Author(IntercomModel):
    """Who wrote a part or a message: `type` is admin, user, lead, bot or team."""

    type: str | None = None
    id: OptionalId = None
    name: str | None = None
    email: OptionalEmail = None


class Attachment(IntercomModel):
    type: str | None = None
    name: str | None = None
    url: str | None = None
    content_type: str | None = None
    filesize: int | None = None
    width: int | None = None
    height: int | None = None


Attachments = Annotated[list[Attachment], BeforeValidator(_none_to_list)]


_Message = TypeVar("_Message", "ConversationPart", "Source")


def _without_redacted_content(message: _Message) -> _Message:
    """A redacted (deleted) message keeps its place but loses its text and files: whatever
    Intercom still sends of it must never reach a case log or our database."""
    if message.redacted:
        message.body = None
        message.attachments = []
    return message


class ConversationPart(IntercomModel):
    """One message or event of a conversation. `part_type` is an open set (comment, note,
    assignment, open, close, …): it is kept as a string, not an enum."""

    type: str | None = None
    id: IdStr
    part_type: str | None = None
    body: str | None = None
    created_at: Epoch | None = None
    updated_at: Epoch | None = None
    notified_at: Epoch | None = None
    author: Author | None = None
    attachments: Attachments = Field(default_factory=list)
    external_id: str | None = None
    redacted: bool | None = None
    app_package_code: str | None = None
    """Set when the part was created through the API by an app (lets us spot our own posts)."""

    @model_validator(mode="after")
    def _redacted_has_no_content(self) -> ConversationPart:
        return _without_redacted_content(self)


class ConversationPartList(IntercomModel):
    type: str | None = None
    conversation_parts: Annotated[list[ConversationPart], BeforeValidator(_none_to_list)] = Field(
        default_factory=list
    )
    total_count: int | None = None


class Source(IntercomModel):
    """The message that opened a conversation (`conversation_message` in 1.x payloads)."""

    type: str | None = None
    id: OptionalId = None
    delivered_as: str | None = None
    subject: str | None = None
    body: str | None = None
    author: Author | None = None
    attachments: Attachments = Field(default_factory=list)
    url: str | None = None
    redacted: bool | None = None

    @model_validator(mode="after")
    def _redacted_has_no_content(self) -> Source:
        return _without_redacted_content(self)


class ContactRef(IntercomModel):
    type: str | None = None
    id: OptionalId = None
    external_id: str | None = None


class ContactRefList(IntercomModel):
    type: str | None = None
    contacts: Annotated[list[ContactRef], BeforeValidator(_none_to_list)] = Field(
        default_factory=list
    )


class LegacyUser(IntercomModel):
    """The conversation's end user in 1.x payloads (`item.user`)."""

    type: str | None = None
    id: OptionalId = None
    user_id: str | None = None
    name: str | None = None
    email: OptionalEmail = None


class Conversation(IntercomModel):
    """A conversation as in `GET /conversations/{id}`, canvas requests and webhook items."""

    type: str | None = None
    id: IdStr
    created_at: Epoch | None = None
    updated_at: Epoch | None = None
    title: str | None = None
    state: str | None = None
    source: Source | None = None
    contacts: ContactRefList | None = None
    conversation_parts: ConversationPartList | None = None
    admin_assignee_id: OptionalId = None
    team_assignee_id: OptionalId = None
    # 1.x shape
    user: LegacyUser | None = None
    assignee: Author | None = None

    @model_validator(mode="before")
    @classmethod
    def _legacy_shape(cls, data: Any) -> Any:
        """Map the 1.x keys onto the 2.x ones so that consumers read one shape."""
        if not isinstance(data, dict):
            return data
        if data.get("source") is None and isinstance(data.get("conversation_message"), dict):
            data = {**data, "source": data["conversation_message"]}
        if data.get("contacts") is None and isinstance(data.get("user"), dict):
            user = data["user"]
            data = {
                **data,
                "contacts": {
                    "type": "contact.list",
                    "contacts": [{"type": user.get("type"), "id": user.get("id")}],
                },
            }
        return data

    @model_validator(mode="after")
    def _legacy_authors(self) -> Conversation:
        """1.x payloads name the end user once, in `user`, and give part authors only an id:
        fill in the name and email of parts written by that user, so that they can be matched."""
        user = self.user
        if user is None or not user.id:
            return self
        authors = [part.author for part in self.parts]
        if self.source is not None:
            authors.append(self.source.author)
        for author in authors:
            if author is not None and author.id == user.id:
                author.email = author.email or user.email
                author.name = author.name or user.name
        return self

    @property
    def parts(self) -> list[ConversationPart]:
        """The parts carried by this payload (a webhook carries only the new ones)."""
        if self.conversation_parts is None:
            return []
        return self.conversation_parts.conversation_parts

    @property
    def contact_ids(self) -> list[str]:
        if self.contacts is None:
            return []
        return [c.id for c in self.contacts.contacts if c.id]


class Admin(IntercomModel):
    """The teammate using the Inbox app."""

    type: str | None = None
    id: IdStr
    name: str | None = None
    email: OptionalEmail = None


class Contact(IntercomModel):
    """The contact selected in the conversation details panel (a full Intercom contact).

    `custom_attributes` carries `itop_contact_class` / `itop_contact_id` when the chat widget of
    this service booted the Messenger for that person.
    """

    type: str | None = None
    id: OptionalId = None
    external_id: str | None = None
    role: str | None = None
    email: OptionalEmail = None
    name: str | None = None
    custom_attributes: Annotated[dict[str, Any], BeforeValidator(_none_to_dict)] = Field(
        default_factory=dict
    )


class CanvasObject(IntercomModel):
    """A canvas as Intercom echoes it back (`current_canvas`), or as we answer it.

    The 2.11 schema and the reference example wrap it once more (`current_canvas.current_canvas`)
    while real Submit requests do not; both are accepted.
    """

    content: dict[str, Any] | None = None
    content_url: str | None = None
    stored_data: Annotated[dict[str, Any], BeforeValidator(_none_to_dict)] = Field(
        default_factory=dict
    )

    @model_validator(mode="before")
    @classmethod
    def _unwrap(cls, data: Any) -> Any:
        while (
            isinstance(data, dict)
            and isinstance(data.get("current_canvas"), dict)
            and "content" not in data
            and "stored_data" not in data
        ):
            data = data["current_canvas"]
        return data


class CanvasRequest(IntercomModel):
    """An Inbox Initialize or Submit request (Submit adds `component_id`, `input_values` and
    `current_canvas`)."""

    workspace_id: Annotated[str, Field(min_length=1)]
    workspace_region: str | None = None
    admin: Admin | None = None
    conversation: Conversation | None = None
    contact: Contact | None = None
    component_id: str | None = None
    input_values: Annotated[dict[str, Any], BeforeValidator(_none_to_dict)] = Field(
        default_factory=dict
    )
    current_canvas: CanvasObject | None = None
    context: dict[str, Any] | None = None

    @model_validator(mode="before")
    @classmethod
    def _customer_alias(cls, data: Any) -> Any:
        """Older payloads (and the Submit table of the docs) call the contact `customer`."""
        if isinstance(data, dict) and data.get("contact") is None and "customer" in data:
            data = {**data, "contact": data["customer"]}
        return data

    def stored_data(self) -> dict[str, Any]:
        """What our previous canvas stored (echoed back by Intercom), or {} on Initialize."""
        if self.current_canvas is None:
            return {}
        return self.current_canvas.stored_data

    @property
    def region(self) -> Region | None:
        """`workspace_region` as one of our regions, when recognisable."""
        return normalize_region(self.workspace_region)

    @property
    def is_submit(self) -> bool:
        return self.component_id is not None


def _item_kind(value: Any) -> str:
    kind = value.get("type") if isinstance(value, dict) else getattr(value, "type", None)
    return "conversation" if kind == "conversation" else "other"


class OtherItem(IntercomModel):
    """A notification item that is not a conversation (ping, contact, company, ticket, …)."""

    type: str | None = None
    id: OptionalId = None


NotificationItem = Annotated[
    Annotated[Conversation, Tag("conversation")] | Annotated[OtherItem, Tag("other")],
    Discriminator(_item_kind),
]


class NotificationData(IntercomModel):
    type: str | None = None
    item: NotificationItem | None = None


class WebhookNotification(IntercomModel):
    """A webhook envelope. `id` is None for `ping`; `app_id` is the workspace id."""

    type: str | None = None
    app_id: Annotated[str, Field(min_length=1)]
    id: OptionalId = None
    topic: Annotated[str, Field(min_length=1)]
    data: NotificationData | None = None
    created_at: Epoch | None = None
    first_sent_at: Epoch | None = None
    delivery_attempts: int | None = None
    delivery_status: str | None = None
    delivered_at: Epoch | None = None

    @property
    def is_ping(self) -> bool:
        return self.topic == "ping"

    @property
    def conversation(self) -> Conversation | None:
        """The item when it is a conversation (the `conversation.*` topics), else None."""
        item = self.data.item if self.data is not None else None
        return item if isinstance(item, Conversation) else None

    @property
    def parts(self) -> list[ConversationPart]:
        """The conversation parts this notification carries (usually only the new one)."""
        conversation = self.conversation
        return conversation.parts if conversation is not None else []
