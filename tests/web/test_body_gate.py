"""Slow and broken clients against the real server (uvicorn on a loopback port, raw sockets).

These are HTTP-layer tests: the database is only touched by the one request that gets through,
so they run on SQLite only. Both HTTP implementations uvicorn may pick are exercised: httptools
(what `serve` uses when it is installed) and h11.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import socket
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from itop_intercom.app import create_app
from itop_intercom.logs import configure
from itop_intercom.runtime import Services, build_services
from itop_intercom.settings.model import Settings
from tests.conftest import CLIENT_SECRET, WORKSPACE, SettingsFactory
from tests.fakes.signing import signed_webhook, webhook_body

WEBHOOK = "/intercom/webhooks"
LIMIT = 64 * 1024


@pytest.fixture
def database_url(tmp_path: Path, _sqlite_template: Path) -> str:
    path = tmp_path / "itop-intercom.sqlite3"
    shutil.copy(_sqlite_template, path)
    return f"sqlite+aiosqlite:///{path}"


@pytest.fixture(params=["httptools", "h11"])
def http(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(autouse=True)
def _json_logs() -> None:
    configure("info", "json")


@asynccontextmanager
async def running(settings: Settings, http: str) -> AsyncIterator[tuple[int, Services]]:
    """The app served by uvicorn in this event loop, configured as `serve` configures it.

    Not `tests.loopback.serve_in_thread`: the service's async database engine belongs to the
    loop that built it, and these tests choose uvicorn's HTTP implementation."""
    services = build_services(settings)
    app = create_app(services, on_shutdown_close=False)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(
        app, http=http, log_level="warning", log_config=None, access_log=False, lifespan="off"
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        assert not task.done(), "the server did not start"
        await asyncio.sleep(0.01)
    try:
        yield sock.getsockname()[1], services
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 15)
        sock.close()
        await services.aclose()


def settings_with(make_settings: SettingsFactory, **server: Any) -> Settings:
    return make_settings(server={"max_body_bytes": LIMIT, **server})


def head(length: int | None = None, *, chunked: bool = False) -> bytes:
    lines = [f"POST {WEBHOOK} HTTP/1.1", "Host: test", "Content-Type: application/json"]
    if length is not None:
        lines.append(f"Content-Length: {length}")
    if chunked:
        lines.append("Transfer-Encoding: chunked")
    lines.append("X-Hub-Signature: sha1=" + "0" * 40)
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


async def read_response(reader: asyncio.StreamReader, within: float = 5) -> tuple[int, str, str]:
    """(status, headers, body) of one response; raises TimeoutError if none comes."""
    async with asyncio.timeout(within):
        status_line = await reader.readline()
        headers = []
        length = 0
        while (line := await reader.readline()) not in (b"\r\n", b""):
            headers.append(line.decode().strip())
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        body = await reader.readexactly(length)
    return int(status_line.split()[1]), "\n".join(headers).lower(), body.decode()


async def closed_by_server(reader: asyncio.StreamReader, within: float = 5) -> bool:
    async with asyncio.timeout(within):
        try:
            return await reader.read(1) == b""
        except ConnectionResetError:
            return True


async def metric(port: int, name: str) -> str:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET /metrics HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")
    await writer.drain()
    text = (await reader.read()).decode()
    writer.close()
    return "\n".join(line for line in text.splitlines() if line.startswith(name))


async def signed_ping(port: int) -> int:
    raw, headers = signed_webhook(webhook_body(WORKSPACE, "ping", "", []), CLIENT_SECRET)
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    lines = [f"POST {WEBHOOK} HTTP/1.1", "Host: test", f"Content-Length: {len(raw)}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + raw)
    await writer.drain()
    status, _, _ = await read_response(reader)
    writer.close()
    return status


async def test_clients_leaving_mid_body_are_one_log_line_each(
    make_settings: SettingsFactory, http: str, capsys: pytest.CaptureFixture[str]
) -> None:
    aborted = 1200
    async with running(settings_with(make_settings), http) as (port, _services):
        capsys.readouterr()
        # Batches of 50, under the default cap of 64 bodies being received at once.
        for batch in range(aborted // 50):
            writers = []
            for _ in range(50):
                _reader, writer = await asyncio.open_connection("127.0.0.1", port)
                writer.write(head(10_000) + b'{"app_id": "' + str(batch).encode())
                writers.append(writer)
            for writer in writers:
                await writer.drain()
            await asyncio.sleep(0.05)
            for writer in writers:
                writer.transport.abort()  # RST: the rudest way to leave
        deadline = time.monotonic() + 10
        while (
            f'itop_intercom_requests_total{{endpoint="webhook",outcome="client_disconnected"}} '
            f"{aborted}.0" not in await metric(port, "itop_intercom_requests_total")
        ):
            assert time.monotonic() < deadline, await metric(port, "itop_intercom_requests")
            await asyncio.sleep(0.1)
        assert await signed_ping(port) == 200
    logged = capsys.readouterr().err
    assert "Traceback" not in logged
    assert "Exception in ASGI application" not in logged
    lines = [json.loads(line) for line in logged.splitlines() if line.startswith("{")]
    left = [line for line in lines if line.get("outcome") == "client_disconnected"]
    assert len(left) == aborted
    assert {line["status"] for line in left} == {499}
    assert not [line for line in lines if line.get("status") == 500]


async def test_a_body_that_stalls_gets_408_at_the_deadline_and_the_connection_closes(
    make_settings: SettingsFactory, http: str
) -> None:
    settings = settings_with(make_settings, body_timeout_seconds=0.5)
    async with running(settings, http) as (port, _services):
        for sent in (b"", b"{", b'{"app_id": "ws4test1", "topic": "pi'):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            started = time.monotonic()
            writer.write(head(1000) + sent)
            await writer.drain()
            status, headers, body = await read_response(reader, within=5)
            waited = time.monotonic() - started
            assert status == 408
            assert "connection: close" in headers
            assert json.loads(body) == {"error": "body not received within 0.5 s"}
            assert 0.4 < waited < 3
            assert await closed_by_server(reader)
            writer.close()
        # A trickle of bytes does not extend the deadline: it is for the whole body.
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(head(1000))
        started = time.monotonic()
        answer = asyncio.ensure_future(read_response(reader, within=5))
        while not answer.done():
            writer.write(b" ")
            await writer.drain()
            await asyncio.sleep(0.05)
        assert answer.result()[0] == 408
        assert time.monotonic() - started < 3
        writer.close()


async def test_too_many_unfinished_bodies_get_503_at_once_and_others_go_on_later(
    make_settings: SettingsFactory, http: str
) -> None:
    settings = settings_with(make_settings, max_concurrent_bodies=4, body_timeout_seconds=30)
    async with running(settings, http) as (port, _services):
        stalled = []
        for _ in range(4):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(head(5000) + b"{")
            await writer.drain()
            stalled.append((reader, writer))
        await asyncio.sleep(0.2)  # the four are being received
        for _ in range(3):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            started = time.monotonic()
            writer.write(head(5000) + b"{")
            await writer.drain()
            status, headers, body = await read_response(reader, within=5)
            assert status == 503
            assert "retry-after: 5" in headers
            assert "connection: close" in headers
            assert json.loads(body) == {"error": "too many requests being received"}
            assert time.monotonic() - started < 1.5
            writer.close()
        # Requests without a body are not held back by the cap.
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n")
        assert (await read_response(reader))[0] == 200
        writer.close()
        for _reader, writer in stalled:
            writer.transport.abort()
        deadline = time.monotonic() + 5
        while await signed_ping(port) != 200:
            assert time.monotonic() < deadline
            await asyncio.sleep(0.05)


@pytest.mark.parametrize("chunk_size", [1024, 64 * 1024])
async def test_an_oversized_chunked_upload_gets_413_and_is_not_read_further(
    make_settings: SettingsFactory, http: str, chunk_size: int
) -> None:
    async with running(settings_with(make_settings), http) as (port, _services):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(head(chunked=True))
        chunk = f"{chunk_size:x}\r\n".encode() + b"x" * chunk_size + b"\r\n"
        sent = 0
        answer = asyncio.ensure_future(read_response(reader, within=10))
        with pytest.raises((ConnectionResetError, BrokenPipeError, ConnectionAbortedError)):
            while sent < 50 * 1024 * 1024:
                writer.write(chunk)
                await writer.drain()
                sent += chunk_size
                if answer.done() and writer.transport.is_closing():
                    raise ConnectionResetError()
                await asyncio.sleep(0)
        status, headers, body = await answer
        assert status == 413
        assert "connection: close" in headers
        assert json.loads(body) == {"error": f"body larger than {LIMIT} bytes"}
        # The server stopped reading long before the 50 MB the client wanted to send.
        assert sent < 16 * 1024 * 1024
        writer.transport.abort()


@pytest.mark.parametrize("request_line", [f"POST {WEBHOOK}", "GET /healthz", "GET /metrics"])
async def test_a_declared_oversized_body_gets_413_before_it_is_sent(
    make_settings: SettingsFactory, http: str, request_line: str
) -> None:
    async with running(settings_with(make_settings), http) as (port, _services):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(
            f"{request_line} HTTP/1.1\r\nHost: test\r\nContent-Length: {50 * 1024 * 1024}"
            "\r\n\r\n".encode()
        )
        await writer.drain()
        status, headers, _ = await read_response(reader)
        assert status == 413
        assert "connection: close" in headers
        assert await closed_by_server(reader)
        writer.close()
