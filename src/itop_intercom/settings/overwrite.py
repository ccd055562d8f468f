"""`config import -o FILE` never replaces what is already there unless asked to (`--force`):
the settings file may hold the administrator's edits, and its secret files their secrets."""

from __future__ import annotations

from pathlib import Path

#: The secret files `config import` writes beside its output (`<output>.<name>`).
SECRET_FILE_SUFFIXES = ("client_secret", "access_token")


def files_written(output: Path) -> list[Path]:
    return [output, *(Path(f"{output}.{suffix}") for suffix in SECRET_FILE_SUFFIXES)]


def refuse_overwrite(output: Path) -> str | None:
    """Why the import must not run (one line), or None when nothing would be replaced."""
    existing = [path for path in files_written(output) if path.exists()]
    if not existing:
        return None
    names = ", ".join(str(path) for path in existing)
    verb = "exists" if len(existing) == 1 else "exist"
    return (
        f"{names} already {verb} and was not replaced; "
        "pass --force to replace it, or choose another file with -o"
    )
