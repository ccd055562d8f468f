"""The preview page's routes: off by default, the real signed path, nothing sent to Intercom."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tests.conftest import CLIENT_SECRET, OTHER_WORKSPACE, WORKSPACE, SettingsFactory
from tests.fakes.intercom import FakeIntercom
from tests.fakes.itop import FakeItop
from tests.inbox import canvas_rules
from tests.inbox.catalog import with_service_catalog
from tests.service import running_service

AGATHA = {"email": "agatha.christie@demo.com", "name": "Agatha Christie"}


@pytest.fixture
async def preview(
    make_settings: SettingsFactory, fake_intercom: FakeIntercom
) -> AsyncIterator[tuple[httpx.AsyncClient, FakeItop]]:
    fake_itop = with_service_catalog(FakeItop())
    settings = make_settings(server={"preview": True})
    async with running_service(settings, fake_itop, fake_intercom) as (_, http):
        yield http, fake_itop


async def _click(
    http: httpx.AsyncClient, previous: dict[str, Any] | None, component_id: str | None, **extra: Any
) -> dict[str, Any]:
    payload: dict[str, Any] = {"workspace_id": WORKSPACE, "contact": AGATHA, **extra}
    if component_id is not None and previous is not None:
        payload["component_id"] = component_id
        payload["current_canvas"] = previous["answer"]["canvas"]
        payload.setdefault("input_values", {})
    response = await http.post("/preview/api/canvas", json=payload)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    assert data["status"] == 200, data
    canvas_rules.check(data["answer"], first=component_id is None, screen="preview")
    return data


async def test_preview_is_off_by_default(client: httpx.AsyncClient) -> None:
    assert (await client.get("/preview")).status_code == 404
    assert (await client.post("/preview/api/canvas", json={})).status_code in (404, 405)


async def test_page_lists_workspaces_and_samples_without_secrets(
    preview: tuple[httpx.AsyncClient, FakeItop],
) -> None:
    http, _ = preview
    page = await http.get("/preview")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    start = page.text.index('<script id="setup-data" type="application/json">') + 48
    setup = json.loads(page.text[start : page.text.index("</script>", start)])
    assert setup["workspaces"] == sorted([WORKSPACE, OTHER_WORKSPACE])
    assert {s["id"] for s in setup["samples"]} == {"printer", "vpn"}
    assert setup["texts"]["preview.start"]
    assert CLIENT_SECRET not in page.text


async def test_create_through_the_signed_path_keeps_messages_local(
    preview: tuple[httpx.AsyncClient, FakeItop], fake_intercom: FakeIntercom
) -> None:
    http, fake_itop = preview
    home = await _click(http, None, None)
    assert home["answer"]["canvas"]["stored_data"]["screen"] == "home"
    form = await _click(http, home, "home:create")
    values = {
        c["id"]: c.get("value", "")
        for c in form["answer"]["canvas"]["content"]["components"]
        if c["type"] in ("input", "textarea", "dropdown", "single-select")
    }
    assert values["field:title"] == "The printer on the 2nd floor is out of order"
    created = await _click(http, form, "form:submit", input_values=values)
    stored = created["answer"]["canvas"]["stored_data"]
    assert stored["screen"] == "created"
    ticket = fake_itop.ticket(stored["ticket"])
    assert ticket["title"] == values["field:title"]
    assert [m["type"] for m in created["outbox"]] == ["comment"]
    assert ticket["ref"] in created["outbox"][0]["body"]
    assert fake_intercom.calls == []  # nothing reached Intercom

    # A new start of the same conversation clears what the page shows as posted.
    again = await _click(http, None, None)
    assert again["outbox"] == []


async def test_unknown_workspace_is_refused(preview: tuple[httpx.AsyncClient, FakeItop]) -> None:
    http, _ = preview
    response = await http.post("/preview/api/canvas", json={"workspace_id": "nope"})
    assert response.status_code == 400
