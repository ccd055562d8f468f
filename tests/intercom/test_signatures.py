"""Signature checks of Canvas Kit requests and webhooks."""

from __future__ import annotations

import json

import pytest

from itop_intercom.intercom.signatures import (
    canvas_signature,
    verify_canvas_signature,
    verify_webhook_signature,
    webhook_signature,
)
from tests.fakes.signing import (
    canvas_initialize_body,
    make_part,
    signed_canvas,
    signed_webhook,
    webhook_body,
)

SECRET = "my-secret"
RAW = b'{"a": 1}'
# Computed independently: printf '{"a": 1}' | openssl dgst -sha256 -hmac my-secret (and -sha1).
KNOWN_SHA256 = "d54cf8d0aab54ff22853767d4fbe3c5007108870dedf61c6bc8b60ead5db57ac"
KNOWN_SHA1 = "fa5401f98d6469a58c0865ac6efdfd18583cffb8"


def _canvas_request() -> tuple[bytes, str]:
    body = canvas_initialize_body(
        "ws1",
        conversation_id="503",
        contact_email="zoë@example.com",
        parts=[
            make_part(1, "comment", "<p>Ça marche & voilà</p>", 1700000000, "user", None, "Zoë")
        ],
    )
    raw, headers = signed_canvas(body, SECRET)
    return raw, headers["X-Body-Signature"]


def _webhook_request() -> tuple[bytes, str]:
    part = make_part("9", "note", "<b>Privé</b> & co", 1700000000, "admin", "a@example.com", "A")
    raw, headers = signed_webhook(
        webhook_body("ws1", "conversation.admin.noted", "7", [part]), SECRET
    )
    return raw, headers["X-Hub-Signature"]


def test_known_answers() -> None:
    assert canvas_signature(RAW, SECRET) == KNOWN_SHA256
    assert webhook_signature(RAW, SECRET) == "sha1=" + KNOWN_SHA1


def test_canvas_good_signature() -> None:
    raw, header = _canvas_request()
    assert verify_canvas_signature(raw, header, SECRET)
    assert verify_canvas_signature(RAW, KNOWN_SHA256, SECRET)


def test_canvas_uppercase_and_whitespace_tolerated() -> None:
    raw, header = _canvas_request()
    assert verify_canvas_signature(raw, header.upper(), SECRET)
    assert verify_canvas_signature(raw, f"  {header}\t\n", SECRET)


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "   ",
        KNOWN_SHA256[:-1],  # truncated
        KNOWN_SHA256 + "0",  # too long
        KNOWN_SHA256[:-1] + "g",  # not hex
        "sha256=" + KNOWN_SHA256,  # a prefix Intercom does not send
        KNOWN_SHA1,  # a SHA-1 digest where SHA-256 is expected
        "sha1=" + KNOWN_SHA1,  # a webhook signature on a canvas request
        "0" * 64,
        "é" * 64,
    ],
)
def test_canvas_bad_headers_refused(header: str | None) -> None:
    assert not verify_canvas_signature(RAW, header, SECRET)


def test_canvas_wrong_secret_or_empty_secret() -> None:
    raw, header = _canvas_request()
    assert not verify_canvas_signature(raw, header, "other-secret")
    empty = canvas_signature(raw, "")
    assert not verify_canvas_signature(raw, empty, "")


def test_canvas_signature_depends_on_raw_bytes() -> None:
    raw, header = _canvas_request()
    parsed = json.loads(raw)
    for reserialized in (
        json.dumps(parsed).encode(),
        json.dumps(parsed, ensure_ascii=False).encode(),
        json.dumps(parsed, separators=(",", ":"), ensure_ascii=False).encode(),
    ):
        assert json.loads(reserialized) == parsed
        assert reserialized != raw
        assert not verify_canvas_signature(reserialized, header, SECRET)
    assert not verify_canvas_signature(raw + b" ", header, SECRET)


def test_webhook_good_signature() -> None:
    raw, header = _webhook_request()
    assert header.startswith("sha1=")
    assert verify_webhook_signature(raw, header, SECRET)
    assert verify_webhook_signature(RAW, "sha1=" + KNOWN_SHA1, SECRET)


def test_webhook_uppercase_and_whitespace_tolerated() -> None:
    assert verify_webhook_signature(RAW, "sha1=" + KNOWN_SHA1.upper(), SECRET)
    assert verify_webhook_signature(RAW, "SHA1=" + KNOWN_SHA1, SECRET)
    assert verify_webhook_signature(RAW, f" sha1={KNOWN_SHA1} \r\n", SECRET)


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "sha1=",
        KNOWN_SHA1,  # missing prefix
        "sha1=" + KNOWN_SHA1[:-1],  # truncated
        "sha1=" + KNOWN_SHA1 + "a",  # too long
        "sha1= " + KNOWN_SHA1,  # space inside
        "sha256=" + KNOWN_SHA1,
        "sha1=" + KNOWN_SHA256,  # a canvas signature on a webhook
        KNOWN_SHA256,
        "md5=" + KNOWN_SHA1,
        "sha1=" + "0" * 40,
    ],
)
def test_webhook_bad_headers_refused(header: str | None) -> None:
    assert not verify_webhook_signature(RAW, header, SECRET)


def test_webhook_wrong_secret_or_empty_secret() -> None:
    raw, header = _webhook_request()
    assert not verify_webhook_signature(raw, header, "other-secret")
    assert not verify_webhook_signature(raw, webhook_signature(raw, ""), "")


def test_webhook_signature_depends_on_raw_bytes() -> None:
    raw, header = _webhook_request()
    parsed = json.loads(raw)
    reserialized = json.dumps(parsed, ensure_ascii=False).encode()
    assert reserialized != raw
    assert not verify_webhook_signature(reserialized, header, SECRET)


def test_sha256_and_sha1_never_interchangeable() -> None:
    canvas_raw, canvas_header = _canvas_request()
    webhook_raw, webhook_header = _webhook_request()
    assert not verify_webhook_signature(canvas_raw, canvas_header, SECRET)
    assert not verify_webhook_signature(canvas_raw, "sha1=" + canvas_header, SECRET)
    assert not verify_canvas_signature(webhook_raw, webhook_header, SECRET)
    assert not verify_canvas_signature(webhook_raw, webhook_header.removeprefix("sha1="), SECRET)


def test_helpers_keep_non_ascii_and_escape_html() -> None:
    raw, _ = _canvas_request()
    assert "zoë@example.com".encode() in raw
    assert b"\\u003cp\\u003e" in raw
    assert b"\\u0026" in raw
    assert b"<p>" not in raw
