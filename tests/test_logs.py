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
