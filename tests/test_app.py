"""The web app end to end: signed Intercom requests in, canvases and statuses out."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

import itop_intercom
from itop_intercom.logs import configure
from itop_intercom.runtime import Services
from tests.conftest import (
    CLIENT_SECRET,
    OTHER_CLIENT_SECRET,
    OTHER_WORKSPACE,
    WORKSPACE,
    ServiceFactory,
)
from tests.fakes.itop import FakeItop
from tests.fakes.signing import (
    canvas_initialize_body,
    canvas_submit_body,
    signed_canvas,
    signed_webhook,
    webhook_body,
)
from tests.service import running_service

AGATHA = "agatha.christie@demo.com"
CONVERSATION = "215470926154826"


async def initialize(
    client: httpx.AsyncClient,
    *,
    workspace: str = WORKSPACE,
    secret: str = CLIENT_SECRET,
    email: str | None = AGATHA,
    custom_attributes: dict[str, Any] | None = None,
) -> httpx.Response:
    body = canvas_initialize_body(
        workspace,
        conversation_id=CONVERSATION,
        contact_email=email,
        contact_custom_attributes=custom_attributes,
    )
    raw, headers = signed_canvas(body, secret)
    return await client.post("/intercom/canvas/initialize", content=raw, headers=headers)


def components(response: httpx.Response) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.text
    result: list[dict[str, Any]] = response.json()["canvas"]["content"]["components"]
    return result


def texts_of(response: httpx.Response) -> list[str]:
    found: list[str] = []
    for component in components(response):
        if component["type"] == "list":
            found += [item["title"] for item in component["items"]]
        elif component["type"] == "text":
            found.append(component["text"])
        elif component["type"] == "button":
            found.append(component["label"])
    return found


def home_items(response: httpx.Response) -> dict[str, dict[str, Any]]:
    first_list = next(c for c in components(response) if c["type"] == "list")
    return {item["id"]: item for item in first_list["items"]}


def seed_tickets(fake: FakeItop) -> list[int]:
    """Two tickets linked to the conversation (sync on), three ongoing for Agatha (one of them
    linked), one closed ticket that is not ongoing. Returns the ids of the linked ones."""
    first = fake.add_ticket(
        title="Printer",
        caller_id=15,
        org_id=3,
        status="new",
        intercom_ref=CONVERSATION,
        intercom_sync_activated="yes",
    )
    second = fake.add_ticket(
        title="Mail",
        caller_id=7,
        org_id=2,
        status="assigned",
        intercom_ref=CONVERSATION,
        intercom_sync_activated="yes",
    )
    fake.add_ticket(title="VPN", caller_id=15, org_id=3, status="assigned")
    fake.add_ticket(title="Laptop", caller_id=15, org_id=3, status="pending")
    fake.add_ticket(title="Old", caller_id=15, org_id=3, status="closed")
    return [first, second]


async def test_initialize_answers_home_with_counts_from_itop(
    client: httpx.AsyncClient, fake_itop: FakeItop
) -> None:
    seed_tickets(fake_itop)
    response = await initialize(client)
    items = home_items(response)
    assert items["home:linked"]["title"] == "2 ticket(s) linked to this conversation"
    assert items["home:linked"]["disabled"] is False
    assert items["home:ongoing"]["title"] == "3 ongoing ticket(s) for this person"
    assert items["home:create"]["disabled"] is False
    assert "New messages of this conversation are copied to the linked tickets." in texts_of(
        response
    )
    assert "Pause" in texts_of(response)


async def test_home_without_tickets_disables_lists_and_says_nothing_is_linked(
    client: httpx.AsyncClient,
) -> None:
    response = await initialize(client)
    items = home_items(response)
    assert items["home:linked"]["disabled"] is True
    assert items["home:ongoing"]["disabled"] is True
    assert "No iTop ticket is linked to this conversation yet." in texts_of(response)


async def test_home_reports_partial_sync_with_resume(
    client: httpx.AsyncClient, fake_itop: FakeItop
) -> None:
    fake_itop.add_ticket(
        title="A",
        caller_id=15,
        org_id=3,
        status="new",
        intercom_ref=CONVERSATION,
        intercom_sync_activated="yes",
    )
    fake_itop.add_ticket(
        title="B",
        caller_id=15,
        org_id=3,
        status="new",
        intercom_ref=CONVERSATION,
        intercom_sync_activated="no",
    )
    response = await initialize(client)
    assert "Messages are copied to only some of the linked tickets." in texts_of(response)
    assert "Resume" in texts_of(response)


async def test_home_does_not_take_unsigned_attributes_for_another_email(
    client: httpx.AsyncClient, fake_itop: FakeItop
) -> None:
    # Anybody can set these attributes from a browser: without Messenger security they only
    # count when the contact's email is that person's.
    seed_tickets(fake_itop)
    response = await initialize(
        client,
        email="somebody.else@example.com",
        custom_attributes={"itop_contact_class": "Person", "itop_contact_id": "15"},
    )
    assert "No iTop person has the email somebody.else@example.com." in texts_of(response)
    assert home_items(response)["home:create"]["disabled"] is True


async def test_home_says_which_email_matched_nobody(client: httpx.AsyncClient) -> None:
    response = await initialize(client, email="nobody@example.com")
    assert "No iTop person has the email nobody@example.com." in texts_of(response)
    assert home_items(response)["home:create"]["disabled"] is True


async def test_home_in_french_for_a_french_workspace(
    client: httpx.AsyncClient, fake_itop: FakeItop
) -> None:
    seed_tickets(fake_itop)
    response = await initialize(client, workspace=OTHER_WORKSPACE, secret=OTHER_CLIENT_SECRET)
    assert home_items(response)["home:create"]["title"] == "Créer un nouveau ticket"


async def test_home_needs_at_most_two_itop_round_trips(
    client: httpx.AsyncClient, fake_itop: FakeItop, services: Services
) -> None:
    await services.link_store()  # the one-off datamodel probe is not part of a screen
    fake_itop.calls.clear()
    seed_tickets(fake_itop)
    await initialize(client)
    assert len(fake_itop.calls) <= 2  # the tickets (one UNION) and the persons, sent together


async def test_itop_down_gives_a_retry_canvas_not_an_http_error(
    client: httpx.AsyncClient, fake_itop: FakeItop
) -> None:
    fake_itop.down = True
    response = await initialize(client)
    assert "iTop cannot be reached right now." in texts_of(response)
    retry = next(c for c in components(response) if c.get("label") == "Retry")
    assert retry["action"] == {"type": "submit"}


async def test_slow_itop_gives_a_retry_canvas_within_the_budget(
    make_service: ServiceFactory, fake_itop: FakeItop
) -> None:
    fake_itop.latency = 1.0
    itop = {"url": "http://itop.test/", "token": "admin-token", "canvas_budget_seconds": 0.2}
    async with make_service(itop=itop) as (_, http):
        response = await initialize(http)
    assert "iTop is taking too long to answer." in texts_of(response)


async def test_submit_pause_flips_sync_and_shows_home(
    client: httpx.AsyncClient, fake_itop: FakeItop
) -> None:
    linked = seed_tickets(fake_itop)
    body = canvas_submit_body(
        WORKSPACE,
        conversation_id=CONVERSATION,
        contact_email=AGATHA,
        component_id="home:pause",
        input_values={},
        stored_data={},
    )
    raw, headers = signed_canvas(body, CLIENT_SECRET)
    response = await client.post("/intercom/canvas/submit", content=raw, headers=headers)
    assert "Copying new messages to the linked tickets is paused." in texts_of(response)
    assert {fake_itop.ticket(t)["intercom_sync_activated"] for t in linked} == {"no"}


# -- webhooks -------------------------------------------------------------------------------


async def test_webhook_head_answers_for_intercom_validation(client: httpx.AsyncClient) -> None:
    response = await client.head("/intercom/webhooks")
    assert response.status_code == 200


async def test_webhook_ping_is_ok(client: httpx.AsyncClient) -> None:
    raw, headers = signed_webhook(webhook_body(WORKSPACE, "ping", "", []), CLIENT_SECRET)
    response = await client.post("/intercom/webhooks", content=raw, headers=headers)
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


async def test_webhook_unsupported_topic_is_acknowledged_not_retried(
    client: httpx.AsyncClient,
) -> None:
    body = webhook_body(WORKSPACE, "conversation.admin.closed", CONVERSATION, [])
    raw, headers = signed_webhook(body, CLIENT_SECRET)
    response = await client.post("/intercom/webhooks", content=raw, headers=headers)
    assert response.status_code == 200
    assert response.json()["status"] == "unsupported"


# -- health ---------------------------------------------------------------------------------


async def test_healthz_and_readyz(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "alive"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200, ready.text
    assert ready.json() == {"status": "ready"}


async def test_readyz_lists_what_is_missing(make_settings: Any) -> None:
    async with running_service(make_settings(itop={"url": None, "token": None})) as (_, http):
        response = await http.get("/readyz")
    assert response.status_code == 503
    assert "itop.url is not set" in response.json()["problems"]
    assert "itop.token is not set" in response.json()["problems"]


async def test_metrics_are_prometheus_text(client: httpx.AsyncClient) -> None:
    await initialize(client)
    response = await client.get("/metrics")
    assert response.status_code == 200
    assert "itop_intercom_requests_total" in response.text


def test_logs_are_json_lines(capsys: pytest.CaptureFixture[str]) -> None:
    configure("info", "json")
    from itop_intercom.logs import get_logger

    get_logger("t").info("hello", workspace="w1")
    line = capsys.readouterr().err.strip().splitlines()[-1]
    assert json.loads(line)["workspace"] == "w1"


async def test_a_strange_stored_data_echo_gives_a_canvas_not_an_error(
    client: httpx.AsyncClient,
) -> None:
    body = canvas_submit_body(
        WORKSPACE,
        conversation_id=CONVERSATION,
        contact_email=AGATHA,
        component_id="retry",
        input_values={},
        stored_data={"screen": "error", "retry": {"stored": [1, 2], "inputs": 3}},
    )
    raw, headers = signed_canvas(body, CLIENT_SECRET)
    response = await client.post("/intercom/canvas/submit", content=raw, headers=headers)
    assert "home:create" in home_items(response)


async def test_root_names_the_service(client: httpx.AsyncClient) -> None:
    response = await client.get("/")
    assert response.status_code == 200
    assert response.json()["service"] == "itop-intercom"
    assert response.json()["version"] == itop_intercom.__version__
