"""Running the service: migrations, logging, uvicorn, and the embedded sync worker."""

from __future__ import annotations

import uvicorn

from itop_intercom.app import create_app, readiness_problems
from itop_intercom.logs import configure, get_logger
from itop_intercom.runtime import build_services, freeze_startup_heap
from itop_intercom.settings.model import Settings
from itop_intercom.store.db import upgrade
from itop_intercom.urls import developer_hub_urls

log = get_logger("itop_intercom.serve")


def run(settings: Settings, *, host: str | None, port: int | None, with_worker: bool) -> int:
    services = build_services(settings, single_instance=True)
    configure(settings.log_level, settings.log_format, services.secret_mask)
    upgrade(settings.database_url)
    background = None
    if with_worker and settings.sync.worker_in_serve:
        from itop_intercom.sync.worker import start_in_app

        background = start_in_app
    app = create_app(services, background=background)
    host = host or settings.server.host
    port = port or settings.server.port
    for problem in readiness_problems(services):
        log.warning("not ready", problem=problem)
    if settings.public_url is not None:
        urls = developer_hub_urls(settings)
        log.info(
            "intercom urls", initialize=urls.initialize, submit=urls.submit, webhooks=urls.webhooks
        )
    log.info(
        "starting",
        host=host,
        port=port,
        database=services.engine.url.get_backend_name(),
        worker=background is not None,
    )
    freeze_startup_heap()
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_level="warning",
        # No uvicorn logging config: its records go to the root handler, which masks secrets.
        log_config=None,
        access_log=False,
        proxy_headers=True,
        server_header=False,
    )
    return 0
