"""`check` step 7: the shared key, the module's endpoint, and Messenger security per workspace."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from itop_intercom.app import create_app
from itop_intercom.ops.doctor.messenger import messenger_checks
from itop_intercom.runtime import build_services
from itop_intercom.settings.model import Settings, WorkspaceSettings
from tests.conftest import SettingsFactory
from tests.fakes.intercom import FakeIntercom

KEY = "sk-check-5e1a9c3f7b2d4e6a"
SECRET = "ms-check-8b4d2f6a1c3e5f7a"


def configured(make_settings: SettingsFactory, key: str | None = KEY, **ws: Any) -> Settings:
    settings = make_settings(messenger={"shared_key": key})
    settings.workspaces = {"wscheck1": WorkspaceSettings(scope="SELECT Person", **ws)}
    return settings


@pytest.fixture
async def service(make_settings: SettingsFactory) -> AsyncIterator[httpx.AsyncBaseTransport]:
    """The real service (with KEY) behind an in-process transport."""
    services = build_services(configured(make_settings))
    yield httpx.ASGITransport(app=create_app(services, on_shutdown_close=False))
    await services.aclose()


def keys(results: list[Any]) -> list[tuple[str, str]]:
    return [(r.key, r.status) for r in results]


async def test_messenger_off_without_shared_key(make_settings: SettingsFactory) -> None:
    results = await messenger_checks(configured(make_settings, key=None))
    assert keys(results) == [("messenger.off", "ok")]
    assert "shared_key" in results[0].detail


async def test_endpoint_answers_and_secret_enforced(
    make_settings: SettingsFactory, service: httpx.AsyncBaseTransport
) -> None:
    settings = configured(make_settings, messenger_secret=SECRET, messenger_enforced=True)
    results = await messenger_checks(settings, service)
    assert keys(results) == [("messenger.endpoint_ok", "ok"), ("messenger.verified", "ok")]


async def test_service_with_another_key_fails(
    make_settings: SettingsFactory, service: httpx.AsyncBaseTransport
) -> None:
    settings = configured(make_settings, key="sk-another-key-0000000", messenger_secret=SECRET)
    results = await messenger_checks(settings, service)
    assert ("messenger.endpoint_refused", "fail") in keys(results)
    text = " ".join(r.title + r.detail + r.fix for r in results)
    assert "sk-another-key" not in text and SECRET not in text


async def test_unreachable_service_warns(make_settings: SettingsFactory) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    results = await messenger_checks(configured(make_settings), httpx.MockTransport(refuse))
    assert keys(results)[0] == ("messenger.endpoint_unreachable", "warn")


async def test_workspace_without_secret_warns_and_unenforced_warns(
    make_settings: SettingsFactory, service: httpx.AsyncBaseTransport
) -> None:
    without = await messenger_checks(configured(make_settings), service)
    assert ("messenger.no_secret", "warn") in keys(without)
    signed = await messenger_checks(configured(make_settings, messenger_secret=SECRET), service)
    assert ("messenger.not_enforced", "warn") in keys(signed)
    broken = await messenger_checks(configured(make_settings, messenger_enforced=True), service)
    assert ("messenger.enforced_without_secret", "fail") in keys(broken)


async def test_enforced_setting_is_compared_with_intercom(
    make_settings: SettingsFactory,
    service: httpx.AsyncBaseTransport,
    fake_intercom: FakeIntercom,
) -> None:
    claimed = configured(make_settings, messenger_secret=SECRET, messenger_enforced=True)
    fake_intercom.identity_verification = False
    results = await messenger_checks(claimed, service, intercom_transport=fake_intercom.transport())
    assert ("messenger.enforced_mismatch", "fail") in keys(results)

    fake_intercom.identity_verification = True
    results = await messenger_checks(claimed, service, intercom_transport=fake_intercom.transport())
    assert "messenger.enforced_mismatch" not in [k for k, _ in keys(results)]

    not_claimed = configured(make_settings, messenger_secret=SECRET)
    results = await messenger_checks(
        not_claimed, service, intercom_transport=fake_intercom.transport()
    )
    assert ("messenger.enforce_available", "warn") in keys(results)
    # With --itop-only, Intercom is not asked.
    results = await messenger_checks(claimed, service, intercom=False)
    assert "messenger.enforced_mismatch" not in [k for k, _ in keys(results)]
