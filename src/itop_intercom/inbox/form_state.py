"""The state of the creation form between two canvases.

Intercom sends back the values of every input shown (`input_values`, keyed by component id) and
our own `stored_data`. Text fields are always shown, so their values travel as inputs only (a
long description is not stored twice against the 64 KB limits). Choices are stored too, because
a choice may be hidden while it waits for another field. The caller (person and organisation)
is stored when the form opens, so that submitting needs no look-up before the create call; the
`token` identifies one form across re-renders, so that a retried submit never creates a second
ticket (see `create`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from itop_intercom.inbox.context import ScreenContext
from itop_intercom.itop.people import Person
from itop_intercom.settings.form import FormFieldSettings
from itop_intercom.settings.model import Settings

#: Option id of "no value" in optional choices (never an iTop key: those are digits).
NONE_OPTION = "__none__"


def field_id(attcode: str) -> str:
    return f"field:{attcode}"


def search_id(attcode: str) -> str:
    return f"search:{attcode}"


@dataclass(frozen=True)
class FormField:
    attcode: str
    spec: FormFieldSettings


def form_fields(settings: Settings) -> list[FormField]:
    """The configured attributes, then every mandatory described attribute without a default
    (as the extension: "plus every mandatory attribute that has no value yet"). An attribute
    listed but not described is offered as a short text, as the extension does for strings."""
    described = settings.create_ticket.fields
    mapping = settings.ticket.attributes_mapping
    prefilled = {mapping["org_id"], mapping["caller_id"]}
    codes = list(dict.fromkeys(settings.create_ticket.form_attributes))
    codes += [code for code, spec in described.items() if spec.mandatory and spec.default is None]
    fields: list[FormField] = []
    for code in dict.fromkeys(codes):
        if code in prefilled:
            continue
        fields.append(FormField(code, described.get(code) or FormFieldSettings(kind="text")))
    return fields


@dataclass(frozen=True)
class Caller:
    class_: str
    id: int
    name: str
    org_id: int
    org_name: str

    @classmethod
    def of(cls, person: Person) -> Caller:
        return cls(person.class_, person.id, person.name, person.org_id, person.org_name)

    def to_json(self) -> dict[str, Any]:
        return {
            "class": self.class_,
            "id": self.id,
            "name": self.name,
            "org_id": self.org_id,
            "org_name": self.org_name,
        }

    @classmethod
    def from_json(cls, data: Any) -> Caller | None:
        if not isinstance(data, dict):
            return None
        try:
            return cls(
                str(data["class"]),
                int(data["id"]),
                str(data.get("name") or ""),
                int(data["org_id"]),
                str(data.get("org_name") or ""),
            )
        except (KeyError, TypeError, ValueError):
            return None


@dataclass
class FormState:
    caller: Caller
    token: str
    values: dict[str, str] = field(default_factory=dict)
    searches: dict[str, str] = field(default_factory=dict)

    @classmethod
    def new(cls, caller: Caller, values: dict[str, str]) -> FormState:
        return cls(caller, uuid.uuid4().hex, values)

    @classmethod
    def from_context(cls, ctx: ScreenContext) -> FormState | None:
        """The form as the agent left it: stored choices overlaid with the submitted inputs."""
        stored = ctx.stored.get("form")
        if not isinstance(stored, dict):
            return None
        caller = Caller.from_json(stored.get("caller"))
        token = stored.get("token")
        if caller is None or not isinstance(token, str) or not token:
            return None
        raw_values = stored.get("values")
        values = {
            str(k): str(v)
            for k, v in (raw_values.items() if isinstance(raw_values, dict) else ())
            if isinstance(v, str | int)
        }
        searches: dict[str, str] = {}
        for form_field in form_fields(ctx.services.settings):
            attcode = form_field.attcode
            submitted = ctx.inputs.get(field_id(attcode))
            if isinstance(submitted, str):
                values[attcode] = submitted
            elif form_field.spec.kind != "choice":
                values.setdefault(attcode, "")
            search = ctx.inputs.get(search_id(attcode))
            if isinstance(search, str) and search.strip():
                searches[attcode] = search.strip()
        return cls(caller, token, values, searches)

    def value(self, attcode: str) -> str:
        """The chosen or typed value, '' for none."""
        value = self.values.get(attcode, "")
        return "" if value == NONE_OPTION else value

    def to_json(self, *, choice_codes: set[str]) -> dict[str, Any]:
        return {
            "caller": self.caller.to_json(),
            "token": self.token,
            "values": {k: v for k, v in self.values.items() if k in choice_codes},
        }
