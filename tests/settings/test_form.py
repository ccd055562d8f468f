"""The creation form's description in the settings."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from itop_intercom.settings.form import DEFAULT_FORM_ATTRIBUTES
from itop_intercom.settings.model import Settings


def test_defaults_describe_the_standard_user_request() -> None:
    form = Settings().create_ticket
    assert form.form_attributes == DEFAULT_FORM_ATTRIBUTES
    assert form.fields["title"].mandatory and form.fields["title"].max_length == 255
    assert form.fields["description"].kind == "textarea"
    assert list(form.fields["urgency"].values) == ["1", "2", "3", "4"]
    assert form.fields["urgency"].default == "4" and form.fields["impact"].default == "1"
    assert form.fields["servicesubcategory_id"].depends_on == ["service_id"]
    assert form.fields["service_id"].depends_on == ["org_id"]


def test_an_admin_table_changes_only_what_it_gives() -> None:
    form = Settings(
        create_ticket={
            "fields": {
                "urgency": {"label": {"en": "How urgent", "fr": "Urgence"}},
                "x_code": {"kind": "integer", "mandatory": True},
            }
        }
    ).create_ticket
    assert form.fields["urgency"].kind == "choice"
    assert form.fields["urgency"].label == {"en": "How urgent", "fr": "Urgence"}
    assert form.fields["x_code"].kind == "integer"
    assert "title" in form.fields


@pytest.mark.parametrize(
    ("field", "message"),
    [
        ({"kind": "choice"}, "needs `values` or a `query`"),
        ({"kind": "text", "values": {"a": "A"}}, "for kind = choice only"),
        ({"kind": "choice", "query": "DELETE x"}, "OQL SELECT"),
        ({"kind": "choice", "query": "SELECT X WHERE a = :nowhere"}, ":nowhere"),
        ({"kind": "choice", "query": "SELECT X WHERE a = :x"}, "depends on itself"),
        ({"kind": "text", "colour": "red"}, "colour"),
    ],
)
def test_invalid_descriptions(field: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Settings(create_ticket={"fields": {"x": field}})
