"""Parsing an authenticated request body into JSON that every later step can handle.

Valid JSON can still break a Python service in three ways, each refused or repaired here, once,
so that no model, log line, metric or database write meets them:

- **Nesting**: 10,000 nested arrays are valid JSON, but the parser (and any recursive walk after
  it) runs out of stack. The depth is measured on the raw bytes before parsing, with work done
  by the regex engine rather than a Python loop, and bodies deeper than `MAX_DEPTH` are refused.
  Intercom's deepest payloads (a conversation in a notification, a canvas echoed back) are about
  ten levels deep.
- **Lone surrogates**: `"\\ud800"` is a valid JSON escape that decodes to a Python string which
  cannot be encoded as UTF-8, so the database, the logs, the metrics page and our own JSON
  answers would fail on it later. **NUL** characters (`"\\u0000"`) are valid JSON too, and
  PostgreSQL refuses them in text. Both are found here (only when the raw bytes contain such an
  escape, so ordinary bodies cost a regex search) and either refused or replaced by U+FFFD.
- **Huge numbers**: an integer literal of thousands of digits is valid JSON that Python refuses
  to convert (a `ValueError`, not a parse error); it is refused like invalid JSON.
- **Not UTF-8**: `json.loads` would guess UTF-16 or UTF-32 from the first bytes; Intercom sends
  UTF-8, so anything else is refused rather than guessed.
"""

from __future__ import annotations

import json
import re
from typing import Any, Literal

#: Deepest nesting of objects and arrays accepted.
MAX_DEPTH = 64

#: A JSON string literal (escapes included), written so that the regex engine does not backtrack.
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')
#: Everything but brackets, deleted before measuring the depth.
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_EMPTY_PAIR = re.compile(rb"\[\]|\{\}")
#: An escape that may decode to a lone surrogate or a NUL.
_RISKY_ESCAPE = re.compile(rb"\\u(?:[dD][89abcdefABCDEF]|0000)")
_UNSTORABLE = re.compile("[\ud800-\udfff\x00]")


class UnsafeJson(Exception):
    """The body cannot be used; `reason` is short, safe to log and to return."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def deeper_than(raw: bytes, limit: int) -> bool:
    """Whether the JSON in `raw` nests objects and arrays more than `limit` levels deep.

    Strings are removed first (brackets inside them do not count), then everything but the
    brackets. Each pass of the regex removes the innermost empty pairs, so the number of passes
    needed to empty the brackets is the depth. Malformed input stops reducing and is left for
    the parser to refuse.
    """
    brackets = _STRING.sub(b"", raw).translate(None, _NOT_BRACKETS)
    if brackets.count(b"[") + brackets.count(b"{") <= limit:
        return False
    for _ in range(limit):
        brackets, removed = _EMPTY_PAIR.subn(b"", brackets)
        if not brackets or removed == 0:
            return False
    return bool(brackets)


def loads(raw: bytes, *, max_depth: int = MAX_DEPTH) -> Any:
    """The parsed body; raises `UnsafeJson` for invalid, non-UTF-8 or too deeply nested JSON."""
    if deeper_than(raw, max_depth):
        raise UnsafeJson(f"body nested deeper than {max_depth} levels")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise UnsafeJson("body is not UTF-8") from None
    try:
        return json.loads(text)
    except ValueError as exc:
        # Includes integers longer than Python converts (4,300 digits): a ValueError too.
        if isinstance(exc, json.JSONDecodeError):
            raise UnsafeJson("body is not valid JSON") from None
        raise UnsafeJson("body has a number too long to read") from None
    except RecursionError:
        raise UnsafeJson("body is not valid JSON") from None


def may_hold_unstorable(raw: bytes) -> bool:
    """Whether `raw` has an escape that can decode to a lone surrogate or a NUL (cheap test)."""
    return _RISKY_ESCAPE.search(raw) is not None


def unstorable_path(value: Any, path: str = "") -> str | None:
    """The path of the first key or string holding a lone surrogate or a NUL, else None."""
    if isinstance(value, str):
        return path or "(body)" if _bad(value) else None
    if isinstance(value, dict):
        for key, item in value.items():
            where = f"{path}.{key[:64]}" if path else key[:64]
            found = where if _bad(key) else unstorable_path(item, where)
            if found is not None:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found = unstorable_path(item, f"{path}[{index}]")
            if found is not None:
                return found
    return None


def repaired(value: Any) -> Any:
    """`value` with every lone surrogate and NUL (in keys and strings) replaced by U+FFFD."""
    if isinstance(value, str):
        return _UNSTORABLE.sub("\ufffd", value) if _bad(value) else value
    if isinstance(value, dict):
        return {repaired(k): repaired(v) for k, v in value.items()}
    if isinstance(value, list):
        return [repaired(v) for v in value]
    return value


def _bad(text: str) -> bool:
    return _UNSTORABLE.search(text) is not None


def checked(
    raw: bytes, *, unstorable: Literal["refuse", "repair"], max_depth: int = MAX_DEPTH
) -> Any:
    """Parse `raw`; then refuse (`UnsafeJson`) or repair text that cannot be stored."""
    data = loads(raw, max_depth=max_depth)
    if not may_hold_unstorable(raw):
        return data
    if unstorable == "repair":
        return repaired(data)
    where = unstorable_path(data)
    if where is not None:
        # The path is made of the body's own keys: shown cut and repaired, like any logged value.
        shown = repaired(where)[:200]
        raise UnsafeJson(f"text that cannot be stored (lone surrogate or NUL) in {shown}")
    return data
