"""Logs never carry a secret, whatever the key it hides under."""

from __future__ import annotations

import json

import pytest

from itop_intercom.logs import SecretMask, configure, get_logger


def last_event(capsys: pytest.CaptureFixture[str]) -> dict[str, object]:
    line = capsys.readouterr().err.strip().splitlines()[-1]
    event: dict[str, object] = json.loads(line)
    return event


def test_secret_looking_keys_are_masked_but_authors_are_not(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure("info", "json")
    get_logger("t").info(
        "x", access_token="a1", client_secret="s1", auth="b1", author_email="ann@example.com"
    )
    event = last_event(capsys)
    assert (event["access_token"], event["client_secret"], event["auth"]) == ("***",) * 3
    assert event["author_email"] == "ann@example.com"


def test_registered_secret_values_are_masked_in_any_field(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure("info", "json", SecretMask(["tok-9f8e7d6c5b4a"]))
    get_logger("t").warning("call failed", detail="GET /x?auth_token=tok-9f8e7d6c5b4a refused")
    event = last_event(capsys)
    assert "tok-9f8e7d6c5b4a" not in json.dumps(event)
    assert event["detail"] == "GET /x?auth_token=*** refused"


def test_library_logs_through_logging_are_masked_too(caplog: pytest.LogCaptureFixture) -> None:
    import logging

    configure("info", "json", SecretMask(["lib-secret-5e4d3c2b1a"]))
    try:
        raise RuntimeError("request with token lib-secret-5e4d3c2b1a failed")
    except RuntimeError:
        logging.getLogger("uvicorn.error").exception("boom %s", "lib-secret-5e4d3c2b1a")
    # The filter sits on the root handlers (pytest's capture handler here).
    text = caplog.text + "".join(r.exc_text or "" for r in caplog.records)
    assert "boom ***" in text
    assert "token *** failed" in text
    assert "lib-secret-5e4d3c2b1a" not in text


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("x" * 100_000, "x" * 200 + "…[+99800 chars]"),
        ("y" * 200, "y" * 200),
        ("y" * 201, "y" * 200 + "…[+1 chars]"),
        ("lone \ud800 surrogate", "lone \ufffd surrogate"),
        (12345678901234567890, 12345678901234567890),
        (None, None),
    ],
)
def test_every_logged_value_is_bounded_and_printable(
    capsys: pytest.CaptureFixture[str], value: object, expected: object
) -> None:
    configure("info", "json")
    get_logger("t").info("x", topic=value)
    assert last_event(capsys)["topic"] == expected


def test_nested_values_are_bounded_too(capsys: pytest.CaptureFixture[str]) -> None:
    configure("info", "json")
    get_logger("t").info(
        "x", items=["z" * 500] * 100, mapping={f"k{i}": i for i in range(50)}, other=object()
    )
    event = last_event(capsys)
    items = event["items"]
    assert isinstance(items, list) and len(items) == 21 and items[-1] == "…[+80 items]"
    assert items[0] == "z" * 200 + "…[+300 chars]"
    mapping = event["mapping"]
    assert isinstance(mapping, dict) and len(mapping) == 21
    assert len(str(event["other"])) <= 220


def test_a_secret_is_masked_before_the_value_is_cut(capsys: pytest.CaptureFixture[str]) -> None:
    configure("info", "json", SecretMask(["straddling-secret-42"]))
    # The secret starts just before the cut: cutting first would leave its first half visible.
    get_logger("t").info("x", detail="a" * 190 + "straddling-secret-42" + "b" * 50)
    detail = str(last_event(capsys)["detail"])
    assert "straddling" not in detail and "***" in detail


def test_library_messages_are_bounded(caplog: pytest.LogCaptureFixture) -> None:
    import logging

    configure("info", "json")
    logging.getLogger("uvicorn.error").warning("huge %s", "w" * 100_000)
    assert max(len(r.getMessage()) for r in caplog.records) < 4100
