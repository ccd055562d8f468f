"""`check` additions: placeholders from the example settings, each workspace's scope in iTop,
the access token's permissions, and the environment variable beside every key in the fixes."""

from __future__ import annotations

from itop_intercom.ops.check_env_names import env_name_of
from tests.fakes.intercom import FakeIntercom
from tests.fakes.itop import FakeItop
from tests.ops.test_doctor import WORKSPACE, Run, failures, make_settings, only, report


async def test_a_correct_setup_checks_scope_and_permissions(
    run: Run, intercom: FakeIntercom
) -> None:
    results = await run()
    assert failures(results) == []
    assert only(results, "itop.scope_ok").title.startswith(f"Workspace {WORKSPACE}: iTop accepts")
    assert only(results, "intercom.read_conversations_ok").status == "ok"
    assert only(results, "intercom.write_conversations_ok").status == "ok"
    # The write probe went to a conversation that cannot exist, and nothing was posted.
    probes = [c for c in intercom.calls if c.method == "POST"]
    assert [c.path for c in probes] == ["/conversations/0/reply"]
    assert intercom.replies == []
    # /me once per token: the permission checks reuse the doctor's answer.
    assert sum(1 for c in intercom.calls if c.path == "/me") == 1


async def test_the_example_values_are_flagged(run: Run) -> None:
    settings = make_settings(
        public_url="https://itop-intercom.example.com",
        workspaces={"abc123de": {"scope": "SELECT Person", "client_secret": "x" * 20}},
    )
    results = await run(settings)
    placeholder = only(results, "settings.public_url_placeholder")
    assert placeholder.status == "fail"
    assert "public_url (ITOP_INTERCOM_PUBLIC_URL)" in placeholder.fix
    assert "settings.public_url_ok" not in {r.key for r in results}
    assert only(results, "settings.workspace_placeholder").status == "fail"
    status, text = report(results)
    assert status == 1
    assert "The service's public URL is the example one" in text


async def test_the_example_itop_url_is_flagged(run: Run) -> None:
    results = await run(make_settings(itop={"url": "https://itop.example.com/"}))
    flagged = only(results, "settings.itop_url_placeholder")
    assert "itop.url (ITOP_INTERCOM_ITOP__URL)" in flagged.fix


async def test_a_scope_that_is_not_valid_oql(run: Run) -> None:
    settings = make_settings(
        workspaces={
            WORKSPACE: {"scope": "SELECT Person WHERE name = 'x", "client_secret": "s" * 20}
        }
    )
    results = await run(settings)
    refused = only(results, "itop.scope_invalid")
    assert refused.status == "fail"
    assert refused.detail.startswith("iTop says: ")
    assert f"workspaces.{WORKSPACE}.scope (ITOP_INTERCOM_WORKSPACES__{WORKSPACE}__SCOPE)" in (
        refused.fix
    )


async def test_a_scope_on_an_unknown_class(run: Run) -> None:
    settings = make_settings(
        workspaces={WORKSPACE: {"scope": "SELECT Persn", "client_secret": "s" * 20}}
    )
    assert only(await run(settings), "itop.scope_invalid").status == "fail"


async def test_no_scope_check_when_the_itop_token_is_refused(run: Run) -> None:
    results = await run(make_settings(itop={"token": "not-the-token"}))
    assert "itop.scope_ok" not in {r.key for r in results}
    assert "itop.scope_invalid" not in {r.key for r in results}


async def test_a_token_that_may_not_write(run: Run, intercom: FakeIntercom) -> None:
    intercom.denied = {"write"}
    results = await run()
    missing = only(results, "intercom.write_conversations_missing")
    assert missing.status == "fail"
    assert '"Write conversations"' in missing.fix
    assert only(results, "intercom.read_conversations_ok").status == "ok"


async def test_a_token_that_may_not_read(run: Run, intercom: FakeIntercom) -> None:
    intercom.denied = {"read"}
    results = await run()
    assert only(results, "intercom.read_conversations_missing").status == "fail"
    assert only(results, "intercom.write_conversations_ok").status == "ok"


async def test_itop_only_skips_the_permissions(run: Run, itop: FakeItop) -> None:
    results = await run(itop_only=True)
    assert not any(r.key.startswith("intercom.") and "conversations" in r.key for r in results)


def test_environment_names_of_keys() -> None:
    assert env_name_of("itop.token") == "ITOP_INTERCOM_ITOP__TOKEN"
    assert env_name_of("ticket.class") == "ITOP_INTERCOM_TICKET__CLASS"
    assert env_name_of("workspaces.AbC1.client_secret") == (
        "ITOP_INTERCOM_WORKSPACES__AbC1__CLIENT_SECRET"
    )
    assert env_name_of("itop.example") is None
    assert env_name_of("itop") is None


async def test_every_fix_names_its_environment_variable(run: Run) -> None:
    results = await run(make_settings(itop={"url": None}, intercom={"access_token": None}))
    url = only(results, "settings.itop_url_missing")
    assert "itop.url (ITOP_INTERCOM_ITOP__URL)" in url.fix
    token = only(results, "settings.access_token_missing")
    assert "intercom.access_token (ITOP_INTERCOM_INTERCOM__ACCESS_TOKEN)" in token.fix
