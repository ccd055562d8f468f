"""Webhook intake: how fast the service acknowledges signed notifications.

Starts `itop-intercom serve` (uvicorn, embedded worker on, as in production) on loopback against
a throw-away database and the iTop fake, then:

1. fixed rate: `--rate` notifications per second for `--duration` seconds, sent whatever the
   answers (latency measured from the scheduled send time) → p50 / p90 / p99 / max;
2. throughput: `--senders` concurrent senders, each sending its next notification as soon as
   the previous one is answered, `--requests` in all → requests per second and latencies.

Every notification carries a new part of one of 200 conversations; at the end the number of
stored parts is checked against the number of acknowledged notifications.

    .venv/bin/python bench/intake.py [--db sqlite|postgresql] [--rate 200] [--duration 10]
                                     [--senders 32] [--requests 15000]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.fakes.itop import FakeItop

from bench.common import (
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


def requests(port: int, first: int, count: int) -> list[bytes]:
    out = []
    for n in range(first, first + count):
        body = part_notification(
            f"{700000 + n % CONVERSATIONS}",
            f"{10_000_000 + n}",
            T0 + n,
            author_email="agatha.christie@demo.com",
            author_name="Agatha Christie",
            text=f"message {n}",
        )
        out.append(webhook_request(body, port))
    return out


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
    prepared = requests(port, 0, warmup + fixed + args.requests)
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
                steady = LoadResult()
                asyncio.run(
                    open_loop(port, prepared[warmup : warmup + fixed], args.rate, 64, steady)
                )
                report(f"fixed rate: {args.rate:g} req/s for {args.duration:g} s", steady)
                time.sleep(1.0)
                burst = LoadResult()
                asyncio.run(closed_loop(port, prepared[warmup + fixed :], args.senders, burst))
                report(f"throughput: {args.senders} concurrent senders", burst)
                acknowledged = sum(r.statuses.get(200, 0) for r in (warm, steady, burst))
                stored = count_rows(database_url, "SELECT count(*) FROM conversation_parts")
                print(f"  stored parts: {stored} (acknowledged notifications: {acknowledged})")
                ok = stored == acknowledged == len(prepared)
            finally:
                service.stop()
    finally:
        stop_itop()
    print("  goals: p99 < 20 ms at 200 req/s; > 1000 req/s sustained")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
