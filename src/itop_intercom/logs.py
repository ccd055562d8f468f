"""Structured logging: JSON lines when not on a terminal, readable text on one.

A processor drops any value whose key looks like a secret and masks known secret values, so a
mistake elsewhere (logging a settings object, an exception that quotes a header) cannot leak a
token into the logs. The known values are a `SecretMask` that the composition root builds from
the settings (`Services.secret_mask`) and hands to `configure`: logging is process-wide, so the
mask is installed into the process's logging there, not kept in this module.
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


class SecretMask:
    """Values that must never be printed, whatever key they hide under."""

    def __init__(self, values: Iterable[str | None] = ()) -> None:
        self._secrets: set[str] = set()
        self.add(values)

    def add(self, values: Iterable[str | None]) -> None:
        # Shorter values would mask ordinary words.
        self._secrets.update(v for v in values if v and len(v) >= 4)

    def mask(self, text: str) -> str:
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, "***")
        return text

    def masked(self, value: Any) -> Any:
        """`value` with known secrets masked, and values under secret-looking keys hidden."""
        if isinstance(value, str):
            return self.mask(value)
        if isinstance(value, list | tuple):
            return [self.masked(v) for v in value]
        if isinstance(value, dict):
            return {
                k: "***" if _SECRET_KEYS.search(str(k)) else self.masked(v)
                for k, v in value.items()
            }
        return value

    def scrub(
        self, _logger: Any, _name: str, event: MutableMapping[str, Any]
    ) -> MutableMapping[str, Any]:
        """The structlog processor."""
        for key in list(event):
            if key != "event" and _SECRET_KEYS.search(key):
                event[key] = "***"
            else:
                event[key] = self.masked(event[key])
        return event


class _MaskingFilter(logging.Filter):
    """The same masking for libraries that log through `logging` (uvicorn, alembic, httpx)."""

    def __init__(self, secrets: SecretMask) -> None:
        super().__init__()
        self._secrets = secrets

    def filter(self, record: logging.LogRecord) -> bool:
        mask = self._secrets.mask
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


def configure(level: str = "info", fmt: str = "auto", secrets: SecretMask | None = None) -> None:
    """Configure the process's logging; `secrets` are masked wherever they appear."""
    secrets = secrets if secrets is not None else SecretMask()
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
            secrets.scrub,
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
        for old in [f for f in handler.filters if isinstance(f, _MaskingFilter)]:
            handler.removeFilter(old)
        handler.addFilter(_MaskingFilter(secrets))
    logging.getLogger("httpx").setLevel(logging.WARNING)


def get_logger(name: str) -> Any:
    return structlog.get_logger(name)
