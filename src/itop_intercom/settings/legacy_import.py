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
from pathlib import Path
from typing import Any, Final, Literal, TextIO

import tomli_w

from itop_intercom.settings.legacy_convert import ImportResult, LegacyImportError, convert
from itop_intercom.settings.legacy_format import DEFAULT_MODULE, LegacyFormatError
from itop_intercom.settings.loader import SettingsError, load_settings
from itop_intercom.settings.php_array import parse_php_module_settings
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
    """The `config import` command. 0: written; 1: unusable input, or the output could not be
    written (nothing written); 2: options that do not go together."""

    def fail(message: str, status: int = 1) -> int:
        print(f"itop-intercom: error: {message}", file=stderr)
        return status

    if secrets_mode is None:
        mode: SecretsMode = "files" if output_path is not None else "omit"
    elif secrets_mode in SECRETS_MODES:
        mode = secrets_mode
    else:
        return fail(f"--secrets must be one of {', '.join(SECRETS_MODES)}", 2)
    if output_path is None and mode != "omit":
        return fail(f"--secrets {mode} needs -o FILE: secrets are never printed on the console", 2)
    if output_path is not None and output_path.resolve() == input_path.resolve():
        return fail("the output file is the input file; choose another -o", 2)
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
        print(f"itop-intercom: warning: {warning}", file=stderr)

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
