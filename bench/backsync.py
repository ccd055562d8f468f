"""iTop → Intercom back-sync: latency, iTop cost per poll, and faults.

The real service (`itop-intercom serve`) runs in a subprocess against the iTop fake (every call
answered after `--latency`) and the Intercom fake, both on loopback. 500 tickets are linked (the
extension's fields), and entries are written into them through iTop's REST API by another REST
user (an agent console or another integration), at 50 changes a minute.

Time is scaled down by `--scale` (default 4) so that the run stays under two minutes: the poll
interval is 5 s / scale and the write rate 50 × scale per minute, so a change waits the same
number of polls as at full scale; latencies are printed as measured (in scaled seconds) and
against the scaled goal, poll interval + 2 s.

Phases:
1. idle: iTop REST calls per poll when nothing changes (expected 1);
2. load: latency from the end of the iTop write to the Intercom post (p50 / p95), and iTop calls
   per poll with changes and per changed ticket;
3. faults, while writes go on: Intercom down (`--down` seconds, 30 / scale), then 429 answers
   for a while, then a SIGKILL of the service while it is posting (Intercom answering slowly),
   and a restart. Entries that this service itself wrote (the sync's REST comment and the
   `#part-` link) are mixed in: none may come back.
At the end: LOST, DUPLICATED, OUT OF ORDER and ECHOED posts (all must be 0).
"""

from __future__ import annotations

import argparse
import itertools
import json
import re
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.fakes.intercom import FakeIntercom
from tests.fakes.itop import ADMIN_TOKEN, AGENT_TOKEN, FakeItop
from tests.fakes.signing import load_example

from bench.common import (
    ACCESS_TOKEN,
    WORKSPACE,
    Service,
    count_rows,
    free_port,
    percentile,
    temporary_database,
    wait_ready,
    write_config,
)

_TOKEN = re.compile(r"bench-(\d+)-")
HISTORY_CLASS = "CMDBChangeOpSetAttribute"


@dataclass
class Ledger:
    """What the bench wrote into iTop and what reached Intercom."""

    written: dict[int, tuple[str, float]] = field(default_factory=dict)
    """sequence number -> (conversation, monotonic time the write returned)."""
    echoes: set[int] = field(default_factory=set)
    posted: dict[int, list[float]] = field(default_factory=dict)
    order: dict[str, list[int]] = field(default_factory=dict)
    seen: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def scan(self, intercom: FakeIntercom) -> None:
        now = time.monotonic()
        replies = intercom.replies
        while self.seen < len(replies):
            reply = replies[self.seen]
            self.seen += 1
            match = _TOKEN.search(str(reply.get("body") or ""))
            if match is None:
                continue
            seq = int(match.group(1))
            self.posted.setdefault(seq, []).append(now)
            self.order.setdefault(str(reply["conversation_id"]), []).append(seq)


class Writer:
    """Writes entries through iTop's REST API at a steady rate, in a thread."""

    def __init__(self, rest_url: str, tickets: dict[str, int], ledger: Ledger, rate: float):
        self.rest_url = rest_url
        self.tickets = list(tickets.items())
        self.ledger = ledger
        self.interval = 1.0 / rate
        self.stop = threading.Event()
        self.seq = 0
        self.echo_every = 0
        self.thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self.thread.start()

    def _write(
        self, client: httpx.Client, ticket: int, html: str, token: str, comment: str
    ) -> None:
        payload = {
            "operation": "core/update",
            "comment": comment,
            "class": "UserRequest",
            "key": ticket,
            "output_fields": "id",
            "fields": {"public_log": {"add_item": {"message": html, "format": "html"}}},
        }
        response = client.post(
            self.rest_url,
            data={"version": "1.4", "auth_token": token, "json_data": json.dumps(payload)},
        )
        body = response.json()
        if body.get("code") != 0:
            raise RuntimeError(f"iTop refused a bench write: {body}")

    def _run(self) -> None:
        with httpx.Client(timeout=30) as client:
            next_at = time.monotonic()
            while not self.stop.is_set():
                self.seq += 1
                seq = self.seq
                conversation, ticket = self.tickets[(seq * 7919) % len(self.tickets)]
                echo = self.echo_every > 0 and seq % self.echo_every == 0
                if echo:
                    url = (
                        f"https://app.intercom.com/a/apps/{WORKSPACE}/inbox/inbox/all/"
                        f"conversations/{conversation}#part-{seq}"
                    )
                    html = f'<p><em><a href="{url}">Intercom</a></em></p><p>bench-{seq}-echo</p>'
                    self._write(
                        client,
                        ticket,
                        html,
                        ADMIN_TOKEN,
                        f"itop-intercom: Intercom conversation {conversation}, part {seq}",
                    )
                else:
                    self._write(
                        client, ticket, f"<p>bench-{seq}-reply</p>", AGENT_TOKEN, "agent console"
                    )
                with self.ledger.lock:
                    if echo:
                        self.ledger.echoes.add(seq)
                    else:
                        self.ledger.written[seq] = (conversation, time.monotonic())
                next_at += self.interval
                self.stop.wait(max(0.0, next_at - time.monotonic()))


def history_polls(itop: FakeItop, since: int) -> tuple[int, int, int]:
    """(history queries, other core/get calls, writes) among the fake's calls after `since`."""
    polls = others = writes = 0
    for call in itop.calls[since:]:
        data = call.get("json_data") or {}
        if call.get("operation") == "core/get":
            if data.get("class") == HISTORY_CLASS:
                polls += 1
            else:
                others += 1
        elif call.get("operation") in ("core/update", "core/create"):
            writes += 1
    return polls, others, writes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--tickets", type=int, default=500)
    parser.add_argument("--per-minute", type=float, default=50.0, help="changes per minute")
    parser.add_argument("--scale", type=float, default=4.0, help="time compression factor")
    parser.add_argument("--poll", type=float, default=5.0, help="unscaled poll interval (s)")
    parser.add_argument("--load-seconds", type=float, default=30.0)
    parser.add_argument("--down", type=float, default=30.0, help="unscaled Intercom outage (s)")
    parser.add_argument("--latency", type=float, default=0.07, help="iTop answer delay (s)")
    args = parser.parse_args(argv)

    poll = args.poll / args.scale
    rate = args.per_minute * args.scale / 60.0
    down = args.down / args.scale
    itop = FakeItop(latency=args.latency)
    intercom = FakeIntercom(valid_token=ACCESS_TOKEN, workspace_id=WORKSPACE)
    example = load_example("rest_api/conversation.json")
    tickets: dict[str, int] = {}
    for i in range(args.tickets):
        conversation = str(700_000 + i)
        tickets[conversation] = itop.add_ticket(
            intercom_ref=conversation,
            intercom_url=f"https://app.intercom.com/a/apps/{WORKSPACE}/conversations/{conversation}",
            intercom_sync_activated="yes",
        )
        example["id"] = conversation
        example["conversation_parts"]["conversation_parts"] = []
        intercom.add_conversation(example)
    itop_url, stop_itop = itop.serve_in_thread(port=free_port())
    intercom_url, stop_intercom = intercom.serve_in_thread(port=free_port())
    port = free_port()
    print(
        f"bench/backsync.py — database {args.db}, {args.tickets} linked tickets, "
        f"{args.per_minute:g} changes/min; time scaled by {args.scale:g}: poll every {poll:g} s, "
        f"{rate * 60:g} writes/min, iTop answering in {args.latency * 1000:g} ms"
    )
    ledger = Ledger()
    writer = Writer(f"{itop_url}/webservices/rest.php", tickets, ledger, rate)
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
                sync={"retry_base_seconds": 0.5, "retry_max_seconds": 5.0},
            )
            text = config.read_text("utf-8").replace(
                'api_base = "http://127.0.0.1:9/"', f'api_base = "{intercom_url}/"'
            )
            config.write_text(text + f"[backsync]\npoll_seconds = {poll}\n", "utf-8")
            service = Service(["serve", "--config", str(config)], Path(tmp) / "service.log")
            service.start()
            wait_ready(f"http://127.0.0.1:{port}")
            time.sleep(2 * poll)  # the first poll sets the cursor

            # 1. idle
            mark = len(itop.calls)
            time.sleep(8 * poll)
            polls, others, writes = history_polls(itop, mark)
            print(
                f"  idle: {polls} polls, {polls + others} iTop calls: "
                f"{(polls + others) / max(polls, 1):.2f} per poll"
            )

            # 2. load
            mark = len(itop.calls)
            writer.start()
            load_end = time.monotonic() + args.load_seconds
            while time.monotonic() < load_end:
                ledger.scan(intercom)
                time.sleep(0.01)
            writer.echo_every = 5  # from now on, one write in five is one of ours
            with ledger.lock:
                measured = dict(ledger.written)
            settle = time.monotonic() + poll + 5
            while time.monotonic() < settle:
                ledger.scan(intercom)
                time.sleep(0.01)
            latencies = [
                ledger.posted[seq][0] - wrote
                for seq, (_c, wrote) in measured.items()
                if seq in ledger.posted
            ]
            polls, others, writes = history_polls(itop, mark)
            print(
                f"  load: {len(measured)} writes in {args.load_seconds:g} s, "
                f"{len(latencies)} posted; iTop write → Intercom post "
                f"p50 {percentile(latencies, 50):.2f} s, p95 {percentile(latencies, 95):.2f} s, "
                f"max {max(latencies, default=float('nan')):.2f} s "
                f"(goal p95 < {poll + 2:g} s = poll + 2 s)"
            )
            print(
                f"  load (and settle): {polls} polls, {others} more iTop reads for {writes} "
                "changed tickets: "
                f"{others / max(writes, 1):.2f} extra calls per changed ticket"
            )

            # 3. faults
            started = time.monotonic()
            intercom.down = True
            print(f"  faults: Intercom down for {down:g} s", flush=True)
            time.sleep(down)
            intercom.down = False
            intercom.rate_limit_reset_in = 1.0
            intercom.rate_limit_next = 40
            print("  faults: Intercom back, answering 429 to the next 40 calls", flush=True)
            time.sleep(3)
            intercom.latency = 0.3  # posts in flight when the kill comes
            time.sleep(poll + 1)
            in_flight = len(intercom.calls)
            service.kill()
            waiting = count_rows(
                database_url, "SELECT count(*) FROM backsync_outbox WHERE state = 'pending'"
            )
            started_rows = count_rows(
                database_url,
                "SELECT count(*) FROM backsync_outbox "
                "WHERE state = 'pending' AND started_at IS NOT NULL",
            )
            print(
                f"  faults: service killed (SIGKILL) at t={time.monotonic() - started:.1f} s "
                f"with {waiting} posts waiting, {started_rows} of them already attempted "
                f"({in_flight} Intercom calls so far); restarting",
                flush=True,
            )
            service.start()
            wait_ready(f"http://127.0.0.1:{port}")
            intercom.latency = 0.0
            time.sleep(2)
            writer.stop.set()
            writer.thread.join(timeout=30)
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                ledger.scan(intercom)
                with ledger.lock:
                    missing = [s for s in ledger.written if s not in ledger.posted]
                if not missing:
                    break
                time.sleep(0.1)
            drained = time.monotonic() - started
            time.sleep(poll + 2)  # a late duplicate would show up now
            ledger.scan(intercom)
            service.stop()
    finally:
        writer.stop.set()
        stop_itop()
        stop_intercom()

    with ledger.lock:
        written = dict(ledger.written)
        echoes = set(ledger.echoes)
    lost = [s for s in written if s not in ledger.posted]
    duplicated = [s for s, times in ledger.posted.items() if len(times) > 1]
    echoed = [s for s in echoes if s in ledger.posted]
    out_of_order = sum(
        1 for seqs in ledger.order.values() for a, b in itertools.pairwise(seqs) if b < a
    )
    print(
        f"  faults: {len(written)} replies written in all, {len(echoes)} entries of our own; "
        f"everything posted {drained:.1f} s after the outage began"
    )
    print(
        f"  LOST {len(lost)}  DUPLICATED {len(duplicated)}  OUT OF ORDER {out_of_order}  "
        f"ECHOED {len(echoed)}"
    )
    ok = not lost and not duplicated and not out_of_order and not echoed
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
