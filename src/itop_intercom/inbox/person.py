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
from typing import TYPE_CHECKING, Literal, TypeVar

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from itop_intercom.inbox.context import ScreenContext
from itop_intercom.itop.people import Person, person_by_id, persons_by_email
from itop_intercom.messenger.trust import ContactIdentity, contact_identity
from itop_intercom.store.tables import conversation_people

if TYPE_CHECKING:
    from itop_intercom.runtime import Services

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

    def peek(self, key: tuple[str, ...]) -> object | None:
        """A recent look-up's value without loading (None: none recent)."""
        hit = self._cache.get(key)
        if hit is not None and time.monotonic() - hit[0] < self._ttl:
            return hit[1]
        return None

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
    return await remembered_choice_of(ctx.services.engine, ctx.workspace.id, ctx.conversation_id)


async def remembered_choice_of(
    engine: AsyncEngine, workspace_id: str, conversation_id: str
) -> tuple[str, int] | None:
    """The person an agent chose for this conversation among several with the same email."""
    query = sa.select(conversation_people.c.person_class, conversation_people.c.person_id).where(
        conversation_people.c.workspace_id == workspace_id,
        conversation_people.c.conversation_id == conversation_id,
    )
    async with engine.connect() as conn:
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
    # Home's counts were for the email's persons, not for the one chosen.
    ctx.services.home_cache.forget(ctx.workspace.id, ctx.conversation_id)


async def quick_match(ctx: ScreenContext) -> PersonMatch | None:
    """The person when it is known without searching iTop by email (no iTop call)."""
    identity = _identity(ctx)
    if identity is not None and identity.trust == "trusted":
        return PersonMatch("found", person_ref=(identity.person_class, identity.person_id))
    ref = await remembered_choice(ctx)
    return PersonMatch("found", person_ref=ref) if ref else None


async def resolve(ctx: ScreenContext, *, load: bool = False) -> PersonMatch:
    """Find the contact's person; with `load`, also read it when only its id is known.

    The person Home has just shown (its cache entry, for the same contact) is taken as is."""
    home = ctx.services.home_cache.get(ctx.workspace.id, ctx.conversation_id, who(ctx).inputs)
    if home is not None and (home.match.person is not None or not load):
        return home.match
    quick = await quick_match(ctx)
    if quick is not None and quick.person_ref is not None:
        if not load:
            return quick
        person = await person_for_ref(ctx.services, quick.person_ref)
        if person is not None:
            return PersonMatch("found", person=person, person_ref=quick.person_ref)
    contact_who = who(ctx)
    if not contact_who.email:
        return PersonMatch("no_email")
    candidates = await persons_for_email(ctx.services, contact_who.email)
    return match_for_email(candidates, contact_who)


async def person_for_ref(services: Services, ref: tuple[str, int]) -> Person | None:
    """The person with this (class, id), from the recent look-ups or from iTop."""
    client = services.itop
    class_, person_id = ref
    return await services.person_lookups.get(
        ("id", class_, str(person_id)), lambda: person_by_id(client, class_, person_id)
    )


async def persons_for_email(services: Services, email: str) -> list[Person]:
    """Active persons with this email, from the recent look-ups or from iTop."""
    client = services.itop
    return await services.person_lookups.get(
        ("email", email.lower()), lambda: persons_by_email(client, email)
    )


def recent_persons_for_email(services: Services, email: str) -> list[Person] | None:
    """The persons of a recent look-up of this email, without asking iTop (None: unknown)."""
    hit = services.person_lookups.peek(("email", email.lower()))
    return list(hit) if isinstance(hit, list) else None


def match_for_email(candidates: list[Person], contact: Who) -> PersonMatch:
    email = contact.email
    hinted = _hinted(contact, candidates)
    if hinted is not None:
        return PersonMatch("found", person=hinted, email=email)
    if len(candidates) == 1:
        return PersonMatch("found", person=candidates[0], email=email)
    if not candidates:
        return PersonMatch("none", email=email)
    return PersonMatch("ambiguous", candidates=candidates, email=email)


def _hinted(contact: Who, candidates: list[Person]) -> Person | None:
    """The person named by unsigned attributes, only if they have the contact's email (they are
    among the email's candidates): anyone can set those attributes from a browser, nobody can
    change the contact's email that way. Among several persons sharing an email, it is the one."""
    identity = contact.identity
    if identity is None:
        return None
    for person in candidates:
        if (person.class_, person.id) == (identity.person_class, identity.person_id):
            return person
    return None


@dataclass(frozen=True)
class Who:
    """What the contact says about its person without asking iTop: its iTop identity (signed,
    or a mere hint) and its email."""

    identity: ContactIdentity | None
    email: str

    @property
    def trusted_ref(self) -> tuple[str, int] | None:
        """The person's (class, id) when the identity is signed."""
        identity = self.identity
        if identity is None or identity.trust != "trusted":
            return None
        return identity.person_class, identity.person_id

    @property
    def inputs(self) -> tuple[object, str]:
        return self.identity, self.email.lower()


def who(ctx: ScreenContext) -> Who:
    contact = ctx.request.contact
    email = (contact.email or "").strip() if contact else ""
    return Who(_identity(ctx), email)
