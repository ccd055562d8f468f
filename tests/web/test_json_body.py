"""Parsing authentic bodies: depth, encoding and text the database or the logs cannot take."""

from __future__ import annotations

import json

import pytest

from itop_intercom.web import json_body
from itop_intercom.web.json_body import UnsafeJson, checked, deeper_than, loads


def nested(depth: int, open_: str = "[", close: str = "]") -> bytes:
    return (open_ * depth + close * depth).encode()


@pytest.mark.parametrize(
    ("raw", "depth"),
    [
        (b"{}", 1),
        (b'{"a": [1, {"b": [[]]}]}', 5),
        (nested(64), 64),
        (nested(65), 65),
        (b'{"a":' * 30 + b"1" + b"}" * 30, 30),
        (b'[{"x": [{"y": [{"z": []}]}]}]', 7),
        # Brackets inside strings (escaped quotes included) do not count.
        (b'["[[[[[[[[[[", "\\"]]]]{{{{", {"k": "[{[{"}]', 2),
        # Many shallow siblings: the depth is the deepest branch, not the number of brackets.
        (b"[" + b"[[]]," * 5000 + b"[]]", 3),
    ],
)
def test_depth_is_measured_on_the_raw_bytes(raw: bytes, depth: int) -> None:
    assert deeper_than(raw, depth) is False
    assert deeper_than(raw, depth - 1) is True


@pytest.mark.parametrize(
    "raw",
    [
        nested(10_000),
        b'{"a":' * 5000 + b"1" + b"}" * 5000,
        b'{"x": ' + nested(200) + b"}",
        b'[{"a": ' * 40 + b"0" + b"}]" * 40,
    ],
)
def test_deep_bodies_are_refused_before_the_parser_runs(raw: bytes) -> None:
    with pytest.raises(UnsafeJson, match="deeper than 64 levels"):
        loads(raw)


def test_an_unterminated_deep_body_is_refused_too() -> None:
    with pytest.raises(UnsafeJson):
        loads(b"[" * 100_000)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b'{"a": ', "not valid JSON"),
        (b"\xff\xfe{\x00}\x00", "not UTF-8"),
        ('{"a": "é"}'.encode("utf-16"), "not UTF-8"),
        (b'{"a": "\xed\xa0\x80"}', "not UTF-8"),  # a surrogate encoded raw is not UTF-8
        (b'{"a": "tab\there"}', "not valid JSON"),  # raw control characters
        (b'{"created_at": ' + b"9" * 5000 + b"}", "number too long"),
        (b"[-" + b"1" * 5000 + b"]", "number too long"),
    ],
)
def test_bodies_that_are_not_json_text_are_refused(raw: bytes, reason: str) -> None:
    with pytest.raises(UnsafeJson, match=reason):
        loads(raw)


UNSTORABLE = [
    ('{"body": "\\ud800"}', "body"),
    ('{"a": {"b": ["ok", "x\\udfffy"]}}', "a.b[1]"),
    ('{"author": {"name": "\\uDC00"}}', "author.name"),
    ('{"id": "12\\u0000"}', "id"),
    ('{"\\ud800": 1}', "\ufffd"),
    ('{"topic": "\\ud83d"}', "topic"),  # the first half of an emoji, alone
]


@pytest.mark.parametrize(("text", "where"), UNSTORABLE)
def test_lone_surrogates_and_nul_are_refused_with_their_place(text: str, where: str) -> None:
    with pytest.raises(UnsafeJson) as caught:
        checked(text.encode(), unstorable="refuse")
    assert caught.value.reason.endswith(where)
    caught.value.reason.encode("utf-8")  # the reason itself is printable


@pytest.mark.parametrize(("text", "_where"), UNSTORABLE)
def test_or_repaired_into_printable_text(text: str, _where: str) -> None:
    data = checked(text.encode(), unstorable="repair")
    dumped = json.dumps(data, ensure_ascii=False)
    dumped.encode("utf-8")
    assert "\ufffd" in dumped


def test_escaped_emoji_pairs_and_escaped_backslashes_are_kept() -> None:
    raw = b'{"a": "\\ud83d\\ude00", "b": "\\\\ud800 is text", "c": "\\\\u0000"}'
    data = checked(raw, unstorable="refuse")
    assert data == {"a": "😀", "b": "\\ud800 is text", "c": "\\u0000"}
    assert json_body.may_hold_unstorable(b'{"a": "plain"}') is False
