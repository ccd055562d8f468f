"""PHP's value semantics as iTop shows them: numbers, strings, MariaDB collation, dates."""

from __future__ import annotations

import json
import re
import unicodedata
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from tests.fakes.itop.common import DATETIME_FORMAT, TIMEZONE
from tests.fakes.itop.errors import _ApiError

_NUMERIC_RE = re.compile(r"^\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*$")


def _is_numeric(value: Any) -> bool:
    """PHP's is_numeric."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return True
    return isinstance(value, str) and bool(_NUMERIC_RE.match(value))


def _php_str(value: Any) -> str:
    """PHP's string conversion of a decoded JSON value."""
    if value is None or value is False:
        return ""
    if value is True:
        return "1"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def _php_int(value: Any) -> int:
    """PHP's (int) cast."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value)
    if isinstance(value, str):
        match = re.match(r"^\s*[+-]?\d+", value)
        return int(match.group(0)) if match else 0
    return 0


def _php_empty_json(value: Any) -> bool:
    """json_decode(...) == null in PHP: null, false, 0, "", [] all count."""
    return value is None or value is False or value == 0 or value == "" or value == []


def _fold(value: str) -> str:
    decomposed = unicodedata.normalize("NFKD", value)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def _collate(value: str) -> str:
    """utf8mb4_unicode_ci equality: case- and accent-insensitive, trailing spaces ignored."""
    return _fold(value).rstrip(" ")


def _is_int_text(value: str) -> bool:
    return bool(re.fullmatch(r"[+-]?\d+", value.strip()))


def _sql_equal(left: str, right: str) -> bool:
    if _is_int_text(left) and _is_int_text(right):
        return int(left) == int(right)
    return _collate(left) == _collate(right)


def _sql_compare(left: str, right: str) -> int:
    if _is_int_text(left) and _is_int_text(right):
        x, y = int(left), int(right)
        return (x > y) - (x < y)
    a, b = _collate(left), _collate(right)
    return (a > b) - (a < b)


def _sql_like(value: str, pattern: str) -> bool:
    regex = []
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\" and i + 1 < len(pattern):
            regex.append(re.escape(_fold(pattern[i + 1])))
            i += 2
            continue
        regex.append(".*" if char == "%" else "." if char == "_" else re.escape(_fold(char)))
        i += 1
    return re.fullmatch("".join(regex), _fold(value), re.S) is not None


_ISO_RE = re.compile(
    r"^\s*(\d{4})-(\d{1,2})-(\d{1,2})"
    r"(?:[Tt ]+(\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?"
    r"\s*(Z|z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)?\s*$"
)


_RELATIVE_WORDS = {"now": 0, "today": 0, "midnight": 0, "yesterday": -1, "tomorrow": 1}


def _format_date(moment: datetime) -> str:
    return moment.astimezone(TIMEZONE).strftime(DATETIME_FORMAT)


def _parse_php_date(text: str, now: datetime) -> datetime:
    """`new DateTime($text)` in the iTop timezone (approximation, see the module docstring)."""
    if text.strip() == "":
        return now
    match = _ISO_RE.match(text)
    if match:
        year, month, day, hour, minute, second, fraction, zone = match.groups()
        try:
            moment = datetime(
                int(year),
                int(month),
                int(day),
                int(hour or 0),
                int(minute or 0),
                int(second or 0),
                int((fraction or "0")[:6].ljust(6, "0")),
            )
        except ValueError as exc:
            raise _ApiError(
                f"Failed to parse time string ({text}) at position 0 ({text[0]}): {exc}"
            ) from None
        if zone is None:
            return moment.replace(tzinfo=TIMEZONE)
        if zone in ("Z", "z", "UTC", "GMT"):
            return moment.replace(tzinfo=UTC)
        sign = 1 if zone[0] == "+" else -1
        digits = zone[1:].replace(":", "")
        offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:4] or 0))
        return moment.replace(tzinfo=timezone(sign * offset))
    epoch = re.fullmatch(r"\s*@(-?\d+)\s*", text)
    if epoch:
        return datetime.fromtimestamp(int(epoch.group(1)), UTC)
    word = text.strip().lower()
    if word in _RELATIVE_WORDS:
        base = now if word == "now" else now.replace(hour=0, minute=0, second=0, microsecond=0)
        return base + timedelta(days=_RELATIVE_WORDS[word])
    raise _ApiError(_date_error(text))


def _date_error(text: str) -> str:
    word = re.match(r"[A-Za-z]+", text)
    if word and word.group(0).lower() in _RELATIVE_WORDS:
        pos = word.end()
        reason = "Unexpected character"
    elif word:
        pos = 0
        reason = "The timezone could not be found in the database"
    else:
        prefix = re.match(
            r"\s*\d{4}-\d{1,2}-\d{1,2}(?:[Tt ]\d{1,2}:\d{2}(?::\d{2})?)?|\s*\d+", text
        )
        pos = prefix.end() if prefix else 0
        reason = "Unexpected character"
    char = text[pos] if pos < len(text) else ""
    return f"Failed to parse time string ({text}) at position {pos} ({char}): {reason}"


def _date_attribute_value(code: str, value: Any, now: datetime) -> str:
    if value is None or value == "":
        return ""
    text = _php_str(value)
    if _is_numeric(text):
        return _format_date(datetime.fromtimestamp(float(text), UTC))
    if _ISO_RE.match(text):
        return _format_date(_parse_php_date(text, now))
    raise _ApiError(
        f'Wrong format for date attribute {code}, expecting "Y-m-d H:i:s" and got "{text}"'
    )
