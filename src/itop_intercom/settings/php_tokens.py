"""A small real tokenizer for the PHP that iTop configuration files contain: strings (single-
and double-quoted, heredocs skipped), numbers, names, variables, punctuation and comments, with
the line and column of every token for error messages."""

from __future__ import annotations

import bisect
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any, Final

from itop_intercom.settings.legacy_format import LegacyFormatError


class Kind(Enum):
    STRING = "string"
    INT = "integer"
    FLOAT = "float"
    NAME = "name"
    VARIABLE = "variable"
    PUNCT = "punctuation"
    HEREDOC = "heredoc"
    BACKTICK = "backtick"
    EOF = "end of file"


@dataclass(frozen=True, slots=True)
class Token:
    kind: Kind
    value: Any
    offset: int


# Numbers as PHP 7.4+ writes them (underscores between digits allowed).
_FLOAT = re.compile(
    r"(?:[0-9](?:_?[0-9])*)?\.[0-9](?:_?[0-9])*(?:[eE][+-]?[0-9](?:_?[0-9])*)?"
    r"|[0-9](?:_?[0-9])*\.(?:[0-9](?:_?[0-9])*)?(?:[eE][+-]?[0-9](?:_?[0-9])*)?"
    r"|[0-9](?:_?[0-9])*[eE][+-]?[0-9](?:_?[0-9])*"
)
_INT = re.compile(
    r"0[xX][0-9a-fA-F](?:_?[0-9a-fA-F])*"
    r"|0[bB][01](?:_?[01])*"
    r"|0[oO][0-7](?:_?[0-7])*"
    r"|[0-9](?:_?[0-9])*"
)
_NAME = re.compile(
    r"\\?[A-Za-z_\x80-\U0010ffff][A-Za-z0-9_\x80-\U0010ffff]*(?:\\[A-Za-z_][A-Za-z0-9_]*)*"
)
_VARIABLE = re.compile(r"\$([A-Za-z_\x80-\U0010ffff][A-Za-z0-9_\x80-\U0010ffff]*)")
_HEREDOC_START = re.compile(r"<<<[ \t]*(['\"]?)([A-Za-z_][A-Za-z0-9_]*)\1\r?\n")
_OPEN_TAG = re.compile(r"<\?php\b|<\?=|<\?(?=\s)", re.IGNORECASE)
# Constants are worth naming in a message; other bare words might be a pasted secret.
CONSTANT_LIKE = re.compile(r"\\?[A-Z_][A-Z0-9_]*")
_PUNCTUATION = ("=>", "::", "->", "??", "**", "...")
_SIMPLE_ESCAPES: Final[Mapping[str, str]] = {
    "n": "\n",
    "t": "\t",
    "r": "\r",
    "v": "\v",
    "e": "\x1b",
    "f": "\f",
    "\\": "\\",
    "$": "$",
    '"': '"',
}
PHP_INT_MAX = 2**63 - 1
PHP_INT_MIN = -(2**63)


class Source:
    """The text and a fast offset → (line, column) lookup for messages."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._line_starts = [0] + [m.end() for m in re.finditer(r"\r\n|\r|\n", text)]

    def position(self, offset: int) -> tuple[int, int]:
        index = bisect.bisect_right(self._line_starts, offset) - 1
        return index + 1, offset - self._line_starts[index] + 1

    def error(self, message: str, offset: int) -> LegacyFormatError:
        line, column = self.position(offset)
        return LegacyFormatError(message, line, column)


def tokenize(source: Source) -> list[Token]:
    """Split PHP code into tokens; inline HTML outside `<?php … ?>` is skipped.

    A file without any open tag is read as PHP code throughout, so that a snippet copied out of
    a configuration file can be imported too.
    """
    text = source.text
    tokens: list[Token] = []
    first_tag = _OPEN_TAG.search(text)
    pos = first_tag.end() if first_tag else 0
    length = len(text)
    while pos < length:
        char = text[pos]
        if char in " \t\r\n\f\v\ufeff":
            pos += 1
        elif text.startswith("?>", pos):
            reopen = _OPEN_TAG.search(text, pos + 2)
            pos = reopen.end() if reopen else length
        elif char == "#" or text.startswith("//", pos):
            pos = _skip_line_comment(text, pos)
        elif text.startswith("/*", pos):
            end = text.find("*/", pos + 2)
            if end < 0:
                raise source.error("unterminated /* comment", pos)
            pos = end + 2
        elif char == "'":
            value, pos2 = _single_quoted(source, pos)
            tokens.append(Token(Kind.STRING, value, pos))
            pos = pos2
        elif char == '"':
            value, pos2 = _double_quoted(source, pos, '"')
            tokens.append(Token(Kind.STRING, value, pos))
            pos = pos2
        elif char == "`":
            _value, pos2 = _double_quoted(source, pos, "`")
            tokens.append(Token(Kind.BACKTICK, None, pos))
            pos = pos2
        elif text.startswith("<<<", pos):
            pos2 = _skip_heredoc(source, pos)
            tokens.append(Token(Kind.HEREDOC, None, pos))
            pos = pos2
        elif char == "$":
            match = _VARIABLE.match(text, pos)
            if match:
                tokens.append(Token(Kind.VARIABLE, match.group(1), pos))
                pos = match.end()
            else:
                tokens.append(Token(Kind.PUNCT, "$", pos))
                pos += 1
        elif char.isdigit() or (char == "." and pos + 1 < length and text[pos + 1].isdigit()):
            pos = _number(source, pos, tokens)
        elif (match := _NAME.match(text, pos)) is not None:
            tokens.append(Token(Kind.NAME, match.group(0), pos))
            pos = match.end()
        else:
            punct = next((p for p in _PUNCTUATION if text.startswith(p, pos)), char)
            tokens.append(Token(Kind.PUNCT, punct, pos))
            pos += len(punct)
    tokens.append(Token(Kind.EOF, None, length))
    return tokens


def _skip_line_comment(text: str, pos: int) -> int:
    # As in PHP, a one-line comment ends at the end of the line or at a `?>` close tag.
    newline = re.compile(r"\r\n|\r|\n|\?>").search(text, pos)
    if newline is None:
        return len(text)
    return newline.start() if newline.group(0) == "?>" else newline.end()


def _single_quoted(source: Source, start: int) -> tuple[str, int]:
    text = source.text
    parts: list[str] = []
    pos = start + 1
    while True:
        if pos >= len(text):
            raise source.error("unterminated single-quoted string", start)
        char = text[pos]
        if char == "'":
            return "".join(parts), pos + 1
        if char == "\\" and pos + 1 < len(text) and text[pos + 1] in "'\\":
            parts.append(text[pos + 1])
            pos += 2
            continue
        parts.append(char)
        pos += 1


def _double_quoted(source: Source, start: int, quote: str) -> tuple[str, int]:
    """Unescape a double-quoted string; variable interpolation is refused, not guessed."""
    text = source.text
    parts: list[str] = []
    pos = start + 1
    while True:
        if pos >= len(text):
            raise source.error("unterminated double-quoted string", start)
        char = text[pos]
        if char == quote:
            return "".join(parts), pos + 1
        if char == "$" and _VARIABLE.match(text, pos):
            raise source.error(
                "a double-quoted string interpolates a variable ($…), which only PHP can "
                "evaluate; write the value in single quotes, or escape the $ as \\$",
                pos,
            )
        if text.startswith(("{$", "${"), pos):
            raise source.error(
                "a double-quoted string interpolates an expression ({$…} or ${…}), which only "
                "PHP can "
                "evaluate; write the value in single quotes",
                pos,
            )
        if char != "\\" or pos + 1 >= len(text):
            parts.append(char)
            pos += 1
            continue
        escaped = text[pos + 1]
        if escaped in _SIMPLE_ESCAPES or escaped == quote:
            parts.append(_SIMPLE_ESCAPES.get(escaped, escaped))
            pos += 2
        elif (octal := re.compile(r"[0-7]{1,3}").match(text, pos + 1)) is not None:
            parts.append(chr(int(octal.group(0), 8) & 0xFF))
            pos = octal.end()
        elif (hexa := re.compile(r"x([0-9A-Fa-f]{1,2})").match(text, pos + 1)) is not None:
            parts.append(chr(int(hexa.group(1), 16)))
            pos = hexa.end()
        elif (uni := re.compile(r"u\{([0-9A-Fa-f]+)\}").match(text, pos + 1)) is not None:
            code = int(uni.group(1), 16)
            if code > 0x10FFFF:
                raise source.error("\\u{…} escape beyond the last Unicode code point", pos)
            parts.append(chr(code))
            pos = uni.end()
        else:
            # PHP keeps unknown escapes as they are, backslash included.
            parts.append("\\")
            pos += 1


def _skip_heredoc(source: Source, start: int) -> int:
    """Find the end of a heredoc / nowdoc so that what it contains is not read as code."""
    text = source.text
    match = _HEREDOC_START.match(text, start)
    if match is None:
        raise source.error("malformed heredoc start (<<<)", start)
    closing = re.compile(r"^[ \t]*" + re.escape(match.group(2)) + r"\b", re.MULTILINE).search(
        text, match.end()
    )
    if closing is None:
        raise source.error("unterminated heredoc", start)
    return closing.end()


def _number(source: Source, pos: int, tokens: list[Token]) -> int:
    text = source.text
    float_match = _FLOAT.match(text, pos)
    int_match = _INT.match(text, pos)
    if float_match and (int_match is None or float_match.end() > int_match.end()):
        tokens.append(Token(Kind.FLOAT, float(float_match.group(0).replace("_", "")), pos))
        end = float_match.end()
    else:
        assert int_match is not None  # a digit always starts an integer
        literal = int_match.group(0).replace("_", "")
        if literal[:2] in ("0x", "0X"):
            value = int(literal[2:], 16)
        elif literal[:2] in ("0b", "0B"):
            value = int(literal[2:], 2)
        elif literal[:2] in ("0o", "0O"):
            value = int(literal[2:], 8)
        elif len(literal) > 1 and literal[0] == "0":
            if not re.fullmatch(r"[0-7]+", literal):
                raise source.error("invalid octal number", pos)
            value = int(literal, 8)
        else:
            value = int(literal)
        # PHP turns integers that overflow into floats.
        tokens.append(
            Token(Kind.INT, value, pos)
            if value <= PHP_INT_MAX
            else Token(Kind.FLOAT, float(value), pos)
        )
        end = int_match.end()
    if end < len(text) and (text[end].isalnum() or text[end] == "_"):
        raise source.error("invalid number", pos)
    return end


def describe(token: Token) -> str:
    if token.kind is Kind.PUNCT:
        return f"'{token.value}'"
    if token.kind is Kind.NAME and CONSTANT_LIKE.fullmatch(token.value):
        return f"name {token.value}"
    return f"a {token.kind.value}" if token.kind is not Kind.EOF else "the end of the file"
