"""Drain: how long the worker takes to apply a large backlog to a slow iTop, and at what cost.

Starts `itop-intercom serve` (embedded worker) against a throw-away database and the iTop fake
with `--latency` seconds per call (70 ms: the lab iTop's median), with `--conversations` tickets
linked to as many conversations (the extension's `intercom_*` fields, so links are read from
iTop). Sends `--parts` parts (replies and notes of agents with iTop accounts, of an end user
with one and of a visitor without), one notification each, as fast as the service takes them,
then waits until every entry is in iTop. Prints the time to apply them all, the iTop calls per
applied part (goal: at most 1.1, thanks to the author cache and batched link look-ups) and
checks that nothing was lost, duplicated or reordered.

    .venv/bin/python bench/drain.py [--db sqlite|postgresql] [--parts 10000]
                                    [--conversations 200] [--concurrency 16] [--latency 0.07]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.fakes.itop import FakeItop

from bench.common import (
    LoadResult,
    Service,
    applied_count,
    check_logs,
    closed_loop,
    free_port,
    plan_parts,
    seed_itop,
    temporary_database,
    use_fast_event_loop,
    wait_ready,
    webhook_request,
    write_config,
)

T0 = 1_768_000_000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--parts", type=int, default=10000)
    parser.add_argument("--conversations", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--latency", type=float, default=0.07)
    parser.add_argument("--timeout", type=float, default=240.0, help="give up after (s)")
    args = parser.parse_args(argv)
    use_fast_event_loop()

    conversations = [str(800_000 + i) for i in range(args.conversations)]
    parts = plan_parts(args.parts, conversations, T0)
    fake = FakeItop(latency=args.latency)
    tickets = seed_itop(fake, conversations)
    itop_url, stop_itop = fake.serve_in_thread()
    port = free_port()
    print(
        f"bench/drain.py — database {args.db}, {args.parts} parts over {args.conversations} "
        f"conversations, iTop fake {args.latency * 1000:.0f} ms per call, "
        f"worker concurrency {args.concurrency}"
    )
    requests = [webhook_request(p.notification(), port) for p in parts]
    ok = False
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
            try:
                wait_ready(f"http://127.0.0.1:{port}")
                fake.calls.clear()
                started = time.monotonic()
                sent = LoadResult()
                asyncio.run(closed_loop(port, requests, 32, sent))
                acknowledged = time.monotonic() - started
                print(
                    f"  intake: {len(requests)} notifications acknowledged in {acknowledged:.1f} s "
                    f"({sent.statuses})"
                )
                done = 0
                deadline = started + args.timeout
                while time.monotonic() < deadline:
                    # Cheap progress check (each write is one core/update); verified below.
                    done = sum(1 for c in fake.calls if c["operation"] == "core/update")
                    if done >= len(parts) and applied_count(fake, tickets) >= len(parts):
                        break
                    time.sleep(0.25)
                elapsed = time.monotonic() - started
                time.sleep(1.0)  # a late duplicate would show up now
                check = check_logs(fake, tickets, parts)
                calls = Counter(str(c["operation"]) for c in fake.calls)
                total_calls = sum(calls.values())
                print(f"  applied {check.applied} of {len(parts)} parts in {elapsed:.1f} s")
                print(
                    f"  throughput: {check.applied / elapsed:.0f} parts/s; "
                    f"iTop calls: {total_calls} = {total_calls / max(check.applied, 1):.3f} "
                    f"per applied part ({dict(calls)})"
                )
                print(
                    f"  lost {check.lost}, duplicated {check.duplicated}, "
                    f"out of order {check.out_of_order}"
                )
                ok = check.lost == check.duplicated == check.out_of_order == 0
            finally:
                service.stop()
    finally:
        stop_itop()
    print("  goal: at most 1.1 iTop calls per applied part")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
