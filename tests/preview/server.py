"""The real service on a loopback port, in a background thread (for the browser test)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable

import uvicorn

from itop_intercom.app import create_app
from itop_intercom.runtime import build_services
from itop_intercom.settings.model import Settings
from itop_intercom.sync.worker import start_in_app


def serve_in_thread(settings: Settings) -> tuple[str, Callable[[], None]]:
    """Start `serve` as in production (app + sync worker); return (base_url, stop)."""
    services = build_services(settings)
    app = create_app(services, background=start_in_app)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="itop-intercom", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            sock.close()
            raise RuntimeError("the service did not start")
        time.sleep(0.02)
    port = sock.getsockname()[1]

    def stop() -> None:
        server.should_exit = True
        thread.join(timeout=15)
        sock.close()

    return f"http://127.0.0.1:{port}", stop
