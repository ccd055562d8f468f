"""Several persons with the contact's email, or none: choose, or find a ticket to link."""

from __future__ import annotations

from itop_intercom.locale import Texts
from itop_intercom.runtime import Services
from tests.fakes.intercom import FakeIntercom
from tests.fakes.itop import FakeItop
from tests.inbox.driver import Inbox


async def test_ambiguous_email_lets_the_agent_choose(
    inbox: Inbox, fake_itop: FakeItop, t: Texts
) -> None:
    fake_itop.add_ticket(caller_id=40, title="Monet's duplicate ticket")
    inbox.contact_email = "claude.monet@demo.com"
    await inbox.initialize()
    assert inbox.component("home:create")["disabled"]
    assert inbox.component("home:ongoing")["disabled"]
    item = inbox.component("home:person")
    assert item["title"] == t("home.person_ambiguous", count=2, email="claude.monet@demo.com")

    await inbox.click("home:person")
    assert inbox.screen == "person_choice"
    assert {"person:Person-6", "person:Person-40"} <= set(inbox.ids())
    assert inbox.component("person:Person-40")["title"] == "Claude Monet-Duplicate"
    assert inbox.component("person:Person-40")["subtitle"] == "Demo"

    await inbox.click("person:Person-40")
    assert inbox.screen == "home"
    assert not inbox.component("home:create")["disabled"]
    assert inbox.component("home:ongoing")["title"] == t("home.ongoing", count=1)

    # The choice is remembered for the conversation: a new Initialize knows the person.
    await inbox.initialize()
    assert "home:person" not in inbox.ids()
    await inbox.click("home:create")
    assert t("form.caller", name="Claude Monet-Duplicate", org="Demo") in inbox.texts()


async def test_no_person_explains_and_still_allows_linking(
    inbox: Inbox,
    fake_itop: FakeItop,
    fake_intercom: FakeIntercom,
    services: Services,
    t: Texts,
) -> None:
    ticket = fake_itop.add_ticket(title="Existing")
    ref = fake_itop.ticket(ticket)["ref"]
    inbox.contact_email = "nobody@nowhere.test"
    await inbox.initialize()
    assert inbox.component("home:create")["disabled"]
    assert inbox.component("home:noperson")["title"] == t(
        "home.person_unknown", email="nobody@nowhere.test"
    )

    await inbox.click("home:noperson")
    assert inbox.screen == "noperson"
    assert t("noperson.searched", email="nobody@nowhere.test") in inbox.texts()
    assert t("noperson.admin_can") in inbox.texts()

    await inbox.click("find", find="R-999999")
    assert t("find.not_found", reference="R-999999") in inbox.texts()
    assert inbox.component("find")["value"] == "R-999999"

    await inbox.click("find", find=f"  {ref} ")
    assert inbox.screen == "detail"
    assert inbox.components[0]["text"] == ref
    await inbox.click(f"link:{ticket}")
    assert inbox.screen == "link_done"
    store = await services.link_store()
    link = await store.link_of(ticket)
    assert link is not None and link.conversation_id == inbox.conversation_id
    assert len(fake_intercom.replies) == 1


async def test_find_by_id_and_back(inbox: Inbox, fake_itop: FakeItop, t: Texts) -> None:
    ticket = fake_itop.add_ticket()
    inbox.contact_email = None
    await inbox.initialize()
    assert inbox.component("home:noperson")["title"] == t("home.person_no_email")
    await inbox.click("home:noperson")
    assert t("noperson.no_email") in inbox.texts()
    await inbox.click("find", find="")
    assert t("find.empty") in inbox.texts()
    await inbox.click("find", find=str(ticket))
    assert inbox.screen == "detail"
    await inbox.click("home:noperson")
    assert inbox.screen == "noperson"
    await inbox.click("home")
    assert inbox.screen == "home"
