"""Creating a ticket: validation without iTop, iTop's refusals, the create call, the history,
the reply, and what happens when something after the create call fails or is slow."""

from __future__ import annotations

from typing import Any

import pytest

from itop_intercom.locale import Texts
from itop_intercom.runtime import Services
from itop_intercom.sync.worker import Worker
from tests.fakes.intercom import FakeIntercom
from tests.fakes.itop import Failure, FakeItop
from tests.fakes.signing import make_part
from tests.inbox.conftest import register_conversation
from tests.inbox.driver import Inbox
from tests.waiting import eventually

T0 = 1_767_000_000


def conversation_parts(fake_intercom: FakeIntercom) -> list[dict[str, Any]]:
    screenshot = fake_intercom.add_attachment(
        "screenshot.png", b"\x89PNG fake image", content_type="image/png"
    )
    attachment = {
        "type": "upload",
        "name": "screenshot.png",
        "url": screenshot,
        "content_type": "image/png",
        "filesize": 15,
    }
    return [
        make_part(
            "11",
            "comment",
            "<p>It still fails.</p>",
            T0 + 60,
            "user",
            "agatha.christie@demo.com",
            "Agatha Christie",
            [attachment],
        ),
        make_part("12", "comment", "<p>Automatic answer</p>", T0 + 61, "bot", None, "Fin"),
        make_part(
            "13",
            "note",
            "<p>Probably the driver.</p>",
            T0 + 120,
            "admin",
            "victor.hugo@it.com",
            "Victor Hugo",
        ),
        make_part(
            "14",
            "assignment",
            "<p>Over to level 2</p>",
            T0 + 180,
            "admin",
            "victor.hugo@it.com",
            "Victor Hugo",
        ),
        make_part("15", "close", None, T0 + 240, "admin", "victor.hugo@it.com", "Victor Hugo"),
    ]


async def _form(inbox: Inbox) -> None:
    await inbox.initialize()
    await inbox.click("home:create")


async def test_create_ticket_end_to_end(
    inbox: Inbox,
    fake_itop: FakeItop,
    fake_intercom: FakeIntercom,
    services: Services,
    store_kind: str,
    t: Texts,
) -> None:
    inbox.parts = conversation_parts(fake_intercom)
    inbox.subject = "Printer"
    register_conversation(inbox, fake_intercom)
    await _form(inbox)
    await inbox.click("field:service_id", field__service_id="1", field__urgency="2")
    await inbox.click(
        "form:submit",
        field__description="Line 1\nLine <2>",
        field__servicesubcategory_id="2",
        field__impact="3",
    )
    assert inbox.screen == "created"
    ticket_id = inbox.stored["ticket"]
    ticket = fake_itop.ticket(ticket_id)
    assert t("created.title", ref=ticket["ref"]) in inbox.texts()
    assert t("created.reply_posted") in inbox.texts()
    assert ticket["org_id"] == "3" and ticket["caller_id"] == "15"
    assert ticket["title"] == "Printer"
    assert ticket["description"] == "<p>Line 1<br>Line &lt;2&gt;</p>"
    assert (ticket["urgency"], ticket["impact"]) == ("2", "3")
    assert (ticket["service_id"], ticket["servicesubcategory_id"]) == ("1", "2")
    assert ticket["origin"] == "chat"
    store = await services.link_store()
    link = await store.link_of(ticket_id)
    assert link is not None and link.conversation_id == inbox.conversation_id
    assert link.sync_enabled
    if store_kind == "itop":
        assert ticket["intercom_ref"] == inbox.conversation_id
        assert ticket["intercom_sync_activated"] == "yes"
    creates = [c for c in fake_itop.calls if c["operation"] == "core/create"]
    assert len(creates) == 1

    [reply] = fake_intercom.replies
    assert reply["message_type"] == "comment"
    assert f"object/view/UserRequest/{ticket_id}" in reply["body"]
    assert ticket["ref"] in reply["body"]

    # The history reaches the ticket through the sync worker.
    await Worker(services).run_once()
    public = fake_itop.log_entries(ticket_id, "public_log")
    private = fake_itop.log_entries(ticket_id, "private_log")
    public_text = "\n".join(e["message"] for e in public)
    assert "My laptop does not start" in public_text  # the opening message
    assert "It still fails." in public_text and "Over to level 2" in public_text
    assert "Automatic answer" not in public_text  # bot part skipped
    assert [e["message"].split("\n")[-1] for e in private] == ["Probably the driver."]
    assert any(e["user_login"] == "Agatha Christie" for e in public)  # on behalf, by email
    assert [a["filename"] for a in fake_itop.attachments(ticket_id)] == ["screenshot.png"]

    await inbox.click("home")
    assert inbox.component("home:linked")["title"] == t("home.linked", count=1)


async def test_missing_mandatory_values_need_no_itop_call(
    inbox: Inbox, fake_itop: FakeItop, t: Texts
) -> None:
    await _form(inbox)
    await inbox.click("field:service_id", field__service_id="2")
    calls = len(fake_itop.calls)
    await inbox.click("form:submit", field__title="  ", field__description="Kept text")
    assert len(fake_itop.calls) == calls
    assert inbox.screen == "form"
    assert t("form.fix_errors") in inbox.texts()
    assert t("form.required", label=t("attr.title")) in inbox.texts()
    assert inbox.component("field:description")["value"] == "Kept text"
    assert inbox.component("field:service_id")["value"] == "2"
    assert inbox.options("field:servicesubcategory_id")[1:] == [("4", "Licence request")]

    await inbox.click("form:submit", field__title="x" * 300)
    assert t("form.too_long", label=t("attr.title"), max=255) in inbox.texts()
    await inbox.click("form:submit", field__title="Now fine", field__description="")
    assert t("form.required", label=t("attr.description")) in inbox.texts()
    assert inbox.component("field:description")["error"] is True
    assert len(fake_itop.calls) == calls


async def test_itop_refusal_is_explained_and_values_kept(
    inbox: Inbox, fake_itop: FakeItop, fake_intercom: FakeIntercom, t: Texts
) -> None:
    await _form(inbox)
    fake_itop.fail_next.append(
        {
            "code": 100,
            "message": "Error: Unexpected value for attribute 'Urgency' (urgency) : Value not "
            "allowed [2]: issues = {0=>Unexpected value for attribute 'Urgency' (urgency) : "
            "Value not allowed [2]}, class = UserRequest, id = -1",
        }
    )
    await inbox.click("form:submit", field__title="Refused once", field__urgency="2")
    assert inbox.screen == "form"
    message = t("refusal.not_allowed", label=t("attr.urgency"), value="2")
    assert message in inbox.texts()
    assert inbox.component("field:title")["value"] == "Refused once"
    assert fake_intercom.replies == []

    # The same form may be sent again once corrected.
    await inbox.click("form:submit", field__urgency="3")
    assert inbox.screen == "created"
    assert fake_itop.ticket(inbox.stored["ticket"])["urgency"] == "3"


async def test_origin_falls_back_when_itop_has_no_chat(
    inbox: Inbox, fake_itop: FakeItop, services: Services
) -> None:
    services.settings.ticket.origin_fallback = "portal"
    refusal = (
        "Error: Unexpected value for attribute 'Origin' (origin) : Value not allowed [chat]: "
        "issues = {0=>Unexpected value for attribute 'Origin' (origin) : Value not allowed "
        "[chat]}, class = UserRequest, id = -1"
    )
    await _form(inbox)
    fake_itop.fail_next.append({"code": 100, "message": refusal})
    await inbox.click("form:submit")
    assert inbox.screen == "created"
    assert fake_itop.ticket(inbox.stored["ticket"])["origin"] == "portal"
    # Remembered: the next ticket is created at once with the fallback.
    await _form(inbox)
    await inbox.click("form:submit")
    created = [c for c in fake_itop.calls if c["operation"] == "core/create"]
    assert created[-1]["json_data"]["fields"]["origin"] == "portal"
    assert len(created) == 3


@pytest.mark.parametrize("failure", ["down", "500"])
async def test_reply_is_retried_in_the_background(
    inbox: Inbox,
    fake_itop: FakeItop,
    fake_intercom: FakeIntercom,
    services: Services,
    failure: str,
    t: Texts,
) -> None:
    await _form(inbox)
    if failure == "down":
        fake_intercom.down = True
    else:
        fake_intercom.fail_status = 500
    await inbox.click("form:submit")
    assert inbox.screen == "created"
    assert t("created.reply_later") in inbox.texts()
    assert fake_intercom.replies == []
    fake_intercom.down = False
    fake_intercom.fail_status = None
    await Worker(services).run_once()
    await Worker(services).run_once()
    assert [r["message_type"] for r in fake_intercom.replies] == ["comment"]


async def test_whole_conversation_is_read_when_the_payload_lacks_parts(
    inbox: Inbox, fake_itop: FakeItop, fake_intercom: FakeIntercom, services: Services
) -> None:
    inbox.parts = conversation_parts(fake_intercom)
    register_conversation(inbox, fake_intercom)

    def truncate(body: dict[str, Any]) -> None:
        listed = body["conversation"]["conversation_parts"]
        listed["conversation_parts"] = listed["conversation_parts"][:1]

    inbox.hook = truncate
    await _form(inbox)
    await inbox.click("form:submit")
    assert any(
        c.path.endswith(f"/conversations/{inbox.conversation_id}")
        for c in fake_intercom.calls
        if c.method == "GET"
    )
    await Worker(services).run_once()
    public = "\n".join(e["message"] for e in fake_itop.log_entries(inbox.stored["ticket"]))
    assert "Over to level 2" in public


async def test_history_is_copied_later_when_intercom_cannot_give_it(
    inbox: Inbox,
    fake_itop: FakeItop,
    fake_intercom: FakeIntercom,
    services: Services,
    t: Texts,
) -> None:
    inbox.parts = conversation_parts(fake_intercom)
    register_conversation(inbox, fake_intercom)

    def drop_parts(body: dict[str, Any]) -> None:
        body["conversation"].pop("conversation_parts")

    inbox.hook = drop_parts
    await _form(inbox)
    fake_intercom.down = True
    await inbox.click("form:submit")
    assert inbox.screen == "created"
    assert t("created.history_later") in inbox.texts()
    ticket_id = inbox.stored["ticket"]
    fake_intercom.down = False
    for _ in range(3):
        await Worker(services).run_once()
    public = "\n".join(e["message"] for e in fake_itop.log_entries(ticket_id))
    assert "My laptop does not start" in public and "Over to level 2" in public
    assert len([r for r in fake_intercom.replies if r["message_type"] == "comment"]) == 1


async def test_slow_itop_never_creates_two_tickets(
    inbox: Inbox,
    fake_itop: FakeItop,
    fake_intercom: FakeIntercom,
    services: Services,
    t: Texts,
) -> None:
    await _form(inbox)
    services.settings.itop.canvas_budget_seconds = 0.3
    fake_itop.latency = 0.5
    await inbox.click("form:submit", field__title="Slow one")
    assert inbox.screen == "error"
    assert t("error.itop_slow") in inbox.texts()
    # The creation goes on in the background, to its end: the reply to the end user.
    await eventually(lambda: len(fake_intercom.replies) == 1)
    fake_itop.latency = 0
    await inbox.click("form:submit")  # Retry
    assert inbox.screen == "created"
    creates = [c for c in fake_itop.calls if c["operation"] == "core/create"]
    assert len(creates) == 1
    assert len(fake_intercom.replies) == 1


@pytest.mark.parametrize("lost_answer", ["timeout_after", "disconnect_after"])
async def test_create_that_timed_out_is_recognised_on_retry(
    inbox: Inbox,
    fake_itop: FakeItop,
    fake_intercom: FakeIntercom,
    services: Services,
    lost_answer: Failure,
) -> None:
    await _form(inbox)
    fake_itop.fail_next.append(lost_answer)  # iTop created it, the answer was lost
    await inbox.click("form:submit", field__title="Created, answer lost")
    assert inbox.screen == "error"
    await inbox.click("form:submit")  # Retry
    assert inbox.screen == "created"
    creates = [c for c in fake_itop.calls if c["operation"] == "core/create"]
    assert len(creates) == 1
    store = await services.link_store()
    link = await store.link_of(inbox.stored["ticket"])
    assert link is not None and link.conversation_id == inbox.conversation_id
    assert len(fake_intercom.replies) == 1


async def test_itop_down_at_submit_keeps_the_form_for_retry(
    inbox: Inbox, fake_itop: FakeItop, t: Texts
) -> None:
    await _form(inbox)
    fake_itop.down = True
    await inbox.click("form:submit", field__title="Kept through the error")
    assert inbox.screen == "error"
    assert t("error.itop_down") in inbox.texts()
    await inbox.click("form:submit")  # Retry, still down
    assert inbox.screen == "error"
    fake_itop.down = False
    await inbox.click("form:submit")
    assert inbox.screen == "created"
    assert fake_itop.ticket(inbox.stored["ticket"])["title"] == "Kept through the error"


async def test_an_older_ticket_with_the_same_title_is_not_taken_for_the_lost_one(
    inbox: Inbox, fake_itop: FakeItop, services: Services
) -> None:
    store = await services.link_store()
    if store.kind != "itop":
        pytest.skip("only the iTop link store can tell (see LinkStore.may_be_created_for)")
    older = fake_itop.add_ticket(title="Printer broken", caller_id=15, org_id=3, status="new")
    await _form(inbox)
    fake_itop.fail_next.append("timeout_before")  # never reached iTop
    await inbox.click("form:submit", field__title="Printer broken")
    assert inbox.screen == "error"
    await inbox.click("form:submit")  # Retry
    assert inbox.screen == "created"
    assert inbox.stored["ticket"] != older
    assert await store.link_of(older) is None
