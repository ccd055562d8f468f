"""Inbox screens against an iTop-like latency model: round trips, latency, and a burst of agents.

    .venv/bin/python bench/inbox.py [--rounds 6] [--store itop|local|both]
                                    [--burst 240] [--at-once 6] [--share-cookies]

The app runs in process with the real signature check, dispatch and iTop client; iTop is the
in-process fake behind `itop_model.ItopLike` (about 80 ms a call, 4 calls served at once, the
rest queued, as a real iTop 3.2 on PHP with 4 workers); Intercom is the fake without latency.

1. The tour: an agent's path through every screen, replayed `--rounds` times for conversations
   the service has not seen, with each link store. For each screen: the iTop calls it made, the
   round trips on its critical path (calls made concurrently count once) and its latency p50 /
   p95. Home is measured cold (a conversation never seen; the person found by email, by the
   contact's iTop attributes, or by an earlier choice) and warm (opened again, Back, after an
   action, or after a webhook announced a message).
2. The burst: `--burst` Home canvases of distinct conversations, `--at-once` at a time (agents
   opening conversations together); error canvases are counted. `--share-cookies` replays it
   with a client that sends iTop's session cookie back, as the iTop client once did. The fake
   refuses every call that overlaps another of the same session, a real iTop only some (about
   1 in 10 Home canvases at 6 at once): that mode shows the mechanism, not the real rate.

The machine's load shows in the latencies (not in the round trips): say so with the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx
from tests.fakes.intercom import FakeIntercom
from tests.fakes.itop import ADMIN_TOKEN, FakeItop
from tests.fakes.itop.rounds import RoundTripCounter
from tests.fakes.signing import make_part, signed_webhook, webhook_body
from tests.inbox.catalog import with_service_catalog
from tests.inbox.driver import Inbox

from bench.itop_model import ItopLike, SharedCookies
from itop_intercom.app import create_app
from itop_intercom.logs import configure
from itop_intercom.runtime import Services, build_services
from itop_intercom.settings.model import Settings
from itop_intercom.store import db as store_db

WORKSPACE = "wsbench01"
CLIENT_SECRET = "cs-bench-7c2d9e41f0a6"
ACCESS_TOKEN = "intercom-bench-token"
STORE_LABELS = {"itop": "iTop fields", "local": "local db"}


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


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


@dataclass
class Recorder:
    """Per screen: latency (seconds), iTop calls and round trips of each request."""

    counter: RoundTripCounter
    enabled: bool = False
    latency: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    calls: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    rounds: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    order: list[str] = field(default_factory=list)

    async def measure(self, screen: str, step: Callable[[], Awaitable[Any]]) -> None:
        window = self.counter.window()
        started = time.perf_counter()
        await step()
        elapsed = time.perf_counter() - started
        if not self.enabled:
            return
        if screen not in self.latency:
            self.order.append(screen)
        self.latency[screen].append(elapsed)
        self.calls[screen].append(window.count)
        self.rounds[screen].append(window.round_trips)


@dataclass
class Environment:
    fake_itop: FakeItop
    fake_intercom: FakeIntercom
    model: ItopLike
    counter: RoundTripCounter
    services: Services
    http: httpx.AsyncClient
    people: list[tuple[int, str]]
    tickets: list[int]

    def inbox(self) -> Inbox:
        return Inbox(self.http, WORKSPACE, CLIENT_SECRET)

    def conversation(self, conversation_id: str) -> str:
        self.fake_intercom.add_conversation(
            {"id": conversation_id, "source": {"body": "<p>Hi</p>"}}
        )
        return conversation_id


@contextlib.asynccontextmanager
async def environment(
    store: str, people: int, *, share_cookies: bool = False
) -> AsyncIterator[Environment]:
    fake_itop = with_service_catalog(
        FakeItop(instance="intercom" if store == "itop" else "vanilla")
    )
    fake_intercom = FakeIntercom(workspace_id=WORKSPACE, valid_token=ACCESS_TOKEN)
    persons = [
        (
            fake_itop.add_person("Bench", f"Person {n}", f"bench.person.{n}@demo.com"),
            f"bench.person.{n}@demo.com",
        )
        for n in range(people)
    ]
    tickets = [
        fake_itop.add_ticket(title=f"Existing ticket {n}", caller_id=persons[n][0])
        for n in range(people)
    ]
    model = ItopLike(fake_itop)
    outer: httpx.AsyncBaseTransport = SharedCookies(model) if share_cookies else model
    counter = RoundTripCounter(outer, hold=0.0)
    with tempfile.TemporaryDirectory(prefix="itop-intercom-bench-") as tmp:
        database = Path(tmp) / "bench.sqlite3"
        store_db.upgrade(f"sqlite+aiosqlite:///{database}")
        services = build_services(
            _settings(database, store),
            itop_transport=counter,
            intercom_transport=fake_intercom.transport(),
        )
        app = create_app(services, on_shutdown_close=False)
        transport = httpx.ASGITransport(app=app)
        try:
            async with httpx.AsyncClient(transport=transport, base_url="http://service") as http:
                yield Environment(
                    fake_itop, fake_intercom, model, counter, services, http, persons, tickets
                )
        finally:
            await services.aclose()


# -- the tour ----------------------------------------------------------------------------------


async def tour(env: Environment, recorder: Recorder, round_no: int) -> None:
    """One agent's path through every screen, for a contact seen for the first time."""
    person_id, email = env.people[round_no]
    ticket_id = env.tickets[round_no]
    inbox = env.inbox()
    inbox.conversation_id = env.conversation(f"9000{round_no:04d}")
    inbox.contact_email = email
    m = recorder.measure
    await m("Home cold, person by email", inbox.initialize)
    await m("Home warm, opened again", inbox.initialize)
    await m("ongoing list", lambda: inbox.click("home:ongoing"))
    await m("ticket detail", lambda: inbox.click(f"ticket:{ticket_id}"))
    await m("link (+ note in Intercom)", lambda: inbox.click(f"link:{ticket_id}"))
    await m("Home warm, after link", lambda: inbox.click("home"))
    await m("linked list", lambda: inbox.click("home:linked"))
    await m("Home warm, Back", lambda: inbox.click("home"))
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
    await m("Home warm, after create", lambda: inbox.click("home"))
    await m("pause (+ Home)", lambda: inbox.click("home:pause"))
    await m("resume (+ Home)", lambda: inbox.click("home:resume"))
    inbox.contact_attributes = {"itop_contact_class": "Person", "itop_contact_id": str(person_id)}
    inbox.conversation_id = env.conversation(f"8000{round_no:04d}")
    await m("Home cold, unsigned iTop attrs", inbox.initialize)
    inbox.contact_attributes = {}
    await earlier_choice(env, recorder, round_no)
    await warmed_by_webhook(env, recorder, round_no)
    if inbox.screen == "error":
        raise RuntimeError("a screen answered an error canvas: " + inbox.text())


async def earlier_choice(env: Environment, recorder: Recorder, round_no: int) -> None:
    """Two persons share the email: the agent picks one, and Home counts that one's tickets."""
    inbox = env.inbox()
    inbox.conversation_id = env.conversation(f"7000{round_no:04d}")
    inbox.contact_email = f"bench.twins.{round_no}@demo.com"
    twin = env.fake_itop.add_person("Bench", f"Twin A{round_no}", inbox.contact_email)
    env.fake_itop.add_person("Bench", f"Twin B{round_no}", inbox.contact_email)
    await inbox.initialize()
    await inbox.click("home:person")
    await recorder.measure(
        "Home cold, earlier choice", lambda: inbox.click(f"person:Person-{twin}")
    )


async def warmed_by_webhook(env: Environment, recorder: Recorder, round_no: int) -> None:
    """A message arrives by webhook; the agent opens the conversation once it is warmed."""
    email = env.people[round_no][1]
    inbox = env.inbox()
    inbox.conversation_id = env.conversation(f"6000{round_no:04d}")
    inbox.contact_email = email
    contact_id = f"bench-contact-{round_no}"
    env.fake_intercom.add_contact(
        {"type": "contact", "id": contact_id, "email": email, "custom_attributes": {}}
    )
    part = make_part(
        f"6{round_no:05d}", "comment", "<p>Any news?</p>", 1_768_032_100, "user", email, "Bench"
    )
    body = webhook_body(
        WORKSPACE, "conversation.user.replied", inbox.conversation_id, [part], contact_id=contact_id
    )
    raw, headers = signed_webhook(body, CLIENT_SECRET)
    answer = await env.http.post("/intercom/webhooks", content=raw, headers=headers)
    if answer.status_code != 200:
        raise RuntimeError(f"webhook answered {answer.status_code}")
    await env.services.warmups.join()
    await recorder.measure("Home warm, after a webhook", inbox.initialize)


async def run_tour(store: str, rounds: int) -> Recorder:
    async with environment(store, rounds + 1) as env:
        recorder = Recorder(env.counter)
        await tour(env, recorder, 0)  # warm-up of the app, not measured
        recorder.enabled = True
        for round_no in range(1, rounds + 1):
            await tour(env, recorder, round_no)
        return recorder


# -- the burst -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Burst:
    canvases: int
    at_once: int
    errors: int
    refused_by_itop: int
    seconds: float
    p50: float
    p95: float


async def run_burst(store: str, canvases: int, at_once: int, share_cookies: bool) -> Burst:
    people = 24
    async with environment(store, people, share_cookies=share_cookies) as env:
        await _home(env, 0, "warm-up")  # the one-time datamodel probe
        gate = asyncio.Semaphore(at_once)
        latencies: list[float] = []
        errors = 0

        async def agent(number: int) -> None:
            nonlocal errors
            async with gate:
                started = time.perf_counter()
                screen = await _home(env, number % people, f"burst{number:05d}")
                latencies.append(time.perf_counter() - started)
                errors += screen != "home"

        started = time.perf_counter()
        await asyncio.gather(*(agent(n) for n in range(canvases)))
        seconds = time.perf_counter() - started
        return Burst(
            canvases,
            at_once,
            errors,
            env.fake_itop.sessions.refused,
            seconds,
            percentile(latencies, 0.5),
            percentile(latencies, 0.95),
        )


async def _home(env: Environment, person: int, conversation: str) -> str | None:
    inbox = env.inbox()
    inbox.conversation_id = env.conversation(conversation)
    inbox.contact_email = env.people[person][1]
    await inbox.initialize()
    return inbox.screen


# -- output ------------------------------------------------------------------------------------


def print_tour(results: dict[str, Recorder], rounds: int, model: str) -> None:
    print(f"Inbox screens: {rounds} rounds per link store; iTop model: {model}")
    print(
        f"{'screen':<34} {'links':<11} {'round trips':>11} {'calls':>5} {'p50 ms':>7} {'p95 ms':>7}"
    )
    for store, recorder in results.items():
        for screen in recorder.order:
            values = recorder.latency[screen]
            print(
                f"{screen:<34} {STORE_LABELS[store]:<11} "
                f"{statistics.median(recorder.rounds[screen]):>11g} "
                f"{statistics.median(recorder.calls[screen]):>5g} "
                f"{percentile(values, 0.5) * 1000:>7.0f} {percentile(values, 0.95) * 1000:>7.0f}"
            )


def print_burst(results: dict[str, Burst], share_cookies: bool) -> None:
    client = "client sharing iTop's session cookie" if share_cookies else "iTop client"
    print(f"Burst of Home canvases (distinct conversations, cold), {client}:")
    print(
        f"{'links':<11} {'canvases':>8} {'at once':>7} {'errors':>6} {'refused':>7} "
        f"{'seconds':>7} {'p50 ms':>7} {'p95 ms':>7}"
    )
    for store, burst in results.items():
        print(
            f"{STORE_LABELS[store]:<11} {burst.canvases:>8} {burst.at_once:>7} "
            f"{burst.errors:>6} {burst.refused_by_itop:>7} {burst.seconds:>7.1f} "
            f"{burst.p50 * 1000:>7.0f} {burst.p95 * 1000:>7.0f}"
        )


async def run(args: argparse.Namespace) -> int:
    stores = ["itop", "local"] if args.store == "both" else [args.store]
    model = ItopLike(FakeItop()).describe()
    if args.rounds > 0:
        tours = {store: await run_tour(store, args.rounds) for store in stores}
        print_tour(tours, args.rounds, model)
        print()
    if args.burst > 0:
        bursts = {
            store: await run_burst(store, args.burst, args.at_once, args.share_cookies)
            for store in stores
        }
        print_burst(bursts, args.share_cookies)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=6, help="measured tours per link store")
    parser.add_argument("--store", choices=("itop", "local", "both"), default="both")
    parser.add_argument("--burst", type=int, default=240, help="Home canvases in the burst")
    parser.add_argument("--at-once", type=int, default=6, help="canvases of the burst at once")
    parser.add_argument(
        "--share-cookies",
        action="store_true",
        help="replay the burst with a client that sends iTop's session cookie back",
    )
    args = parser.parse_args(argv)
    args.at_once = max(1, args.at_once)
    configure("warning", "console")
    return asyncio.run(run(args))


if __name__ == "__main__":
    sys.exit(main())
