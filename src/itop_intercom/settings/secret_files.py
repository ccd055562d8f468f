"""The `*_file` settings that hold secrets, and which of them other users can read."""

from __future__ import annotations

import stat
from collections.abc import Iterator
from pathlib import Path

from itop_intercom.settings.model import Settings

#: Permission bits that let someone other than the owner read a file.
_READABLE_BY_OTHERS = stat.S_IRGRP | stat.S_IROTH


def secret_file_settings(settings: Settings) -> Iterator[tuple[str, Path]]:
    """(dotted key, path) of every secret file the settings name."""
    if settings.itop.token_file is not None:
        yield "itop.token_file", settings.itop.token_file
    for name in ("client_secret_file", "access_token_file"):
        path: Path | None = getattr(settings.intercom, name)
        if path is not None:
            yield f"intercom.{name}", path
    for workspace_id, ws in settings.workspaces.items():
        for name in ("client_secret_file", "access_token_file"):
            path = getattr(ws, name)
            if path is not None:
                yield f"workspaces.{workspace_id}.{name}", path


def anchor_secret_files(settings: Settings, base: Path) -> None:
    """Make relative secret file paths absolute (they are relative to the settings file)."""
    sections: list[object] = [settings.itop, settings.intercom, *settings.workspaces.values()]
    for section in sections:
        for name in ("token_file", "client_secret_file", "access_token_file"):
            path = getattr(section, name, None)
            if isinstance(path, Path) and not path.is_absolute():
                setattr(section, name, base / path)


def exposed_secret_files(settings: Settings) -> list[tuple[str, Path, int]]:
    """(key, path, permission bits) of the secret files that group or others can read."""
    exposed = []
    for key, path in secret_file_settings(settings):
        try:
            mode = stat.S_IMODE(path.stat().st_mode)
        except OSError:
            continue
        if mode & _READABLE_BY_OTHERS:
            exposed.append((key, path, mode))
    return exposed
