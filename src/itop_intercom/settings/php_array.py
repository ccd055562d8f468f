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

import re
from collections.abc import Mapping
from typing import Any, Final

from itop_intercom.settings.legacy_format import DEFAULT_MODULE, LegacyFormatError
from itop_intercom.settings.php_tokens import (
    CONSTANT_LIKE,
    PHP_INT_MAX,
    PHP_INT_MIN,
    Kind,
    Source,
    Token,
    describe,
    tokenize,
)

SETTINGS_VARIABLE = "MyModuleSettings"


_OPENERS: Final[Mapping[str, str]] = {"(": ")", "[": "]", "{": "}"}


class _Parser:
    def __init__(self, source: Source, tokens: list[Token]) -> None:
        self.source = source
        self.tokens = tokens
        self.index = 0

    # -- helpers -------------------------------------------------------------------------------

    @property
    def token(self) -> Token:
        return self.tokens[self.index]

    def is_punct(self, value: str, offset: int = 0) -> bool:
        token = self.tokens[min(self.index + offset, len(self.tokens) - 1)]
        return token.kind is Kind.PUNCT and token.value == value

    def error(self, message: str, token: Token | None = None) -> LegacyFormatError:
        return self.source.error(message, (token or self.token).offset)

    def expect_punct(self, value: str, context: str) -> None:
        if not self.is_punct(value):
            raise self.error(f"expected '{value}' {context}, found {describe(self.token)}")
        self.index += 1

    def array_opening(self) -> str | None:
        """The closing bracket if an array literal starts here (after consuming its opener)."""
        token = self.token
        if token.kind is Kind.NAME and token.value.lower() == "array" and self.is_punct("(", 1):
            self.index += 2
            return ")"
        if self.is_punct("["):
            self.index += 1
            return "]"
        return None

    def skip_expression(self) -> None:
        """Move past one expression: to the next `,`, `=>` or closing bracket at this depth."""
        stack: list[tuple[str, Token]] = []
        while True:
            token = self.token
            if token.kind is Kind.EOF:
                if stack:
                    closer, opener = stack[-1]
                    raise self.error(
                        f"missing '{closer}' for the bracket opened at line "
                        f"{self.source.position(opener.offset)[0]}"
                    )
                return
            if token.kind is Kind.PUNCT:
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
        if token.kind is Kind.STRING:
            self.index += 1
            text: str = token.value
            while self.is_punct("."):
                self.index += 1
                part = self.token
                if part.kind is Kind.STRING:
                    text += part.value
                elif part.kind is Kind.INT:
                    text += str(part.value)
                else:
                    raise self.error(
                        f"only quoted strings can be joined with '.', found {describe(part)}"
                    )
                self.index += 1
            return text
        if token.kind in (Kind.INT, Kind.FLOAT):
            self.index += 1
            return token.value
        if token.kind is Kind.PUNCT and token.value in ("-", "+"):
            number = self.tokens[self.index + 1]
            if number.kind in (Kind.INT, Kind.FLOAT):
                self.index += 2
                if token.value == "+":
                    return number.value
                negative = -number.value
                # -9223372036854775808 is written as the negation of a float-sized literal.
                if number.kind is Kind.FLOAT and negative == float(PHP_INT_MIN):
                    return PHP_INT_MIN
                return negative
            raise self.error(f"a number must follow '{token.value}'")
        if token.kind is Kind.NAME:
            word = token.value.lower().lstrip("\\")
            if word in ("true", "false", "null"):
                self.index += 1
                return {"true": True, "false": False, "null": None}[word]
            if CONSTANT_LIKE.fullmatch(token.value):
                raise self.error(
                    f"constant {token.value} cannot be read without PHP; write its value"
                )
            raise self.error("unsupported expression: only literal values can be imported")
        if token.kind is Kind.VARIABLE:
            raise self.error("variables cannot be read without PHP; write the value itself")
        if token.kind is Kind.HEREDOC:
            raise self.error("heredoc / nowdoc strings are not supported; use a quoted string")
        if token.kind is Kind.BACKTICK:
            raise self.error("backtick (shell) strings are not supported; use a quoted string")
        if token.kind is Kind.EOF:
            raise self.error("unexpected end of the file, a value was expected")
        raise self.error(f"unexpected {describe(token)}, a value was expected")

    def array_body(self, closer: str, opener: Token) -> Any:
        entries: dict[int | str, Any] = {}
        entry_lines: dict[int | str, int] = {}
        next_index = 0
        while True:
            if self.is_punct(closer):
                self.index += 1
                break
            if self.token.kind is Kind.EOF:
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

    def unclosed(self, closer: str, opener: Token) -> LegacyFormatError:
        """The error for a token that neither continues nor closes an array."""
        if self.token.kind is Kind.EOF:
            opened_at = self.source.position(opener.offset)[0]
            return self.error(f"missing '{closer}' to close the array opened at line {opened_at}")
        token = self.token
        if token.kind is Kind.PUNCT and token.value == ";":
            opened_at = self.source.position(opener.offset)[0]
            return self.error(
                f"found ';' where ',' or '{closer}' was expected: the array opened at line "
                f"{opened_at} is not closed (a bracket is missing above)"
            )
        if token.kind is Kind.PUNCT and token.value not in (
            "(",
            ")",
            "[",
            "]",
            "{",
            "}",
            "=>",
        ):
            return self.error(
                f"an expression ({describe(token)}) cannot be read without PHP; "
                "write the literal value"
            )
        return self.error(f"expected ',' or '{closer}', found {describe(token)}")

    def php_key(self, key: Any, token: Token) -> int | str:
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
            if re.fullmatch(r"0|-?[1-9][0-9]*", key) and PHP_INT_MIN <= int(key) <= PHP_INT_MAX:
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
    source = Source(text)
    parser = _Parser(source, tokenize(source))
    value = parser.value()
    if parser.is_punct(";"):
        parser.index += 1
    if parser.token.kind is not Kind.EOF:
        raise parser.error(f"unexpected {describe(parser.token)} after the value")
    return value


def parse_php_module_settings(text: str, module: str = DEFAULT_MODULE) -> dict[str, Any]:
    """The settings of `module` from a `config-itop.php` (its `$MyModuleSettings` entry).

    When the file does not assign `$MyModuleSettings` (a snippet pasted from a configuration
    file or from documentation), the last `'module' => …` entry found anywhere is used.
    Raises `LegacyFormatError` with the line and column of the first problem.
    """
    source = Source(text)
    parser = _Parser(source, tokenize(source))
    found: tuple[Any, Token] | None = None
    assignment: Token | None = None
    tokens = parser.tokens
    for index, token in enumerate(tokens):
        if (
            token.kind is Kind.VARIABLE
            and token.value == SETTINGS_VARIABLE
            and tokens[index + 1].kind is Kind.PUNCT
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


def _module_entry(parser: _Parser, module: str) -> tuple[Any, Token] | None:
    """Walk the entries of `$MyModuleSettings = array(…)`; parse only `module`'s value."""
    opener = parser.token
    closer = parser.array_opening()
    if closer is None:
        raise parser.error(f"expected an array after ${SETTINGS_VARIABLE} =")
    found: tuple[Any, Token] | None = None
    while not parser.is_punct(closer):
        if parser.token.kind is Kind.EOF:
            raise parser.unclosed(closer, opener)
        key_start = parser.index
        parser.skip_expression()
        key_tokens = parser.tokens[key_start : parser.index]
        if parser.is_punct("=>"):
            parser.index += 1
            if (
                len(key_tokens) == 1
                and key_tokens[0].kind is Kind.STRING
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


def _module_entry_anywhere(parser: _Parser, module: str) -> tuple[Any, Token] | None:
    found: tuple[Any, Token] | None = None
    for index, token in enumerate(parser.tokens[:-1]):
        if (
            token.kind is Kind.STRING
            and token.value == module
            and parser.tokens[index + 1].kind is Kind.PUNCT
            and parser.tokens[index + 1].value == "=>"
        ):
            parser.index = index + 2
            value_token = parser.token
            found = (parser.value(), value_token)
    return found
