"""Errors every layer may raise or catch, kept below every package so none imports upwards.

Startup problems (settings, database, data directory, a second instance) are raised as
`StartupError` with a message that names the cause and the fix; the command line prints it as
`itop-intercom: error: <message>` and exits with status 1, never with a traceback.
"""

from __future__ import annotations


class NotConfigured(Exception):
    """A setting the operation needs is missing (reported to the admin, never a crash)."""


class StartupError(Exception):
    """A problem that keeps a command from starting; the message is one line."""
