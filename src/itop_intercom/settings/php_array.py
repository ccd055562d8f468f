"""Read the PHP extension's module settings out of an iTop configuration file, without PHP.

`config-itop.php` is PHP code, but the part we need — the `'combodo-intercom-integration'` entry
of `$MyModuleSettings` — is a plain array literal. Evaluating PHP is out of the question (it would
need PHP, and it would run whatever the file contains), and regular expressions cannot tell a
`)` inside a string or a comment from one that closes an array. So this module has a small real
tokenizer for the PHP that configuration files contain and a strict parser for array literals:
`array(...)` and `[...]`, `key => value` and list items, trailing commas, single- and double-quoted
strings, comments, `true` / `false` / `null`, integers and floats.

Only the module's own entry is parsed strictly. The other entries of `$MyModuleSettings` (other
extensions' settings, which may use constants or expressions that we do not understand) are
skipped by bracket matching, so that they can never make the import fail.

Error messages give the line and column of the problem and never quote the offending source
text, except names of constants: the text could be part of a secret.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any, Final

DEFAULT_MODULE = "combodo-intercom-integration"
SETTINGS_VARIABLE = "MyModuleSettings"


class LegacyFormatError(Exception):
    """The legacy settings cannot be read; says where (1-based line and column) when known.

    Shared by the PHP and the XML readers so that the import command reports both alike.
    """

    def __init__(self, message: str, line: int | None = None, column: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column

    def __str__(self) -> str:
        if self.line is None:
            return self.message
        where = f"line {self.line}"
        if self.column is not None:
            where += f", column {self.column}"
        return f"{where}: {self.message}"


class _Kind(Enum):
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
class _Token:
    kind: _Kind
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
_CONSTANT_LIKE = re.compile(r"\\?[A-Z_][A-Z0-9_]*")
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
_PHP_INT_MAX = 2**63 - 1
_PHP_INT_MIN = -(2**63)


class _Source:
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


def _tokenize(source: _Source) -> list[_Token]:
    """Split PHP code into tokens; inline HTML outside `<?php … ?>` is skipped.

    A file without any open tag is read as PHP code throughout, so that a snippet copied out of
    a configuration file can be imported too.
    """
    text = source.text
    tokens: list[_Token] = []
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
            tokens.append(_Token(_Kind.STRING, value, pos))
            pos = pos2
        elif char == '"':
            value, pos2 = _double_quoted(source, pos, '"')
            tokens.append(_Token(_Kind.STRING, value, pos))
            pos = pos2
        elif char == "`":
            _value, pos2 = _double_quoted(source, pos, "`")
            tokens.append(_Token(_Kind.BACKTICK, None, pos))
            pos = pos2
        elif text.startswith("<<<", pos):
            pos2 = _skip_heredoc(source, pos)
            tokens.append(_Token(_Kind.HEREDOC, None, pos))
            pos = pos2
        elif char == "$":
            match = _VARIABLE.match(text, pos)
            if match:
                tokens.append(_Token(_Kind.VARIABLE, match.group(1), pos))
                pos = match.end()
            else:
                tokens.append(_Token(_Kind.PUNCT, "$", pos))
                pos += 1
        elif char.isdigit() or (char == "." and pos + 1 < length and text[pos + 1].isdigit()):
            pos = _number(source, pos, tokens)
        elif (match := _NAME.match(text, pos)) is not None:
            tokens.append(_Token(_Kind.NAME, match.group(0), pos))
            pos = match.end()
        else:
            punct = next((p for p in _PUNCTUATION if text.startswith(p, pos)), char)
            tokens.append(_Token(_Kind.PUNCT, punct, pos))
            pos += len(punct)
    tokens.append(_Token(_Kind.EOF, None, length))
    return tokens


def _skip_line_comment(text: str, pos: int) -> int:
    # As in PHP, a one-line comment ends at the end of the line or at a `?>` close tag.
    newline = re.compile(r"\r\n|\r|\n|\?>").search(text, pos)
    if newline is None:
        return len(text)
    return newline.start() if newline.group(0) == "?>" else newline.end()


def _single_quoted(source: _Source, start: int) -> tuple[str, int]:
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


def _double_quoted(source: _Source, start: int, quote: str) -> tuple[str, int]:
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


def _skip_heredoc(source: _Source, start: int) -> int:
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


def _number(source: _Source, pos: int, tokens: list[_Token]) -> int:
    text = source.text
    float_match = _FLOAT.match(text, pos)
    int_match = _INT.match(text, pos)
    if float_match and (int_match is None or float_match.end() > int_match.end()):
        tokens.append(_Token(_Kind.FLOAT, float(float_match.group(0).replace("_", "")), pos))
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
            _Token(_Kind.INT, value, pos)
            if value <= _PHP_INT_MAX
            else _Token(_Kind.FLOAT, float(value), pos)
        )
        end = int_match.end()
    if end < len(text) and (text[end].isalnum() or text[end] == "_"):
        raise source.error("invalid number", pos)
    return end


def _describe(token: _Token) -> str:
    if token.kind is _Kind.PUNCT:
        return f"'{token.value}'"
    if token.kind is _Kind.NAME and _CONSTANT_LIKE.fullmatch(token.value):
        return f"name {token.value}"
    return f"a {token.kind.value}" if token.kind is not _Kind.EOF else "the end of the file"


_OPENERS: Final[Mapping[str, str]] = {"(": ")", "[": "]", "{": "}"}


class _Parser:
    def __init__(self, source: _Source, tokens: list[_Token]) -> None:
        self.source = source
        self.tokens = tokens
        self.index = 0

    # -- helpers -------------------------------------------------------------------------------

    @property
    def token(self) -> _Token:
        return self.tokens[self.index]

    def is_punct(self, value: str, offset: int = 0) -> bool:
        token = self.tokens[min(self.index + offset, len(self.tokens) - 1)]
        return token.kind is _Kind.PUNCT and token.value == value

    def error(self, message: str, token: _Token | None = None) -> LegacyFormatError:
        return self.source.error(message, (token or self.token).offset)

    def expect_punct(self, value: str, context: str) -> None:
        if not self.is_punct(value):
            raise self.error(f"expected '{value}' {context}, found {_describe(self.token)}")
        self.index += 1

    def array_opening(self) -> str | None:
        """The closing bracket if an array literal starts here (after consuming its opener)."""
        token = self.token
        if token.kind is _Kind.NAME and token.value.lower() == "array" and self.is_punct("(", 1):
            self.index += 2
            return ")"
        if self.is_punct("["):
            self.index += 1
            return "]"
        return None

    def skip_expression(self) -> None:
        """Move past one expression: to the next `,`, `=>` or closing bracket at this depth."""
        stack: list[tuple[str, _Token]] = []
        while True:
            token = self.token
            if token.kind is _Kind.EOF:
                if stack:
                    closer, opener = stack[-1]
                    raise self.error(
                        f"missing '{closer}' for the bracket opened at line "
                        f"{self.source.position(opener.offset)[0]}"
                    )
                return
            if token.kind is _Kind.PUNCT:
                if token.value in _OPENERS:
                    stack.append((_OPENERS[token.value], token))
                elif token.value in (")", "]", "}"):
                    if not stack:
                        return
                    if stack[-1][0] != token.value:
                        raise self.error(f"unexpected '{token.value}'")
                    stack.pop()
                elif token.value in (",", "=>", ";") and not stack:
                    return
            self.index += 1

    # -- strict value parsing ------------------------------------------------------------------

    def value(self) -> Any:
        token = self.token
        closer = self.array_opening()
        if closer is not None:
            return self.array_body(closer, token)
        if token.kind is _Kind.STRING:
            self.index += 1
            text: str = token.value
            while self.is_punct("."):
                self.index += 1
                part = self.token
                if part.kind is _Kind.STRING:
                    text += part.value
                elif part.kind is _Kind.INT:
                    text += str(part.value)
                else:
                    raise self.error(
                        f"only quoted strings can be joined with '.', found {_describe(part)}"
                    )
                self.index += 1
            return text
        if token.kind in (_Kind.INT, _Kind.FLOAT):
            self.index += 1
            return token.value
        if token.kind is _Kind.PUNCT and token.value in ("-", "+"):
            number = self.tokens[self.index + 1]
            if number.kind in (_Kind.INT, _Kind.FLOAT):
                self.index += 2
                if token.value == "+":
                    return number.value
                negative = -number.value
                # -9223372036854775808 is written as the negation of a float-sized literal.
                if number.kind is _Kind.FLOAT and negative == float(_PHP_INT_MIN):
                    return _PHP_INT_MIN
                return negative
            raise self.error(f"a number must follow '{token.value}'")
        if token.kind is _Kind.NAME:
            word = token.value.lower().lstrip("\\")
            if word in ("true", "false", "null"):
                self.index += 1
                return {"true": True, "false": False, "null": None}[word]
            if _CONSTANT_LIKE.fullmatch(token.value):
                raise self.error(
                    f"constant {token.value} cannot be read without PHP; write its value"
                )
            raise self.error("unsupported expression: only literal values can be imported")
        if token.kind is _Kind.VARIABLE:
            raise self.error("variables cannot be read without PHP; write the value itself")
        if token.kind is _Kind.HEREDOC:
            raise self.error("heredoc / nowdoc strings are not supported; use a quoted string")
        if token.kind is _Kind.BACKTICK:
            raise self.error("backtick (shell) strings are not supported; use a quoted string")
        if token.kind is _Kind.EOF:
            raise self.error("unexpected end of the file, a value was expected")
        raise self.error(f"unexpected {_describe(token)}, a value was expected")

    def array_body(self, closer: str, opener: _Token) -> Any:
        entries: dict[int | str, Any] = {}
        entry_lines: dict[int | str, int] = {}
        next_index = 0
        while True:
            if self.is_punct(closer):
                self.index += 1
                break
            if self.token.kind is _Kind.EOF:
                raise self.unclosed(closer, opener)
            first = self.token
            item = self.value()
            if self.is_punct("=>"):
                self.index += 1
                key = self.php_key(item, first)
                item = self.value()
            else:
                key = next_index
            if key in entries:
                raise self.error(
                    f"key {key!r} appears twice in this array (first at line {entry_lines[key]})",
                    first,
                )
            entries[key] = item
            entry_lines[key] = self.source.position(first.offset)[0]
            if isinstance(key, int) and key >= next_index:
                next_index = key + 1
            if self.is_punct(","):
                self.index += 1
            elif not self.is_punct(closer):
                raise self.unclosed(closer, opener)
        return _to_python(entries)

    def unclosed(self, closer: str, opener: _Token) -> LegacyFormatError:
        """The error for a token that neither continues nor closes an array."""
        if self.token.kind is _Kind.EOF:
            opened_at = self.source.position(opener.offset)[0]
            return self.error(f"missing '{closer}' to close the array opened at line {opened_at}")
        token = self.token
        if token.kind is _Kind.PUNCT and token.value == ";":
            opened_at = self.source.position(opener.offset)[0]
            return self.error(
                f"found ';' where ',' or '{closer}' was expected: the array opened at line "
                f"{opened_at} is not closed (a bracket is missing above)"
            )
        if token.kind is _Kind.PUNCT and token.value not in ("(", ")", "[", "]", "{", "}", "=>"):
            return self.error(
                f"an expression ({_describe(token)}) cannot be read without PHP; "
                "write the literal value"
            )
        return self.error(f"expected ',' or '{closer}', found {_describe(token)}")

    def php_key(self, key: Any, token: _Token) -> int | str:
        """Cast an array key the way PHP does ('5' → 5, true → 1, null → '', 1.7 → 1)."""
        if isinstance(key, bool):
            return int(key)
        if key is None:
            return ""
        if isinstance(key, int):
            return key
        if isinstance(key, float):
            return int(key)
        if isinstance(key, str):
            if re.fullmatch(r"0|-?[1-9][0-9]*", key) and _PHP_INT_MIN <= int(key) <= _PHP_INT_MAX:
                return int(key)
            return key
        raise self.error("an array cannot be used as a key", token)


def _to_python(entries: dict[int | str, Any]) -> list[Any] | dict[str, Any]:
    """A PHP array whose keys are 0, 1, 2… in order is a list; any other is a hash."""
    if list(entries) == list(range(len(entries))):
        return list(entries.values())
    return {str(key): value for key, value in entries.items()}


def parse_php_array(text: str) -> Any:
    """Parse one PHP value (typically an array literal) — used by tests and by snippets."""
    source = _Source(text)
    parser = _Parser(source, _tokenize(source))
    value = parser.value()
    if parser.is_punct(";"):
        parser.index += 1
    if parser.token.kind is not _Kind.EOF:
        raise parser.error(f"unexpected {_describe(parser.token)} after the value")
    return value


def parse_php_module_settings(text: str, module: str = DEFAULT_MODULE) -> dict[str, Any]:
    """The settings of `module` from a `config-itop.php` (its `$MyModuleSettings` entry).

    When the file does not assign `$MyModuleSettings` (a snippet pasted from a configuration
    file or from documentation), the last `'module' => …` entry found anywhere is used.
    Raises `LegacyFormatError` with the line and column of the first problem.
    """
    source = _Source(text)
    parser = _Parser(source, _tokenize(source))
    found: tuple[Any, _Token] | None = None
    assignment: _Token | None = None
    tokens = parser.tokens
    for index, token in enumerate(tokens):
        if (
            token.kind is _Kind.VARIABLE
            and token.value == SETTINGS_VARIABLE
            and tokens[index + 1].kind is _Kind.PUNCT
            and tokens[index + 1].value == "="
        ):
            # PHP semantics: a later assignment replaces the whole array.
            assignment = token
            parser.index = index + 2
            found = _module_entry(parser, module)
    if assignment is not None:
        if found is None:
            line = source.position(assignment.offset)[0]
            raise LegacyFormatError(
                f"${SETTINGS_VARIABLE} (line {line}) has no '{module}' entry", line
            )
    else:
        found = _module_entry_anywhere(parser, module)
        if found is None:
            raise LegacyFormatError(
                f"no ${SETTINGS_VARIABLE} = array(…) and no '{module}' => array(…) entry found"
            )
    value, value_token = found
    if value == []:
        return {}
    if not isinstance(value, dict):
        raise source.error(
            f"the '{module}' entry must be an array of 'setting' => value pairs",
            value_token.offset,
        )
    return value


def _module_entry(parser: _Parser, module: str) -> tuple[Any, _Token] | None:
    """Walk the entries of `$MyModuleSettings = array(…)`; parse only `module`'s value."""
    opener = parser.token
    closer = parser.array_opening()
    if closer is None:
        raise parser.error(f"expected an array after ${SETTINGS_VARIABLE} =")
    found: tuple[Any, _Token] | None = None
    while not parser.is_punct(closer):
        if parser.token.kind is _Kind.EOF:
            raise parser.unclosed(closer, opener)
        key_start = parser.index
        parser.skip_expression()
        key_tokens = parser.tokens[key_start : parser.index]
        if parser.is_punct("=>"):
            parser.index += 1
            if (
                len(key_tokens) == 1
                and key_tokens[0].kind is _Kind.STRING
                and key_tokens[0].value == module
            ):
                value_token = parser.token
                found = (parser.value(), value_token)
            else:
                parser.skip_expression()
        if parser.is_punct(","):
            parser.index += 1
        elif not parser.is_punct(closer):
            raise parser.unclosed(closer, opener)
    parser.index += 1
    return found


def _module_entry_anywhere(parser: _Parser, module: str) -> tuple[Any, _Token] | None:
    found: tuple[Any, _Token] | None = None
    for index, token in enumerate(parser.tokens[:-1]):
        if (
            token.kind is _Kind.STRING
            and token.value == module
            and parser.tokens[index + 1].kind is _Kind.PUNCT
            and parser.tokens[index + 1].value == "=>"
        ):
            parser.index = index + 2
            value_token = parser.token
            found = (parser.value(), value_token)
    return found
