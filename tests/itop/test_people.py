"""Persons and users, found the way the Inbox and the sync need them."""

from __future__ import annotations

import pytest

from itop_intercom.itop.client import ItopClient
from itop_intercom.itop.errors import ItopAuthError
from itop_intercom.itop.people import (
    person_by_id,
    persons_by_email,
    users_by_email,
    users_of_person,
)
from tests.fakes.itop import AGENT_TOKEN, FakeItop
from tests.service import client_on


async def test_person_by_email_is_case_insensitive(itop: ItopClient) -> None:
    persons = await persons_by_email(itop, "Agatha.Christie@DEMO.com")
    assert [(p.id, p.name, p.org_id) for p in persons] == [(15, "Agatha Christie", 3)]


async def test_person_by_email_with_an_apostrophe(itop: ItopClient, fake: FakeItop) -> None:
    person_id = fake.add_person("Jeanne", "D'Arc", "jeanne.d'arc@demo.com")
    persons = await persons_by_email(itop, "jeanne.d'arc@demo.com")
    assert [p.id for p in persons] == [person_id]


async def test_duplicated_emails_return_every_active_person(
    itop: ItopClient, fake: FakeItop
) -> None:
    fake.add_person("Ghost", "Christie", "agatha.christie@demo.com", status="inactive")
    fake.add_person("Other", "Christie", "agatha.christie@demo.com")
    persons = await persons_by_email(itop, "agatha.christie@demo.com")
    assert sorted(p.name for p in persons) == ["Agatha Christie", "Other Christie"]


async def test_unknown_email_finds_nobody(itop: ItopClient) -> None:
    assert await persons_by_email(itop, "nobody@nowhere.example") == []


async def test_person_by_id(itop: ItopClient) -> None:
    person = await person_by_id(itop, "Person", 7)
    assert person is not None
    assert person.email == "victor.hugo@it.com"
    assert await person_by_id(itop, "Person", 99999) is None


async def test_users_of_a_person_and_by_email(itop: ItopClient) -> None:
    by_person = await users_of_person(itop, 7)
    by_email = await users_by_email(itop, "victor.hugo@it.com")
    assert [u.login for u in by_person] == ["victor.hugo"]
    assert by_person == by_email


async def test_a_non_admin_token_cannot_map_persons_to_users(fake: FakeItop) -> None:
    async with client_on(fake, AGENT_TOKEN) as client:
        with pytest.raises(ItopAuthError, match="permissions for reading data of class User"):
            await users_of_person(client, 7)
