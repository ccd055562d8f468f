"""Putting values into OQL safely.

iTop's REST API has no query parameters: values must be written into the OQL text, quoted and
escaped. Only quoted string literals with backslash escapes are used, so no input can close
the literal and inject OQL; integers are checked to be integers.
"""

from __future__ import annotations

from collections.abc import Iterable


def quote(value: str) -> str:
    """A single-quoted OQL string literal; `\\` and `'` are escaped with a backslash, which is
    how iTop reads them."""
    escaped = value.replace("\\", "\\\\").replace("'", "\\'")
    return f"'{escaped}'"


def integer(value: int | str) -> str:
    number = int(value)
    return str(number)


def in_list(values: Iterable[str]) -> str:
    items = [quote(v) for v in values]
    if not items:
        raise ValueError("an OQL IN list needs at least one value")
    return "(" + ", ".join(items) + ")"


def identifier(name: str) -> str:
    """A class or attribute code from the settings: letters, digits and `_` only."""
    if not name or not all(c.isalnum() or c == "_" for c in name) or name[0].isdigit():
        raise ValueError(f"{name!r} is not an iTop class or attribute code")
    return name
