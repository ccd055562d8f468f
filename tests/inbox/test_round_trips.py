"""iTop round trips per screen: Home at one cold and none warm, the other screens at one.

Every iTop call goes through `RoundTripCounter`: calls made at the same time count as one round
trip on the critical path. Each test runs with both link stores (the `fake_itop` fixture).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable
from typing import Any

import httpx
import pytest

from itop_intercom.app import create_app
from itop_intercom.locale import Texts
from itop_intercom.runtime import Services, build_services
from itop_intercom.settings.model import Settings
from tests.conftest import CLIENT_SECRET, WORKSPACE, SettingsFactory
from tests.fakes.intercom import FakeIntercom
from tests.fakes.itop import FakeItop
from tests.fakes.itop.rounds import RoundTripCounter, Window
from tests.fakes.signing import signed_webhook, webhook_body
from tests.inbox.conftest import register_conversation
from tests.inbox.driver import Inbox
from tests.sync.conftest import AGATHA_EMAIL, T0, WEBHOOK, user_part

AGATHA_ID = 15
T = Texts("en")


@pytest.fixture
def counter(fake_itop: FakeItop) -> RoundTripCounter:
    return RoundTripCounter(fake_itop.transport(), hold=0.03)


@pytest.fixture
async def services(
    settings: Settings, counter: RoundTripCounter, fake_intercom: FakeIntercom
) -> AsyncIterator[Services]:
    built = build_services(
        settings, itop_transport=counter, intercom_transport=fake_intercom.transport()
    )
    yield built
    await built.aclose()


@pytest.fixture
def agent(client: httpx.AsyncClient, fake_intercom: FakeIntercom) -> Inbox:
    driver = Inbox(client, WORKSPACE, CLIENT_SECRET, conversation_id="5100001")
    register_conversation(driver, fake_intercom)
    return driver


async def _warm_up_app(agent: Inbox, counter: RoundTripCounter) -> None:
    """The one-time probe of iTop's datamodel (which link store) happens on the first screen."""
    conversation, email = agent.conversation_id, agent.contact_email
    agent.conversation_id, agent.contact_email = "5199999", "someone.else@demo.com"
    await agent.initialize()
    agent.conversation_id, agent.contact_email = conversation, email
    counter.window()


async def measured(counter: RoundTripCounter, step: Awaitable[Any]) -> Window:
    """The iTop calls `step` makes (a coroutine: nothing runs before it is awaited here)."""
    window = counter.window()
    await step
    return window


async def test_home_cold_by_email_is_one_round_trip_then_warm_is_none(
    agent: Inbox, counter: RoundTripCounter, fake_itop: FakeItop
) -> None:
    fake_itop.add_ticket(title="Printer", caller_id=AGATHA_ID)
    fake_itop.add_ticket(title="VPN", caller_id=AGATHA_ID)
    await _warm_up_app(agent, counter)

    cold = await measured(counter, agent.initialize())
    assert (cold.round_trips, cold.count) == (1, 2)  # tickets (UNION + JOIN) | persons
    assert agent.component("home:ongoing")["title"] == T("home.ongoing", count=2)
    assert T("home.person_is", name="Agatha Christie") in agent.texts()

    warm = await measured(counter, agent.initialize())
    assert warm.count == 0
    assert agent.component("home:ongoing")["title"] == T("home.ongoing", count=2)
    assert T("home.person_is", name="Agatha Christie") in agent.texts()


async def test_home_cold_with_unsigned_attributes_is_one_round_trip(
    agent: Inbox, counter: RoundTripCounter, fake_itop: FakeItop, services: Services
) -> None:
    twin = fake_itop.add_person("Agatha", "Twin", AGATHA_EMAIL)
    fake_itop.add_ticket(title="Twin's", caller_id=twin)
    ticket = fake_itop.add_ticket(title="Printer", caller_id=AGATHA_ID)
    store = await services.link_store()
    await store.link(WORKSPACE, agent.conversation_id, ticket, agent_url(agent), "test")
    await _warm_up_app(agent, counter)
    # Unsigned, the attributes only pick Agatha among the persons with the contact's email.
    agent.contact_attributes = {"itop_contact_class": "Person", "itop_contact_id": "15"}

    cold = await measured(counter, agent.initialize())
    assert (cold.round_trips, cold.count) == (1, 2)  # linked UNION ongoing by email | persons
    assert agent.component("home:linked")["title"] == T("home.linked", count=1)
    assert agent.component("home:ongoing")["title"] == T("home.ongoing", count=1)
    assert T("home.person_is", name="Agatha Christie") in agent.texts()
    assert T("home.sync_active") in agent.texts()


async def test_home_cold_with_a_signed_identity_asks_nothing_by_email(
    make_settings: SettingsFactory,
    fake_itop: FakeItop,
    fake_intercom: FakeIntercom,
) -> None:
    settings = make_settings(
        workspaces={
            WORKSPACE: {
                "scope": "SELECT Person",
                "messenger_secret": "ms-test-3f9a1c7e5b2d",
                "messenger_enforced": True,
            }
        }
    )
    counter = RoundTripCounter(fake_itop.transport(), hold=0.03)
    fake_itop.add_ticket(title="Printer", caller_id=AGATHA_ID)
    services = build_services(
        settings, itop_transport=counter, intercom_transport=fake_intercom.transport()
    )
    app = create_app(services, on_shutdown_close=False)
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://service.test"
        ) as http:
            agent = Inbox(http, WORKSPACE, CLIENT_SECRET, conversation_id="5100002")
            await _warm_up_app(agent, counter)
            agent.contact_email = None

            def signed(body: dict[str, Any]) -> None:
                body["contact"]["external_id"] = f"itop-Person-{AGATHA_ID}"

            agent.hook = signed
            cold = await measured(counter, agent.initialize())
            warm = await measured(counter, agent.initialize())
    finally:
        await services.aclose()
    assert (cold.round_trips, cold.count) == (1, 2)  # ongoing by caller id | the person's name
    assert not any("email" in query for query in cold.queries())
    assert agent.component("home:ongoing")["title"] == T("home.ongoing", count=1)
    assert warm.count == 0


async def test_home_after_choosing_a_person_is_one_call(
    agent: Inbox, counter: RoundTripCounter, fake_itop: FakeItop
) -> None:
    twin = fake_itop.add_person("Agatha", "Twin", AGATHA_EMAIL)
    fake_itop.add_ticket(title="Twin's", caller_id=twin)
    await _warm_up_app(agent, counter)
    await agent.initialize()
    assert agent.component("home:ongoing")["disabled"]  # ambiguous: nothing counted
    await agent.click("home:person")

    chosen = await measured(counter, agent.click(f"person:Person-{twin}"))
    assert (chosen.round_trips, chosen.count) == (1, 2)  # the twin's tickets | the twin
    assert agent.component("home:ongoing")["title"] == T("home.ongoing", count=1)
    again = await measured(counter, agent.initialize())
    assert again.count == 0


async def test_home_stays_warm_after_link_create_pause_and_resume(
    agent: Inbox, counter: RoundTripCounter, fake_itop: FakeItop, services: Services
) -> None:
    existing = fake_itop.add_ticket(title="Printer", caller_id=AGATHA_ID)
    await _warm_up_app(agent, counter)
    await agent.initialize()
    assert agent.component("home:ongoing")["title"] == T("home.ongoing", count=1)

    await agent.click("home:ongoing")
    await agent.click(f"ticket:{existing}")
    await agent.click(f"link:{existing}")
    home = await measured(counter, agent.click("home"))
    assert home.count == 0
    assert agent.component("home:linked")["title"] == T("home.linked", count=1)
    assert T("home.sync_active") in agent.texts()

    await agent.click("home:create")
    await agent.click("form:submit", field__title="New printer", field__description="Broken")
    assert agent.screen == "created", agent.text()
    home = await measured(counter, agent.click("home"))
    assert home.count == 0
    assert agent.component("home:linked")["title"] == T("home.linked", count=2)
    assert agent.component("home:ongoing")["title"] == T("home.ongoing", count=2)

    paused = await measured(counter, agent.click("home:pause"))
    store = await services.link_store()
    # iTop fields: the two flag updates, sent together; local store: one database UPDATE.
    assert paused.round_trips == (1 if store.kind == "itop" else 0)
    assert paused.operations().count("core/get") == 0
    assert T("home.sync_paused") in agent.texts()
    linked = await store.linked(WORKSPACE, agent.conversation_id)
    assert linked.sync_state == "paused"

    resumed = await measured(counter, agent.click("home:resume"))
    assert resumed.round_trips == (1 if store.kind == "itop" else 0)
    assert T("home.sync_active") in agent.texts()
    assert (await store.linked(WORKSPACE, agent.conversation_id)).sync_state == "active"


async def test_pause_on_a_cold_home_reads_and_writes_together(
    agent: Inbox, counter: RoundTripCounter, fake_itop: FakeItop, services: Services
) -> None:
    ticket = fake_itop.add_ticket(title="Printer", caller_id=AGATHA_ID)
    store = await services.link_store()
    await store.link(WORKSPACE, agent.conversation_id, ticket, agent_url(agent), "test")
    await agent.initialize()
    services.home_cache.forget(WORKSPACE, agent.conversation_id)  # e.g. a minute later

    paused = await measured(counter, agent.click("home:pause"))
    assert paused.round_trips <= 2
    assert T("home.sync_paused") in agent.texts()
    assert (await store.linked(WORKSPACE, agent.conversation_id)).sync_state == "paused"


async def test_lists_and_detail_are_fresh_and_home_counts_at_most_a_minute_old(
    agent: Inbox, counter: RoundTripCounter, fake_itop: FakeItop, services: Services
) -> None:
    await _warm_up_app(agent, counter)
    await agent.initialize()
    assert agent.component("home:ongoing")["disabled"]
    fake_itop.add_ticket(title="Typed in iTop", caller_id=AGATHA_ID)  # a change nobody reports

    home = await measured(counter, agent.initialize())
    assert home.count == 0 and agent.component("home:ongoing")["disabled"]

    cache = services.home_cache
    now = cache.clock()
    cache.clock = lambda: now + 61  # a minute later, the counts are read again
    home = await measured(counter, agent.initialize())
    assert home.round_trips == 1
    assert agent.component("home:ongoing")["title"] == T("home.ongoing", count=1)

    listed = await measured(counter, agent.click("home:ongoing"))
    assert (listed.round_trips, listed.count) == (1, 1)
    assert "Typed in iTop" in agent.text()


async def test_every_other_screen_is_at_most_one_round_trip(
    agent: Inbox, counter: RoundTripCounter, fake_itop: FakeItop, services: Services
) -> None:
    ticket = fake_itop.add_ticket(title="Printer", caller_id=AGATHA_ID)
    await _warm_up_app(agent, counter)
    await agent.initialize()

    steps = [
        ("ongoing list", agent.click("home:ongoing")),
        ("detail", agent.click(f"ticket:{ticket}")),
        ("link", agent.click(f"link:{ticket}")),
        ("home", agent.click("home")),
        ("linked list", agent.click("home:linked")),
        ("back", agent.click("home")),
        ("form", agent.click("home:create")),
        ("submit refused", agent.click("form:submit", field__title="")),
        ("create", agent.click("form:submit", field__title="New", field__description="d")),
    ]
    rounds = {}
    for name, step in steps:
        window = await measured(counter, step)
        rounds[name] = window.round_trips
        if name == "form":
            # The form's choices (read once, then cached); the person is the one Home showed.
            assert set(window.operations()) == {"core/get"}
            assert all("Person" not in str(q) for q in window.queries())
    assert rounds == {
        "ongoing list": 1,
        "detail": 1,
        "link": 1,  # iTop fields: one conditional write; local: the read, then our database
        "home": 0,
        "linked list": 1,
        "back": 0,
        "form": 1,
        "submit refused": 0,
        "create": 1,
    }


async def test_webhook_warms_home_without_delaying_the_acknowledgement(
    client: httpx.AsyncClient,
    agent: Inbox,
    counter: RoundTripCounter,
    fake_itop: FakeItop,
    fake_intercom: FakeIntercom,
    services: Services,
) -> None:
    fake_itop.add_ticket(title="Printer", caller_id=AGATHA_ID)
    await _warm_up_app(agent, counter)
    fake_intercom.add_contact(
        {"type": "contact", "id": "c-agatha", "email": AGATHA_EMAIL, "custom_attributes": {}}
    )
    body = webhook_body(
        WORKSPACE,
        "conversation.user.replied",
        agent.conversation_id,
        [user_part("9001", "<p>Any news?</p>", T0)],
        contact_id="c-agatha",
    )
    raw, headers = signed_webhook(body, CLIENT_SECRET)
    counter.window()
    answer = await client.post(WEBHOOK, content=raw, headers=headers)
    assert answer.status_code == 200 and answer.json()["status"] == "accepted"
    await services.warmups.join()
    assert services.warmups.done == 1

    home = await measured(counter, agent.initialize())
    assert home.count == 0
    assert agent.component("home:ongoing")["title"] == T("home.ongoing", count=1)
    assert T("home.person_is", name="Agatha Christie") in agent.texts()


def agent_url(agent: Inbox) -> str:
    return f"https://app.intercom.com/a/apps/{WORKSPACE}/conversations/{agent.conversation_id}"
