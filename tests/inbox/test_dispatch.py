"""iTop down, slow or refusing: a canvas with Retry, never an HTTP error to Intercom."""

from __future__ import annotations

from itop_intercom.locale import Texts
from itop_intercom.runtime import Services
from tests.fakes.itop import FakeItop
from tests.inbox.driver import Inbox


async def test_itop_down_then_retry(inbox: Inbox, fake_itop: FakeItop, t: Texts) -> None:
    fake_itop.down = True
    await inbox.initialize()
    assert inbox.screen == "error"
    assert t("error.itop_down") in inbox.texts()
    assert inbox.component("retry")["label"] == t("common.retry")
    await inbox.click("retry")
    assert inbox.screen == "error"
    fake_itop.down = False
    await inbox.click("retry")
    assert inbox.screen == "home"


async def test_itop_slow_beyond_the_budget(
    inbox: Inbox, fake_itop: FakeItop, services: Services, t: Texts
) -> None:
    fake_itop.add_ticket()
    await inbox.initialize()
    services.settings.itop.canvas_budget_seconds = 0.2
    fake_itop.latency = 0.5
    await inbox.click("home:ongoing")
    assert inbox.screen == "error"
    assert t("error.itop_slow") in inbox.texts()
    fake_itop.latency = 0
    await inbox.click("home:ongoing")  # Retry replays the click
    assert inbox.screen == "list"


async def test_itop_refusing(inbox: Inbox, fake_itop: FakeItop, t: Texts) -> None:
    fake_itop.add_ticket()
    await inbox.initialize()
    fake_itop.fail_next.append({"code": 1, "message": "Error: Invalid login"})
    await inbox.click("home:ongoing")
    assert t("error.itop_refused", message="Invalid login") in inbox.texts()
    await inbox.click("home")
    assert inbox.screen == "home"


async def test_itop_answering_html(inbox: Inbox, fake_itop: FakeItop, t: Texts) -> None:
    fake_itop.fail_next.append(502)  # one bad answer: the read is retried
    await inbox.initialize()
    assert inbox.screen == "home"
    fake_itop.http_status = 502
    inbox.conversation_id = "215470926154999"  # not seen yet: Home must ask iTop
    await inbox.initialize()
    assert t("error.itop_down") in inbox.texts()


async def test_unknown_component_goes_home(inbox: Inbox) -> None:
    await inbox.initialize()
    inbox.answer["canvas"]["content"]["components"].append(
        {"type": "button", "id": "gone:screen", "label": "x", "action": {"type": "submit"}}
    )
    await inbox.click("gone:screen")
    assert inbox.screen == "home"


async def test_malformed_arguments_are_harmless(inbox: Inbox, t: Texts) -> None:
    await inbox.initialize()
    components = inbox.answer["canvas"]["content"]["components"]
    for forged in ("ticket:abc", "link:-1", "list:ongoing:x", "person:bad id"):
        components.append(
            {"type": "button", "id": forged, "label": "x", "action": {"type": "submit"}}
        )
    saved = dict(inbox.answer)
    await inbox.click("ticket:abc")
    assert t("detail.not_found") in inbox.texts()
    inbox.answer = saved
    await inbox.click("link:-1")
    assert t("detail.not_found") in inbox.texts()
    inbox.answer = saved
    await inbox.click("list:ongoing:x")
    assert inbox.screen == "list"
    inbox.answer = saved
    await inbox.click("person:bad id")
    assert inbox.screen == "home"
