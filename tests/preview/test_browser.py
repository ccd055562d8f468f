"""The preview page in a real browser: create a ticket, then link another one.

Runs the real service (uvicorn, sync worker) on loopback against the iTop and Intercom fakes,
also on loopback, and drives Debian's Chromium with Playwright. Screenshots of the creation
form and of the confirmation are saved under `artifacts/`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import WORKSPACE, SettingsFactory
from tests.fakes.intercom import FakeIntercom
from tests.fakes.itop import ADMIN_TOKEN, FakeItop
from tests.inbox.catalog import with_service_catalog
from tests.preview.server import serve_in_thread

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"

pytestmark = [
    pytest.mark.browser,
    # In CI (CI=true) a missing browser is a failure, not a skip: scripts/test installs it.
    pytest.mark.skipif(
        not CHROMIUM.exists() and not os.environ.get("CI"),
        reason="needs /usr/bin/chromium (scripts/ensure-chromium)",
    ),
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]


@pytest.fixture
def running(make_settings: SettingsFactory) -> Iterator[tuple[str, FakeItop, int]]:
    fake_itop = with_service_catalog(FakeItop())
    existing = fake_itop.add_ticket(title="Laptop battery swells")
    fake_intercom = FakeIntercom(workspace_id=WORKSPACE)
    itop_url, stop_itop = fake_itop.serve_in_thread()
    intercom_url, stop_intercom = fake_intercom.serve_in_thread()
    settings = make_settings(
        server={"preview": True},
        itop={"url": itop_url + "/", "token": ADMIN_TOKEN, "rest_version": "1.4"},
        intercom={
            "client_secret": "cs-test-5b1e0f3d9a7c",
            "access_token": "intercom-test-token",
            "api_base": intercom_url,
        },
    )
    base_url, stop = serve_in_thread(settings)
    try:
        yield base_url, fake_itop, existing
    finally:
        stop()
        stop_intercom()
        stop_itop()


def _screen(page: Any, name: str) -> None:
    page.wait_for_selector(f'#panel[data-screen="{name}"]', timeout=10_000)


def test_create_and_link_in_the_browser(running: tuple[str, FakeItop, int]) -> None:
    from playwright.sync_api import sync_playwright

    base_url, fake_itop, existing = running
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 1000})
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto(base_url + "/preview")
            page.fill("#email", "agatha.christie@demo.com")
            page.fill("#name", "Agatha Christie")
            page.click("#start")
            _screen(page, "home")

            # Create a ticket.
            page.click('[data-id="home:create"]')
            _screen(page, "form")
            page.fill('[data-id="field:title"]', "Printer prints blank pages")
            page.select_option('[data-id="field:urgency"]', "2")
            page.check('[data-id="field:service_id"] input[data-option="1"]')
            page.wait_for_selector('select[data-id="field:servicesubcategory_id"]')
            _screen(page, "form")
            page.select_option('[data-id="field:servicesubcategory_id"]', "2")
            assert page.input_value('[data-id="field:title"]') == "Printer prints blank pages"
            page.locator("#panel-wrap").screenshot(path=str(ARTIFACTS / "preview-create-form.png"))
            page.click('[data-id="form:submit"]')
            _screen(page, "created")
            page.wait_for_selector('[data-outbox="comment"]')
            page.screenshot(path=str(ARTIFACTS / "preview-confirmation.png"))
            found = fake_itop.api(
                {
                    "operation": "core/get",
                    "class": "UserRequest",
                    "key": "SELECT UserRequest WHERE title = 'Printer prints blank pages'",
                    "output_fields": "ref,urgency,servicesubcategory_id",
                }
            )
            created = [obj["fields"] for obj in (found["objects"] or {}).values()]
            assert len(created) == 1
            assert (created[0]["urgency"], created[0]["servicesubcategory_id"]) == ("2", "2")
            ref = str(created[0]["ref"])
            assert ref in page.inner_text("#panel")
            assert ref in page.inner_text("#outbox")

            # Link an existing ticket.
            page.click('[data-id="home"]')
            _screen(page, "home")
            page.click('[data-id="home:ongoing"]')
            _screen(page, "list")
            page.click(f'[data-id="ticket:{existing}"]')
            _screen(page, "detail")
            page.click(f'[data-id="link:{existing}"]')
            _screen(page, "link_done")
            page.wait_for_selector('[data-outbox="note"]')
            assert fake_itop.ticket(existing)["intercom_ref"] == "preview-1"
            assert errors == []
        finally:
            browser.close()
