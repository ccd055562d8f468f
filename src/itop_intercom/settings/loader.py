"""Reading the settings: `ITOP_INTERCOM_…` environment variables first, then a TOML file.

Errors are turned into one readable line that names each key and where its value came from (the
environment variable or the file), e.g. `server.port: Input should be a valid integer`, without
echoing the offending value: a misplaced token must not end up on a console.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TextIO

from pydantic import ValidationError
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    TomlConfigSettingsSource,
)
from pydantic_settings import SettingsError as SourceError

import itop_intercom.settings.keys as keys
from itop_intercom.errors import StartupError
from itop_intercom.settings.model import Settings
from itop_intercom.settings.secret_files import anchor_secret_files, exposed_secret_files

#: Where `serve` looks when no --config is given.
DEFAULT_CONFIG_FILE = Path("itop-intercom.toml")
CONFIG_ENV_VAR = "ITOP_INTERCOM_CONFIG"


class SettingsError(StartupError):
    """Settings that cannot be used; the message names each key, its source and its problem."""


def setting_keys() -> keys.Node:
    """The key tree of the settings, for messages (built when needed: a few microseconds)."""
    return keys.node_of(Settings)


_SOURCE_FIELD = re.compile(r'field "([^"]+)"')


def _settings_class(toml_file: Path | None) -> type[Settings]:
    class _FileSettings(Settings):
        @classmethod
        def settings_customise_sources(
            cls,
            settings_cls: type[BaseSettings],
            init_settings: PydanticBaseSettingsSource,
            env_settings: PydanticBaseSettingsSource,
            dotenv_settings: PydanticBaseSettingsSource,
            file_secret_settings: PydanticBaseSettingsSource,
        ) -> tuple[PydanticBaseSettingsSource, ...]:
            sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
            if toml_file is not None:
                sources.append(TomlConfigSettingsSource(settings_cls, toml_file=toml_file))
            return tuple(sources)

    return _FileSettings


def resolve_config_path(config_file: Path | str | None) -> Path | None:
    """--config, else $ITOP_INTERCOM_CONFIG, else ./itop-intercom.toml when it exists."""
    if config_file is not None:
        return Path(config_file)
    from_env = os.environ.get(CONFIG_ENV_VAR)
    if from_env:
        return Path(from_env)
    return DEFAULT_CONFIG_FILE if DEFAULT_CONFIG_FILE.exists() else None


def load_settings(config_file: Path | str | None = None, **overrides: Any) -> Settings:
    path = resolve_config_path(config_file)
    if path is not None:
        if not path.is_file():
            raise SettingsError(f"settings file {path} does not exist")
        try:
            with path.open("rb") as handle:
                tomllib.load(handle)
        except tomllib.TOMLDecodeError as exc:
            raise SettingsError(f"{path}: not valid TOML: {exc}") from None
    # Relative paths in a settings file (data_dir, *_file secrets) are relative to the file,
    # not to wherever the command happens to be run from.
    base = path.resolve().parent if path is not None else Path.cwd()
    try:
        with contextlib.chdir(base):
            settings = _settings_class(path.resolve() if path else None)(**overrides)
    except ValidationError as exc:
        raise SettingsError(describe_validation_error(exc, path, os.environ)) from None
    except SourceError as exc:
        raise SettingsError(describe_source_error(exc, os.environ)) from None
    if not settings.data_dir.is_absolute():
        settings.data_dir = (base / settings.data_dir).resolve()
    anchor_secret_files(settings, base)
    return settings


def describe_validation_error(
    exc: ValidationError, path: Path | None, environ: Mapping[str, str] | None = None
) -> str:
    """One line: each problem with its key, blamed on the environment variable that set it,
    else on the settings file."""
    environ = os.environ if environ is None else environ
    from_env: list[str] = []
    from_file: list[str] = []
    for error in exc.errors(include_input=False, include_url=False):
        loc = [str(part) for part in error["loc"]]
        key = keys.dotted(loc) or "(root)"
        message = error["msg"]
        if error["type"] == "extra_forbidden":
            message = "unknown setting"
            suggestion = keys.suggest_sibling(setting_keys(), loc)
            if suggestion:
                message += f"; did you mean {suggestion}?"
        variables = keys.variables_setting(loc, environ)
        if variables:
            from_env.append(f"environment variable {variables[-1]} ({key}): {message}")
        else:
            from_file.append(f"{key}: {message}")
    parts = []
    if from_env:
        parts.append("invalid setting from the " + "; ".join(from_env))
    if from_file:
        where = f" in {path}" if path else ""
        parts.append(f"invalid settings{where}: " + "; ".join(from_file))
    return "; ".join(parts)


def describe_source_error(exc: SourceError, environ: Mapping[str, str]) -> str:
    """A structured value (list, table) given in the environment that is not JSON."""
    match = _SOURCE_FIELD.search(str(exc))
    field = match.group(1) if match else ""
    culprits = []
    for name in keys.variables_below([field], environ) if field else []:
        node = keys.resolve(setting_keys(), keys.env_path(name))
        if node is None or node.kind == "value":
            continue
        try:
            json.loads(environ[name])
        except ValueError:
            culprits.append((name, node.kind))
    if not culprits:
        return f"invalid settings in the environment ({field or 'unknown key'}): {exc}"
    name, kind = culprits[0]
    example = '["a", "b"]' if kind == "list" else '{"key": "value"}'
    return (
        f"environment variable {name} is not valid JSON: a {kind_word(kind)} is written "
        f"in JSON, e.g. {name}='{example}'"
    )


def kind_word(kind: str) -> str:
    return "list" if kind == "list" else "table"


def settings_warnings(settings: Settings, environ: Mapping[str, str] | None = None) -> list[str]:
    """What the service accepts but an operator should hear about: variables that set nothing,
    secret files that others can read."""
    environ = os.environ if environ is None else environ
    warnings = keys.unknown_variables(setting_keys(), environ)
    for key, secret_path, mode in exposed_secret_files(settings):
        warnings.append(
            f"the secret file {secret_path} ({key}) can be read by other users "
            f"(mode {mode:o}); run: chmod 600 {secret_path}"
        )
    return warnings


def load_or_report(config_file: Path | str | None, stderr: TextIO) -> Settings | None:
    """For commands: the settings, or None after printing why they cannot be used."""
    try:
        settings = load_settings(config_file)
    except SettingsError as exc:
        print(f"itop-intercom: error: {exc}", file=stderr)
        return None
    for warning in settings_warnings(settings):
        print(f"itop-intercom: warning: {warning}", file=stderr)
    return settings
