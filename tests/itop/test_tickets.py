"""Ticket operations against the iTop fake, as iTop really answers them."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import pytest

from itop_intercom.itop.client import ItopClient
from itop_intercom.itop.errors import ItopApiError, ItopAuthError
from itop_intercom.itop.tickets import Tickets
from itop_intercom.settings.model import Settings
from tests.fakes.itop import AGENT_TOKEN, FakeItop
from tests.service import client_on

COMMENT = "itop-intercom test"


@pytest.fixture
def tickets(itop: ItopClient) -> Tickets:
    return Tickets(itop, Settings())


async def test_ongoing_tickets_leave_out_excluded_states(tickets: Tickets, fake: FakeItop) -> None:
    open_ids = {
        fake.add_ticket(title=f"T{i}", caller_id=15, org_id=3, status="new") for i in range(3)
    }
    fake.add_ticket(title="closed", caller_id=15, org_id=3, status="closed")
    fake.add_ticket(title="rejected", caller_id=15, org_id=3, status="rejected")
    fake.add_ticket(title="other caller", caller_id=7, org_id=2, status="new")
    page = await tickets.ongoing_of_caller(15)
    assert page.total == 3
    assert {t.id for t in page.tickets} == open_ids
    assert all(t.get("title").startswith("T") for t in page.tickets)


async def test_paging_reports_the_total(tickets: Tickets, fake: FakeItop) -> None:
    for i in range(5):
        fake.add_ticket(title=f"T{i}", caller_id=15, org_id=3, status="new")
    page = await tickets.ongoing_of_caller(15, limit=2, page=2)
    assert page.total == 5
    assert len(page.tickets) == 2


async def test_create_then_read_back(tickets: Tickets, fake: FakeItop) -> None:
    created = await tickets.create(
        {
            "org_id": 3,
            "caller_id": 15,
            "title": "From chat",
            "description": "<p>Hi</p>",
            "origin": "chat",
        },
        comment=COMMENT,
    )
    assert created.get("ref").startswith("R-")
    assert fake.ticket(created.id)["title"] == "From chat"


async def test_create_without_title_is_refused_with_itops_message(tickets: Tickets) -> None:
    with pytest.raises(ItopApiError) as caught:
        await tickets.create({"org_id": 3, "description": "x"}, comment=COMMENT)
    assert caught.value.code == 100
    assert "title" in caught.value.message


async def test_caselog_entry_on_behalf_of_a_user_by_email(tickets: Tickets, fake: FakeItop) -> None:
    ticket = fake.add_ticket(title="T", caller_id=15, org_id=3, status="new")
    await tickets.add_caselog_entry(
        ticket,
        "public_log",
        "<p>Hello</p>",
        author_email="victor.hugo@it.com",
        author_label="Victor Hugo",
        date=datetime(2024, 5, 1, 10, 5, tzinfo=UTC),
        comment=COMMENT,
    )
    [entry] = fake.log_entries(ticket, "public_log")
    assert entry["user_login"] == "Victor Hugo"
    assert entry["date"] == "2024-05-01 12:05:00"  # converted to iTop's Europe/Paris time
    assert entry["message_html"] == "<p>Hello</p>"


async def test_caselog_entry_for_somebody_without_account(tickets: Tickets, fake: FakeItop) -> None:
    ticket = fake.add_ticket(title="T", caller_id=15, org_id=3, status="new")
    await tickets.add_caselog_entry(
        ticket,
        "private_log",
        "<p>note</p>",
        author_email=None,
        author_label="Jane Visitor (Intercom)",
        date=datetime(2024, 5, 1, 10, 0, tzinfo=UTC),
        comment=COMMENT,
    )
    [entry] = fake.log_entries(ticket, "private_log")
    assert entry["user_login"] == "Jane Visitor (Intercom)"
    assert entry["user_id"] == 0


async def test_caselog_on_behalf_needs_an_administrator_token(fake: FakeItop) -> None:
    ticket = fake.add_ticket(title="T", caller_id=15, org_id=3, status="new")
    async with client_on(fake, AGENT_TOKEN) as client:
        with pytest.raises(ItopAuthError, match="Only administrators can set the user id"):
            await Tickets(client, Settings()).add_caselog_entry(
                ticket,
                "public_log",
                "<p>x</p>",
                author_email="victor.hugo@it.com",
                author_label="V",
                date=datetime.now(UTC),
                comment=COMMENT,
            )
    assert fake.log_entries(ticket, "public_log") == []


async def test_entries_are_appended_never_replacing_the_log(
    tickets: Tickets, fake: FakeItop
) -> None:
    ticket = fake.add_ticket(title="T", caller_id=15, org_id=3, status="new")
    for text in ("one", "two"):
        await tickets.add_caselog_entry(
            ticket,
            "public_log",
            f"<p>{text}</p>",
            author_email=None,
            author_label="A",
            date=datetime.now(UTC),
            comment=COMMENT,
        )
    assert [e["message"] for e in fake.log_entries(ticket, "public_log")] == ["one", "two"]


async def test_attachment_is_created_on_the_ticket(tickets: Tickets, fake: FakeItop) -> None:
    ticket = fake.add_ticket(title="T", caller_id=15, org_id=3, status="new")
    data = base64.b64encode(b"hello").decode()
    await tickets.create_attachment(ticket, 3, "hello.txt", "text/plain", data, comment=COMMENT)
    [attachment] = fake.attachments(ticket)
    assert (attachment["filename"], attachment["content"]) == ("hello.txt", b"hello")


async def test_set_fields(tickets: Tickets, fake: FakeItop) -> None:
    ticket = fake.add_ticket(title="T", caller_id=15, org_id=3, status="new")
    await tickets.set_fields(ticket, {"intercom_sync_activated": "yes"}, comment=COMMENT)
    assert fake.ticket(ticket)["intercom_sync_activated"] == "yes"
