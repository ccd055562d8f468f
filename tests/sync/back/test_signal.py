"""`POST /itop/changed`: an authenticated wake-up call, never required."""

from __future__ import annotations

import httpx

from itop_intercom.sync.back.poller import state_of
from tests.conftest import SettingsFactory
from tests.service import running_service

SECRET = "hook-secret-3f9a"


async def _post(
    make_settings: SettingsFactory, headers: dict[str, str], **settings: object
) -> tuple[httpx.Response, bool]:
    async with running_service(make_settings(**settings)) as (services, client):
        response = await client.post("/itop/changed", content=b"{}", headers=headers)
        return response, state_of(services).poll_now.is_set()


async def test_the_right_secret_wakes_the_poller(make_settings: SettingsFactory) -> None:
    for headers in (
        {"X-Itop-Intercom-Secret": SECRET},
        {"Authorization": f"Bearer {SECRET}"},
    ):
        response, woken = await _post(make_settings, headers, backsync={"webhook_secret": SECRET})
        assert (response.status_code, woken) == (202, True)


async def test_a_wrong_or_missing_secret_is_refused(make_settings: SettingsFactory) -> None:
    for headers in ({"X-Itop-Intercom-Secret": "guess"}, {}):
        response, woken = await _post(make_settings, headers, backsync={"webhook_secret": SECRET})
        assert (response.status_code, woken) == (401, False)
        assert SECRET not in response.text


async def test_without_a_configured_secret_the_endpoint_does_not_exist(
    make_settings: SettingsFactory,
) -> None:
    response, woken = await _post(make_settings, {"X-Itop-Intercom-Secret": ""})
    assert (response.status_code, woken) == (404, False)
