"""Converting the extension's settings (already parsed from PHP or XML) into our document:
every value checked against the schema, nothing dropped silently."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from itop_intercom.settings.legacy_schema import (
    KEY_ORDER,
    SCHEMA,
    SECTION_ORDER,
    URL_MAKERS,
    Leaf,
    MapSetting,
    Spec,
)
from itop_intercom.settings.model import DEFAULT_ATTRIBUTES_MAPPING


class LegacyImportError(Exception):
    """The legacy settings were read but some values cannot be carried over as they are."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass
class ImportResult:
    """The converted settings; `document` never contains secrets, `secrets` holds them apart."""

    document: dict[str, Any]
    warnings: list[str] = field(default_factory=list)
    secrets: dict[str, str] = field(default_factory=dict)
    """`client_secret` and / or `access_token`, for the `[intercom]` table."""
    carried_over: list[str] = field(default_factory=list)
    """The legacy names of the settings that were carried over, for the summary."""


@dataclass
class _Record:
    legacy_name: str
    written_as: str
    value: Any
    depth: int
    leaf: Leaf


@dataclass
class _Walk:
    records: dict[tuple[str, ...], _Record] = field(default_factory=dict)
    present: list[tuple[str, ...]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def _type_name(value: Any) -> str:
    # Names only, never the value: it could be a secret.
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    return "an array of keys => values"


def _unknown(walk: _Walk, name: str) -> None:
    if name == "api_key":
        walk.warnings.append(
            "unknown setting api_key: not carried over (the Messenger app id of the "
            "extension's first versions; declare that workspace under [workspaces.<ID>])"
        )
    elif name.startswith("sync_app.ticket.attributes_mapping."):
        walk.warnings.append(
            f"unknown setting {name}: not carried over (known logical names: "
            f"{', '.join(DEFAULT_ATTRIBUTES_MAPPING)})"
        )
    else:
        walk.warnings.append(f"unknown setting {name}: not carried over")


def _walk_value(
    walk: _Walk,
    value: Any,
    spec: Spec,
    legacy: tuple[str, ...],
    written: tuple[str, ...],
    prefix: tuple[str, ...],
) -> None:
    name = ".".join(legacy) or "(the module settings)"
    if isinstance(spec, Leaf):
        target = prefix + spec.target
        record = _Record(name, " > ".join(written), value, len(written), spec)
        previous = walk.records.get(target)
        if previous is None:
            walk.records[target] = record
            return
        # The extension reads settings by their dotted name: the flattest spelling wins.
        keep, drop = (previous, record) if previous.depth < record.depth else (record, previous)
        walk.records[target] = keep
        if keep.value != drop.value:
            walk.warnings.append(
                f"{name} is set twice, as {keep.written_as} and as {drop.written_as}: "
                f"kept {keep.written_as}"
            )
        return
    if isinstance(spec, MapSetting):
        walk.present.append(prefix + spec.target)
    if value is None:
        walk.warnings.append(f"{name} is null: not carried over, the defaults apply")
        return
    if value == []:
        return
    if not isinstance(value, dict):
        walk.problems.append(
            f"{name}: expected an array of keys => values, found {_type_name(value)}"
        )
        return
    for key, item in value.items():
        _walk_key(walk, item, spec, str(key), legacy, written, prefix)


def _walk_key(
    walk: _Walk,
    value: Any,
    spec: Spec,
    key: str,
    legacy: tuple[str, ...],
    written: tuple[str, ...],
    prefix: tuple[str, ...],
) -> None:
    """Follow a (possibly dotted) key down the schema, then walk its value."""
    written = (*written, f"'{key}'")
    parts = key.split(".")
    for part in parts:
        if isinstance(spec, Mapping) and part in spec:
            spec = spec[part]
        elif (
            isinstance(spec, MapSetting)
            and part
            and (spec.allowed_keys is None or part in spec.allowed_keys)
        ):
            prefix = (*prefix, *spec.target, part)
            spec = spec.entry
            if not isinstance(spec, Leaf):
                walk.present.append(prefix)
        else:
            _unknown(walk, ".".join((*legacy, *parts)))
            return
    legacy = (*legacy, *parts)
    _walk_value(walk, value, spec, legacy, written, prefix)


def _set_in(document: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    for part in path[:-1]:
        document = document.setdefault(part, {})
    document[path[-1]] = value


def _string_list(value: Any) -> list[str] | None:
    items = list(value.values()) if isinstance(value, dict) else value
    if isinstance(items, list) and all(isinstance(item, str) for item in items):
        return items
    return None


def _convert_leaf(record: _Record, result: ImportResult, problems: list[str]) -> Any:
    """Our value for one legacy value, or None when nothing is to be written."""
    name, value, kind = record.legacy_name, record.value, record.leaf.kind
    if kind == "secret":
        if value is None or value == "":
            result.warnings.append(f"{name} is empty: not carried over")
        elif isinstance(value, str):
            result.secrets[record.leaf.target[-1]] = value
            result.carried_over.append(name)
        else:
            problems.append(f"{name}: expected a string, found {_type_name(value)}")
        return None
    if value is None:
        if name == "allowed_profiles":
            # The extension lets everybody chat when no profile is listed; so do we.
            result.carried_over.append(name)
            return []
        if name == "enabled_portals":
            result.warnings.append(
                "enabled_portals is null: the extension then shows the chat widget in every "
                "portal and in the back office; not carried over, list them in "
                "messenger.enabled_portals (default: itop-portal)"
            )
        else:
            result.warnings.append(f"{name} is null: not carried over, the default applies")
        return None
    converted: Any = None
    if kind == "str":
        converted = value if isinstance(value, str) else None
        if converted is None:
            problems.append(f"{name}: expected a string, found {_type_name(value)}")
    elif kind == "list":
        converted = _string_list(value)
        if converted is None:
            problems.append(f"{name}: expected a list of strings, found {_type_name(value)}")
    elif kind == "bool":
        converted = _convert_bool(name, value, result, problems)
    elif kind == "url_maker":
        converted = _convert_url_maker(name, value, result, problems)
    if converted is not None:
        result.carried_over.append(name)
    return converted


def _convert_bool(name: str, value: Any, result: ImportResult, problems: list[str]) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return value != 0
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in ("true", "1", "yes", "on"):
            return True
        if lowered in ("false", "0", "no", "off", ""):
            if lowered not in ("0", ""):
                # PHP treats every non-empty string but "0" as true: the extension showed it.
                result.warnings.append(
                    f"{name}: the string '{value.strip()}' is read as false (the extension "
                    "took any non-empty string for true)"
                )
            return False
    problems.append(f"{name}: expected true or false, found {_type_name(value)}")
    return None


def _convert_url_maker(
    name: str, value: Any, result: ImportResult, problems: list[str]
) -> str | None:
    if not isinstance(value, str):
        problems.append(f"{name}: expected a class name, found {_type_name(value)}")
        return None
    class_name = value.strip().lstrip("\\")
    if not class_name:
        result.warnings.append(f"{name} is empty: not carried over, the default applies")
        return None
    mapped = URL_MAKERS.get(class_name.lower())
    if mapped is None:
        result.warnings.append(
            f"{name}: unknown URL maker class {class_name}; using itop-portal (set "
            "messenger.portal_url_maker to backoffice or to a URL template if needed)"
        )
        return "itop-portal"
    if class_name.lower() != "itopportalviewurlmaker" and mapped == "itop-portal":
        result.warnings.append(
            f"{name}: {class_name} links to the portal's edit page; itop-portal links to its "
            "view page (set messenger.portal_url_maker to a URL template to keep the edit page)"
        )
    return mapped


def convert(legacy: dict[str, Any]) -> ImportResult:
    """Map the extension's settings (nested or flat-dotted) onto our settings document.

    Raises `LegacyImportError` listing every value that has the wrong type: guessing what a
    mistyped setting meant could change who gets the chat widget or which tickets are shown.
    """
    walk = _Walk()
    _walk_value(walk, legacy, SCHEMA, (), (), ())
    result = ImportResult(document={}, warnings=list(walk.warnings))
    problems = list(walk.problems)
    for path in walk.present:
        node: dict[str, Any] = result.document
        for part in path:
            node = node.setdefault(part, {})
    for target, record in walk.records.items():
        converted = _convert_leaf(record, result, problems)
        if converted is not None:
            _set_in(result.document, target, converted)
    if problems:
        raise LegacyImportError(problems)
    workspaces: dict[str, Any] = result.document.get("workspaces", {})
    if not workspaces:
        result.warnings.append(
            "no workspace is defined: add a [workspaces.<ID>] table for each Intercom workspace"
        )
    for workspace_id, options in workspaces.items():
        if "scope" not in options:
            result.warnings.append(
                f"workspaces.{workspace_id} has no scope: the chat widget will not be shown "
                "for this workspace until you set one"
            )
    result.document = {
        section: ordered(section, result.document[section])
        for section in SECTION_ORDER
        if section in result.document
    }
    return result


def ordered(section: str, table: Any) -> Any:
    if section == "workspaces" or not isinstance(table, dict):
        return table
    return dict(
        sorted(table.items(), key=lambda item: KEY_ORDER.get((section, item[0]), len(KEY_ORDER)))
    )
