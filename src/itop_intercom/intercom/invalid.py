"""What a payload that failed validation is told: the fields at fault, short and safe."""

from __future__ import annotations

from pydantic import ValidationError


def invalid_fields(exc: ValidationError, *, at_most: int = 5) -> str:
    """The fields a validation error names, as a short text safe to log and to return.

    A location can hold keys of the body itself, so each is cut, and only a few are listed.
    """
    fields = sorted({".".join(str(p)[:64] for p in e["loc"])[:120] for e in exc.errors()})
    shown = ", ".join(fields[:at_most])
    return shown + (f" (+{len(fields) - at_most} more)" if len(fields) > at_most else "")
