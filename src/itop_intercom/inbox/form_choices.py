"""What each choice of the creation form offers, given the values chosen so far.

Canvas Kit dropdowns take 2 to 10 options, where the extension broke beyond that. Here:
- 2–10 choices (with "none" for optional fields): a dropdown, or a single-select that submits on
  change when other fields depend on it (dropdowns cannot submit);
- one choice for a mandatory field: it is chosen, and shown as text;
- more than 10: a search input that narrows the list, and the matches (at most 10) to choose
  from; a search with one match chooses it;
- a query that depends on a field without a value yet: "choose X first".

Choices that depend on others are computed level by level, each level's look-ups in parallel,
and a value that is no longer offered (the service changed, so the old subcategory is gone) is
cleared before the fields that depend on it are computed. The views are stored in the canvas, so
that showing the form again after a validation error needs no call to iTop.
"""

from __future__ import annotations

import asyncio
import unicodedata
from dataclasses import dataclass, field
from typing import Any, Literal

from itop_intercom.inbox.context import ScreenContext
from itop_intercom.inbox.form_state import NONE_OPTION, FormField, FormState
from itop_intercom.inbox.labels import value_label
from itop_intercom.intercom.canvas import MAX_OPTIONS
from itop_intercom.itop import oql
from itop_intercom.itop.catalog import MAX_CHOICES, Choices
from itop_intercom.itop.errors import CODE_INTERNAL_ERROR, ItopApiError
from itop_intercom.logs import get_logger

log = get_logger("itop_intercom.inbox.form")

ViewMode = Literal["select", "search", "fixed", "empty", "waiting"]


@dataclass
class ChoiceView:
    attcode: str
    mode: ViewMode
    options: list[tuple[str, str]] = field(default_factory=list)
    """What the selector shows (select/search), or the single option (fixed)."""
    total: int = 0
    """How many choices there are in all."""
    matches: int = 0
    """search: how many choices match the search."""
    waiting_for: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "options": [list(option) for option in self.options],
            "total": self.total,
            "matches": self.matches,
            "waiting_for": self.waiting_for,
        }

    @classmethod
    def from_json(cls, attcode: str, data: Any) -> ChoiceView | None:
        if not isinstance(data, dict) or data.get("mode") not in (
            "select",
            "search",
            "fixed",
            "empty",
            "waiting",
        ):
            return None
        options = [
            (str(o[0]), str(o[1]))
            for o in data.get("options") or []
            if isinstance(o, list) and len(o) == 2
        ]
        return cls(
            attcode,
            data["mode"],
            options,
            int(data.get("total") or 0),
            int(data.get("matches") or 0),
            [str(w) for w in data.get("waiting_for") or []],
        )


def normalize(text: str) -> str:
    """Case- and accent-insensitive form used by the search."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def dependents(fields: list[FormField]) -> set[str]:
    """Fields that other fields' choices depend on (they re-render the form when changed)."""
    return {name for f in fields for name in f.spec.depends_on}


def _context_value(state: FormState, name: str) -> str:
    if name == "org_id":
        return str(state.caller.org_id) if state.caller.org_id else ""
    if name == "caller_id":
        return str(state.caller.id)
    return state.value(name)


def _bound_query(query: str, state: FormState, names: list[str]) -> tuple[str, list[str]]:
    """The query with its placeholders replaced by OQL literals, and the missing names."""
    missing = [name for name in names if not _context_value(state, name)]
    if missing:
        return "", missing
    # Longest names first, so that :service_id is not replaced inside :service_id_x.
    bound = query
    for name in sorted(names, key=len, reverse=True):
        value = _context_value(state, name)
        literal = oql.integer(value) if value.isdigit() else oql.quote(value)
        bound = bound.replace(f":{name}", literal)
    return bound, []


async def _all_choices(
    ctx: ScreenContext, form_field: FormField, state: FormState
) -> Choices | list[str]:
    """Every choice of the field, or the names it is waiting for."""
    spec = form_field.spec
    if spec.values:
        options = [(vid, value_label(ctx, form_field.attcode, vid)) for vid in spec.values]
        return Choices(options, len(options))
    assert spec.query is not None
    bound, missing = _bound_query(spec.query, state, spec.depends_on)
    if missing:
        return missing
    try:
        return await ctx.services.catalog.choices(bound, spec.label_attribute)
    except ItopApiError as exc:
        if exc.code != CODE_INTERNAL_ERROR:
            raise
        # The query does not fit this iTop (no service catalogue, a class or attribute the
        # settings name but the datamodel lacks): the field offers nothing, the form still works.
        log.warning(
            "iTop refused the choices of a form field",
            attcode=form_field.attcode,
            itop_message=exc.message,
        )
        return Choices([], 0)


def _view(form_field: FormField, state: FormState, found: Choices | list[str]) -> ChoiceView:
    attcode = form_field.attcode
    mandatory = form_field.spec.mandatory
    if isinstance(found, list):
        state.values[attcode] = ""
        return ChoiceView(attcode, "waiting", waiting_for=found)
    options = found.options
    ids = {oid for oid, _ in options}
    current = state.value(attcode)
    complete = found.total <= MAX_CHOICES
    if current and current not in ids and complete:
        state.values[attcode] = current = ""
    if not options:
        return ChoiceView(attcode, "empty", total=0)
    if len(options) == 1 and mandatory:
        state.values[attcode] = options[0][0]
        return ChoiceView(attcode, "fixed", options[:1], total=1)
    none = [(NONE_OPTION, "")] if not mandatory else []
    if len(options) + len(none) <= MAX_OPTIONS:
        return ChoiceView(attcode, "select", none + options, total=len(options))
    term = normalize(state.searches.get(attcode, ""))
    matching = [o for o in options if term and term in normalize(o[1])]
    if len(matching) == 1 and not current:
        state.values[attcode] = current = matching[0][0]
    shown: list[tuple[str, str]] = []
    if current:
        shown += [o for o in options if o[0] == current]
    shown += [o for o in matching if o[0] != current]
    shown = none + shown[: MAX_OPTIONS - len(none)]
    return ChoiceView(attcode, "search", shown, total=found.total, matches=len(matching))


async def compute(
    ctx: ScreenContext, fields: list[FormField], state: FormState
) -> dict[str, ChoiceView]:
    """The views of every choice, reading iTop level by level (parallel within a level)."""
    choices = [f for f in fields if f.spec.kind == "choice"]
    choice_codes = {f.attcode for f in choices}
    views: dict[str, ChoiceView] = {}
    remaining = list(choices)
    while remaining:
        ready = [
            f
            for f in remaining
            if all(d in views or d not in choice_codes for d in f.spec.depends_on)
        ]
        if not ready:  # a cycle in the settings: show what waits on what
            ready = remaining
        found = await asyncio.gather(*(_all_choices(ctx, f, state) for f in ready))
        for form_field, result in zip(ready, found, strict=True):
            views[form_field.attcode] = _view(form_field, state, result)
        remaining = [f for f in remaining if f.attcode not in views]
    return views


def from_stored(ctx: ScreenContext) -> dict[str, ChoiceView]:
    raw = ctx.stored.get("views")
    if not isinstance(raw, dict):
        return {}
    views = {}
    for attcode, data in raw.items():
        view = ChoiceView.from_json(str(attcode), data)
        if view is not None:
            views[str(attcode)] = view
    return views


def to_stored(views: dict[str, ChoiceView]) -> dict[str, Any]:
    return {attcode: view.to_json() for attcode, view in views.items()}
