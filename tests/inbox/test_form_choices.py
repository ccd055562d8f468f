"""The views of choices, without iTop."""

from __future__ import annotations

from itop_intercom.inbox.form_choices import (
    ChoiceView,
    _bound_query,
    _view,
    dependents,
    normalize,
)
from itop_intercom.inbox.form_state import NONE_OPTION, Caller, FormField, FormState
from itop_intercom.itop.catalog import Choices
from itop_intercom.settings.form import FormFieldSettings

CALLER = Caller("Person", 15, "Agatha Christie", 3, "Demo")


def _state(**values: str) -> FormState:
    return FormState(CALLER, "token", dict(values))


def _field(mandatory: bool = False) -> FormField:
    return FormField(
        "service_id", FormFieldSettings(kind="choice", query="SELECT Service", mandatory=mandatory)
    )


def test_normalize() -> None:
    assert normalize("ÉCRAN Évier") == "ecran evier"


def test_bound_query_quotes_values() -> None:
    state = _state(service_id="12", name="O'Brien")
    query, missing = _bound_query(
        "SELECT X WHERE a = :org_id AND b = :service_id AND c = :name AND d = :caller_id",
        state,
        ["org_id", "service_id", "name", "caller_id"],
    )
    assert missing == []
    assert query == "SELECT X WHERE a = 3 AND b = 12 AND c = 'O\\'Brien' AND d = 15"
    assert _bound_query("SELECT X WHERE s = :service_id", _state(), ["service_id"]) == (
        "",
        ["service_id"],
    )


def test_views() -> None:
    few = Choices([("1", "A"), ("2", "B")], 2)
    assert _view(_field(), _state(), few).mode == "select"
    state = _state(service_id="9")
    view = _view(_field(), state, few)
    assert state.value("service_id") == ""  # no longer offered
    assert view.options[0] == (NONE_OPTION, "")

    one = Choices([("1", "A")], 1)
    state = _state()
    assert _view(_field(mandatory=True), state, one).mode == "fixed"
    assert state.value("service_id") == "1"
    assert _view(_field(), _state(), one).mode == "select"  # optional: (none) or A
    assert _view(_field(), _state(), Choices([], 0)).mode == "empty"
    assert _view(_field(), _state(), ["org_id"]).mode == "waiting"

    many = Choices([(str(n), f"Item {n:02d}") for n in range(20)], 20)
    state = _state()
    state.searches["service_id"] = "item 1"
    view = _view(_field(), state, many)
    assert view.mode == "search" and view.matches == 10 and len(view.options) == 10


def test_view_round_trip() -> None:
    view = ChoiceView("x", "search", [("1", "A")], 30, 4, [])
    assert ChoiceView.from_json("x", view.to_json()) == view
    assert ChoiceView.from_json("x", {"mode": "bogus"}) is None


def test_dependents() -> None:
    fields = [
        _field(),
        FormField(
            "servicesubcategory_id",
            FormFieldSettings(kind="choice", query="SELECT S WHERE service_id = :service_id"),
        ),
    ]
    assert dependents(fields) == {"service_id"}
