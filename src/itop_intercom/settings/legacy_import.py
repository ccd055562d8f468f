"""`itop-intercom config import`: turn the PHP extension's module settings into our TOML file.

Admins migrating from `combodo-intercom-integration` bring its settings over unchanged, either
from `config-itop.php` or from an iTop XML delta. The extension reads its settings by dotted
name (`sync_app.ticket.class`), and admins write them flat-dotted or nested; both are accepted,
and when one setting is given both ways the flat-dotted one wins, as it does for the extension.

Nothing is dropped silently: a setting we do not know is reported as a warning, a value of the
wrong type is an error (exit status 2, nothing written), and a value that we can only translate
approximately is reported. The produced document is validated by loading it with the service's
own settings loader before anything is written.

Secrets (the Intercom client secret and access token) never reach the console: by default they
go to files readable only by their owner, referenced by `*_file` keys; they are written inline
only on request, and left out when the output is the console.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, Literal, TextIO

import tomli_w

from itop_intercom.settings.loader import SettingsError, load_settings
from itop_intercom.settings.model import DEFAULT_ATTRIBUTES_MAPPING
from itop_intercom.settings.php_array import (
    DEFAULT_MODULE,
    LegacyFormatError,
    parse_php_module_settings,
)
from itop_intercom.settings.xml_delta import parse_xml_module_settings

SecretsMode = Literal["inline", "files", "omit"]
SECRETS_MODES: tuple[SecretsMode, ...] = ("inline", "files", "omit")
LegacyForm = Literal["php", "xml"]

#: Environment variables that override the secrets of the `[intercom]` table.
SECRET_ENV_VARS: Final[Mapping[str, str]] = {
    "client_secret": "ITOP_INTERCOM_INTERCOM__CLIENT_SECRET",
    "access_token": "ITOP_INTERCOM_INTERCOM__ACCESS_TOKEN",
}
_SECRET_LABELS: Final[Mapping[str, str]] = {
    "client_secret": "client secret",
    "access_token": "access token",
}

#: iTop's URL maker classes (compared case-insensitively, as PHP compares class names).
_URL_MAKERS: Final[Mapping[str, str]] = {
    "itopportalviewurlmaker": "itop-portal",
    "itopportalediturlmaker": "itop-portal",
    "itopstandardurlmaker": "backoffice",
}

_LeafKind = Literal["str", "list", "bool", "secret", "url_maker"]


class LegacyImportError(Exception):
    """The legacy settings were read but some values cannot be carried over as they are."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class _Leaf:
    kind: _LeafKind
    target: tuple[str, ...]
    """Our key, relative to the enclosing map entry (absolute outside maps)."""


@dataclass(frozen=True)
class _Map:
    """A setting whose keys are data (workspace ids, logical attribute names)."""

    target: tuple[str, ...]
    entry: _Spec
    allowed_keys: frozenset[str] | None = None


_Spec = Mapping[str, "_Spec"] | _Leaf | _Map

#: The extension's settings (DESIGN §3.1) and where each one goes in our settings.
_SCHEMA: Final[Mapping[str, _Spec]] = {
    "workspaces": _Map(("workspaces",), {"scope": _Leaf("str", ("scope",))}),
    "sync_app": {
        "client_secret": _Leaf("secret", ("client_secret",)),
        "access_token": _Leaf("secret", ("access_token",)),
        "ticket": {
            "class": _Leaf("str", ("ticket", "class")),
            "attributes_mapping": _Map(
                ("ticket", "attributes_mapping"),
                _Leaf("str", ()),
                frozenset(DEFAULT_ATTRIBUTES_MAPPING),
            ),
        },
        "create_ticket": {
            "form_attributes": _Leaf("list", ("create_ticket", "form_attributes")),
        },
        "search_ticket": {
            "excluded_states": _Leaf("list", ("search_ticket", "excluded_states")),
            "subtitle_attribute": _Leaf("str", ("search_ticket", "subtitle_attribute")),
        },
        "view_ticket": {
            "details_attributes": _Leaf("list", ("view_ticket", "details_attributes")),
            "show_open_in_backoffice_button": _Leaf(
                "bool", ("view_ticket", "show_open_in_backoffice_button")
            ),
        },
        "portal_url_maker_class": _Leaf("url_maker", ("messenger", "portal_url_maker")),
    },
    "enabled_portals": _Leaf("list", ("messenger", "enabled_portals")),
    "allowed_profiles": _Leaf("list", ("messenger", "allowed_profiles")),
}

#: Order of the tables in the produced file: what an admin checks first comes first.
_SECTION_ORDER = (
    "workspaces",
    "ticket",
    "create_ticket",
    "search_ticket",
    "view_ticket",
    "messenger",
)


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
    leaf: _Leaf


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
    spec: _Spec,
    legacy: tuple[str, ...],
    written: tuple[str, ...],
    prefix: tuple[str, ...],
) -> None:
    name = ".".join(legacy) or "(the module settings)"
    if isinstance(spec, _Leaf):
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
    if isinstance(spec, _Map):
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
    spec: _Spec,
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
            isinstance(spec, _Map)
            and part
            and (spec.allowed_keys is None or part in spec.allowed_keys)
        ):
            prefix = (*prefix, *spec.target, part)
            spec = spec.entry
            if not isinstance(spec, _Leaf):
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
    mapped = _URL_MAKERS.get(class_name.lower())
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
    _walk_value(walk, legacy, _SCHEMA, (), (), ())
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
        section: _ordered(section, result.document[section])
        for section in _SECTION_ORDER
        if section in result.document
    }
    return result


def _schema_targets(spec: _Spec, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    if isinstance(spec, _Leaf):
        return [prefix + spec.target]
    if isinstance(spec, _Map):
        return [prefix + spec.target]
    return [target for child in spec.values() for target in _schema_targets(child, prefix)]


#: Our keys in the order of DESIGN §3.1, so that the file reads like the extension's docs.
_KEY_ORDER: Final[Mapping[tuple[str, ...], int]] = {
    target: index for index, target in enumerate(_schema_targets(_SCHEMA))
}


def _ordered(section: str, table: Any) -> Any:
    if section == "workspaces" or not isinstance(table, dict):
        return table
    return dict(
        sorted(table.items(), key=lambda item: _KEY_ORDER.get((section, item[0]), len(_KEY_ORDER)))
    )


# -- reading -----------------------------------------------------------------------------------


def detect_form(raw: bytes, path: Path) -> LegacyForm:
    """PHP or XML, by content first (files are often renamed), then by the file name."""
    head = raw.lstrip(b"\xef\xbb\xbf \t\r\n")[:64].lower()
    if head.startswith((b"<?php", b"<?=")):
        return "php"
    if head.startswith(b"<"):
        return "xml"
    suffix = path.suffix.lower()
    if suffix == ".php":
        return "php"
    if suffix == ".xml":
        return "xml"
    if b"=>" in raw:
        # A snippet such as 'combodo-intercom-integration' => array(…), without <?php.
        return "php"
    raise LegacyFormatError(
        "cannot tell whether this is an iTop configuration file (PHP) or an XML delta: "
        "expected <?php or <?xml at the start, or a .php or .xml name"
    )


def read_legacy(
    raw: bytes, path: Path, module: str = DEFAULT_MODULE
) -> tuple[LegacyForm, dict[str, Any]]:
    """Detect the form of `raw` and parse the module's settings out of it."""
    form = detect_form(raw, path)
    if form == "xml":
        return form, parse_xml_module_settings(raw, module)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise LegacyFormatError("the file is not UTF-8 text", line) from None
    return form, parse_php_module_settings(text, module)


# -- writing -----------------------------------------------------------------------------------


def _comment_safe(text: str) -> str:
    return text.replace("\r", " ").replace("\n", " ")


def render_toml(
    result: ImportResult,
    source: Path,
    form: LegacyForm,
    secrets_mode: SecretsMode,
    secret_files: dict[str, Path],
) -> str:
    """The settings file: a header saying where it came from, the tables, placeholders."""
    form_name = "iTop configuration file" if form == "php" else "iTop XML datamodel delta"
    lines = [
        "# itop-intercom settings, imported by `itop-intercom config import` from the",
        f"# {form_name} {_comment_safe(str(source))}",
        f"# (module settings of the PHP extension '{DEFAULT_MODULE}').",
        "# Settings the extension did not have keep their defaults",
        "# (see itop-intercom.example.toml).",
        "# Fill in public_url and the [itop] table (at the end of this file).",
        "",
        "# Where Intercom reaches this service (https://…); `itop-intercom urls` builds on it:",
        '# public_url = "https://itop-intercom.example.com/"',
        "",
    ]
    body = [tomli_w.dumps({key: value}) for key, value in result.document.items()]
    intercom = _intercom_table(result, secrets_mode, secret_files)
    # The [intercom] table goes right after the workspaces, which use its secrets.
    position = 1 if "workspaces" in result.document else 0
    body.insert(position, intercom)
    lines.append("\n".join(chunk.rstrip("\n") + "\n" for chunk in body))
    lines += [
        "# iTop's application root and the token of its token-based REST user (setup step 1).",
        "# Better than token: the environment variable ITOP_INTERCOM_ITOP__TOKEN or token_file.",
        "# [itop]",
        '# url = "https://itop.example.com/"',
        '# token_file = "/run/secrets/itop-token"',
        "",
    ]
    return "\n".join(lines)


def _intercom_table(
    result: ImportResult, secrets_mode: SecretsMode, secret_files: dict[str, Path]
) -> str:
    names = [name for name in SECRET_ENV_VARS if name in result.secrets]
    env_lines = [f"#   {SECRET_ENV_VARS[name]}" for name in SECRET_ENV_VARS]
    if not names or secrets_mode == "omit":
        why = "were left out of this file" if names else "were not in the extension's settings"
        return "\n".join(
            [
                f"# The Intercom app's client secret and access token {why}.",
                "# Set them through the environment variables",
                *env_lines,
                "# or in files readable only by the service (mode 0600):",
                "# [intercom]",
                '# client_secret_file = "/run/secrets/intercom-client-secret"',
                '# access_token_file = "/run/secrets/intercom-access-token"',
                "",
            ]
        )
    if secrets_mode == "files":
        table = {f"{name}_file": str(secret_files[name]) for name in names}
        header = [
            "# The Intercom app's secrets, imported from sync_app.*, are in files readable only",
            "# by their owner (mode 0600). These environment variables override them:",
            *env_lines,
        ]
    else:
        table = {name: result.secrets[name] for name in names}
        header = [
            "# WARNING: the Intercom app's secrets below are in clear text (--secrets inline).",
            "# Prefer the environment variables",
            *env_lines,
            "# (or client_secret_file / access_token_file), and keep this file private.",
        ]
    return "\n".join(header) + "\n" + tomli_w.dumps({"intercom": table})


def _write_private(path: Path, text: str) -> None:
    """Write a file that only its owner can read (mode 0600), even if it existed before."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        os.fchmod(handle.fileno(), 0o600)
        handle.write(text)


def _write_atomically(files: list[tuple[Path, str, bool]]) -> None:
    """Write every file to a temporary sibling, then rename them all into place.

    Secrets land in files created 0600 from the start, never readable by others even briefly.
    """
    staged: list[tuple[Path, Path]] = []
    try:
        umask = os.umask(0o077)
        os.umask(umask)
        for path, text, private in files:
            fd, temp_name = tempfile.mkstemp(
                dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"
            )
            temp = Path(temp_name)
            staged.append((temp, path))
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                os.fchmod(handle.fileno(), 0o600 if private else 0o666 & ~umask)
                handle.write(text)
        for temp, path in staged:
            os.replace(temp, path)
    finally:
        for temp, _path in staged:
            with contextlib.suppress(FileNotFoundError):
                temp.unlink()


def _validate(
    result: ImportResult, source: Path, form: LegacyForm, secrets_mode: SecretsMode
) -> str | None:
    """Load the document exactly as the service would; the reason when it is refused."""
    with tempfile.TemporaryDirectory(prefix="itop-intercom-import-") as tmp:
        directory = Path(tmp)
        secret_files: dict[str, Path] = {}
        if secrets_mode == "files":
            for name, value in result.secrets.items():
                secret_files[name] = directory / f"settings.toml.{name}"
                _write_private(secret_files[name], value)
        settings_file = directory / "settings.toml"
        _write_private(settings_file, render_toml(result, source, form, secrets_mode, secret_files))
        try:
            load_settings(settings_file)
        except SettingsError as exc:
            return str(exc).replace(f" in {settings_file}", "").replace(str(directory), "…")
    return None


def run_import(
    input_path: Path,
    output_path: Path | None,
    secrets_mode: str | None,
    stdout: TextIO,
    stderr: TextIO,
) -> int:
    """The `config import` command. 0: written; 2: unusable input or options (nothing written);
    1: the output could not be written."""

    def fail(message: str, status: int = 2) -> int:
        print(f"error: {message}", file=stderr)
        return status

    if secrets_mode is None:
        mode: SecretsMode = "files" if output_path is not None else "omit"
    elif secrets_mode in SECRETS_MODES:
        mode = secrets_mode
    else:
        return fail(f"--secrets must be one of {', '.join(SECRETS_MODES)}")
    if output_path is None and mode != "omit":
        return fail(f"--secrets {mode} needs -o FILE: secrets are never printed on the console")
    if output_path is not None and output_path.resolve() == input_path.resolve():
        return fail("the output file is the input file; choose another -o")
    try:
        raw = input_path.read_bytes()
    except OSError as exc:
        return fail(f"cannot read {input_path}: {exc.strerror}")
    try:
        form, legacy = read_legacy(raw, input_path)
        result = convert(legacy)
    except LegacyFormatError as exc:
        return fail(f"{input_path}: {exc}")
    except LegacyImportError as exc:
        details = "\n".join(f"  {problem}" for problem in exc.problems)
        return fail(f"{input_path}: these settings cannot be carried over:\n{details}")
    for warning in result.warnings:
        print(f"warning: {warning}", file=stderr)

    source = input_path.resolve()
    invalid = _validate(result, source, form, mode)
    if invalid is not None:
        return fail(f"the imported settings would not be accepted by the service: {invalid}")

    secret_names = [name for name in SECRET_ENV_VARS if name in result.secrets]
    if output_path is None:
        stdout.write(render_toml(result, source, form, mode, {}))
        if secret_names:
            print(
                "note: the Intercom "
                + " and ".join(_SECRET_LABELS[name] for name in secret_names)
                + " were left out (secrets are never printed on the console): run with -o FILE "
                "to write them to files readable only by you, or set "
                + " / ".join(SECRET_ENV_VARS[name] for name in secret_names),
                file=stderr,
            )
        return 0

    output = output_path.absolute()
    secret_files = {name: Path(f"{output}.{name}") for name in secret_names}
    files: list[tuple[Path, str, bool]] = []
    if mode == "files":
        files += [(secret_files[name], result.secrets[name] + "\n", True) for name in secret_names]
    text = render_toml(result, source, form, mode, secret_files if mode == "files" else {})
    files.append((output, text, mode == "inline" and bool(secret_names)))
    try:
        _write_atomically(files)
    except OSError as exc:
        return fail(f"cannot write {exc.filename or output}: {exc.strerror}", 1)
    count = len(result.carried_over)
    print(
        f"wrote {output_path} ({count} setting{'s' if count != 1 else ''} carried over)",
        file=stderr,
    )
    if mode == "files" and secret_names:
        print(
            "the Intercom secrets are in "
            + " and ".join(str(secret_files[name]) for name in secret_names)
            + " (mode 0600)",
            file=stderr,
        )
    elif mode == "inline" and secret_names:
        print(
            f"the Intercom secrets are inline in {output_path} (mode 0600); prefer "
            + " / ".join(SECRET_ENV_VARS[name] for name in secret_names),
            file=stderr,
        )
    print("next: fill in public_url and [itop] in it, then run `itop-intercom check`", file=stderr)
    return 0
