"""Webhook intake: how fast the service acknowledges signed notifications.

Starts `itop-intercom serve` (uvicorn, embedded worker on, as in production) on loopback against
a throw-away database and the iTop fake (70 ms a call), then:

1. fixed rate: `--rate` notifications per second for `--duration` seconds, sent whatever the
   answers (latency measured from the scheduled send time) → p50 / p90 / p99 / max, in three
   conditions: (a) notifications of 200 conversations whose Home is already warm; (b) the same
   while unsigned garbage (no signature, a wrong one, a body that is not JSON) arrives at the
   same rate on the same endpoint; (c) every notification of a new conversation, so that each
   one offers a Home warm-up to the background queue (the iTop calls it made are counted);
2. throughput: `--senders` concurrent senders, each sending its next notification as soon as
   the previous one is answered, `--requests` in all → requests per second and latencies.

At the end the number of stored parts is checked against the number of acknowledged
notifications.

    .venv/bin/python bench/intake.py [--db sqlite|postgresql] [--rate 200] [--duration 10]
                                     [--senders 32] [--requests 15000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.fakes.itop import FakeItop

from bench.common import (
    WORKSPACE,
    LoadResult,
    Service,
    closed_loop,
    count_rows,
    free_port,
    latency_line,
    open_loop,
    part_notification,
    temporary_database,
    use_fast_event_loop,
    wait_ready,
    webhook_request,
    write_config,
)

CONVERSATIONS = 200
T0 = 1_768_000_000


def requests(port: int, first: int, count: int, *, new_conversations: bool = False) -> list[bytes]:
    out = []
    for n in range(first, first + count):
        conversation = 900000 + n if new_conversations else 700000 + n % CONVERSATIONS
        body = part_notification(
            f"{conversation}",
            f"{10_000_000 + n}",
            T0 + n,
            author_email="agatha.christie@demo.com",
            author_name="Agatha Christie",
            text=f"message {n}",
        )
        out.append(webhook_request(body, port))
    return out


def garbage(port: int, count: int) -> list[bytes]:
    """Unsigned or wrongly signed requests to the webhook endpoint, in three kinds."""
    out = []
    for n in range(count):
        body = json.dumps({"type": "notification_event", "app_id": WORKSPACE, "n": n}).encode()
        headers = ["Content-Type: application/json"]
        if n % 3 == 1:
            headers.append("X-Hub-Signature: sha1=" + "0" * 40)
        elif n % 3 == 2:
            body = b"\x00\xff not json " * 20
        head = [
            "POST /intercom/webhooks HTTP/1.1",
            f"Host: 127.0.0.1:{port}",
            f"Content-Length: {len(body)}",
            *headers,
        ]
        out.append(("\r\n".join(head) + "\r\n\r\n").encode("ascii") + body)
    return out


async def with_garbage(
    port: int, signed: list[bytes], junk: list[bytes], rate: float, result: LoadResult
) -> LoadResult:
    refused = LoadResult()
    await asyncio.gather(
        open_loop(port, signed, rate, 64, result), open_loop(port, junk, rate, 64, refused)
    )
    return refused


def report(title: str, result: LoadResult) -> None:
    sent = len(result.latencies) + result.errors
    ok = result.statuses.get(200, 0)
    print(f"  {title}")
    print(
        f"    sent {sent} in {result.elapsed:.1f} s = {sent / result.elapsed:.0f} req/s; "
        f"200: {ok}; other: { {k: v for k, v in result.statuses.items() if k != 200} }; "
        f"connection errors: {result.errors}"
    )
    print(f"    acknowledgement latency: {latency_line(result.latencies)}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--senders", type=int, default=32)
    parser.add_argument("--requests", type=int, default=15000)
    parser.add_argument(
        "--no-worker", action="store_true", help="serve without the embedded worker"
    )
    args = parser.parse_args(argv)
    use_fast_event_loop()

    fake_itop = FakeItop(latency=0.07)
    itop_url, stop_itop = fake_itop.serve_in_thread()
    port = free_port()
    fixed = int(args.rate * args.duration)
    warmup = 300
    print(f"bench/intake.py — database {args.db}, service on 127.0.0.1:{port}")
    print("  preparing signed notifications ...", flush=True)
    prepared = requests(port, 0, warmup + 2 * fixed + args.requests)
    fresh = requests(port, len(prepared), fixed, new_conversations=True)
    junk = garbage(port, fixed)
    try:
        with (
            temporary_database(args.db) as database_url,
            tempfile.TemporaryDirectory(prefix="itop-intercom-bench-") as tmp,
        ):
            config = write_config(
                Path(tmp), database_url=database_url, itop_url=itop_url, port=port
            )
            extra = ["--no-worker"] if args.no_worker else []
            service = Service(["serve", "--config", str(config), *extra], Path(tmp) / "service.log")
            service.start()
            try:
                wait_ready(f"http://127.0.0.1:{port}")
                warm = LoadResult()
                asyncio.run(closed_loop(port, prepared[:warmup], 8, warm))
                rate = f"{args.rate:g} req/s for {args.duration:g} s"
                steady = LoadResult()
                asyncio.run(
                    open_loop(port, prepared[warmup : warmup + fixed], args.rate, 64, steady)
                )
                report(f"fixed rate: {rate} (a) conversations already warm", steady)
                time.sleep(1.0)
                hostile = LoadResult()
                signed = prepared[warmup + fixed : warmup + 2 * fixed]
                refused = asyncio.run(with_garbage(port, signed, junk, args.rate, hostile))
                report(f"fixed rate: {rate} (b) with as much unsigned garbage", hostile)
                report("    the garbage itself (refused)", refused)
                time.sleep(1.0)
                warming = LoadResult()
                calls_before = len(fake_itop.calls)
                asyncio.run(open_loop(port, fresh, args.rate, 64, warming))
                report(f"fixed rate: {rate} (c) a Home warm-up offered by each", warming)
                print(f"    iTop calls during (c): {len(fake_itop.calls) - calls_before}")
                time.sleep(1.0)
                burst = LoadResult()
                asyncio.run(closed_loop(port, prepared[warmup + 2 * fixed :], args.senders, burst))
                report(f"throughput: {args.senders} concurrent senders", burst)
                results = (warm, steady, hostile, warming, burst)
                acknowledged = sum(r.statuses.get(200, 0) for r in results)
                stored = count_rows(database_url, "SELECT count(*) FROM conversation_parts")
                print(f"  stored parts: {stored} (acknowledged notifications: {acknowledged})")
                ok = stored == acknowledged == len(prepared) + len(fresh)
                ok = ok and 200 not in refused.statuses
            finally:
                service.stop()
    finally:
        stop_itop()
    print("  goals: p99 < 20 ms at 200 req/s in (a), (b) and (c); > 1000 req/s sustained")
    print("  (the machine's other load shows in these figures: say so with them)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
