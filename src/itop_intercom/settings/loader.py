"""Reading the settings: a TOML file first, then `ITOP_INTERCOM_…` environment variables.

Errors are turned into one readable line per key (`itop.url: Input should be a valid URL`),
without echoing the offending value: a misplaced token must not end up on a console.
"""

from __future__ import annotations

import contextlib
import os
import tomllib
from pathlib import Path
from typing import Any, TextIO

from pydantic import ValidationError
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, TomlConfigSettingsSource

from itop_intercom.settings.model import Settings

#: Where `serve` looks when no --config is given.
DEFAULT_CONFIG_FILE = Path("itop-intercom.toml")
CONFIG_ENV_VAR = "ITOP_INTERCOM_CONFIG"


class SettingsError(Exception):
    """Settings that cannot be used; the message names each key and its problem."""


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
        raise SettingsError(describe_validation_error(exc, path)) from None
    if not settings.data_dir.is_absolute():
        settings.data_dir = (base / settings.data_dir).resolve()
    return settings


def describe_validation_error(exc: ValidationError, path: Path | None) -> str:
    where = f" in {path}" if path else ""
    lines = [f"invalid settings{where}:"]
    for error in exc.errors(include_input=False, include_url=False):
        key = ".".join(str(part) for part in error["loc"]) or "(root)"
        message = error["msg"]
        if error["type"] == "extra_forbidden":
            message = "unknown setting"
        lines.append(f"  {key}: {message}")
    return "\n".join(lines)


def load_or_report(config_file: Path | str | None, stderr: TextIO) -> Settings | None:
    """For commands: the settings, or None after printing why they cannot be used."""
    try:
        return load_settings(config_file)
    except SettingsError as exc:
        print(f"itop-intercom: {exc}", file=stderr)
        return None
