"""ItopClient against the fake iTop: typed errors, retries, paging, quoting, secrecy."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from typing import Any

import pytest

from itop_intercom.itop.client import ItopClient
from itop_intercom.itop.errors import (
    ItopApiError,
    ItopAuthError,
    ItopError,
    ItopHttpError,
    ItopNotRestEndpoint,
    ItopTimeout,
    ItopUnreachable,
)
from itop_intercom.itop.oql import quote
from tests.fakes.itop import ADMIN_TOKEN, AGENT_TOKEN, NO_REST_TOKEN, FakeItop

REST_URL = "http://itop.test/webservices/rest.php"
NEW_TICKET = {"org_id": 3, "caller_id": 15, "title": "Printer", "description": "<p>Broken</p>"}


@pytest.fixture
def fake() -> FakeItop:
    return FakeItop()


@pytest.fixture(autouse=True)
def _fast_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    # the client sleeps 0.1 * 2**attempt * (0.5 + random()) between retries
    monkeypatch.setattr(random, "random", lambda: 0.0)


def make_client(fake: FakeItop, token: str = ADMIN_TOKEN, **options: Any) -> ItopClient:
    return ItopClient(rest_url=REST_URL, token=token, transport=fake.transport(), **options)


@pytest.fixture
async def client(fake: FakeItop) -> AsyncIterator[ItopClient]:
    async with make_client(fake) as itop:
        yield itop


def operations(fake: FakeItop) -> list[Any]:
    return [call["operation"] for call in fake.calls]


# -- happy paths ---------------------------------------------------------------------------------


async def test_list_operations(client: ItopClient, fake: FakeItop) -> None:
    verbs = await client.list_operations()
    assert "core/get" in verbs and len(verbs) == 7
    assert fake.calls[0]["version"] == "1.3"
    assert fake.calls[0]["user"] == "intercom_sync_app"


async def test_create_update_and_read_back(client: ItopClient, fake: FakeItop) -> None:
    created = await client.create("UserRequest", NEW_TICKET, "id,ref,status")
    assert (created.class_, created.id, created.get("ref")) == ("UserRequest", 1, "R-000001")
    updated = await client.update(
        "UserRequest",
        created.id,
        {"public_log": {"add_item": {"message": "<p>Hi</p>", "user_id": 4, "date": "2024-05-01"}}},
        "id,public_log",
    )
    [entry] = updated.fields["public_log"]["entries"]
    assert entry["user_login"] == "Agatha Christie"
    assert fake.log_entries(created.id)[0]["date"] == "2024-05-01 00:00:00"
    assert [c["json_data"]["comment"] for c in fake.calls] == ["itop-intercom", "itop-intercom"]


async def test_total_comes_from_found(client: ItopClient, fake: FakeItop) -> None:
    for _ in range(5):
        fake.add_ticket()
    page = await client.get("UserRequest", "SELECT UserRequest", "id,ref", limit=2, page=2)
    assert page.total == 5
    assert [o.get("ref") for o in page.objects] == ["R-000003", "R-000002"]
    empty = await client.get("UserRequest", {"title": "nothing like this"})
    assert (empty.objects, empty.total) == ([], 0)


async def test_quote_makes_an_apostrophe_email_work(client: ItopClient) -> None:
    email = "conan.o'brien@demo.com"
    found = await client.get("Person", f"SELECT Person WHERE email = {quote(email)}")
    assert [p.get("friendlyname") for p in found.objects] == ["Conan O'Brien"]
    with pytest.raises(ItopApiError) as raw:
        await client.get("Person", f"SELECT Person WHERE email = '{email}'")
    assert raw.value.code == 100
    assert "OQLParserSyntaxErrorException" in raw.value.message


# -- typed errors --------------------------------------------------------------------------------


async def test_wrong_token_is_an_auth_error(fake: FakeItop) -> None:
    async with make_client(fake, token="not-a-token") as itop:
        with pytest.raises(ItopAuthError) as caught:
            await itop.list_operations()
    assert caught.value.code == 1
    assert caught.value.message == "Error: Invalid login"
    assert caught.value.is_invalid_login and not caught.value.transient
    assert len(fake.calls) == 1


async def test_rest_token_not_allowed(client: ItopClient, fake: FakeItop) -> None:
    fake.rest_token_allowed = False
    with pytest.raises(ItopAuthError) as caught:
        await client.list_operations()
    assert caught.value.is_invalid_login


async def test_missing_rest_profile(fake: FakeItop) -> None:
    async with make_client(fake, token=NO_REST_TOKEN) as itop:
        with pytest.raises(ItopAuthError) as caught:
            await itop.list_operations()
    assert caught.value.is_missing_rest_profile


async def test_missing_rights_is_an_auth_error(fake: FakeItop) -> None:
    async with make_client(fake, token=AGENT_TOKEN) as itop:
        with pytest.raises(ItopAuthError) as caught:
            await itop.get("User", "SELECT User WHERE contactid = 15")
    assert caught.value.message == (
        "The current user does not have enough permissions for reading data of class User"
    )
    assert not caught.value.is_invalid_login


async def test_api_error_carries_code_and_message(client: ItopClient, fake: FakeItop) -> None:
    with pytest.raises(ItopApiError) as caught:
        await client.create("UserRequest", {**NEW_TICKET, "urgency": "9"})
    assert not isinstance(caught.value, ItopAuthError)
    assert caught.value.code == 100
    assert caught.value.message.startswith(
        "Error: Unexpected value for attribute 'Urgency' (urgency) : Value not allowed [9]"
    )
    assert caught.value.operation == "core/create"
    assert len(fake.calls) == 1  # never retried


async def test_unknown_attribute_on_vanilla() -> None:
    fake = FakeItop(instance="vanilla")
    async with make_client(fake) as itop:
        with pytest.raises(ItopApiError) as caught:
            await itop.get("UserRequest", {"intercom_ref": "215470926154826"})
    assert (caught.value.code, caught.value.message) == (
        100,
        "Error: intercom_ref: Unknown attribute",
    )


async def test_html_page_is_not_a_rest_endpoint(client: ItopClient, fake: FakeItop) -> None:
    fake.not_rest = True
    with pytest.raises(ItopNotRestEndpoint) as caught:
        await client.list_operations()
    assert caught.value.body_excerpt.startswith("<!DOCTYPE html>")
    assert len(fake.calls) == 1


async def test_plain_text_login_mode_probe(client: ItopClient) -> None:
    with pytest.raises(ItopNotRestEndpoint) as caught:
        await client.call(
            {"operation": "list_operations"},
            extra_params={"login_mode": "rest-token"},
            send_token=False,
        )
    assert caught.value.body_excerpt == "login_mode 'rest-token' forced without any token passed"


async def test_http_500_is_a_transient_http_error_and_reads_are_retried(fake: FakeItop) -> None:
    fake.http_status = 500
    async with make_client(fake, read_retries=2) as itop:
        with pytest.raises(ItopHttpError) as caught:
            await itop.get("Person", 15)
    assert caught.value.status_code == 500 and caught.value.transient
    assert operations(fake) == ["core/get"] * 3


async def test_read_recovers_after_one_transient_failure(
    client: ItopClient, fake: FakeItop
) -> None:
    fake.fail_next = [503]
    found = await client.get("Person", {"email": "agatha.christie@demo.com"})
    assert found.objects[0].id == 15
    assert [c["injected"] for c in fake.calls] == [503, None]


async def test_unreachable_when_down(fake: FakeItop) -> None:
    fake.down = True
    async with make_client(fake, read_retries=1) as itop:
        with pytest.raises(ItopUnreachable) as caught:
            await itop.get("Person", 15)
    assert caught.value.transient and not caught.value.request_sent
    assert fake.calls == []


async def test_timeout_when_slower_than_the_client(fake: FakeItop) -> None:
    fake.latency = 0.5
    async with make_client(fake, timeout=0.05, read_retries=1) as itop:
        with pytest.raises(ItopTimeout) as caught:
            await itop.get("Person", 15)
    assert caught.value.transient
    assert operations(fake) == ["core/get", "core/get"]  # reads are retried


# -- writes are never repeated when they may have reached iTop ----------------------------------


async def test_write_not_retried_after_a_timeout(fake: FakeItop) -> None:
    fake.latency = 0.5
    async with make_client(fake, timeout=0.05, read_retries=3) as itop:
        with pytest.raises(ItopTimeout):
            await itop.create("UserRequest", NEW_TICKET)
    assert operations(fake) == ["core/create"]
    assert fake.ticket(1)["title"] == "Printer"  # iTop applied it: a retry would duplicate it


async def test_write_not_retried_after_http_500(client: ItopClient, fake: FakeItop) -> None:
    fake.fail_next = [500]
    with pytest.raises(ItopHttpError):
        await client.update("UserRequest", fake.add_ticket(), {"title": "x"})
    assert operations(fake) == ["core/update"]


async def test_write_not_retried_after_a_disconnect(client: ItopClient, fake: FakeItop) -> None:
    fake.fail_next = ["disconnect_after"]
    with pytest.raises(ItopUnreachable) as caught:
        await client.create("UserRequest", NEW_TICKET)
    assert caught.value.request_sent
    assert operations(fake) == ["core/create"]
    assert [fake.ticket(1)["ref"]] == ["R-000001"]
    with pytest.raises(KeyError):
        fake.ticket(2)


async def test_write_retried_when_never_sent(client: ItopClient, fake: FakeItop) -> None:
    fake.fail_next = ["connect_error"]
    created = await client.create("UserRequest", NEW_TICKET)
    assert created.id == 1
    assert operations(fake) == ["core/create"]  # the first attempt never reached iTop


# -- the token stays secret ---------------------------------------------------------------------

SECRET = "Zm9vYmFyLXNlY3JldC10b2tlbi12YWx1ZQ=="


async def _failures(fake: FakeItop) -> list[ItopError]:
    caught: list[ItopError] = []

    async def attempt(itop: ItopClient) -> None:
        try:
            await itop.get("Person", 15)
        except ItopError as exc:
            caught.append(exc)

    async with make_client(fake, token=SECRET, read_retries=0, timeout=0.05) as itop:
        await attempt(itop)  # invalid login
        fake.add_user(
            "secret_app", 0, ["Administrator", "REST Services User"], "UserToken", token=SECRET
        )
        for setup in ("down", "http", "not_rest", "slow", "api"):
            fake.down = setup == "down"
            fake.http_status = 502 if setup == "http" else None
            fake.not_rest = setup == "not_rest"
            fake.latency = 0.5 if setup == "slow" else 0.0
            if setup == "api":
                try:
                    await itop.create("UserRequest", {**NEW_TICKET, "origin": "whatsapp"})
                except ItopError as exc:
                    caught.append(exc)
                continue
            await attempt(itop)
    return caught


async def test_token_never_appears_in_errors(fake: FakeItop) -> None:
    caught = await _failures(fake)
    kinds = {type(exc) for exc in caught}
    assert ItopApiError in kinds
    assert {
        ItopAuthError,
        ItopUnreachable,
        ItopHttpError,
        ItopNotRestEndpoint,
        ItopTimeout,
    } <= kinds
    for exc in caught:
        texts = [str(exc), repr(exc), exc.message, str(getattr(exc, "body_excerpt", ""))]
        assert all(SECRET not in text for text in texts), exc
        assert all(ADMIN_TOKEN not in text for text in texts), exc


async def test_token_not_in_client_repr(fake: FakeItop) -> None:
    async with make_client(fake, token=SECRET) as itop:
        assert SECRET not in repr(itop)
        assert SECRET not in str(vars(itop).get("rest_url", ""))


def test_which_failures_may_have_reached_itop() -> None:
    from itop_intercom.itop.errors import (
        ItopApiError,
        ItopHttpError,
        ItopTimeout,
        ItopUnreachable,
        may_have_been_applied,
    )

    assert may_have_been_applied(ItopTimeout("slow"))
    assert may_have_been_applied(ItopUnreachable("reset", request_sent=True))
    assert may_have_been_applied(ItopHttpError("bad gateway", status_code=502))
    assert not may_have_been_applied(ItopUnreachable("refused"))
    assert not may_have_been_applied(ItopHttpError("not found", status_code=404))
    assert not may_have_been_applied(ItopApiError(100, "Error: refused"))
    assert not may_have_been_applied(None)


def test_which_failures_certainly_left_itop_unchanged() -> None:
    from itop_intercom.itop.errors import (
        ItopApiError,
        ItopTimeout,
        ItopUnreachable,
        write_not_applied,
    )

    assert write_not_applied(ItopApiError(100, "Error: refused", operation="core/update"))
    assert write_not_applied(ItopUnreachable("refused", operation="core/create"))
    # A failed read says nothing of a write made before it, nor does a write that timed out.
    assert not write_not_applied(ItopApiError(100, "Error: refused", operation="core/get"))
    assert not write_not_applied(ItopTimeout("slow", operation="core/update"))
    assert not write_not_applied(RuntimeError("not from iTop"))
