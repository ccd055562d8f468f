"""End to end: iTop pages with the module's real PHP hooks, the real service, headless Chromium.

PHP's built-in server plays iTop (stand-ins for iTop's classes, the module's files unchanged,
PHP sessions) and serves a stand-in for Intercom's widget script at the configured widget URL;
the service runs on a loopback port. The browser checks what the Messenger would boot with.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from itop_intercom.settings.model import WorkspaceSettings
from tests.conftest import SettingsFactory
from tests.messenger.conftest import DEMO, JWT_SECRET, SHARED_KEY, US
from tests.messenger.test_boot import verify_jwt
from tests.preview.server import serve_in_thread
from tests.preview.test_browser import CHROMIUM, CHROMIUM_ARGS

ROUTER = Path(__file__).resolve().parents[2] / "itop-module" / "tests" / "e2e" / "router.php"
HOSTILE_NAME = "Pablo </script><script>window.__pwned=1</script>"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        (not CHROMIUM.exists() or shutil.which("php") is None) and not os.environ.get("CI"),
        reason="needs /usr/bin/chromium and php (scripts/test installs them)",
    ),
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def itop(make_settings: SettingsFactory) -> Iterator[tuple[str, Any]]:
    itop_port = _free_port()
    settings = make_settings(
        messenger={
            "shared_key": SHARED_KEY,
            "widget_url": f"http://127.0.0.1:{itop_port}/widget.js?app={{app_id}}",
        }
    )
    settings.workspaces = {
        US: WorkspaceSettings(scope=DEMO, region="eu", messenger_secret=JWT_SECRET)
    }
    service_url, stop_service = serve_in_thread(settings)
    env = {**os.environ, "ITOP_INTERCOM_SERVICE_URL": service_url}
    env["ITOP_INTERCOM_SHARED_KEY"] = SHARED_KEY
    # The longest budget the module allows: under a parallel test run the service may take more
    # than the default 0.3 s, and this test is about what the Messenger boots with (the
    # deadline has its own PHPUnit tests).
    env["ITOP_INTERCOM_BUDGET_SECONDS"] = "1"
    php = subprocess.Popen(
        ["php", "-S", f"127.0.0.1:{itop_port}", str(ROUTER)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{itop_port}"
    try:
        _wait_for(base)
        yield base, stop_service
    finally:
        php.terminate()
        php.wait(timeout=10)
        stop_service()


def _wait_for(base: str) -> None:
    deadline = time.monotonic() + 10
    while True:
        try:
            httpx.get(base + "/pages/logoff.php", timeout=1)
            return
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def _open(page: Any, base: str, user: str, portal: str = "itop-portal") -> Any:
    response = page.goto(f"{base}/page.php?user={user}&portal={portal}")
    page.wait_for_selector("#content")
    return response


def _widget(page: Any) -> Any:
    page.wait_for_function("window.__widget !== undefined", timeout=10_000)
    return page.evaluate("window.__widget")


def _stored_marker(page: Any) -> Any:
    return page.evaluate("window.localStorage.getItem('itop_intercom_messenger')")


def test_messenger_in_itop_pages(itop: tuple[str, Any]) -> None:
    from playwright.sync_api import sync_playwright

    base, stop_service = itop
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            context = browser.new_context()
            page = context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))

            # A portal user in scope: booted with a verified identity.
            _open(page, base, "agatha")
            widget = _widget(page)
            settings = page.evaluate("window.intercomSettings")
            assert widget["bootedWith"] == settings
            assert settings["app_id"] == US
            assert settings["api_base"] == "https://api-iam.eu.intercom.io"
            assert settings["name"] == "Agatha Christie"
            assert settings["company"] == {"company_id": "itop-org-3", "name": "Demo"}
            claims = verify_jwt(settings["intercom_user_jwt"], JWT_SECRET)
            assert (claims["user_id"], claims["email"]) == (
                "itop-Person-15",
                "agatha.christie@demo.com",
            )
            assert (claims["itop_contact_class"], claims["itop_contact_id"]) == ("Person", 15)
            assert claims["exp"] > time.time()
            src = page.evaluate("document.querySelector('script[src*=\"widget.js\"]').src")
            assert src.endswith(f"/widget.js?app={US}")
            assert _stored_marker(page) is not None

            # Another user in the same browser: the previous Messenger session is forgotten
            # before the widget loads; a hostile name stays text.
            context.add_cookies(
                [{"name": f"intercom-session-{US}", "value": "agatha", "url": base}]
            )
            _open(page, base, "pablo")
            widget = _widget(page)
            assert f"intercom-session-{US}" not in page.evaluate("document.cookie")
            assert page.evaluate("window.__pwned") is None
            assert page.evaluate("window.intercomSettings.name") == HOSTILE_NAME

            # Log off: the Messenger is shut down at once.
            page.click("#logoff")
            page.wait_for_function("window.__loggedOff === true")
            assert ["shutdown"] in page.evaluate("window.__widget.calls")
            assert _stored_marker(page) is None

            # Refused by profile, by scope, by portal: nothing loads, and a previous session
            # left in the browser is forgotten.
            for user, portal in (
                ("victor", "itop-portal"),
                ("frida", "itop-portal"),
                ("agatha", "backoffice"),
            ):
                _open(page, base, "agatha")
                _widget(page)
                context.add_cookies([{"name": f"intercom-session-{US}", "value": "x", "url": base}])
                _open(page, base, user, portal)
                assert page.evaluate("window.__widget") is None, (user, portal)
                assert page.evaluate("window.intercomSettings") is None
                assert f"intercom-session-{US}" not in page.evaluate("document.cookie")
                assert _stored_marker(page) is None

            # The service stopped: a new session's pages load as without the module, fast.
            stop_service()
            fresh = browser.new_context().new_page()
            response = _open(fresh, base, "agatha")
            assert response.status == 200
            assert fresh.evaluate("window.intercomSettings") is None
            assert float(response.headers["x-module-seconds"]) < 0.35
            assert response.headers["x-module-warnings"] == "1"
            assert errors == []
        finally:
            browser.close()
