"""Database failures at start, as one line that names the database and what to do.

The driver's own words are kept (they say "Connection refused", "password authentication
failed", "database … does not exist", "unable to open database file"), preceded by which
database we tried (password hidden) and followed by the setting to fix, with its environment
variable.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, SQLAlchemyError

from itop_intercom.errors import StartupError

_FIX_POSTGRES = (
    "check database.url (environment variable ITOP_INTERCOM_DATABASE__URL) "
    "and that PostgreSQL runs and accepts this user"
)
_FIX_SQLITE = (
    "make it writable by the user running the service, or choose another place with data_dir "
    "(ITOP_INTERCOM_DATA_DIR) or database.url (ITOP_INTERCOM_DATABASE__URL)"
)


class DatabaseUnavailable(StartupError):
    """The database cannot be reached, opened or migrated."""


def shown_url(async_url: str) -> str:
    """The URL as an operator wrote it, without the password nor our driver names."""
    try:
        url = make_url(async_url)
    except ArgumentError:
        return "(not a database URL)"
    backend = url.get_backend_name()
    return url.set(drivername=backend).render_as_string(hide_password=True)


def _driver_message(exc: BaseException) -> str:
    origin = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    text = str(origin).strip() or type(origin).__name__
    first = " ".join(text.splitlines()[0].split())
    return first.removeprefix("connection failed: ").rstrip(".")


def sqlite_path(async_url: str) -> Path | None:
    try:
        url = make_url(async_url)
    except ArgumentError:
        return None
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return Path(url.database)


def describe(exc: BaseException, async_url: str) -> str:
    """One line for a failure to open, reach or migrate the database."""
    if isinstance(exc, ArgumentError):
        return (
            "database.url is not a database URL; write postgresql://user@host/database or "
            "sqlite:///path (environment variable ITOP_INTERCOM_DATABASE__URL)"
        )
    path = sqlite_path(async_url)
    if path is not None:
        if isinstance(exc, OSError):
            where = Path(exc.filename) if exc.filename else path.parent
            reason = exc.strerror or type(exc).__name__
            return f"cannot create or write {where}: {reason}; {_FIX_SQLITE}"
        return f"cannot open the SQLite database {path}: {_driver_message(exc)}; {_FIX_SQLITE}"
    shown = shown_url(async_url)
    return f"cannot use the database {shown}: {_driver_message(exc)}; {_FIX_POSTGRES}"


def check_sqlite_directory(async_url: str) -> None:
    """Create the SQLite database's directory and make sure a file can be written in it, so
    that the error names the directory (SQLite only says "unable to open database file")."""
    path = sqlite_path(async_url)
    if path is None:
        return
    directory = path.parent
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=directory):
            pass
        if path.exists() and not os.access(path, os.R_OK | os.W_OK):
            raise PermissionError(13, "Permission denied", str(path))
    except OSError as exc:
        where = exc.filename or directory
        reason = exc.strerror or type(exc).__name__
        if isinstance(exc, FileExistsError | NotADirectoryError):
            reason = "a file is in the way of the directory"
        raise DatabaseUnavailable(
            f"cannot write the database directory {where}: {reason}; {_FIX_SQLITE}"
        ) from None


def unavailable(exc: SQLAlchemyError | OSError, async_url: str) -> DatabaseUnavailable:
    return DatabaseUnavailable(describe(exc, async_url))
