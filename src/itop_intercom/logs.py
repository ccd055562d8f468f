"""Structured logging: JSON lines when not on a terminal, readable text on one.

A processor drops any value whose key looks like a secret and masks known secret values, so a
mistake elsewhere (logging a settings object, an exception that quotes a header) cannot leak a
token into the logs. The known values are a `SecretMask` that the composition root builds from
the settings (`Services.secret_mask`) and hands to `configure`: logging is process-wide, so the
mask is installed into the process's logging there, not kept in this module.

The same processor bounds every value (`bounded`): a log field may come from a request (a topic,
a component id, a conversation id), and a sender must not be able to write a 100,000-character
line or flood the log store through one field.
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

#: Longest text kept in one log value; longer ones are cut with a marker saying how much.
MAX_VALUE_CHARS = 200
#: Tracebacks and library messages get more room: they are ours, and useful when cut less.
MAX_EXCEPTION_CHARS = 4000
#: Items kept of a list or mapping logged as one value.
MAX_ITEMS = 20
_SURROGATE = re.compile("[\ud800-\udfff]")


def bounded(text: str, limit: int = MAX_VALUE_CHARS) -> str:
    """`text` cut to `limit` characters, with a marker giving the length cut off.

    Also makes the text printable as UTF-8: a lone surrogate (which JSON's `\\ud800` escapes can
    produce) becomes U+FFFD instead of breaking the log writer.
    """
    if len(text) > limit:
        text = f"{text[:limit]}…[+{len(text) - limit} chars]"
    if not text.isascii():
        text = _SURROGATE.sub("\ufffd", text)
    return text


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

    def masked(self, value: Any, limit: int = MAX_VALUE_CHARS) -> Any:
        """`value` with known secrets masked, values under secret-looking keys hidden, and
        every text cut to `limit` (masked before being cut: a secret cut in two would no
        longer be recognised), lists and mappings to `MAX_ITEMS` items."""
        if isinstance(value, str):
            return bounded(self.mask(value), limit)
        if isinstance(value, list | tuple | set | frozenset):
            items = [self.masked(v, limit) for v in list(value)[:MAX_ITEMS]]
            if len(value) > MAX_ITEMS:
                items.append(f"…[+{len(value) - MAX_ITEMS} items]")
            return items
        if isinstance(value, dict):
            masked = {
                bounded(str(k), 64): "***" if _SECRET_KEYS.search(str(k)) else self.masked(v, limit)
                for k, v in list(value.items())[:MAX_ITEMS]
            }
            if len(value) > MAX_ITEMS:
                masked["…"] = f"+{len(value) - MAX_ITEMS} items"
            return masked
        if isinstance(value, int | float | bool) or value is None:
            return value
        return bounded(self.mask(str(value)), limit)

    def scrub(
        self, _logger: Any, _name: str, event: MutableMapping[str, Any]
    ) -> MutableMapping[str, Any]:
        """The structlog processor."""
        for key in list(event):
            if key != "event" and _SECRET_KEYS.search(key):
                event[key] = "***"
            else:
                limit = MAX_EXCEPTION_CHARS if key in ("exception", "event") else MAX_VALUE_CHARS
                event[key] = self.masked(event[key], limit)
        return event


class _MaskingFilter(logging.Filter):
    """The same masking for libraries that log through `logging` (uvicorn, alembic, httpx)."""

    def __init__(self, secrets: SecretMask) -> None:
        super().__init__()
        self._secrets = secrets

    def filter(self, record: logging.LogRecord) -> bool:
        mask = self._secrets.mask
        record.msg = bounded(mask(record.getMessage()), MAX_EXCEPTION_CHARS)
        record.args = None
        if record.exc_info and record.exc_info[1] is not None:
            text = logging.Formatter().formatException(record.exc_info)
            record.exc_text = bounded(mask(text), MAX_EXCEPTION_CHARS)
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
