"""Structured logging: JSON lines when not on a terminal, readable text on one.

A processor drops any value whose key looks like a secret and masks known secret values, so a
mistake elsewhere (logging a settings object, an exception that quotes a header) cannot leak a
token into the logs.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterable, MutableMapping
from typing import Any

import structlog

# Whole words of a key: `access_token`, `client_secret`, `auth` are hidden, `author` is not.
_SECRET_KEYS = re.compile(
    r"(^|_)(token|secret|password|authorization|signature|auth)(s?)($|_)", re.I
)
_known_secrets: set[str] = set()


def register_secrets(values: Iterable[str | None]) -> None:
    """Values that must never be printed, whatever key they hide under."""
    _known_secrets.update(v for v in values if v and len(v) >= 4)


def mask(text: str) -> str:
    for secret in _known_secrets:
        if secret in text:
            text = text.replace(secret, "***")
    return text


def _masked(value: Any) -> Any:
    if isinstance(value, str):
        return mask(value)
    if isinstance(value, list | tuple):
        return [_masked(v) for v in value]
    if isinstance(value, dict):
        return {k: "***" if _SECRET_KEYS.search(str(k)) else _masked(v) for k, v in value.items()}
    return value


def _scrub(_logger: Any, _name: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for key in list(event):
        if key != "event" and _SECRET_KEYS.search(key):
            event[key] = "***"
        else:
            event[key] = _masked(event[key])
    return event


class _MaskingFilter(logging.Filter):
    """The same masking for libraries that log through `logging` (uvicorn, alembic, httpx)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = mask(record.getMessage())
        record.args = None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = mask(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True


class _CurrentStderr:
    """Writes to whatever `sys.stderr` is at the time (test capture, uvicorn redirection)."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


def configure(level: str = "info", fmt: str = "auto") -> None:
    use_json = fmt == "json" or (fmt == "auto" and not sys.stderr.isatty())
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if use_json
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            _scrub,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.getLevelNamesMapping()[level.upper()]
        ),
        logger_factory=structlog.PrintLoggerFactory(file=_CurrentStderr()),  # type: ignore[arg-type]
        cache_logger_on_first_use=False,
    )
    # Libraries that log through `logging` (uvicorn, alembic, httpx) go to the same stream.
    logging.basicConfig(
        level=logging.WARNING, stream=sys.stderr, format="%(levelname)s %(name)s %(message)s"
    )
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, _MaskingFilter) for f in handler.filters):
            handler.addFilter(_MaskingFilter())
    logging.getLogger("httpx").setLevel(logging.WARNING)


def get_logger(name: str) -> Any:
    return structlog.get_logger(name)
