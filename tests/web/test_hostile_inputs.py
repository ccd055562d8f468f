"""Hostile bodies, signed or not: a precise 4xx or a readable canvas, nothing stored, bounded logs.

Bodies here are serialised with `ensure_ascii=True` so that lone surrogates travel as the JSON
escapes an attacker (or a buggy client) would send.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import httpx
import pytest

from itop_intercom.logs import configure
from itop_intercom.runtime import Services
from itop_intercom.web import json_body
from tests.conftest import CLIENT_SECRET, OTHER_WORKSPACE, WORKSPACE
from tests.fakes.signing import canvas_initialize_body, canvas_submit_body, make_part, webhook_body
from tests.web.test_guard import row_counts

WEBHOOK = "/intercom/webhooks"
INITIALIZE = "/intercom/canvas/initialize"
SUBMIT = "/intercom/canvas/submit"
NOW = 1768032100


@pytest.fixture(autouse=True)
def _json_logs() -> None:
    configure("debug", "json")


def webhook_headers(raw: bytes, secret: str = CLIENT_SECRET) -> dict[str, str]:
    digest = hmac.new(secret.encode(), raw, hashlib.sha1).hexdigest()
    return {"Content-Type": "application/json", "X-Hub-Signature": f"sha1={digest}"}


def canvas_headers(raw: bytes, secret: str = CLIENT_SECRET) -> dict[str, str]:
    digest = hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
    return {"Content-Type": "application/json", "X-Body-Signature": digest}


def ascii_json(body: Any) -> bytes:
    return json.dumps(body, ensure_ascii=True).encode()


def part(**changes: Any) -> dict[str, Any]:
    value = make_part("9001", "comment", "<p>hello</p>", NOW, "user", "a@b.example", "Ann")
    for key, change in changes.items():
        if key.startswith("author_"):
            value["author"][key.removeprefix("author_")] = change
        else:
            value[key] = change
    return value


def notification(*parts: dict[str, Any], **changes: Any) -> dict[str, Any]:
    body = webhook_body(WORKSPACE, "conversation.user.replied", "42", list(parts), created_at=NOW)
    body.update(changes)
    return body


def log_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


# -- 1. nothing is parsed before the signature ---------------------------------------------------


@pytest.mark.parametrize("path", [WEBHOOK, INITIALIZE, SUBMIT])
async def test_unknown_workspace_and_bad_signature_get_the_same_answer(
    client: httpx.AsyncClient, path: str
) -> None:
    key = "app_id" if path == WEBHOOK else "workspace_id"
    sign = webhook_headers if path == WEBHOOK else canvas_headers
    answers = set()
    for workspace in (WORKSPACE, OTHER_WORKSPACE, "unknownws", "zz" * 32, "ws4test1x"):
        raw = json.dumps({key: workspace, "topic": "ping"}).encode()
        for secret in ("wrong-secret-1234", "x"):
            response = await client.post(path, content=raw, headers=sign(raw, secret))
            answers.add((response.status_code, response.text))
    # Also without any workspace id a search could find.
    raw = b'{"nothing": "here"}'
    response = await client.post(path, content=raw, headers=sign(raw, "wrong-secret-1234"))
    answers.add((response.status_code, response.text))
    assert answers == {(401, '{"error":"signature does not match"}')}


@pytest.mark.parametrize(
    "raw",
    [
        b"[" * 10_000 + b"]" * 10_000,
        b'{"app_id": "ws4test1", "x": ' + b"[" * 5000,
        b"not json at all",
        b'{"app_id": "ws4test1", "topic": "\\ud800"}',
        b"\xff" * 1000,
    ],
)
async def test_unsigned_bodies_are_never_parsed(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch, raw: bytes
) -> None:
    parsed: list[bytes] = []
    real = json_body.checked

    def spy(body: bytes, **kwargs: Any) -> Any:
        parsed.append(body)
        return real(body, **kwargs)

    monkeypatch.setattr(json_body, "checked", spy)
    for path, sign in ((WEBHOOK, webhook_headers), (INITIALIZE, canvas_headers)):
        response = await client.post(path, content=raw, headers=sign(raw, "not-our-secret"))
        assert response.status_code == 401
    assert parsed == []


async def test_a_secret_shared_by_workspaces_authenticates_each_of_them(
    client: httpx.AsyncClient, services: Services
) -> None:
    # WORKSPACE uses the app-wide secret; a body signed with it naming OTHER_WORKSPACE (which
    # has its own secret) is not authentic for OTHER_WORKSPACE.
    raw = ascii_json({**notification(part()), "app_id": OTHER_WORKSPACE})
    response = await client.post(WEBHOOK, content=raw, headers=webhook_headers(raw))
    assert response.status_code == 401
    # A workspace id hidden earlier in the body does not change which workspace is used.
    body = notification(part())
    raw = ('{"decoy": {"app_id": "ws4test2"}, ' + ascii_json(body).decode()[1:]).encode()
    response = await client.post(WEBHOOK, content=raw, headers=webhook_headers(raw))
    assert response.status_code == 200, response.text
    assert (await row_counts(services))["conversation_parts"] == 1


# -- 2. JSON that breaks the parser or the database ----------------------------------------------


def deep(depth: int) -> Any:
    value: Any = "bottom"
    for _ in range(depth):
        value = [value]
    return value


@pytest.mark.parametrize("depth", [65, 1000, 10_000])
@pytest.mark.parametrize("path", [WEBHOOK, INITIALIZE])
async def test_deep_nesting_signed_is_400(
    client: httpx.AsyncClient, services: Services, depth: int, path: str
) -> None:
    if path == WEBHOOK:
        body = notification(part(metadata={"x": "PLACEHOLDER"}))
        sign = webhook_headers
    else:
        body = canvas_initialize_body(WORKSPACE, conversation_id="42", contact_email="a@b.example")
        body["context"] = {"x": "PLACEHOLDER"}
        sign = canvas_headers
    raw = ascii_json(body).replace(b'"PLACEHOLDER"', b"[" * depth + b"1" + b"]" * depth)
    response = await client.post(path, content=raw, headers=sign(raw))
    assert response.status_code == 400
    assert "nested deeper than 64 levels" in response.json()["error"]
    assert (await row_counts(services))["conversation_parts"] == 0


UNSTORABLE_WEBHOOKS = {
    "part body": lambda: notification(part(body="<p>\ud800</p>")),
    "author name": lambda: notification(part(author_name="A\udc00nn")),
    "author email": lambda: notification(part(author_email="\ud83d@b.example")),
    "author id": lambda: notification(part(author_id="\udfff")),
    "part id": lambda: notification(part(id="90\ud8001")),
    "part type": lambda: notification(part(part_type="comment\udbff")),
    "conversation id": lambda: {
        **notification(part()),
        "data": {"item": {**notification(part())["data"]["item"], "id": "4\ud8002"}},
    },
    "topic": lambda: notification(part(), topic="conversation.user.replied\ud800"),
    "unknown topic": lambda: notification(part(), topic="\ud800" * 10),
    "notification id": lambda: notification(part(), id="notif_\udc00"),
    "NUL in body": lambda: notification(part(body="<p>a\x00b</p>")),
    "NUL in a key": lambda: notification(part(metadata={"k\x00": 1})),
    "second part": lambda: notification(part(), part(id="9002", body="\ud800")),
}


@pytest.mark.parametrize("case", list(UNSTORABLE_WEBHOOKS))
async def test_unstorable_text_in_a_webhook_is_400_and_metrics_keep_working(
    client: httpx.AsyncClient,
    services: Services,
    capsys: pytest.CaptureFixture[str],
    case: str,
) -> None:
    raw = ascii_json(UNSTORABLE_WEBHOOKS[case]())
    response = await client.post(WEBHOOK, content=raw, headers=webhook_headers(raw))
    assert response.status_code == 400
    assert "cannot be stored" in response.json()["error"]
    assert (await row_counts(services))["conversation_parts"] == 0
    metrics = await client.get("/metrics")
    assert metrics.status_code == 200
    # The service goes on storing good notifications.
    raw = ascii_json(notification(part()))
    response = await client.post(WEBHOOK, content=raw, headers=webhook_headers(raw))
    assert response.status_code == 200
    assert (await row_counts(services))["conversation_parts"] == 1
    lines = log_lines(capsys.readouterr().err)
    assert any(line.get("status") == 400 for line in lines)


@pytest.mark.parametrize(
    "values",
    [
        {"find:ref": "R-\ud800"},
        {"\udc00": "x"},
        {"field:title": "emoji cut in half \ud83d"},
        {"field:description": "nul\x00byte"},
    ],
)
async def test_unstorable_text_in_a_canvas_gives_a_readable_canvas(
    client: httpx.AsyncClient, values: dict[str, str]
) -> None:
    body = canvas_submit_body(
        WORKSPACE,
        conversation_id="42",
        contact_email="a@b.example",
        component_id="home",
        input_values=values,
        stored_data={},
        admin_name="Agent \ud800",
    )
    raw = ascii_json(body)
    response = await client.post(SUBMIT, content=raw, headers=canvas_headers(raw))
    assert response.status_code == 200
    assert response.json()["canvas"]["content"]["components"]
    response.text.encode("utf-8")
    assert (await client.get("/metrics")).status_code == 200


@pytest.mark.parametrize(
    ("where", "value"),
    [
        ("part", 10**30),
        ("part", 2**62),
        ("part", 2**63),
        ("part", -1),
        ("part", -(10**20)),
        ("part", 1.5),
        ("part", 253_402_300_800),
        ("part_updated", 10**30),
        ("notification", 10**30),
        ("notification", -5),
        ("first_sent_at", 2**64),
    ],
)
async def test_times_out_of_range_are_400_at_the_edge(
    client: httpx.AsyncClient, services: Services, where: str, value: Any
) -> None:
    if where == "part":
        body = notification(part(created_at=value))
    elif where == "part_updated":
        body = notification(part(updated_at=value))
    elif where == "notification":
        body = notification(part(), created_at=value)
    else:
        body = notification(part(), first_sent_at=value)
    raw = ascii_json(body)
    response = await client.post(WEBHOOK, content=raw, headers=webhook_headers(raw))
    assert response.status_code == 400, response.text
    assert "created_at" in response.text or "_at" in response.text
    assert (await row_counts(services))["conversation_parts"] == 0


async def test_the_largest_date_accepted_is_stored(
    client: httpx.AsyncClient, services: Services
) -> None:
    raw = ascii_json(notification(part(created_at=253_402_300_799)))
    response = await client.post(WEBHOOK, content=raw, headers=webhook_headers(raw))
    assert response.status_code == 200
    assert (await row_counts(services))["conversation_parts"] == 1


# -- 4. unbounded strings in logs and metrics ----------------------------------------------------


@pytest.mark.parametrize(
    "topic",
    ["x" * 100_000, "conversation.user.replied " * 40, "user.created", "a\nb\"c{d}='e'"],
)
async def test_unknown_topics_are_one_metric_series_and_a_bounded_log_line(
    client: httpx.AsyncClient, capsys: pytest.CaptureFixture[str], topic: str
) -> None:
    raw = ascii_json(notification(part(), topic=topic))
    response = await client.post(WEBHOOK, content=raw, headers=webhook_headers(raw))
    assert response.status_code == 200
    assert len(response.content) < 400
    metrics = (await client.get("/metrics")).text
    assert 'itop_intercom_webhook_intake_total{outcome="unsupported",topic="other"} 1.0' in metrics
    assert len(metrics) < 20_000
    for line in capsys.readouterr().err.splitlines():
        assert len(line) < 1500


async def test_a_long_component_id_is_cut_in_the_log(
    client: httpx.AsyncClient, capsys: pytest.CaptureFixture[str]
) -> None:
    body = canvas_submit_body(
        WORKSPACE,
        conversation_id="42",
        contact_email="a@b.example",
        component_id="c" * 100_000,
        input_values={},
        stored_data={},
    )
    raw = ascii_json(body)
    response = await client.post(SUBMIT, content=raw, headers=canvas_headers(raw))
    assert response.status_code == 200
    lines = log_lines(capsys.readouterr().err)
    request_line = next(line for line in lines if line.get("event") == "request")
    assert request_line["component"] == "c" * 200 + "…[+99800 chars]"
    assert all(len(json.dumps(line)) < 2000 for line in lines)


@pytest.mark.parametrize("conversation_id", ["c7" * 25_000, "9" * 65, "x" * 1000])
async def test_a_conversation_id_longer_than_ids_can_be_is_400(
    client: httpx.AsyncClient, capsys: pytest.CaptureFixture[str], conversation_id: str
) -> None:
    body = canvas_initialize_body(WORKSPACE, conversation_id="42", contact_email="a@b.example")
    body["conversation"]["id"] = conversation_id
    raw = ascii_json(body)
    response = await client.post(INITIALIZE, content=raw, headers=canvas_headers(raw))
    assert response.status_code == 400
    assert response.json() == {"error": "invalid canvas request: conversation.id"}
    assert all(len(line) < 2000 for line in capsys.readouterr().err.splitlines())
