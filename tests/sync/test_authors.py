"""Authors by email, cached, never guessed."""

from __future__ import annotations

import asyncio

import pytest

from itop_intercom.itop.client import ItopClient
from itop_intercom.itop.errors import ItopUnreachable
from itop_intercom.sync.authors import AuthorDirectory, EntryAuthor
from tests.fakes.itop import FakeItop
from tests.service import client_on


def directory(fake: FakeItop, ttl: float = 600) -> tuple[AuthorDirectory, ItopClient]:
    client = client_on(fake)
    return AuthorDirectory(lambda: client, ttl), client


async def test_a_user_is_looked_up_once_per_email() -> None:
    fake = FakeItop()
    authors, client = directory(fake)
    results = await asyncio.gather(
        *(authors.resolve("Agatha.Christie@demo.com", "Agatha", "user") for _ in range(20))
    )
    again = await authors.resolve("agatha.christie@demo.com", "A", "user")
    await client.aclose()
    assert set(results) == {EntryAuthor(4, "Agatha (Intercom)")}
    assert again.user_id == 4
    assert len(fake.calls) == 1


async def test_misses_are_cached_too_and_fall_back_to_a_name() -> None:
    fake = FakeItop()
    authors, client = directory(fake)
    first = await authors.resolve("nobody@x.example", "No Body", "lead")
    second = await authors.resolve("nobody@x.example", "No Body", "lead")
    await client.aclose()
    assert first == second == EntryAuthor(0, "No Body (Intercom)")
    assert len(fake.calls) == 1


async def test_several_users_with_the_email_are_not_guessed() -> None:
    fake = FakeItop()
    person = fake.add_person("Twin", "One", "twin@x.example")
    other = fake.add_person("Twin", "Two", "twin@x.example")
    fake.add_user("twin1", person)
    fake.add_user("twin2", other)
    authors, client = directory(fake)
    author = await authors.resolve("twin@x.example", "Twin", "admin")
    await client.aclose()
    assert author == EntryAuthor(0, "Twin (Intercom)")


async def test_no_email_means_no_lookup() -> None:
    fake = FakeItop()
    authors, client = directory(fake)
    author = await authors.resolve(None, "Visitor", "lead")
    await client.aclose()
    assert author == EntryAuthor(0, "Visitor (Intercom)")
    assert fake.calls == []


async def test_the_cache_expires() -> None:
    fake = FakeItop()
    authors, client = directory(fake, ttl=0)
    await authors.resolve("agatha.christie@demo.com", "A", "user")
    await authors.resolve("agatha.christie@demo.com", "A", "user")
    await client.aclose()
    assert len(fake.calls) == 2


async def test_a_failed_lookup_is_not_cached() -> None:
    fake = FakeItop()
    authors, client = directory(fake)
    fake.fail_next = ["connect_error", "connect_error", "connect_error"]
    with pytest.raises(ItopUnreachable):
        await authors.resolve("agatha.christie@demo.com", "A", "user")
    author = await authors.resolve("agatha.christie@demo.com", "A", "user")
    await client.aclose()
    assert author.user_id == 4
