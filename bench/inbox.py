"""Latency of every Inbox screen against a slow iTop, and how many iTop calls each one makes.

    .venv/bin/python bench/inbox.py [--latency 0.07] [--rounds 20] [--store itop|local]

An agent's whole tour (Home, the ongoing list, a ticket, Link, the creation form, a choice that
re-renders it, a submit refused for a missing title, the creation, Pause, Resume) is replayed
`--rounds` times through the real app: signed Canvas Kit requests, the real signature check,
dispatch and iTop client. iTop is the in-process fake with `--latency` seconds added to every
call (70 ms: what a real iTop 3.2 takes on the lab machine, README of the transcripts); Intercom
is the in-process fake without added latency. Each screen's wall-clock latency is printed as p50
and p95, with the median number of iTop calls it made.

The one-time datamodel probe (which link store to use) and the caches warm up in a first,
unmeasured round, as they would after the first request of a running service.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
from tests.fakes.intercom import FakeIntercom
from tests.fakes.itop import ADMIN_TOKEN, FakeItop
from tests.inbox.catalog import with_service_catalog
from tests.inbox.driver import Inbox

from itop_intercom.app import create_app
from itop_intercom.logs import configure
from itop_intercom.runtime import Services, build_services
from itop_intercom.settings.model import Settings
from itop_intercom.store import db as store_db

WORKSPACE = "wsbench01"
CLIENT_SECRET = "cs-bench-7c2d9e41f0a6"
ACCESS_TOKEN = "intercom-bench-token"


def _settings(database: Path, store: str) -> Settings:
    return Settings(
        public_url="https://itop-intercom.bench",
        database={"url": f"sqlite:///{database}"},
        itop={"url": "http://itop.bench/", "token": ADMIN_TOKEN, "rest_version": "1.4"},
        intercom={
            "client_secret": CLIENT_SECRET,
            "access_token": ACCESS_TOKEN,
            "api_base": "http://intercom.bench",
        },
        workspaces={WORKSPACE: {"scope": "SELECT Person"}},
        ticket={"link_store": store},
        log_level="warning",
    )


class Recorder:
    """Per screen: latencies (seconds) and iTop calls of each request."""

    def __init__(self, fake_itop: FakeItop) -> None:
        self.fake_itop = fake_itop
        self.latency: dict[str, list[float]] = defaultdict(list)
        self.calls: dict[str, list[int]] = defaultdict(list)
        self.order: list[str] = []
        self.enabled = False

    async def measure(self, screen: str, step: Callable[[], Awaitable[Any]]) -> None:
        before = len(self.fake_itop.calls)
        started = time.perf_counter()
        await step()
        elapsed = time.perf_counter() - started
        if not self.enabled:
            return
        if screen not in self.latency:
            self.order.append(screen)
        self.latency[screen].append(elapsed)
        self.calls[screen].append(len(self.fake_itop.calls) - before)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


async def tour(
    inbox: Inbox, recorder: Recorder, person: tuple[int, str], ticket_id: int, round_no: int
) -> None:
    """One agent's path through every screen, for a contact seen for the first time."""
    inbox.conversation_id = f"9000{round_no:04d}"
    inbox.contact_email = person[1]
    m = recorder.measure
    await m("initialize (Home, new contact by email)", inbox.initialize)
    await m("ongoing list", lambda: inbox.click("home:ongoing"))
    await m("ticket detail", lambda: inbox.click(f"ticket:{ticket_id}"))
    await m("link (+ note in Intercom)", lambda: inbox.click(f"link:{ticket_id}"))
    await m("Home after Done", lambda: inbox.click("home"))
    await m("linked list", lambda: inbox.click("home:linked"))
    await m("Home (Back)", lambda: inbox.click("home"))
    await m("creation form", lambda: inbox.click("home:create"))
    await m(
        "form re-render (service chosen)",
        lambda: inbox.click("field:service_id", field__service_id="1"),
    )
    await m("submit, title missing", lambda: inbox.click("form:submit", field__title=""))
    await m(
        "create (+ history, reply)",
        lambda: inbox.click("form:submit", field__title=f"Bench ticket {round_no}"),
    )
    await m("Home after creation", lambda: inbox.click("home"))
    await m("pause", lambda: inbox.click("home:pause"))
    await m("resume", lambda: inbox.click("home:resume"))
    inbox.contact_attributes = {"itop_contact_class": "Person", "itop_contact_id": str(person[0])}
    inbox.conversation_id = f"8000{round_no:04d}"
    await m("initialize (Home, contact's iTop id)", inbox.initialize)
    inbox.contact_attributes = {}
    if inbox.screen == "error":
        raise RuntimeError("a screen answered an error canvas: " + inbox.text())


async def run(latency: float, rounds: int, store: str) -> int:
    fake_itop = with_service_catalog(
        FakeItop(instance="intercom" if store == "itop" else "vanilla")
    )
    fake_intercom = FakeIntercom(workspace_id=WORKSPACE, valid_token=ACCESS_TOKEN)
    people = [
        (
            fake_itop.add_person("Bench", f"Person {n}", f"bench.person.{n}@demo.com"),
            f"bench.person.{n}@demo.com",
        )
        for n in range(rounds + 1)
    ]
    tickets = [
        fake_itop.add_ticket(title=f"Existing ticket {n}", caller_id=people[n][0])
        for n in range(rounds + 1)
    ]
    recorder = Recorder(fake_itop)
    with tempfile.TemporaryDirectory(prefix="itop-intercom-bench-") as tmp:
        database = Path(tmp) / "bench.sqlite3"
        store_db.upgrade(f"sqlite+aiosqlite:///{database}")
        services: Services = build_services(
            _settings(database, "auto"),
            itop_transport=fake_itop.transport(),
            intercom_transport=fake_intercom.transport(),
        )
        app = create_app(services, on_shutdown_close=False)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://service") as http:
            inbox = Inbox(http, WORKSPACE, CLIENT_SECRET)
            for round_no in range(rounds + 1):
                for prefix in ("9000", "8000"):
                    conversation = {
                        "id": f"{prefix}{round_no:04d}",
                        "source": {"body": "<p>Hi</p>"},
                    }
                    fake_intercom.add_conversation(conversation)
            await tour(inbox, recorder, people[0], tickets[0], 0)  # warm-up, not measured
            fake_itop.latency = latency
            recorder.enabled = True
            for round_no in range(1, rounds + 1):
                await tour(inbox, recorder, people[round_no], tickets[round_no], round_no)
        await services.aclose()
    kind = "iTop fields" if store == "itop" else "local database"
    print(
        f"Inbox screens: {rounds} rounds, iTop fake +{latency * 1000:.0f} ms per call, "
        f"links in {kind}"
    )
    print(f"{'screen':<40} {'p50 ms':>8} {'p95 ms':>8} {'iTop calls':>11}")
    for screen in recorder.order:
        values = recorder.latency[screen]
        calls = statistics.median(recorder.calls[screen])
        print(
            f"{screen:<40} {percentile(values, 0.5) * 1000:>8.0f} "
            f"{percentile(values, 0.95) * 1000:>8.0f} {calls:>11g}"
        )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--latency", type=float, default=0.07, help="seconds added per iTop call")
    parser.add_argument("--rounds", type=int, default=20, help="measured tours of the screens")
    parser.add_argument("--store", choices=("itop", "local"), default="itop")
    args = parser.parse_args(argv)
    configure("warning", "console")
    return asyncio.run(run(args.latency, max(1, args.rounds), args.store))


if __name__ == "__main__":
    sys.exit(main())
