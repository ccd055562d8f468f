"""Retention purge under load: a database of old, applied parts purges while webhooks arrive.

Fills a throw-away database with `--parts` parts received 60 days ago, each with one done
delivery (bulk `INSERT … SELECT`, seconds even for a million rows), starts `itop-intercom serve`
(embedded worker, retention on with its default batch size and pause unless told otherwise, the
first purge a few seconds after start), and sends `--rate` signed webhooks per second the whole
time. Prints the webhook latencies every 10 s and before, during and after the purge, and the
purge rate (rows deleted per second, from the worker's own "purged" log line). The iTop fake
runs in a process of its own, so that the load generator shares its interpreter with nothing.

    .venv/bin/python bench/purge.py [--db sqlite|postgresql] [--parts 1000000] [--rate 200]
                                    [--batch-size N] [--pause SECONDS] [--max-seconds 900]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import sqlalchemy as sa

from bench.common import (
    WORKSPACE,
    Connection,
    Service,
    fake_itop_in_process,
    free_port,
    latency_line,
    part_notification,
    sync_engine,
    temporary_database,
    use_fast_event_loop,
    wait_ready,
    webhook_request,
    write_config,
)
from itop_intercom.settings.retention import RetentionSettings

OLD = time.time() - 60 * 86400
T0 = 1_768_000_000

_PARTS_COLUMNS = (
    "workspace_id, conversation_id, part_id, topic, part_type, attachments, part_created_at, "
    "received_at, plan"
)
_DELIVERY_INSERT = (
    "INSERT INTO deliveries (part_row_id, workspace_id, conversation_id, part_created_at, "
    "part_seq, ticket_class, ticket_id, origin, state, attempts, due_at, age_from, created_at, "
    "finished_at) SELECT id, workspace_id, conversation_id, part_created_at, 0, 'UserRequest', 1, "
    "'webhook', 'done', 1, :t, :t, :t, :t FROM conversation_parts"
)


def fill(url: str, parts: int) -> float:
    """`parts` old parts with one done delivery each, inserted by the database itself."""
    started = time.perf_counter()
    engine = sync_engine(url)
    values = (
        f"'{WORKSPACE}', 'old-' || (i % 20000), 'p' || i, 'conversation.user.replied', "
        "'comment', '[]', :created, :received, 'planned'"
    )
    received = datetime.fromtimestamp(OLD, UTC)
    with engine.begin() as conn:
        if conn.dialect.name == "sqlite":
            conn.execute(
                sa.text(
                    f"INSERT INTO conversation_parts ({_PARTS_COLUMNS}) "
                    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
                    f"WHERE i < :count) SELECT {values} FROM n"
                ),
                {
                    "count": parts,
                    "created": int(OLD),
                    "received": received.strftime("%Y-%m-%d %H:%M:%S.%f"),
                },
            )
        else:
            conn.execute(
                sa.text(
                    f"INSERT INTO conversation_parts ({_PARTS_COLUMNS}) "
                    f"SELECT {values} FROM generate_series(1, :count) AS i"
                ),
                {"count": parts, "created": int(OLD), "received": received},
            )
        conn.execute(sa.text(_DELIVERY_INSERT), {"t": OLD})
    with engine.connect() as conn:
        conn.execute(sa.text("ANALYZE"))
        conn.commit()
    engine.dispose()
    return time.perf_counter() - started


@dataclass
class Load:
    """Latencies with their send times, from a fixed-rate open loop in its own thread."""

    rate: float
    port: int
    samples: list[tuple[float, float]] = field(default_factory=list)
    errors: int = 0
    not_ok: int = 0
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        use_fast_event_loop()
        asyncio.run(self._run())

    async def _run(self) -> None:
        idle: asyncio.Queue[Connection] = asyncio.Queue()
        for _ in range(32):
            idle.put_nowait(await Connection.open(self.port))
        start = time.perf_counter()
        tasks: set[asyncio.Task[None]] = set()
        n = 0
        while not self.stop.is_set():
            scheduled = start + n / self.rate
            await asyncio.sleep(max(0.0, scheduled - time.perf_counter()))
            body = part_notification(
                f"{800000 + n % 200}",
                f"{20_000_000 + n}",
                T0 + n,
                author_email="agatha.christie@demo.com",
                author_name="Agatha Christie",
                text=f"message {n}",
            )
            task = asyncio.create_task(self._one(idle, webhook_request(body, self.port), scheduled))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            n += 1
        await asyncio.gather(*tasks)
        while not idle.empty():
            await idle.get_nowait().close()

    async def _one(self, idle: asyncio.Queue[Connection], request: bytes, scheduled: float) -> None:
        conn = await idle.get()
        try:
            status = await conn.send(request)
            if status != 200:
                self.not_ok += 1
            self.samples.append((scheduled, time.perf_counter() - scheduled))
        except (OSError, asyncio.IncompleteReadError):
            self.errors += 1
            await conn.close()
            conn = await Connection.open(self.port)
        finally:
            idle.put_nowait(conn)


def old_rows_left(url: str, parts: int) -> tuple[int, int]:
    """(done deliveries, parts) of the old ones still there, by cheap index probes."""
    engine = sync_engine(url)
    try:
        with engine.connect() as conn:
            first_delivery = conn.execute(sa.text("SELECT min(id) FROM deliveries")).scalar()
            first_part = conn.execute(sa.text("SELECT min(id) FROM conversation_parts")).scalar()
    finally:
        engine.dispose()
    deliveries_left = (
        parts - int(first_delivery) + 1 if first_delivery and first_delivery <= parts else 0
    )
    parts_left = parts - int(first_part) + 1 if first_part and first_part <= parts else 0
    return deliveries_left, parts_left


def purged_line(log_path: Path) -> dict[str, float] | None:
    for line in log_path.read_text(errors="replace").splitlines():
        if '"purged"' in line:
            try:
                event: dict[str, float] = json.loads(line)
            except ValueError:
                continue
            return event
    return None


def main(argv: list[str] | None = None) -> int:
    defaults = RetentionSettings()
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--parts", type=int, default=1_000_000)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--batch-size", type=int, default=defaults.batch_size)
    parser.add_argument("--pause", type=float, default=defaults.pause_seconds)
    parser.add_argument("--max-seconds", type=float, default=900.0, help="stop the run after this")
    parser.add_argument(
        "--no-purge",
        action="store_true",
        help="the same run with retention off, for --max-seconds: the latencies to compare with",
    )
    args = parser.parse_args(argv)

    port = free_port()
    print(f"bench/purge.py — database {args.db}, {args.parts} old parts, {args.rate:g} webhooks/s")
    if args.no_purge:
        print("  retention: off (the baseline: same load, same database, no purge)")
    else:
        print(f"  retention: batch {args.batch_size} rows, pause {args.pause * 1000:g} ms")
    with (
        fake_itop_in_process() as itop_url,
        temporary_database(args.db) as database_url,
        tempfile.TemporaryDirectory(prefix="itop-intercom-bench-") as tmp,
    ):
        seconds = fill(database_url, args.parts)
        print(f"  filled {args.parts} parts + {args.parts} done deliveries in {seconds:.1f} s")
        config = write_config(Path(tmp), database_url=database_url, itop_url=itop_url, port=port)
        with config.open("a", encoding="utf-8") as handle:
            # The first purge starts min(60 s, every_minutes) after start: 9 s here, so
            # that "before the purge" is measured on a warm service.
            handle.write(
                f"[retention]\nenabled = {str(not args.no_purge).lower()}\n"
                f"every_minutes = 0.15\nbatch_size = {args.batch_size}\n"
                f"pause_seconds = {args.pause}\n"
            )
        log_path = Path(tmp) / "service.log"
        service = Service(["serve", "--config", str(config)], log_path)
        service.start()
        load = Load(args.rate, port)
        thread = threading.Thread(target=load.run)
        try:
            wait_ready(f"http://127.0.0.1:{port}")
            thread.start()
            began = time.perf_counter()
            purge_start = purge_end = None
            while time.perf_counter() - began < args.max_seconds:
                time.sleep(0.25)
                deliveries_left, parts_left = old_rows_left(database_url, args.parts)
                t = time.perf_counter()
                if purge_start is None and deliveries_left < args.parts:
                    purge_start = t
                if purge_start is not None and deliveries_left == parts_left == 0:
                    purge_end = t
                    break
            time.sleep(2.0)  # a little load after the purge, for comparison
            load.stop.set()
            thread.join()
        finally:
            service.stop()
        left = old_rows_left(database_url, args.parts)
        event = purged_line(log_path)

    warm = load.samples[0][0] + 3.0 if load.samples else None

    def window(lo: float | None, hi: float | None) -> list[float]:
        return [
            latency
            for sent, latency in load.samples
            if (lo is None or sent >= lo) and (hi is None or sent < hi)
        ]

    print(f"  webhooks: {len(load.samples)} answered, {load.not_ok} not 200, {load.errors} errors")
    if load.samples:
        first = load.samples[0][0]
        last = load.samples[-1][0]
        step = 10.0
        at = first
        while at < last:
            span = f"{at - first:.0f}–{at - first + step:.0f} s"
            purging = (
                purge_start is not None
                and purge_start < at + step
                and (purge_end is None or purge_end > at)
            )
            mark = " (purging)" if purging else ""
            print(f"    {span:>9}: {latency_line(window(at, at + step))}{mark}")
            at += step
    if args.no_purge:
        print(f"    whole run:        {latency_line(window(warm, None))} (after 3 s warm-up)")
        return 0
    print(f"    before the purge: {latency_line(window(warm, purge_start))} (after 3 s warm-up)")
    if purge_start is not None:
        print(f"    during the purge: {latency_line(window(purge_start, purge_end))}")
        if purge_end is not None:
            print(f"    after the purge:  {latency_line(window(purge_end, None))}")
    if event is not None:
        rows = int(event.get("done_deliveries", 0)) + int(event.get("stored_parts", 0))
        took = float(event.get("seconds", 0.0)) or float("nan")
        print(
            f"  purge: {rows} rows ({int(event.get('stored_parts', 0))} parts and their "
            f"deliveries) in {took:.1f} s = {rows / took:.0f} rows/s"
        )
    elif purge_start is not None:
        deleted = 2 * args.parts - sum(left)
        took = (purge_end or time.perf_counter()) - purge_start
        print(
            f"  purge: not finished within --max-seconds: {deleted} rows in {took:.1f} s "
            f"= {deleted / took:.0f} rows/s"
        )
    else:
        print("  purge: did not start")
    print("  goal: webhook p99 stays under 20 ms at 200 req/s while the purge runs")
    return 0 if event is not None and sum(left) == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
