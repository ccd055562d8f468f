"""Which iTop person the conversation's contact is.

The chat widget stores `itop_contact_class` / `itop_contact_id` on the Intercom contact. Signed
(Messenger security enforced, see `messenger.trust`), the identity names the person; unsigned,
it is used only when that person's email is the contact's. Contacts that came another way
(email, another site) only have an email, so we fall back to it. Several
active persons with that email are not guessed: the agent picks one and the choice is kept for
the conversation.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal, TypeVar

import sqlalchemy as sa

from itop_intercom.inbox.context import ScreenContext
from itop_intercom.itop.people import Person, person_by_id, persons_by_email
from itop_intercom.messenger.trust import ContactIdentity, contact_identity
from itop_intercom.store.tables import conversation_people

#: How long a look-up of persons is reused. An agent's clicks (Home, then a list or the form)
#: come seconds apart and need the same person; a person created in iTop meanwhile shows up
#: after this delay at worst.
PERSON_CACHE_SECONDS = 30.0

_T = TypeVar("_T")


class PersonLookups:
    """Recent look-ups of persons in iTop, reused for `PERSON_CACHE_SECONDS` (one per service
    instance, `Services.person_lookups`)."""

    def __init__(self, ttl: float = PERSON_CACHE_SECONDS, max_entries: int = 1000) -> None:
        self._ttl = ttl
        self._max_entries = max_entries
        self._cache: dict[tuple[str, ...], tuple[float, object]] = {}

    async def get(self, key: tuple[str, ...], load: Callable[[], Awaitable[_T]]) -> _T:
        now = time.monotonic()
        hit = self._cache.get(key)
        if hit is not None and now - hit[0] < self._ttl:
            return hit[1]  # type: ignore[return-value]
        value = await load()
        if len(self._cache) > self._max_entries:
            self._cache.clear()
        self._cache[key] = (now, value)
        return value


MatchKind = Literal["found", "none", "ambiguous", "no_email"]


@dataclass(frozen=True)
class PersonMatch:
    kind: MatchKind
    person: Person | None = None
    candidates: list[Person] = field(default_factory=list)
    email: str = ""
    person_ref: tuple[str, int] | None = None
    """(class, id) known without asking iTop (custom attributes or a remembered choice)."""

    @property
    def person_id(self) -> int | None:
        if self.person is not None:
            return self.person.id
        return self.person_ref[1] if self.person_ref else None


def _identity(ctx: ScreenContext) -> ContactIdentity | None:
    template = ctx.services.settings.messenger.user_id_template
    return contact_identity(ctx.request.contact, ctx.workspace, template)


async def remembered_choice(ctx: ScreenContext) -> tuple[str, int] | None:
    query = sa.select(conversation_people.c.person_class, conversation_people.c.person_id).where(
        conversation_people.c.workspace_id == ctx.workspace.id,
        conversation_people.c.conversation_id == ctx.conversation_id,
    )
    async with ctx.services.engine.connect() as conn:
        row = (await conn.execute(query)).first()
    return (str(row.person_class), int(row.person_id)) if row else None


async def remember_choice(ctx: ScreenContext, person_class: str, person_id: int) -> None:
    values = {
        "workspace_id": ctx.workspace.id,
        "conversation_id": ctx.conversation_id,
        "person_class": person_class,
        "person_id": person_id,
        "chosen_at": datetime.now(UTC),
        "chosen_by": ctx.agent_label,
    }
    async with ctx.services.db.write_transaction() as conn:
        await conn.execute(
            sa.delete(conversation_people).where(
                conversation_people.c.workspace_id == ctx.workspace.id,
                conversation_people.c.conversation_id == ctx.conversation_id,
            )
        )
        await conn.execute(sa.insert(conversation_people).values(**values))


async def quick_match(ctx: ScreenContext) -> PersonMatch | None:
    """The person when it is known without searching iTop by email (no iTop call)."""
    identity = _identity(ctx)
    if identity is not None and identity.trust == "trusted":
        return PersonMatch("found", person_ref=(identity.person_class, identity.person_id))
    ref = await remembered_choice(ctx)
    return PersonMatch("found", person_ref=ref) if ref else None


async def resolve(ctx: ScreenContext, *, load: bool = False) -> PersonMatch:
    """Find the contact's person; with `load`, also read it when only its id is known."""
    quick = await quick_match(ctx)
    if quick is not None and quick.person_ref is not None:
        if not load:
            return quick
        client = ctx.services.itop
        class_, person_id = quick.person_ref
        person = await ctx.services.person_lookups.get(
            ("id", class_, str(person_id)), lambda: person_by_id(client, class_, person_id)
        )
        if person is not None:
            return PersonMatch("found", person=person, person_ref=quick.person_ref)
    contact = ctx.request.contact
    email = (contact.email or "").strip() if contact else ""
    if not email:
        return PersonMatch("no_email")
    client = ctx.services.itop
    candidates = await ctx.services.person_lookups.get(
        ("email", email.lower()), lambda: persons_by_email(client, email)
    )
    hinted = _hinted(ctx, candidates)
    if hinted is not None:
        return PersonMatch("found", person=hinted, email=email)
    if len(candidates) == 1:
        return PersonMatch("found", person=candidates[0], email=email)
    if not candidates:
        return PersonMatch("none", email=email)
    return PersonMatch("ambiguous", candidates=candidates, email=email)


def _hinted(ctx: ScreenContext, candidates: list[Person]) -> Person | None:
    """The person named by unsigned attributes, only if they have the contact's email (they are
    among the email's candidates): anyone can set those attributes from a browser, nobody can
    change the contact's email that way. Among several persons sharing an email, it is the one."""
    identity = _identity(ctx)
    if identity is None:
        return None
    for person in candidates:
        if (person.class_, person.id) == (identity.person_class, identity.person_id):
            return person
    return None
