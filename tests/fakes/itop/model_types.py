"""The data model's building blocks: attribute and class descriptions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


#: Kinds whose value is computed or derived: never stored, never settable through REST.
_COMPUTED_KINDS = frozenset(
    _words("extfield friendlyname finalclass metaenum subitem obsflag obsdate stopwatch dashboard")
)


_STRING_KINDS = frozenset(
    {"string", "text", "html", "url", "email", "phone", "password", "language"}
)


@dataclass(frozen=True)
class _Attr:
    code: str
    kind: str
    label: str = ""
    null: bool = True
    size: int | None = None
    values: tuple[str, ...] = ()
    default: Any = None
    target: str = ""
    key: str = ""
    remote: str = ""
    writable: bool = True


def A(code: str, kind: str, label: str = "", **kwargs: Any) -> _Attr:
    return _Attr(code, kind, label or code, **kwargs)


@dataclass
class _Class:
    name: str
    attrs: dict[str, _Attr]
    parent: str | None = None
    abstract: bool = False
    name_attrs: tuple[str, ...] = ("name",)
    family: str = ""
    order: Literal["friendlyname", "ref_desc", "id", "change_text"] = "friendlyname"


def _key_fields(key: str, *, obsolescence: bool = False) -> list[_Attr]:
    out = [A(f"{key}_friendlyname", "extfield", key=key, remote="friendlyname")]
    if obsolescence:
        out.append(A(f"{key}_obsolescence_flag", "extfield", key=key, remote="obsolescence_flag"))
    return out
