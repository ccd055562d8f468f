"""The real service on a loopback port, in a background thread (for the browser test)."""

from __future__ import annotations

from collections.abc import Callable

from itop_intercom.app import create_app
from itop_intercom.runtime import build_services
from itop_intercom.settings.model import Settings
from itop_intercom.sync.worker import start_in_app
from tests.loopback import serve_in_thread as serve_app_in_thread


def serve_in_thread(settings: Settings) -> tuple[str, Callable[[], None]]:
    """Start `serve` as in production (app + sync worker); return (base_url, stop)."""
    services = build_services(settings)
    app = create_app(services, background=start_in_app)
    return serve_app_in_thread(app, name="itop-intercom", lifespan="on", timeout=15)
