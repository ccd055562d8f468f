"""Canvas Kit components as plain dicts, built by small typed functions.

Intercom renders whatever JSON we send, and rejects (with a generic "Something went wrong") what
breaks its schema; building every component here keeps the required fields and the documented
limits (2–10 dropdown options, string option ids) in one place.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal

Component = dict[str, Any]

TextStyle = Literal["header", "paragraph", "muted", "error"]
ButtonStyle = Literal["primary", "secondary", "link"]


def text(
    content: str,
    *,
    id: str | None = None,
    style: TextStyle = "paragraph",
    align: Literal["left", "center", "right"] = "left",
) -> Component:
    component: Component = {"type": "text", "text": content, "style": style, "align": align}
    if id:
        component["id"] = id
    return component


def submit_button(
    id: str, label: str, *, style: ButtonStyle = "primary", disabled: bool = False
) -> Component:
    return {
        "type": "button",
        "id": id,
        "label": label,
        "style": style,
        "disabled": disabled,
        "action": {"type": "submit"},
    }


def url_button(id: str, label: str, url: str, *, style: ButtonStyle = "secondary") -> Component:
    return {
        "type": "button",
        "id": id,
        "label": label,
        "style": style,
        "action": {"type": "url", "url": url},
    }


def list_item(
    id: str,
    title: str,
    *,
    subtitle: str | None = None,
    tertiary_text: str | None = None,
    disabled: bool = False,
) -> Component:
    item: Component = {
        "type": "item",
        "id": id,
        "title": title,
        "disabled": disabled,
        "action": {"type": "submit"},
    }
    if subtitle:
        item["subtitle"] = subtitle
    if tertiary_text:
        item["tertiary_text"] = tertiary_text
    return item


def list_(items: Sequence[Component], *, disabled: bool = False) -> Component:
    return {"type": "list", "items": list(items), "disabled": disabled}


def spacer(size: Literal["xs", "s", "m", "l", "xl"] = "s") -> Component:
    return {"type": "spacer", "size": size}


def divider() -> Component:
    return {"type": "divider"}


def data_table(rows: Iterable[tuple[str, str]]) -> Component:
    return {
        "type": "data-table",
        "items": [{"type": "field-value", "field": f, "value": v} for f, v in rows],
    }


def input_(
    id: str,
    label: str,
    *,
    value: str = "",
    placeholder: str = "",
    submit: bool = False,
    save_state: Literal["unsaved", "saved", "failed"] | None = None,
) -> Component:
    """A one-line input; with `submit`, Intercom draws an inline button that sends a submit
    request whose `component_id` is the input's own id (used for searches)."""
    component: Component = {"type": "input", "id": id, "label": label}
    if value:
        component["value"] = value
    if placeholder:
        component["placeholder"] = placeholder
    if submit:
        component["action"] = {"type": "submit"}
    if save_state is not None:
        component["save_state"] = save_state
    return component


def textarea(
    id: str, label: str, *, value: str = "", placeholder: str = "", error: bool = False
) -> Component:
    component: Component = {"type": "textarea", "id": id, "label": label, "error": error}
    if value:
        component["value"] = value
    if placeholder:
        component["placeholder"] = placeholder
    return component


MIN_OPTIONS = 2
MAX_OPTIONS = 10


def _options(kind: str, options: Sequence[tuple[str, str]]) -> list[Component]:
    if not MIN_OPTIONS <= len(options) <= MAX_OPTIONS:
        raise ValueError(f"a {kind} takes 2 to 10 options, not {len(options)}")
    ids = [str(oid) for oid, _ in options]
    if len(set(ids)) != len(ids):
        raise ValueError(f"the options of a {kind} need distinct ids")
    return [{"type": "option", "id": str(oid), "text": text_} for oid, text_ in options]


def dropdown(
    id: str, label: str, options: Sequence[tuple[str, str]], *, value: str | None = None
) -> Component:
    component: Component = {
        "type": "dropdown",
        "id": id,
        "label": label,
        "options": _options("dropdown", options),
    }
    if value is not None:
        component["value"] = str(value)
    return component


def single_select(
    id: str,
    label: str,
    options: Sequence[tuple[str, str]],
    *,
    value: str | None = None,
    submit: bool = False,
) -> Component:
    """Like a dropdown, but it can carry a submit action: choosing an option sends a submit
    request at once (dropdowns cannot), which is how dependent form fields follow a choice."""
    component: Component = {
        "type": "single-select",
        "id": id,
        "label": label,
        "options": _options("single-select", options),
    }
    if value is not None:
        component["value"] = str(value)
    if submit:
        component["action"] = {"type": "submit"}
    return component


def canvas(
    components: Sequence[Component], stored_data: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The `{"canvas": …}` answer to an initialize or submit request."""
    body: dict[str, Any] = {"content": {"components": list(components)}}
    if stored_data:
        body["stored_data"] = dict(stored_data)
    return {"canvas": body}


def stored_data_of(answer: Mapping[str, Any]) -> dict[str, Any]:
    """The `stored_data` of an answer built by `canvas` ({} when it has none)."""
    body = answer.get("canvas") or {}
    stored = body.get("stored_data") if isinstance(body, Mapping) else None
    return dict(stored) if isinstance(stored, Mapping) else {}


def components_of(answer: Mapping[str, Any]) -> list[Component]:
    body = answer.get("canvas") or {}
    content = body.get("content") if isinstance(body, Mapping) else None
    components = content.get("components") if isinstance(content, Mapping) else None
    return list(components) if isinstance(components, list) else []
