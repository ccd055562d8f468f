"""Typed failures of iTop's REST API.

iTop answers HTTP 200 for nearly every error and puts a `code` in the body; callers need to tell
"try again later" (iTop down, slow, 5xx) from "this will never work" (validation, rights), so each
exception says whether it is `transient` and carries iTop's own message.
"""

from __future__ import annotations

#: iTop's REST result codes (core/restservices.class.inc.php).
CODE_OK = 0
CODE_UNAUTHORIZED = 1
CODE_MISSING_VERSION = 2
CODE_MISSING_JSON = 3
CODE_INVALID_JSON = 4
CODE_UNSUPPORTED_VERSION = 10
CODE_UNKNOWN_OPERATION = 11
CODE_UNSAFE = 12
CODE_INVALID_PAGE = 13
CODE_INTERNAL_ERROR = 100

#: The operations that change iTop (every other one this service calls only reads).
WRITE_OPERATIONS = frozenset({"core/update", "core/create"})


class ItopError(Exception):
    """Base class: anything that kept an iTop call from succeeding."""

    transient: bool = False

    def __init__(self, message: str, *, operation: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.operation = operation


class ItopUnreachable(ItopError):
    """No connection could be made (DNS, refused, TLS): the request was never sent.

    `request_sent` is True when the connection broke after the request left (reset, server
    disconnected without answering): iTop may then have applied it.
    """

    transient = True

    def __init__(
        self, message: str, *, operation: str | None = None, request_sent: bool = False
    ) -> None:
        super().__init__(message, operation=operation)
        self.request_sent = request_sent


class ItopTimeout(ItopError):
    """iTop did not answer in time; a write may or may not have happened."""

    transient = True


class ItopHttpError(ItopError):
    """An HTTP status other than 200 (a proxy error, a PHP fatal, maintenance mode)."""

    def __init__(self, message: str, *, status_code: int, operation: str | None = None) -> None:
        super().__init__(message, operation=operation)
        self.status_code = status_code
        self.transient = status_code >= 500 or status_code in (408, 429)


class ItopNotRestEndpoint(ItopError):
    """The answer is not iTop REST JSON: wrong URL, a login page, a plain-text error."""

    def __init__(self, message: str, *, body_excerpt: str, operation: str | None = None) -> None:
        super().__init__(message, operation=operation)
        self.body_excerpt = body_excerpt


class ItopApiError(ItopError):
    """iTop understood the request and refused it (`code` ≠ 0 in the body)."""

    def __init__(self, code: int, message: str, *, operation: str | None = None) -> None:
        super().__init__(message, operation=operation)
        self.code = code


class ItopAuthError(ItopApiError):
    """Code 1: invalid login, missing REST profile, or missing rights on a class."""

    @property
    def is_invalid_login(self) -> bool:
        return "invalid login" in self.message.lower()

    @property
    def is_missing_rest_profile(self) -> bool:
        return "not authorized to use the web services" in self.message.lower()


def api_error(code: int, message: str, *, operation: str | None = None) -> ItopApiError:
    if code == CODE_UNAUTHORIZED:
        return ItopAuthError(code, message, operation=operation)
    return ItopApiError(code, message, operation=operation)


def readable(message: str) -> str:
    """iTop's message without its 'Error: ' prefix, for people."""
    return message[len("Error: ") :] if message.startswith("Error: ") else message


def may_have_been_applied(error: BaseException | None) -> bool:
    """Whether a failed write may still have been applied by iTop: it timed out, the connection
    broke after the request was sent, or a proxy answered 5xx in iTop's place."""
    if isinstance(error, ItopTimeout):
        return True
    if isinstance(error, ItopUnreachable):
        return error.request_sent
    return isinstance(error, ItopHttpError) and error.status_code >= 500


def write_not_applied(error: BaseException | None) -> bool:
    """Whether a failure certainly left iTop unchanged: it is the answer to a write call itself
    (not to a read around it), and that write cannot have been applied (`may_have_been_applied`
    says no: iTop refused it, or the request never left)."""
    return (
        isinstance(error, ItopError)
        and error.operation in WRITE_OPERATIONS
        and not may_have_been_applied(error)
    )
