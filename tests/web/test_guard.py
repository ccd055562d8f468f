"""Every bad input gets its precise status, writes nothing and logs nothing secret."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from itop_intercom.intercom.signatures import canvas_signature, webhook_signature
from itop_intercom.logs import configure
from itop_intercom.runtime import Services
from itop_intercom.store.tables import metadata
from tests.conftest import ACCESS_TOKEN, CLIENT_SECRET, OTHER_CLIENT_SECRET, WORKSPACE
from tests.fakes.itop import ADMIN_TOKEN, FakeItop
from tests.fakes.signing import canvas_initialize_body, make_part, webhook_body

CANVAS = "/intercom/canvas/initialize"
SUBMIT = "/intercom/canvas/submit"
WEBHOOK = "/intercom/webhooks"
SECRETS = (CLIENT_SECRET, OTHER_CLIENT_SECRET, ACCESS_TOKEN, ADMIN_TOKEN)

Signer = Callable[[bytes, str], dict[str, str]]


def canvas_headers(raw: bytes, secret: str) -> dict[str, str]:
    return {"Content-Type": "application/json", "X-Body-Signature": canvas_signature(raw, secret)}


def webhook_headers(raw: bytes, secret: str) -> dict[str, str]:
    return {"Content-Type": "application/json", "X-Hub-Signature": webhook_signature(raw, secret)}


def canvas_raw(workspace: str = WORKSPACE) -> bytes:
    body = canvas_initialize_body(workspace, conversation_id="42", contact_email="a@b.example")
    return json.dumps(body).encode()


def webhook_raw(workspace: str = WORKSPACE) -> bytes:
    part = make_part("9001", "comment", "<p>hello</p>", 1768032100, "user", "a@b.example", "A")
    return json.dumps(webhook_body(workspace, "conversation.user.replied", "42", [part])).encode()


ENDPOINTS: list[tuple[str, Callable[..., bytes], Signer, str]] = [
    (CANVAS, canvas_raw, canvas_headers, "X-Body-Signature"),
    (SUBMIT, canvas_raw, canvas_headers, "X-Body-Signature"),
    (WEBHOOK, webhook_raw, webhook_headers, "X-Hub-Signature"),
]
#: Runs a test once per signed endpoint, with its path, body builder, signer and header name.
EACH_ENDPOINT = pytest.mark.parametrize(
    ("path", "raw_of", "sign", "header"), ENDPOINTS, ids=["initialize", "submit", "webhook"]
)


async def row_counts(services: Services) -> dict[str, int]:
    async with services.engine.connect() as conn:
        return {
            table.name: int(
                (await conn.execute(sa.select(sa.func.count()).select_from(table))).scalar_one()
            )
            for table in metadata.sorted_tables
        }


@pytest.fixture(autouse=True)
def _json_logs() -> None:
    configure("debug", "json")


def bad_requests(
    raw_of: Callable[..., bytes], sign: Signer, header: str
) -> list[tuple[str, bytes, dict[str, str], int]]:
    good = raw_of()
    unsigned = {"Content-Type": "application/json"}
    return [
        ("missing signature", good, unsigned, 401),
        (
            "wrong signature",
            good,
            {**unsigned, header: "sha1=" + "0" * 40 if header == "X-Hub-Signature" else "0" * 64},
            401,
        ),
        ("signed with another workspace's secret", good, sign(good, OTHER_CLIENT_SECRET), 401),
        ("signature of other bytes", good, sign(good + b" ", CLIENT_SECRET), 401),
        ("unknown workspace", raw_of("unknownws"), sign(raw_of("unknownws"), CLIENT_SECRET), 403),
        ("malformed JSON", b'{"workspace_id": ', sign(b'{"workspace_id": ', CLIENT_SECRET), 400),
        ("not an object", b"[1, 2]", sign(b"[1, 2]", CLIENT_SECRET), 400),
    ]


@EACH_ENDPOINT
async def test_bad_inputs_get_precise_statuses_and_change_nothing(
    client: httpx.AsyncClient,
    services: Services,
    fake_itop: FakeItop,
    capsys: pytest.CaptureFixture[str],
    path: str,
    raw_of: Callable[..., bytes],
    sign: Signer,
    header: str,
) -> None:
    before = await row_counts(services)
    for label, raw, headers, status in bad_requests(raw_of, sign, header):
        response = await client.post(path, content=raw, headers=headers)
        assert response.status_code == status, label
        assert "Traceback" not in response.text
        assert response.json()["error"], label
    assert await row_counts(services) == before
    assert fake_itop.calls == []
    logged = capsys.readouterr().err
    assert logged.count('"status": 4') >= 7  # one access-log line per refused request
    for secret in SECRETS:
        assert secret not in logged
    assert "hello" not in logged  # no body in the logs


@EACH_ENDPOINT
async def test_missing_required_fields_is_400(
    client: httpx.AsyncClient,
    services: Services,
    path: str,
    raw_of: Callable[..., bytes],
    sign: Signer,
    header: str,
) -> None:
    data = json.loads(raw_of())
    key = "app_id" if path == WEBHOOK else "workspace_id"
    workspace = data[key]
    stripped: dict[str, Any] = {key: workspace}
    if path == WEBHOOK:
        stripped.update(topic="conversation.user.replied", data={"item": {"type": "conversation"}})
    raw = json.dumps(stripped).encode()
    before = await row_counts(services)
    response = await client.post(path, content=raw, headers=sign(raw, CLIENT_SECRET))
    assert response.status_code == 400
    assert await row_counts(services) == before


@EACH_ENDPOINT
async def test_oversized_bodies_are_refused_before_reading(
    client: httpx.AsyncClient,
    services: Services,
    path: str,
    raw_of: Callable[..., bytes],
    sign: Signer,
    header: str,
) -> None:
    big = raw_of()[:-1] + b', "padding": "' + b"x" * (1024 * 1024) + b'"}'
    response = await client.post(path, content=big, headers=sign(big, CLIENT_SECRET))
    assert response.status_code == 413

    async def chunks() -> Any:  # no Content-Length: the limit holds while streaming
        for _ in range(40):
            yield b"x" * 32768

    response = await client.post(
        path, content=chunks(), headers={"X-Body-Signature": "0", "X-Hub-Signature": "sha1=0"}
    )
    assert response.status_code == 413
    assert (await row_counts(services))["conversation_parts"] == 0
