"""Typed failures of Intercom's REST API.

Callers (the Inbox screens, the sync worker, the `check` command) must tell "try again later"
(rate limit, outage, timeout) from "this will never work" (bad token, missing permission, unknown
conversation), and a write that *may* have been applied from one that certainly was not. Each
exception therefore says whether it is `transient`, carries Intercom's own error code and message
(from its `error.list` body) and the `request_id` Intercom support asks for.

No exception ever holds the access token: messages are built from status codes, Intercom's error
texts and URLs without query strings, never from request headers.
"""

from __future__ import annotations


class IntercomError(Exception):
    """Base class: anything that kept an Intercom call from succeeding."""

    transient: bool = False

    def __init__(
        self,
        message: str,
        *,
        operation: str | None = None,
        status_code: int | None = None,
        code: str | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.operation = operation
        self.status_code = status_code
        self.code = code
        """Intercom's error code, e.g. `unauthorized`, `not_found`, `api_plan_restricted`."""
        self.request_id = request_id

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}({self.message!r}, operation={self.operation!r}, "
            f"status_code={self.status_code!r}, code={self.code!r})"
        )


class IntercomAuthError(IntercomError):
    """401: the access token is missing, invalid or revoked (message says which, per Intercom)."""


class IntercomForbidden(IntercomError):
    """403: the token lacks a permission (e.g. *write conversations*) or the plan forbids it."""


class IntercomNotFound(IntercomError):
    """404 (or 410 for merged contacts): the conversation, contact or attachment does not exist."""


class IntercomRateLimited(IntercomError):
    """429 for longer than the client was allowed to wait.

    `retry_after` is how many seconds remain until Intercom's window resets, so that a worker can
    reschedule the job instead of blocking a connection.
    """

    transient = True

    def __init__(
        self,
        message: str,
        *,
        retry_after: float,
        operation: str | None = None,
        status_code: int | None = 429,
        code: str | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(
            message,
            operation=operation,
            status_code=status_code,
            code=code,
            request_id=request_id,
        )
        self.retry_after = retry_after


class IntercomUnavailable(IntercomError):
    """Intercom could not be reached or failed (5xx, connection error, timeout).

    `maybe_applied` is true when the request may have reached Intercom (a timeout while waiting
    for the answer, a 5xx): a write such as a reply may then exist already, and blindly sending it
    again could post it twice. It is false when the connection was never made.
    """

    transient = True

    def __init__(
        self,
        message: str,
        *,
        maybe_applied: bool,
        operation: str | None = None,
        status_code: int | None = None,
        code: str | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(
            message,
            operation=operation,
            status_code=status_code,
            code=code,
            request_id=request_id,
        )
        self.maybe_applied = maybe_applied


def may_have_been_applied(error: BaseException | None) -> bool:
    """Whether a failed Intercom write may still have been applied (see `IntercomUnavailable`);
    Intercom's refusals (4xx) and errors not from Intercom say no."""
    return isinstance(error, IntercomUnavailable) and error.maybe_applied


class IntercomTooLarge(IntercomError):
    """A download is larger than the caller's limit; it was abandoned without reading it all."""

    def __init__(
        self, message: str, *, limit: int, size: int | None = None, operation: str | None = None
    ) -> None:
        super().__init__(message, operation=operation)
        self.limit = limit
        self.size = size
        """The announced Content-Length when known, else None (the stream was cut at `limit`)."""
