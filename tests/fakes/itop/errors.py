"""The two ways rest.php reports an error, and OQL errors."""

from __future__ import annotations


class _ApiError(Exception):
    """An exception as rest.php reports it: `{"code": c, "message": "Error: <message>"}`."""

    def __init__(self, message: str, code: int = 100) -> None:
        super().__init__(message)
        self.message = message
        self.code = code

    def prefixed(self, prefix: str) -> _ApiError:
        return _ApiError(f"{prefix}: {self.message}", self.code)


class _ResultError(Exception):
    """An error set on the result object: `{"code", "message", "objects": null}` (024, 065)."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


class _OqlError(Exception):
    def __init__(self, exception_class: str, message: str) -> None:
        super().__init__(message)
        self.exception_class = exception_class
        self.message = message
