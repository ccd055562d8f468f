from tests.inbox.driver import Inbox
from tests.fakes.intercom import FakeIntercom
from tests.fakes.itop import FakeItop
from itop_intercom.runtime import Services
from itop_intercom.sync.worker import Worker


async def test_home(inbox: Inbox, fake_itop: FakeItop, fake_intercom: FakeIntercom, services: Services) -> None:
    await inbox.initialize()
    await inbox.click("home:create")
    await inbox.click("field:service_id", field__service_id="1")
    print(inbox.text())
    await inbox.click("form:submit", field__servicesubcategory_id="2")
    print(inbox.text())
    print(fake_intercom.replies)
    print(await Worker(services).run_once())
    tid = inbox.stored["ticket"]
    print(fake_itop.ticket(tid))
    print(fake_itop.log_entries(tid))
    await inbox.click("home")
    print(inbox.text())
    await inbox.click("home:linked")
    print(inbox.text())
    await inbox.click(f"ticket:{tid}")
    print(inbox.text())
