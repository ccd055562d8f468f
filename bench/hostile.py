"""Signed webhooks while strangers send unsigned 1 MB bodies: what the strangers cost.

Starts `itop-intercom serve` (uvicorn, as in production) on loopback against a throw-away
database and the iTop fake, then sends signed notifications at a fixed rate twice: once alone,
once while `--strangers` connections each send unsigned bodies of `--stranger-bytes` bytes as
fast as the service answers them. Prints the signed notifications' acknowledgement latency
(p50 / p90 / p99 / max) in both runs, and the strangers' answers (401 expected) and rate.

    .venv/bin/python bench/hostile.py [--db sqlite|postgresql] [--rate 100] [--duration 5]
                                      [--strangers 8] [--stranger-bytes 1000000]
                                      [--stranger-shape objects|string]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.fakes.itop import FakeItop

from bench.common import (
    WORKSPACE,
    LoadResult,
    Service,
    closed_loop,
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

T0 = 1_768_000_000


def signed_requests(port: int, first: int, count: int) -> list[bytes]:
    return [
        webhook_request(
            part_notification(
                f"{800000 + n % 100}",
                f"{20_000_000 + n}",
                T0 + n,
                author_email="agatha.christie@demo.com",
                author_name="Agatha Christie",
                text=f"message {n}",
            ),
            port,
        )
        for n in range(first, first + count)
    ]


def stranger_request(port: int, size: int, shape: str) -> bytes:
    """An unsigned-for-us notification of about `size` bytes naming the configured workspace:
    one long string, or many small objects (the costliest JSON to parse)."""
    padding: object = "x" * max(0, size - 200)
    if shape == "objects":
        padding = [{"k": n, "v": [1, 2]} for n in range(max(0, size - 200) // 30)]
    raw = json.dumps({"app_id": WORKSPACE, "topic": "ping", "padding": padding}).encode()
    head = [
        "POST /intercom/webhooks HTTP/1.1",
        f"Host: 127.0.0.1:{port}",
        "Content-Type: application/json",
        f"Content-Length: {len(raw)}",
        "X-Hub-Signature: sha1=" + "0" * 40,
    ]
    return ("\r\n".join(head) + "\r\n\r\n").encode("ascii") + raw


async def signed_with_noise(
    port: int, signed: list[bytes], rate: float, noise: bytes, count: int
) -> tuple[LoadResult, LoadResult]:
    stop = asyncio.Event()
    strangers = LoadResult()
    # Far more than they can send before the signed run ends; `stop` ends them.
    noise_task = asyncio.ensure_future(
        closed_loop(port, [noise] * 100_000, count, strangers, stop=stop)
    )
    await asyncio.sleep(0.5)  # the strangers are at full speed
    result = LoadResult()
    await open_loop(port, signed, rate, 16, result)
    stop.set()
    await noise_task
    return result, strangers


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--strangers", type=int, default=8)
    parser.add_argument("--stranger-bytes", type=int, default=1_000_000)
    parser.add_argument("--stranger-shape", choices=["objects", "string"], default="objects")
    args = parser.parse_args(argv)
    use_fast_event_loop()

    fake_itop = FakeItop(latency=0.07)
    itop_url, stop_itop = fake_itop.serve_in_thread()
    port = free_port()
    count = int(args.rate * args.duration)
    print(f"bench/hostile.py — database {args.db}, service on 127.0.0.1:{port}")
    prepared = signed_requests(port, 0, 2 * count + 100)
    noise = stranger_request(port, args.stranger_bytes, args.stranger_shape)
    try:
        with (
            temporary_database(args.db) as database_url,
            tempfile.TemporaryDirectory(prefix="itop-intercom-bench-") as tmp,
        ):
            config = write_config(
                Path(tmp), database_url=database_url, itop_url=itop_url, port=port
            )
            service = Service(["serve", "--config", str(config)], Path(tmp) / "service.log")
            service.start()
            try:
                wait_ready(f"http://127.0.0.1:{port}")
                warm = LoadResult()
                asyncio.run(open_loop(port, prepared[:100], 200, 8, warm))
                alone = LoadResult()
                asyncio.run(open_loop(port, prepared[100 : 100 + count], args.rate, 16, alone))
                print(f"  signed alone, {args.rate:g} req/s: {latency_line(alone.latencies)}")
                noisy, noise_result = asyncio.run(
                    signed_with_noise(
                        port, prepared[100 + count :], args.rate, noise, args.strangers
                    )
                )
                print(
                    f"  signed with {args.strangers} unsigned senders of "
                    f"{len(noise) // 1000} kB: {latency_line(noisy.latencies)}"
                )
                print(
                    f"    signed answers {noisy.statuses}; unsigned answers "
                    f"{noise_result.statuses} in {noise_result.elapsed:.1f} s = "
                    f"{sum(noise_result.statuses.values()) / noise_result.elapsed:.0f} req/s "
                    f"({latency_line(noise_result.latencies)})"
                )
            finally:
                service.stop()
    finally:
        stop_itop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
