"""How the ticket creation form is described: one entry per attribute the form may offer.

iTop's REST API says nothing about the datamodel (no labels, kinds, allowed values or mandatory
flags), so the form is described here. The defaults describe the standard
`UserRequest` of iTop 3.2 (its datamodel as an unmodified iTop 3.2 installs it); an admin adds
or overrides entries with `[create_ticket.fields.<attcode>]` tables. Labels left empty come from
the service's own texts (English and French) for the standard attributes, else the attribute code.

Choices come either from fixed `values` (enumerations) or from an OQL `query` run on iTop
(external keys). A query may refer to `:org_id` and `:caller_id` (the caller's organisation and
person) and to `:<attcode>` of any other form field: those are the fields it depends on, and
choosing one of them re-renders the form so that the dependent choices follow.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Annotated, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

FieldKind = Literal["text", "integer", "textarea", "choice"]
Prefill = Literal["subject", "first_message"]

#: A label in one language for all, or per language (`{en = "…", fr = "…"}`).
Label = str | dict[str, str]

#: Names a query may use besides the other form fields.
CONTEXT_PLACEHOLDERS = frozenset({"org_id", "caller_id"})

_PLACEHOLDER = re.compile(r":([A-Za-z_][A-Za-z0-9_]*)")


class FormFieldSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: FieldKind = "text"
    label: Label | None = None
    """Empty: the built-in label of a standard attribute, else the attribute code."""
    mandatory: bool = False
    values: dict[str, Label | None] = Field(default_factory=dict)
    """Fixed choices, option id → label (empty label: built-in, else the id)."""
    query: str | None = None
    """OQL selecting the choices in iTop (`SELECT Service WHERE …`), see the module docstring."""
    label_attribute: str = "friendlyname"
    """Attribute of the queried objects shown as the option's text."""
    default: str | None = None
    """Value chosen when the form opens."""
    max_length: Annotated[int, Field(gt=0)] | None = None
    prefill: Prefill | None = None
    """Text fields only: start from the conversation's subject or its first message."""
    html: bool = True
    """Textareas only: the attribute is HTML (iTop's `description`), so the typed text is sent
    as escaped HTML with its line breaks; false for text-format attributes."""

    @model_validator(mode="after")
    def _consistent(self) -> FormFieldSettings:
        if self.kind == "choice" and not self.values and not self.query:
            raise ValueError("a choice needs `values` or a `query`")
        if self.kind != "choice" and (self.values or self.query):
            raise ValueError("`values` and `query` are for kind = choice only")
        if self.query is not None and not self.query.strip().upper().startswith("SELECT "):
            raise ValueError("`query` must be an OQL SELECT")
        return self

    @property
    def depends_on(self) -> list[str]:
        """The placeholders of the query, in order, without duplicates."""
        if not self.query:
            return []
        return list(dict.fromkeys(_PLACEHOLDER.findall(self.query)))


_SERVICES_OF_ORG = (
    "SELECT Service AS s"
    " JOIN lnkCustomerContractToService AS l ON l.service_id = s.id"
    " JOIN CustomerContract AS cc ON l.customercontract_id = cc.id"
    " WHERE cc.org_id = :org_id AND s.status != 'obsolete'"
)
_SUBCATEGORIES_OF_SERVICE = (
    "SELECT ServiceSubcategory WHERE service_id = :service_id AND status != 'obsolete'"
)


def default_fields() -> dict[str, FormFieldSettings]:
    """The standard UserRequest: what the vanilla datamodel dump says about these attributes."""
    return {
        "title": FormFieldSettings(kind="text", mandatory=True, max_length=255, prefill="subject"),
        "description": FormFieldSettings(
            kind="textarea", mandatory=True, max_length=65535, prefill="first_message"
        ),
        "urgency": FormFieldSettings(
            kind="choice",
            mandatory=True,
            values={"1": None, "2": None, "3": None, "4": None},
            default="4",
        ),
        "impact": FormFieldSettings(
            kind="choice", mandatory=True, values={"1": None, "2": None, "3": None}, default="1"
        ),
        "service_id": FormFieldSettings(kind="choice", query=_SERVICES_OF_ORG),
        "servicesubcategory_id": FormFieldSettings(kind="choice", query=_SUBCATEGORIES_OF_SERVICE),
    }


DEFAULT_FORM_ATTRIBUTES: Final[Sequence[str]] = [
    "title",
    "description",
    "urgency",
    "impact",
    "service_id",
    "servicesubcategory_id",
]


def check_placeholders(fields: dict[str, FormFieldSettings]) -> None:
    """Every `:name` of a query must be a context value or another described field."""
    for attcode, spec in fields.items():
        for name in spec.depends_on:
            if name == attcode:
                raise ValueError(f"create_ticket.fields.{attcode}: the query depends on itself")
            if name not in CONTEXT_PLACEHOLDERS and name not in fields:
                raise ValueError(
                    f"create_ticket.fields.{attcode}: the query uses :{name}, which is neither "
                    f"{', '.join(sorted(':' + n for n in CONTEXT_PLACEHOLDERS))} nor a field"
                )
