"""Serve an ASGI app on a loopback port from a background thread, for tests and benchmarks
that need real HTTP (the fakes for benchmarks, the whole service for the browser test)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable
from typing import Any, Literal

import uvicorn

#: The base URL of the server and the function that stops it.
Served = tuple[str, Callable[[], None]]


def serve_in_thread(
    app: Any,
    *,
    name: str,
    lifespan: Literal["on", "off"] = "off",
    host: str = "127.0.0.1",
    port: int = 0,
    timeout: float = 10.0,
) -> Served:
    """Start uvicorn on (host, port) in a daemon thread; return (base_url, stop).

    The socket is bound here, before uvicorn starts, so that port 0 gives a free port whose
    number is known without racing another process. Raises RuntimeError when the server has
    not started within `timeout` seconds.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    config = uvicorn.Config(
        app,
        log_level="warning",
        access_log=False,
        lifespan=lifespan,
        loop="asyncio",
        interface="asgi3",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name=name, daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            sock.close()
            raise RuntimeError(f"{name}: the server did not start")
        time.sleep(0.01)
    bound_port = sock.getsockname()[1]

    def stop() -> None:
        server.should_exit = True
        thread.join(timeout=timeout)
        sock.close()

    return f"http://{host}:{bound_port}", stop
