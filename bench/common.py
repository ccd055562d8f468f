"""What the benchmarks share: a throw-away database, the real service in a subprocess, the
fakes on loopback, a lean HTTP/1.1 load generator, and percentiles.

The service runs as `itop-intercom serve` in its own process (uvicorn, as in production), so the
load generator and the fakes (in the benchmark's process) do not share its interpreter. The load
generator speaks raw HTTP/1.1 over keep-alive sockets: an HTTP client library would spend more
CPU per request than the service does, and on a 2-core machine that would be what is measured.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
from tests.fakes.itop import ADMIN_TOKEN, FakeItop
from tests.fakes.signing import make_part, signed_webhook, webhook_body
from tests.pgtemp import temporary_postgres_database

from itop_intercom.store import db as store_db

ROOT = Path(__file__).resolve().parents[1]
WORKSPACE = "wsbench01"
CLIENT_SECRET = "cs-bench-7c2d9e41f0a6"
ACCESS_TOKEN = "intercom-bench-token"
POSTGRES_ADMIN_URL = os.environ.get(
    "ITOP_INTERCOM_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)


# -- databases ---------------------------------------------------------------------------------


def _serve_fake_itop(conn: Any) -> None:
    """Child process: serve a plain iTop fake, send its URL, wait for the word to stop."""
    url, stop = FakeItop().serve_in_thread()
    conn.send(url)
    conn.recv()
    stop()


@contextlib.contextmanager
def fake_itop_in_process() -> Iterator[str]:
    """A plain iTop fake in a process of its own; yields its base URL. For benchmarks whose load
    generator must not share an interpreter (and its GIL) with the fake: the latencies measured
    are then the service's, not the time the generator waited for the fake's thread."""
    context = multiprocessing.get_context("spawn")
    parent, child = context.Pipe()
    process = context.Process(target=_serve_fake_itop, args=(child,), daemon=True)
    process.start()
    try:
        yield str(parent.recv())
    finally:
        parent.send("stop")
        process.join(10)
        if process.is_alive():
            process.kill()


@contextlib.contextmanager
def temporary_database(kind: str) -> Iterator[str]:
    """A migrated, empty database; yields the URL to put in the settings. Dropped afterwards."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory(prefix="itop-intercom-bench-") as tmp:
            url = f"sqlite:///{tmp}/bench.sqlite3"
            store_db.upgrade("sqlite+aiosqlite:///" + url[len("sqlite:///") :])
            yield url
        return
    if kind != "postgresql":
        raise ValueError(f"unknown database kind {kind!r}")
    with temporary_postgres_database(POSTGRES_ADMIN_URL, "itop_intercom_bench") as url:
        store_db.upgrade(url)
        yield url.replace("postgresql+psycopg://", "postgresql://", 1)


def sync_engine(url: str) -> sa.Engine:
    if url.startswith("sqlite:///"):
        return sa.create_engine(url)
    return sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://"))


def count_rows(url: str, query: str) -> int:
    engine = sync_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(sa.text(query)).scalar_one())
    finally:
        engine.dispose()


# -- the service ---------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def write_config(
    directory: Path,
    *,
    database_url: str,
    itop_url: str,
    port: int,
    sync: dict[str, Any] | None = None,
    link_store: str = "auto",
) -> Path:
    sync_values = {"settle_seconds": 2.0, **(sync or {})}
    lines = [
        'public_url = "https://itop-intercom.bench"',
        f'data_dir = "{directory}"',
        'log_format = "json"',
        'log_level = "info"',
        "[server]",
        'host = "127.0.0.1"',
        f"port = {port}",
        "[database]",
        f'url = "{database_url}"',
        "[itop]",
        f'url = "{itop_url}/"',
        f'token = "{ADMIN_TOKEN}"',
        'rest_version = "1.4"',
        "[intercom]",
        f'client_secret = "{CLIENT_SECRET}"',
        f'access_token = "{ACCESS_TOKEN}"',
        'api_base = "http://127.0.0.1:9/"',
        "[ticket]",
        f'link_store = "{link_store}"',
        f"[workspaces.{WORKSPACE}]",
        'scope = "SELECT Person"',
        "[sync]",
        *(f"{key} = {_toml(value)}" for key, value in sync_values.items()),
    ]
    path = directory / "itop-intercom.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    return str(value)


@dataclass
class Service:
    """`itop-intercom serve` (or `worker`) running in a subprocess."""

    args: list[str]
    log_path: Path
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "itop_intercom.cli", *self.args],
            cwd=ROOT,
            stdout=log,
            stderr=log,
            env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
        )
        log.close()

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs (the crash the faults benchmark wants)."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()


def wait_ready(base_url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{base_url}/healthz", timeout=1).status_code == 200:
                return
        time.sleep(0.1)
    raise RuntimeError(f"the service did not start at {base_url}")


# -- requests ------------------------------------------------------------------------------------


def webhook_request(body: dict[str, Any], port: int) -> bytes:
    """The raw HTTP/1.1 request of a signed webhook, ready to be written to a socket."""
    raw, headers = signed_webhook(body, CLIENT_SECRET)
    head = [
        "POST /intercom/webhooks HTTP/1.1",
        f"Host: 127.0.0.1:{port}",
        f"Content-Length: {len(raw)}",
        *(f"{k}: {v}" for k, v in headers.items()),
    ]
    return ("\r\n".join(head) + "\r\n\r\n").encode("ascii") + raw


def part_notification(
    conversation_id: str,
    part_id: str,
    created_at: int,
    *,
    author_email: str,
    author_name: str,
    text: str,
    topic: str = "conversation.user.replied",
) -> dict[str, Any]:
    author_type = "user" if topic == "conversation.user.replied" else "admin"
    part_type = "note" if topic == "conversation.admin.noted" else "comment"
    part = make_part(
        part_id,
        part_type,
        f"<p>{text}</p>",
        created_at,
        author_type,
        author_email,
        author_name,
        author_id=f"{author_type}-{author_email}",
    )
    return webhook_body(WORKSPACE, topic, conversation_id, [part])


class Connection:
    """One keep-alive HTTP/1.1 connection that sends prepared requests."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def open(cls, port: int) -> Connection:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        sock = writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return cls(reader, writer)

    async def send(self, request: bytes) -> int:
        """Send a request, read the whole answer; return its status."""
        self.writer.write(request)
        await self.writer.drain()
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = 0
        for line in head.split(b"\r\n"):
            if line[:15].lower() == b"content-length:":
                length = int(line[15:])
        if length:
            await self.reader.readexactly(length)
        return status

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(Exception):
            await self.writer.wait_closed()


@dataclass
class LoadResult:
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    errors: int = 0
    elapsed: float = 0.0

    def record(self, status: int, seconds: float) -> None:
        self.latencies.append(seconds)
        self.statuses[status] = self.statuses.get(status, 0) + 1


def percentile(values: Sequence[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def latency_line(values: Sequence[float]) -> str:
    ms = [v * 1000 for v in values]
    return (
        f"p50 {percentile(ms, 50):.2f} ms  p90 {percentile(ms, 90):.2f} ms  "
        f"p99 {percentile(ms, 99):.2f} ms  max {max(ms, default=float('nan')):.2f} ms"
    )


async def closed_loop(
    port: int,
    requests: Sequence[bytes],
    senders: int,
    result: LoadResult,
    *,
    stop: asyncio.Event | None = None,
) -> None:
    """`senders` connections, each sending its next request as soon as the previous answered,
    until the requests run out (or `stop` is set)."""
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for request in requests:
        queue.put_nowait(request)

    async def sender() -> None:
        conn = await Connection.open(port)
        try:
            while stop is None or not stop.is_set():
                try:
                    request = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                started = time.perf_counter()
                try:
                    status = await conn.send(request)
                except (OSError, asyncio.IncompleteReadError):
                    result.errors += 1
                    await conn.close()
                    conn = await Connection.open(port)
                    continue
                result.record(status, time.perf_counter() - started)
        finally:
            await conn.close()

    started = time.perf_counter()
    await asyncio.gather(*(sender() for _ in range(senders)))
    result.elapsed = time.perf_counter() - started


async def open_loop(
    port: int, requests: Sequence[bytes], rate: float, senders: int, result: LoadResult
) -> None:
    """Send at a fixed rate whatever the answers; latency counts from the scheduled time, so
    that a service falling behind shows it (no coordinated omission)."""
    idle: asyncio.Queue[Connection] = asyncio.Queue()
    for _ in range(senders):
        idle.put_nowait(await Connection.open(port))
    start = time.perf_counter() + 0.05

    async def one(index: int, request: bytes) -> None:
        scheduled = start + index / rate
        await asyncio.sleep(max(0.0, scheduled - time.perf_counter()))
        conn = await idle.get()
        try:
            status = await conn.send(request)
            result.record(status, time.perf_counter() - scheduled)
        except (OSError, asyncio.IncompleteReadError):
            result.errors += 1
            await conn.close()
            conn = await Connection.open(port)
        finally:
            idle.put_nowait(conn)

    await asyncio.gather(*(one(i, r) for i, r in enumerate(requests)))
    result.elapsed = time.perf_counter() - start
    while not idle.empty():
        await idle.get_nowait().close()


def use_fast_event_loop() -> None:
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvicorn[standard] brings it
        return
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())


# -- iTop side: tickets, people, and checking what reached the case logs ---------------------------

#: Agents with an iTop account (matched by email), and end users: one with an account, one
#: without (written as "<name> (Intercom)").
AGENTS = [(f"Agent{i}", "Bench", f"agent{i}@bench.example") for i in range(8)]
END_USERS = [("Agatha Christie", "agatha.christie@demo.com"), ("Walk-in Visitor", "")]
_PART_ID = re.compile(r"#part-(\d+)")


def seed_itop(fake: FakeItop, conversations: Sequence[str]) -> dict[str, int]:
    """Agents with users, and one ticket linked (sync on) per conversation."""
    for first, last, email in AGENTS:
        person = fake.add_person(first, last, email, org_id=2)
        fake.add_user(email.split("@")[0], person, profiles=("Support Agent",))
    return {
        conv: fake.add_ticket(
            intercom_ref=conv,
            intercom_url=f"https://app.intercom.com/a/apps/{WORKSPACE}/conversations/{conv}",
            intercom_sync_activated="yes",
        )
        for conv in conversations
    }


@dataclass(frozen=True)
class PlannedPart:
    conversation: str
    part_id: str
    created_at: int
    topic: str
    author_name: str
    author_email: str

    @property
    def log(self) -> str:
        return "private_log" if self.topic == "conversation.admin.noted" else "public_log"

    def notification(self) -> dict[str, Any]:
        return part_notification(
            self.conversation,
            self.part_id,
            self.created_at,
            author_email=self.author_email,
            author_name=self.author_name,
            text=f"part {self.part_id} of {self.conversation}",
            topic=self.topic,
        )


def plan_parts(total: int, conversations: Sequence[str], t0: int) -> list[PlannedPart]:
    """`total` parts spread over the conversations, in creation order (ids grow with time)."""
    topics = ["conversation.user.replied", "conversation.admin.replied", "conversation.admin.noted"]
    parts = []
    for n in range(total):
        topic = topics[n % 3]
        if topic == "conversation.user.replied":
            name, email = END_USERS[(n // 3) % len(END_USERS)]
        else:
            first, last, email = AGENTS[n % len(AGENTS)]
            name = f"{first} {last}"
        parts.append(
            PlannedPart(
                conversations[n % len(conversations)],
                str(50_000_000 + n),
                t0 + n // len(conversations),
                topic,
                name,
                email,
            )
        )
    return parts


@dataclass
class LogCheck:
    applied: int = 0
    lost: int = 0
    duplicated: int = 0
    out_of_order: int = 0


def check_logs(fake: FakeItop, tickets: dict[str, int], parts: Sequence[PlannedPart]) -> LogCheck:
    """Compare the case logs with the parts: lost, duplicated, out of order (per log, adjacent
    entries whose parts were created in the other order)."""
    order = {p.part_id: (p.created_at, int(p.part_id)) for p in parts}
    check = LogCheck()
    seen: dict[str, int] = {}
    for ticket in tickets.values():
        for attcode in ("public_log", "private_log"):
            previous: tuple[int, int] | None = None
            for entry in fake.log_entries(ticket, attcode):
                match = _PART_ID.search(str(entry.get("message_html") or ""))
                if match is None:
                    continue
                part_id = match.group(1)
                seen[part_id] = seen.get(part_id, 0) + 1
                key = order.get(part_id)
                if key is not None and previous is not None and key < previous:
                    check.out_of_order += 1
                if key is not None:
                    previous = key
    check.applied = sum(1 for p in parts if p.part_id in seen)
    check.lost = len(parts) - check.applied
    check.duplicated = sum(n - 1 for n in seen.values() if n > 1)
    return check


def applied_count(fake: FakeItop, tickets: dict[str, int]) -> int:
    return sum(
        len(fake.log_entries(t, "public_log")) + len(fake.log_entries(t, "private_log"))
        for t in tickets.values()
    )
