"""Does Intercom accept this canvas? The 2.11 Canvas Kit schemas, plus what they cannot say.

Schema: Intercom's `openapi/canvas_kit_schemas.from-2.11.yaml` (its `initialize_response` and
`submit_response`), reference material outside the repository (see `tests.reference`): when it is
not there, canvases are checked against the rules below only, the terminal summary says so and the
schema cases of `test_canvas_validation.py` are skipped (a failure under CI). Rules on top, from
Intercom's Canvas Kit documentation: component ids unique in the canvas, option ids strings and
unique in their component, 2 to 10 options per dropdown and single-select, `content` and
`stored_data` under 64 KB each, and for the first canvas of the Inbox an estimated height within
~400 px.

Every canvas the screen tests receive goes through `check` (the test driver calls it), so the
suite as a whole validates every canvas the app produces; `CHECKED` counts them. The schema is
compiled to Python once (fastjsonschema, ten times faster than walking it for each of the
suite's two thousand canvases); a canvas it refuses is walked again by jsonschema, whose
messages say where and why.
"""

from __future__ import annotations

import functools
import json
from collections import Counter
from collections.abc import Iterator, Mapping
from typing import Any

import fastjsonschema
import jsonschema
import yaml

from tests.reference import shared_dir

MAX_BYTES = 64 * 1024
FIRST_CANVAS_MAX_PX = 400

#: How many canvases `check` has validated in this test session, by screen.
CHECKED: Counter[str] = Counter()


class CanvasError(AssertionError):
    pass


#: The Canvas Kit schemas, relative to the reference folder.
SCHEMA = "intercom/openapi/canvas_kit_schemas.from-2.11.yaml"


@functools.lru_cache(maxsize=1)
def _schemas() -> dict[str, Any] | None:
    path = shared_dir() / SCHEMA
    if not path.is_file():
        return None
    loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def schema_available() -> bool:
    """Whether canvases are also validated against Intercom's schema in this session."""
    return _schemas() is not None


def _document(name: str, schemas: dict[str, Any]) -> dict[str, Any]:
    return {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "$ref": f"#/components/schemas/{name}",
        "components": {"schemas": schemas},
    }


@functools.lru_cache(maxsize=2)
def _validator(name: str) -> jsonschema.Draft7Validator | None:
    schemas = _schemas()
    if schemas is None:
        return None
    return jsonschema.Draft7Validator(_document(name, schemas))


@functools.lru_cache(maxsize=2)
def _compiled(name: str) -> Any:
    schemas = _schemas()
    if schemas is None:
        return None
    return fastjsonschema.compile(_document(name, schemas))


def schema_problems(answer: Any, name: str) -> list[str]:
    """What Intercom's schema `name` says of this answer (empty: valid, or no schema here)."""
    compiled = _compiled(name)
    if compiled is None:
        return []
    try:
        compiled(answer)
    except fastjsonschema.JsonSchemaException as refused:
        validator = _validator(name)
        assert validator is not None
        problems = [
            f"schema: {'/'.join(str(p) for p in error.path)}: {error.message[:300]}"
            for error in sorted(validator.iter_errors(answer), key=lambda e: list(e.path))
        ]
        return problems or [f"schema: {str(refused)[:300]}"]
    return []


def _walk(components: list[Any]) -> Iterator[Mapping[str, Any]]:
    for component in components:
        if not isinstance(component, Mapping):
            continue
        yield component
        if component.get("type") == "list":
            for item in component.get("items") or []:
                if isinstance(item, Mapping):
                    yield item


def _lines(text: str, per_line: int = 45) -> int:
    return sum(max(1, -(-len(line) // per_line)) for line in text.split("\n"))


def estimated_height(components: list[Any]) -> int:
    """A deliberately pessimistic height (px) of a canvas in the Inbox's details panel."""
    height = 0
    for c in components:
        kind = c.get("type")
        if kind == "text":
            per_line = 28 if c.get("style") == "header" else 20
            height += per_line * _lines(str(c.get("text", ""))) + 8
        elif kind == "button":
            height += 44
        elif kind == "list":
            for item in c.get("items") or []:
                height += 40 + (16 if item.get("subtitle") else 0)
                height += 16 if item.get("tertiary_text") else 0
        elif kind == "divider":
            height += 17
        elif kind == "spacer":
            height += {"xs": 4, "s": 8, "m": 16, "l": 24, "xl": 32}.get(c.get("size", "s"), 8)
        elif kind in ("input", "dropdown"):
            height += 70
        elif kind == "textarea":
            height += 116
        elif kind == "single-select":
            height += 28 + 36 * len(c.get("options") or [])
        elif kind == "data-table":
            height += 24 * len(c.get("items") or []) + 8
        else:
            height += 40
    return height


def check(answer: Any, *, first: bool = False, screen: str | None = None) -> None:
    """Raise `CanvasError` with every problem of this answer to an initialize or submit."""
    problems = schema_problems(answer, "initialize_response" if first else "submit_response")
    canvas = answer.get("canvas") if isinstance(answer, Mapping) else None
    content = canvas.get("content") if isinstance(canvas, Mapping) else None
    components = content.get("components") if isinstance(content, Mapping) else None
    if not isinstance(components, list):
        raise CanvasError("; ".join(problems) or "no components")
    ids = [str(c["id"]) for c in _walk(components) if "id" in c]
    duplicates = sorted(i for i, n in Counter(ids).items() if n > 1)
    if duplicates:
        problems.append(f"duplicate component ids: {duplicates}")
    for c in _walk(components):
        if c.get("type") in ("dropdown", "single-select", "checkbox"):
            options = c.get("options") or []
            option_ids = [o.get("id") for o in options]
            if not all(isinstance(i, str) for i in option_ids):
                problems.append(f"{c.get('id')}: option ids must be strings: {option_ids}")
            if len(set(map(str, option_ids))) != len(option_ids):
                problems.append(f"{c.get('id')}: duplicate option ids")
            if c.get("type") != "checkbox" and not 2 <= len(options) <= 10:
                problems.append(f"{c.get('id')}: {len(options)} options (2 to 10)")
            value = c.get("value")
            if value is not None and value not in option_ids:
                problems.append(f"{c.get('id')}: value {value!r} is not an option")
    size = len(json.dumps(content, ensure_ascii=False).encode("utf-8"))
    if size >= MAX_BYTES:
        problems.append(f"content is {size} bytes (limit 64 KB)")
    stored = canvas.get("stored_data") if isinstance(canvas, Mapping) else None
    if stored is not None:
        stored_size = len(json.dumps(stored, ensure_ascii=False).encode("utf-8"))
        if stored_size >= MAX_BYTES:
            problems.append(f"stored_data is {stored_size} bytes (limit 64 KB)")
    if first:
        height = estimated_height(components)
        if height > FIRST_CANVAS_MAX_PX:
            problems.append(f"first canvas is ~{height} px tall (guidance: 400 px)")
    if problems:
        raise CanvasError("; ".join(problems))
    CHECKED[screen or "?"] += 1
