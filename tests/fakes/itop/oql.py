"""OQL: lexer, parser (with iTop's syntax errors) and the AST evaluated by the store."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import TypeAlias

from tests.fakes.itop.errors import _OqlError

_OQL_TOKEN_RE = re.compile(
    r"""(?P<ws>\s+)
    |(?P<str>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
    |(?P<num>\d+)
    |(?P<name>[A-Za-z_][A-Za-z0-9_]*)
    |(?P<quoted>`[^`]*`)
    |(?P<op>!=|<>|<=|>=|=|<|>|\(|\)|,|\.)""",
    re.X | re.S,
)


_OQL_KEYWORDS = frozenset(
    {"SELECT", "FROM", "AS", "WHERE", "JOIN", "ON", "AND", "OR", "NOT", "IN", "LIKE", "UNION"}
)


#: Token names as iTop's parser reports them ("NAME" is recorded in 015, the rest inferred).
_OQL_TOKEN_NAMES = {
    "NAME": "NAME",
    "STRVAL": "STRVAL",
    "INTVAL": "INTVAL",
    "(": "PAR_OPEN",
    ")": "PAR_CLOSE",
    ",": "COMA",
    ".": "DOT",
    "=": "EQ",
    "!=": "NOT_EQ",
    "<>": "NOT_EQ",
    "<": "LT",
    ">": "GT",
    "<=": "LE",
    ">=": "GE",
    "AS": "AS_ALIAS",
    "AND": "LOG_AND",
    "OR": "LOG_OR",
}


@dataclass(frozen=True)
class _Tok:
    kind: str  # NAME, STRVAL, INTVAL, a keyword, an operator, or EOF
    text: str
    value: str
    pos: int


class _Lexer:
    """Lazy: like iTop's parser, a bad token is reported before a later bad character."""

    def __init__(self, query: str) -> None:
        self.query = query
        self.pos = 0
        self._peeked: _Tok | None = None

    def _scan(self) -> _Tok:
        while True:
            if self.pos >= len(self.query):
                return _Tok("EOF", "", "", len(self.query))
            match = _OQL_TOKEN_RE.match(self.query, self.pos)
            if match is None:
                raise _OqlError(
                    "OQLParserSyntaxErrorException",
                    f"Unexpected input at {self.pos} in '{self.query}'",
                )
            start, self.pos = self.pos, match.end()
            kind = match.lastgroup
            text = match.group(0)
            if kind == "ws":
                continue
            if kind == "str":
                return _Tok("STRVAL", text, re.sub(r"\\(.)", r"\1", text[1:-1], flags=re.S), start)
            if kind == "num":
                return _Tok("INTVAL", text, text, start)
            if kind == "quoted":
                return _Tok("NAME", text, text[1:-1], start)
            if kind == "name":
                upper = text.upper()
                return _Tok(upper if upper in _OQL_KEYWORDS else "NAME", text, text, start)
            return _Tok(text, text, text, start)

    def peek(self) -> _Tok:
        if self._peeked is None:
            self._peeked = self._scan()
        return self._peeked

    def next(self) -> _Tok:
        token = self.peek()
        self._peeked = None
        return token


@dataclass(frozen=True)
class _Field:
    alias: str | None
    code: str
    pos: int


@dataclass(frozen=True)
class _Literal:
    value: str


_Operand: TypeAlias = _Field | _Literal


@dataclass(frozen=True)
class _Compare:
    op: str  # = != < > <= >= LIKE NOT LIKE
    left: _Operand
    right: _Operand


@dataclass(frozen=True)
class _InList:
    operand: _Operand
    values: tuple[str, ...]
    negate: bool


@dataclass(frozen=True)
class _Bool:
    op: str  # AND / OR
    items: tuple[_Cond, ...]


_Cond: TypeAlias = _Compare | _InList | _Bool


@dataclass(frozen=True)
class _ClassRef:
    name: str
    alias: str
    pos: int


@dataclass(frozen=True)
class _Query:
    text: str
    selected: str  # alias of the selected class
    classes: tuple[_ClassRef, ...]
    joins: tuple[tuple[_Field, _Field], ...]
    where: _Cond | None
    also_selected: tuple[tuple[str, int], ...] = ()
    """`SELECT t, p FROM ...`: the other aliases (and positions); only `selected` comes back."""
    selected_pos: int = 7
    unions: tuple[_Query, ...] = ()
    """The branches after `UNION`, each a query of its own."""


class _Parser:
    def __init__(self, query: str) -> None:
        self.query = query
        self.lexer = _Lexer(query)

    def fail(self, token: _Tok) -> _OqlError:
        if token.kind == "EOF":
            found = "Unexpected token End of Input - found '0' at 0"
        else:
            name = _OQL_TOKEN_NAMES.get(token.kind, token.kind)
            found = f"Unexpected token {name} - found '{token.text}' at {token.pos}"
        return _OqlError("OQLParserSyntaxErrorException", f"{found} in '{self.query}'")

    def expect(self, kind: str) -> _Tok:
        token = self.lexer.next()
        if token.kind != kind:
            raise self.fail(token)
        return token

    def accept(self, kind: str) -> _Tok | None:
        if self.lexer.peek().kind == kind:
            return self.lexer.next()
        return None

    def parse(self) -> _Query:
        first = self.branch()
        unions = []
        while self.accept("UNION"):
            unions.append(self.branch())
        token = self.lexer.next()
        if token.kind != "EOF":
            raise self.fail(token)
        return replace(first, unions=tuple(unions))

    def branch(self) -> _Query:
        self.expect("SELECT")
        first = self.expect("NAME")
        also: list[tuple[str, int]] = []
        while self.accept(","):
            other = self.expect("NAME")
            also.append((other.value, other.pos))
        classes: list[_ClassRef] = []
        if also and self.lexer.peek().kind != "FROM":
            raise self.fail(self.lexer.next())  # SELECT a, b needs FROM
        if self.accept("FROM"):
            name = self.expect("NAME")
            alias = self.expect("NAME").value if self.accept("AS") else name.value
            selected = first.value
            classes.append(_ClassRef(name.value, alias, name.pos))
        else:
            alias = self.expect("NAME").value if self.accept("AS") else first.value
            selected = alias
            classes.append(_ClassRef(first.value, alias, first.pos))
        joins = []
        while self.accept("JOIN"):
            name = self.expect("NAME")
            alias = self.expect("NAME").value if self.accept("AS") else name.value
            classes.append(_ClassRef(name.value, alias, name.pos))
            self.expect("ON")
            left = self.field(self.expect("NAME"))
            self.expect("=")
            right = self.field(self.expect("NAME"))
            joins.append((left, right))
        where = self.condition() if self.accept("WHERE") else None
        return _Query(
            self.query, selected, tuple(classes), tuple(joins), where, tuple(also), first.pos
        )

    def field(self, first: _Tok) -> _Field:
        if self.accept("."):
            code = self.expect("NAME")
            return _Field(first.value, code.value, code.pos)
        return _Field(None, first.value, first.pos)

    def condition(self) -> _Cond:
        items = [self.conjunction()]
        while self.accept("OR"):
            items.append(self.conjunction())
        return items[0] if len(items) == 1 else _Bool("OR", tuple(items))

    def conjunction(self) -> _Cond:
        items = [self.atom()]
        while self.accept("AND"):
            items.append(self.atom())
        return items[0] if len(items) == 1 else _Bool("AND", tuple(items))

    def atom(self) -> _Cond:
        if self.accept("("):
            inner = self.condition()
            self.expect(")")
            return inner
        left = self.operand()
        token = self.lexer.next()
        if token.kind in ("=", "!=", "<>", "<", ">", "<=", ">=", "LIKE"):
            op = "!=" if token.kind == "<>" else token.kind
            return _Compare(op, left, self.operand())
        if token.kind == "NOT":
            after = self.lexer.next()
            if after.kind == "IN":
                return _InList(left, self.value_list(), True)
            if after.kind == "LIKE":
                return _Compare("NOT LIKE", left, self.operand())
            raise self.fail(after)
        if token.kind == "IN":
            return _InList(left, self.value_list(), False)
        raise self.fail(token)

    def operand(self) -> _Operand:
        token = self.lexer.next()
        if token.kind == "NAME":
            return self.field(token)
        if token.kind in ("STRVAL", "INTVAL"):
            return _Literal(token.value)
        raise self.fail(token)

    def value_list(self) -> tuple[str, ...]:
        self.expect("(")
        values = []
        while True:
            token = self.lexer.next()
            if token.kind not in ("STRVAL", "INTVAL"):
                raise self.fail(token)
            values.append(token.value)
            if self.accept(")"):
                return tuple(values)
            self.expect(",")


def _parse_oql(query: str) -> _Query:
    return _Parser(query).parse()


def _fields_of(cond: _Cond | None) -> Iterator[_Field]:
    if cond is None:
        return
    if isinstance(cond, _Bool):
        for item in cond.items:
            yield from _fields_of(item)
        return
    operands = [cond.operand] if isinstance(cond, _InList) else [cond.left, cond.right]
    for operand in operands:
        if isinstance(operand, _Field):
            yield operand
