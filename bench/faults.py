"""Faults: the drain load with iTop down, duplicates, shuffled deliveries and a SIGKILL.

Starts `itop-intercom serve` (embedded worker) against a throw-away database and the iTop fake
(`--latency` per call) with one linked ticket per conversation, then sends `--parts` parts at
`--rate` parts per second, and meanwhile:

- every part is delivered twice: half as the same notification again (Intercom's retry), half
  inside a second notification that also carries the conversation's previous part;
- deliveries are shuffled: each one is sent up to `--shuffle` seconds late (keep it below the
  settle delay, 2 s by default: that is the window in which the service restores the order);
- the iTop fake stops listening for `--outage` seconds, from `--outage-at` seconds on;
- the service is killed with SIGKILL `--kill-after` seconds after iTop is back (in the middle
  of the catch-up, writes in flight), and started again at once. Notifications it could not
  take meanwhile are sent again until accepted, as Intercom does.

Then it waits until every part is in iTop, and prints lost, duplicated and out-of-order entries
(each must be 0) and how long the recoveries took.

    .venv/bin/python bench/faults.py [--db sqlite|postgresql] [--parts 10000]
                                     [--conversations 200] [--rate 200] [--outage 30]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import re
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.fakes.itop import FakeItop
from tests.fakes.signing import webhook_body

from bench.common import (
    Connection,
    PlannedPart,
    Service,
    check_logs,
    free_port,
    plan_parts,
    seed_itop,
    temporary_database,
    use_fast_event_loop,
    wait_ready,
    webhook_request,
    write_config,
)

_PART_IN_COMMENT = re.compile(r"part (\d+)$")


@dataclass
class Progress:
    """When each part was first written to iTop (from the fake's call log)."""

    first_write: dict[str, float] = field(default_factory=dict)
    scanned: int = 0

    def scan(self, fake: FakeItop) -> None:
        calls = fake.calls
        now = time.monotonic()
        for call in calls[self.scanned :]:
            if call.get("operation") != "core/update":
                continue
            match = _PART_IN_COMMENT.search(str((call.get("json_data") or {}).get("comment")))
            if match:
                self.first_write.setdefault(match.group(1), now)
        self.scanned = len(calls)


def deliveries(
    parts: list[PlannedPart], port: int, rate: float, shuffle: float, seed: int
) -> list[tuple[float, bytes]]:
    """(send time, request) of every delivery: two per part, shuffled within `shuffle` s."""
    rng = random.Random(seed)
    previous: dict[str, PlannedPart] = {}
    out = []
    for index, part in enumerate(parts):
        due = index / rate
        body = part.notification()
        out.append((due + rng.uniform(0, shuffle), webhook_request(body, port)))
        before = previous.get(part.conversation)
        if before is not None and index % 2:
            pair = before.notification()["data"]["item"]["conversation_parts"]["conversation_parts"]
            pair = pair + body["data"]["item"]["conversation_parts"]["conversation_parts"]
            second = webhook_body(body["app_id"], body["topic"], part.conversation, pair)
            out.append((due + rng.uniform(0, shuffle), webhook_request(second, port)))
        else:  # the same notification again: Intercom's retry
            out.append((due + rng.uniform(0, shuffle), webhook_request(body, port)))
        previous[part.conversation] = part
    out.sort(key=lambda item: item[0])
    return out


async def send_all(
    port: int, schedule: list[tuple[float, bytes]], connections: int, stats: dict[str, int]
) -> None:
    """Send each request at its time; refused or failed ones again every 0.25 s until a 200."""
    start = time.perf_counter()
    idle: asyncio.Queue[Connection | None] = asyncio.Queue()
    for _ in range(connections):
        idle.put_nowait(None)

    async def one(at: float, request: bytes) -> None:
        await asyncio.sleep(max(0.0, start + at - time.perf_counter()))
        while True:
            conn = await idle.get()
            try:
                if conn is None:
                    conn = await Connection.open(port)
                status = await conn.send(request)
            except (OSError, asyncio.IncompleteReadError):
                status = 0
                if conn is not None:
                    await conn.close()
                conn = None
            finally:
                idle.put_nowait(conn)
            if status == 200:
                stats["ok"] = stats.get("ok", 0) + 1
                return
            stats["retried"] = stats.get("retried", 0) + 1
            await asyncio.sleep(0.25)

    await asyncio.gather(*(one(at, request) for at, request in schedule))
    while not idle.empty():
        conn = idle.get_nowait()
        if conn is not None:
            await conn.close()


def in_thread(target: Callable[[], None]) -> threading.Thread:
    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--parts", type=int, default=10000)
    parser.add_argument("--conversations", type=int, default=200)
    parser.add_argument("--rate", type=float, default=200.0, help="parts created per second")
    parser.add_argument("--shuffle", type=float, default=1.5)
    parser.add_argument("--outage", type=float, default=30.0)
    parser.add_argument("--outage-at", type=float, default=5.0)
    parser.add_argument("--kill-after", type=float, default=7.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--latency", type=float, default=0.07)
    parser.add_argument("--timeout", type=float, default=270.0)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    use_fast_event_loop()

    t0 = int(time.time())
    conversations = [str(900_000 + i) for i in range(args.conversations)]
    parts = plan_parts(args.parts, conversations, t0)
    # Creation times follow the sending schedule (Intercom stamps a part when it is written).
    parts = [
        PlannedPart(
            p.conversation,
            p.part_id,
            t0 + int(i / args.rate),
            p.topic,
            p.author_name,
            p.author_email,
        )
        for i, p in enumerate(parts)
    ]
    fake = FakeItop(latency=args.latency)
    tickets = seed_itop(fake, conversations)
    itop_port = free_port()
    itop_url, stop_itop = fake.serve_in_thread(port=itop_port)
    port = free_port()
    schedule = deliveries(parts, port, args.rate, args.shuffle, args.seed)
    print(
        f"bench/faults.py — database {args.db}, {args.parts} parts over {args.conversations} "
        f"conversations at {args.rate:g}/s, {len(schedule)} deliveries (each part twice, "
        f"shuffled within {args.shuffle:g} s), iTop down {args.outage:g} s from "
        f"t={args.outage_at:g} s, SIGKILL {args.kill_after:g} s after it is back"
    )
    ok = False
    progress = Progress()
    try:
        with (
            temporary_database(args.db) as database_url,
            tempfile.TemporaryDirectory(prefix="itop-intercom-bench-") as tmp,
        ):
            config = write_config(
                Path(tmp),
                database_url=database_url,
                itop_url=itop_url,
                port=port,
                sync={"concurrency": args.concurrency},
            )
            service = Service(["serve", "--config", str(config)], Path(tmp) / "service.log")
            service.start()
            wait_ready(f"http://127.0.0.1:{port}")
            fake.calls.clear()
            stats: dict[str, int] = {}
            started = time.monotonic()
            sender = in_thread(lambda: asyncio.run(send_all(port, schedule, 64, stats)))
            events: dict[str, float] = {}

            def at(offset: float) -> None:
                while time.monotonic() < started + offset:
                    progress.scan(fake)
                    time.sleep(0.1)

            at(args.outage_at)
            # Down at once: requests still reaching the old server (keep-alive connections
            # while it shuts down) get a 503, new connections are refused.
            fake.http_status = 503
            stopping = in_thread(stop_itop)
            events["itop down"] = time.monotonic()
            print(f"  t={events['itop down'] - started:5.1f} s  iTop fake stopped", flush=True)
            at(args.outage_at + args.outage)
            stopping.join()
            _url, stop_itop = fake.serve_in_thread(port=itop_port)
            fake.http_status = None
            events["itop up"] = time.monotonic()
            print(f"  t={events['itop up'] - started:5.1f} s  iTop fake back", flush=True)
            at(args.outage_at + args.outage + args.kill_after)
            service.kill()
            events["killed"] = time.monotonic()
            progress.scan(fake)
            written_before_kill = len(fake.calls)
            print(f"  t={events['killed'] - started:5.1f} s  service killed (SIGKILL)", flush=True)
            service.start()
            wait_ready(f"http://127.0.0.1:{port}")
            events["restarted"] = time.monotonic()
            print(
                f"  t={events['restarted'] - started:5.1f} s  service answering again",
                flush=True,
            )
            deadline = started + args.timeout
            while time.monotonic() < deadline:
                progress.scan(fake)
                if "first write" not in events and any(
                    c.get("operation") == "core/update" for c in fake.calls[written_before_kill:]
                ):
                    events["first write"] = time.monotonic()
                if len(progress.first_write) >= len(parts) and not sender.is_alive():
                    break
                time.sleep(0.2)
            finished = time.monotonic()
            time.sleep(2.0)  # a late duplicate would show up now
            progress.scan(fake)
            sender.join(timeout=5)
            service.stop()
            check = check_logs(fake, tickets, parts)
    finally:
        stop_itop()

    def created_before(moment: float) -> list[str]:
        limit = t0 + (moment - started)
        return [p.part_id for p in parts if p.created_at < limit - args.shuffle - 1]

    def caught_up(ids: list[str], since: float) -> str:
        times = [progress.first_write.get(i) for i in ids]
        if not ids or any(t is None for t in times):
            return "not caught up"
        return f"{max(t for t in times if t is not None) - since:.1f} s"

    print(f"  deliveries: {stats.get('ok', 0)} accepted, {stats.get('retried', 0)} re-sent")
    print(
        f"  applied {check.applied} of {len(parts)} parts; "
        f"all applied {finished - started:.1f} s after the first delivery"
    )
    print(
        "  outage: every part sent before iTop came back was applied "
        f"{caught_up(created_before(events['itop up']), events['itop up'])} after it did"
    )
    print(
        f"  SIGKILL: service answering {events['restarted'] - events['killed']:.1f} s after "
        f"the kill; first write {events.get('first write', float('nan')) - events['killed']:.1f} s "
        "after it; every part sent before the kill applied "
        f"{caught_up(created_before(events['killed']), events['killed'])} after it"
    )
    print(f"  LOST {check.lost}  DUPLICATED {check.duplicated}  OUT OF ORDER {check.out_of_order}")
    ok = check.lost == check.duplicated == check.out_of_order == 0
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
