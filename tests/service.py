"""The service under test, built the way tests and benchmarks need it: services on the fakes'
transports and an httpx client that calls the ASGI app in process (no socket)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx

from itop_intercom.app import create_app
from itop_intercom.itop.client import ItopClient
from itop_intercom.runtime import Services, build_services
from itop_intercom.settings.model import Settings
from tests.fakes.intercom import FakeIntercom
from tests.fakes.itop import ADMIN_TOKEN, FakeItop

#: The base URL of the in-process client (any host: the ASGI transport ignores it).
BASE_URL = "http://service.test"
#: The REST URL the iTop client is given (the fake's transport ignores the host).
ITOP_REST_URL = "http://itop.test/webservices/rest.php"


def client_on(fake: FakeItop, token: str = ADMIN_TOKEN) -> ItopClient:
    """An iTop client of the fake's intercom instance (API 1.4) with `token`."""
    return ItopClient(ITOP_REST_URL, token, version="1.4", transport=fake.transport())


def services_on(
    settings: Settings, fake_itop: FakeItop | None = None, fake_intercom: FakeIntercom | None = None
) -> Services:
    """Services that reach the given fakes (or the configured URLs when a fake is None)."""
    return build_services(
        settings,
        itop_transport=fake_itop.transport() if fake_itop is not None else None,
        intercom_transport=fake_intercom.transport() if fake_intercom is not None else None,
    )


@asynccontextmanager
async def asgi_client(services: Services) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client on the service's ASGI app; closing it leaves `services` open."""
    app = create_app(services, on_shutdown_close=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as http:
        yield http


@asynccontextmanager
async def running_service(
    settings: Settings, fake_itop: FakeItop | None = None, fake_intercom: FakeIntercom | None = None
) -> AsyncIterator[tuple[Services, httpx.AsyncClient]]:
    """Services on the fakes and a client on their app; both closed on exit."""
    services = services_on(settings, fake_itop, fake_intercom)
    try:
        async with asgi_client(services) as http:
            yield services, http
    finally:
        await services.aclose()
