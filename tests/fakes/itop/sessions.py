"""iTop's PHP sessions under concurrent REST calls, as measured on a real iTop 3.2.

Every rest.php answer sets a session cookie. A client that keeps it (an HTTP client with a
cookie jar) sends it back with its next calls; when two calls that carry the same session run at
the same time, iTop resets the session under its neighbour and answers code 1
"Error: Invalid login" although the token is valid (measured: 32 of 1,200 concurrent calls with
one shared cookie refused, 0 of 1,200 without cookies). A session cookie alone never
authenticates a call: the token is checked on every call.

The fake reproduces the race deterministically: a call whose session cookie is held by another
call still in flight (handled, or waiting out the fake's latency) is refused with exactly the
invalid-login answer. A call that brings a session keeps it (its answer sets the same id), so a
client that shares one cookie keeps sharing it, as PHP does.
"""

from __future__ import annotations

import secrets
from collections import Counter
from dataclasses import dataclass
from http.cookies import CookieError, SimpleCookie


@dataclass(frozen=True)
class Session:
    """The session a call runs in; `clash` when another in-flight call holds it."""

    id: str
    brought: bool
    """The call sent this session's cookie (False: a new session was started for it)."""
    clash: bool


class PhpSessions:
    """Which sessions in-flight calls hold, and how many calls the race refused."""

    def __init__(self, cookie_name: str) -> None:
        self.cookie_name = cookie_name
        self.refused = 0
        """Calls answered "Invalid login" because their session was held by another call."""
        self._held: Counter[str] = Counter()

    def enter(self, cookie_header: str) -> Session:
        """Start a call that sent `cookie_header` (may be empty)."""
        brought = _cookie_value(cookie_header, self.cookie_name)
        session_id = brought or secrets.token_hex(13)
        clash = self._held[session_id] > 0
        if clash:
            self.refused += 1
        self._held[session_id] += 1
        return Session(session_id, brought is not None, clash)

    def leave(self, session: Session) -> None:
        """The call's answer was sent: its session is free again."""
        self._held[session.id] -= 1
        if self._held[session.id] <= 0:
            del self._held[session.id]

    def set_cookie(self, session: Session) -> str:
        return f"{self.cookie_name}={session.id}; path=/"


def _cookie_value(header: str, name: str) -> str | None:
    if not header:
        return None
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(header)
    except CookieError:
        return None
    morsel = jar.get(name)
    return morsel.value if morsel is not None and morsel.value else None


def with_session_cookie(
    headers: tuple[tuple[str, str], ...], sessions: PhpSessions, session: Session
) -> tuple[tuple[str, str], ...]:
    """The answer's headers with its Set-Cookie naming the call's session (when it sets one)."""
    return tuple(
        ("set-cookie", sessions.set_cookie(session)) if name == "set-cookie" else (name, value)
        for name, value in headers
    )
