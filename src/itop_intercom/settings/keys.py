"""The tree of setting keys, for messages: the environment variable of a key, the closest known
key to a misspelt one, and the `ITOP_INTERCOM_*` variables that match no setting.

Keys below a table whose names are data (`workspaces.<id>`, `create_ticket.fields.<attribute>`,
`ticket.attributes_mapping.<name>`) accept any name at that level; what lies below follows the
table's value type again.
"""

from __future__ import annotations

import difflib
import types
import typing
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel

ENV_PREFIX = "ITOP_INTERCOM_"
ENV_DELIMITER = "__"

#: Variables with the prefix that are not settings: the settings file's path, and the test
#: suite's own variables (`ITOP_INTERCOM_TEST_POSTGRES_URL`).
NOT_SETTINGS = ("ITOP_INTERCOM_CONFIG",)
NOT_SETTINGS_PREFIXES = ("ITOP_INTERCOM_TEST_",)

#: How a data key is shown in suggestions.
_ANY = "<name>"

Kind = Literal["section", "map", "list", "value"]


@dataclass(frozen=True)
class Node:
    kind: Kind
    children: Mapping[str, Node] | None = None
    """Sections: their keys. Maps: `{"*": <value node>}`."""


def _unwrap(annotation: Any) -> Any:
    """The type inside `X | None` and `Annotated[X, …]`."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            if len(args) != 1:
                return annotation
            annotation = args[0]
        else:
            return annotation


def node_of(annotation: Any) -> Node:
    annotation = _unwrap(annotation)
    origin = typing.get_origin(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        children: dict[str, Node] = {}
        for name, info in annotation.model_fields.items():
            children[info.alias or name] = node_of(info.annotation)
        return Node("section", children)
    if origin is dict:
        value = typing.get_args(annotation)[1]
        return Node("map", {"*": node_of(value)})
    if origin in (list, tuple, set, frozenset):
        return Node("list")
    return Node("value")


def _lookup(children: Mapping[str, Node], name: str) -> Node | None:
    lowered = name.lower()
    for key, node in children.items():
        if key.lower() == lowered:
            return node
    return None


def resolve(root: Node, path: Sequence[str]) -> Node | None:
    """The node at `path` (names compared case-insensitively, as environment names are), or
    None when the path names no setting."""
    node = root
    for name in path:
        if node.children is None:
            return None
        found = node.children.get("*") if node.kind == "map" else _lookup(node.children, name)
        if found is None:
            return None
        node = found
    return node


def leaf_paths(root: Node, prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """Every settable key, data names shown as `<name>`."""
    if root.children is None:
        yield prefix
        return
    for name, child in root.children.items():
        yield from leaf_paths(child, (*prefix, _ANY if name == "*" else name))


def dotted(path: Sequence[str]) -> str:
    return ".".join(path)


def env_name(path: Sequence[str]) -> str:
    """The environment variable of a key: `itop.token` → `ITOP_INTERCOM_ITOP__TOKEN`."""
    return ENV_PREFIX + ENV_DELIMITER.join(part if part == _ANY else part.upper() for part in path)


def closest(name: str, candidates: Sequence[str]) -> str | None:
    matches = difflib.get_close_matches(name, candidates, n=1, cutoff=0.6)
    return matches[0] if matches else None


def suggest_sibling(root: Node, path: Sequence[str]) -> str | None:
    """For an unknown key, the closest known key beside it (full dotted name), if any."""
    parent = resolve(root, path[:-1])
    if parent is None or parent.kind != "section" or parent.children is None:
        return None
    match = closest(path[-1], list(parent.children))
    return dotted([*path[:-1], match]) if match else None


def env_path(name: str) -> list[str]:
    return name[len(ENV_PREFIX) :].split(ENV_DELIMITER)


def is_setting_variable(name: str) -> bool:
    upper = name.upper()
    return (
        upper.startswith(ENV_PREFIX)
        and upper not in NOT_SETTINGS
        and not upper.startswith(NOT_SETTINGS_PREFIXES)
    )


def unknown_variables(root: Node, environ: Mapping[str, str]) -> list[str]:
    """One warning per `ITOP_INTERCOM_*` variable that sets nothing, with the closest one."""
    known_env = {env_name(path): dotted(path) for path in leaf_paths(root)}
    warnings = []
    for name in sorted(environ):
        if not is_setting_variable(name) or resolve(root, env_path(name)) is not None:
            continue
        message = f"environment variable {name} matches no setting and is ignored"
        match = closest(name.upper(), list(known_env))
        if match:
            message += f"; did you mean {match} ({known_env[match]})?"
        warnings.append(message)
    return warnings


def _variables(environ: Mapping[str, str]) -> Iterator[tuple[str, list[str]]]:
    """(name, lower-cased key path) of each setting variable."""
    for name in environ:
        if is_setting_variable(name):
            yield name, [p.lower() for p in env_path(name)]


def variables_setting(path: Sequence[str], environ: Mapping[str, str]) -> list[str]:
    """The environment variables that set `path` or a table above it (a JSON value)."""
    wanted = [p.lower() for p in path]
    return sorted(n for n, parts in _variables(environ) if parts == wanted[: len(parts)])


def variables_below(path: Sequence[str], environ: Mapping[str, str]) -> list[str]:
    """The environment variables that set `path` or any key below it."""
    wanted = [p.lower() for p in path]
    return sorted(n for n, parts in _variables(environ) if parts[: len(wanted)] == wanted)
