"""`check` says whether the token user may read iTop's change history (back-sync)."""

from __future__ import annotations

from itop_intercom.itop.client import ItopClient
from itop_intercom.ops.doctor import CheckResult
from itop_intercom.ops.doctor.backsync import history_access
from tests.conftest import SettingsFactory
from tests.fakes.itop import ADMIN_TOKEN, AGENT_TOKEN, FakeItop

REST_URL = "http://itop.test/webservices/rest.php"


async def _result(
    fake_itop: FakeItop, token: str, make_settings: SettingsFactory, **kw: object
) -> CheckResult:
    async with ItopClient(REST_URL, token, transport=fake_itop.transport()) as client:
        return await history_access(client, make_settings(**kw))


async def test_administrator_token_may_read_the_history(
    fake_itop: FakeItop, make_settings: SettingsFactory
) -> None:
    result = await _result(fake_itop, ADMIN_TOKEN, make_settings)
    assert (result.status, result.key) == ("ok", "backsync.history_ok")


async def test_agent_token_is_refused_and_told_how_to_fix_it(
    fake_itop: FakeItop, make_settings: SettingsFactory
) -> None:
    result = await _result(fake_itop, AGENT_TOKEN, make_settings)
    assert (result.status, result.key) == ("fail", "backsync.history_denied")
    assert result.blocking
    assert "Administrator profile" in result.fix
    assert "backsync.enabled = false" in result.fix


async def test_nothing_is_asked_when_back_sync_is_off(
    fake_itop: FakeItop, make_settings: SettingsFactory
) -> None:
    result = await _result(fake_itop, AGENT_TOKEN, make_settings, backsync={"enabled": False})
    assert (result.status, result.key) == ("skip", "backsync.off")
    assert fake_itop.calls == []
