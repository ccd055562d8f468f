"""One instance per SQLite database: an OS file lock beside the database file.

SQLite serves one process well; two `serve` or `worker` processes on one file would both run a
worker and fight over the single writer. `serve` and `worker` take an exclusive, non-blocking
`flock` on `<database>.lock` and hold it for the life of the process (the OS releases it when
the process ends, even killed, so a crash never leaves a stale lock). A second instance finds it
taken and stops with one line that says to use PostgreSQL for several instances. PostgreSQL
databases need no lock: several instances share them by design.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path
from typing import IO

from itop_intercom.errors import StartupError
from itop_intercom.store.problems import check_sqlite_directory, sqlite_path


class SecondInstance(StartupError):
    """Another process already serves this SQLite database."""


class InstanceLock:
    def __init__(self, database: Path) -> None:
        self.database = database
        self.path = database.with_name(database.name + ".lock")
        self._handle: IO[str] | None = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = self.path.open("a+", encoding="utf-8")
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip()
            handle.close()
            who = f" (process {holder})" if holder.isdigit() else ""
            raise SecondInstance(
                f"another itop-intercom serve or worker{who} already uses the SQLite database "
                f"{self.database}; SQLite is for one instance: stop the other one, or use "
                "PostgreSQL (database.url, ITOP_INTERCOM_DATABASE__URL) to run several instances"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        self._handle = handle

    def release(self) -> None:
        if self._handle is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(self._handle.fileno(), fcntl.LOCK_UN)
            self._handle.close()
            self._handle = None


def hold_instance_lock(async_url: str) -> InstanceLock | None:
    """Take the lock of a SQLite database file (None for PostgreSQL and in-memory SQLite)."""
    path = sqlite_path(async_url)
    if path is None:
        return None
    check_sqlite_directory(async_url)  # an unwritable directory is named, not a traceback
    lock = InstanceLock(path)
    lock.acquire()
    return lock
