"""Home: counts, the contact's person, the link state with Pause / Resume, and its speed."""

from __future__ import annotations

import time

from itop_intercom.locale import Texts
from itop_intercom.runtime import Services
from tests.fakes.itop import FakeItop
from tests.fakes.signing import canvas_initialize_body, signed_canvas
from tests.inbox import canvas_rules
from tests.inbox.driver import Inbox

AGATHA = {"itop_contact_class": "Person", "itop_contact_id": "15"}


async def test_home_without_links(inbox: Inbox, t: Texts) -> None:
    await inbox.initialize()
    assert inbox.screen == "home"
    assert inbox.component("home:create")["title"] == t("home.create")
    assert not inbox.component("home:create")["disabled"]
    assert inbox.component("home:linked")["disabled"]
    assert inbox.component("home:ongoing")["disabled"]
    assert t("home.person_is", name="Agatha Christie") in inbox.texts()
    assert t("home.no_link") in inbox.texts()
    assert "home:pause" not in inbox.ids() and "home:resume" not in inbox.ids()


async def test_home_counts_and_pause_resume(
    inbox: Inbox, fake_itop: FakeItop, services: Services, t: Texts
) -> None:
    ours = fake_itop.add_ticket(title="Printer")
    fake_itop.add_ticket(title="Other")  # ongoing for Agatha, not linked
    store = await services.link_store()
    await store.link(inbox.workspace, inbox.conversation_id, ours, "https://x.test", "test")
    await inbox.initialize()
    assert inbox.component("home:linked")["title"] == t("home.linked", count=1)
    assert inbox.component("home:ongoing")["title"] == t("home.ongoing", count=2)
    assert t("home.sync_active") in inbox.texts()

    await inbox.click("home:pause")
    assert t("home.sync_paused") in inbox.texts()
    linked = await store.linked(inbox.workspace, inbox.conversation_id)
    assert linked.sync_state == "paused"

    await inbox.click("home:resume")
    assert t("home.sync_active") in inbox.texts()
    linked = await store.linked(inbox.workspace, inbox.conversation_id)
    assert linked.sync_state == "active"


async def test_partial_sync_warns_and_offers_resume(
    inbox: Inbox, fake_itop: FakeItop, services: Services, t: Texts
) -> None:
    store = await services.link_store()
    first, second = fake_itop.add_ticket(), fake_itop.add_ticket()
    for ticket in (first, second):
        await store.link(inbox.workspace, inbox.conversation_id, ticket, "https://x.test", "t")
    await store.set_sync(inbox.workspace, inbox.conversation_id, False)
    await store.link(inbox.workspace, inbox.conversation_id, second, "https://x.test", "t")
    await inbox.initialize()
    assert t("home.sync_partial") in inbox.texts()
    await inbox.click("home:resume")
    assert t("home.sync_active") in inbox.texts()


async def test_counts_are_capped(inbox: Inbox, fake_itop: FakeItop, t: Texts) -> None:
    for _ in range(31):
        fake_itop.add_ticket()
    await inbox.initialize()
    assert inbox.component("home:ongoing")["title"] == t("home.ongoing_more", count=30)


async def test_home_answers_in_two_round_trips(
    inbox: Inbox, fake_itop: FakeItop, services: Services
) -> None:
    await services.link_store()  # the one-time datamodel probe is not part of a Home
    fake_itop.latency = 0.15
    for attributes in ({}, AGATHA):
        inbox.contact_attributes = attributes
        started = time.perf_counter()
        await inbox.initialize()
        elapsed = time.perf_counter() - started
        assert elapsed < 3 * 0.15, f"{elapsed:.2f} s: more than two round trips"


async def test_email_finds_the_person(inbox: Inbox, fake_itop: FakeItop, t: Texts) -> None:
    inbox.contact_email = "AGATHA.christie@demo.com"
    await inbox.initialize()
    assert not inbox.component("home:create")["disabled"]
    assert t("home.person_is", name="Agatha Christie") in inbox.texts()
    person_queries = [
        c for c in fake_itop.calls if "SELECT Person" in str((c.get("json_data") or {}).get("key"))
    ]
    assert person_queries


async def test_unsigned_attributes_alone_find_nobody(inbox: Inbox) -> None:
    # Anyone can set these attributes from a browser: without the contact's email to confirm
    # them (and without Messenger security), they do not name a person.
    inbox.contact_attributes = AGATHA
    inbox.contact_email = None
    await inbox.initialize()
    assert inbox.component("home:create")["disabled"]


async def test_older_payloads_call_the_contact_customer(inbox: Inbox, t: Texts) -> None:
    body = canvas_initialize_body(
        inbox.workspace,
        conversation_id=inbox.conversation_id,
        contact_email="agatha.christie@demo.com",
        use_customer_key=True,
    )
    raw, headers = signed_canvas(body, inbox.secret)
    response = await inbox.http.post("/intercom/canvas/initialize", content=raw, headers=headers)
    answer = response.json()
    canvas_rules.check(answer, first=True, screen="home")
    assert t("home.person_is", name="Agatha Christie") in str(answer)
