"""One poll of iTop's change history: read, decide, store (see `sync.back`).

iTop cost: one `core/get` on the history when nothing changed, whatever the number of linked
tickets; when something changed, one more for all the changed tickets together (their logs,
ref, status, solution and, when links are kept in the tickets, the link fields), and one for
authors whose email is not cached yet. The outbox rows and the cursor advance are stored
together, after the iTop reads, so a crash anywhere re-reads the same changes and nothing is
lost or doubled.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

from itop_intercom.itop import history
from itop_intercom.itop.errors import CODE_INTERNAL_ERROR, ItopApiError, readable
from itop_intercom.itop.ticket_urls import backoffice_url, portal_url
from itop_intercom.links import LinkStore, PolledLink
from itop_intercom.logs import get_logger
from itop_intercom.runtime import Services
from itop_intercom.sync.back import decide, outbox
from itop_intercom.sync.back.state import BacksyncState

log = get_logger("itop_intercom.sync.back.poller")

#: Ticket fields read for the changed tickets (plus the link fields of the store).
_TICKET_FIELDS = ("id", "ref", "solution")


@dataclass(frozen=True)
class PollResult:
    polled: bool
    """False when another instance holds the poll lease."""
    itop_calls: int = 0
    ops: int = 0
    posts: int = 0
    stored: bool = True


def state_of(services: Services) -> BacksyncState:
    if services.backsync is None:
        services.backsync = BacksyncState(
            services.settings.backsync.admin_cache_seconds,
            services.settings.sync.author_cache_seconds,
        )
    return services.backsync


def attributes(services: Services, store: LinkStore) -> decide.Attributes:
    ticket = services.settings.ticket
    return decide.Attributes(
        public_log=ticket.attribute("public_log"),
        private_log=ticket.attribute("private_log"),
        status=ticket.attribute("status"),
        link_codes=store.history_codes(),
    )


async def poll_once(services: Services, owner: str, lease_seconds: float) -> PollResult:
    settings = services.settings
    db = services.db
    cursor = await outbox.take_poll_lease(db, owner, lease_seconds)
    if cursor is None:
        return PollResult(polled=False)
    zone = settings.backsync.itop_timezone
    if cursor.op_id is None and cursor.since is None:
        # First start: only what happens from now on is sent, never the past.
        since = history.local_now(zone)
        await outbox.start_cursor(db, owner, since)
        cursor = outbox.Cursor(None, since)
    store = await services.link_store()
    attrs = attributes(services, store)
    class_ = settings.ticket.class_
    ahead = await store.links_known_ahead()
    memory: dict[decide.LinkKey, decide.LinkMemory] = {}
    if ahead is not None:
        if not ahead:
            return PollResult(polled=True)  # nothing linked: nothing to read
        memory = await outbox.load_memory(db, class_)
    state = state_of(services)
    calls = 1
    read = partial(
        history.since,
        services.itop,
        class_,
        attrs.followed(),
        after_id=cursor.op_id,
        since=cursor.since if cursor.op_id is None else None,
        objkeys=sorted(ahead) if ahead is not None else (),
    )
    try:
        ops = await read(op_class=state.history_class)
    except ItopApiError as exc:
        if exc.code != CODE_INTERNAL_ERROR or state.history_class == history.ROOT_OP_CLASS:
            raise
        # This iTop refuses the intermediate class: read the root class, as recorded.
        log.warning("reading the history through CMDBChangeOp", reason=readable(exc.message))
        state.history_class = history.ROOT_OP_CLASS
        ops = await read(op_class=state.history_class)
        calls += 1
    new_cursor = ops[-1].id if ops else None
    followed = set(attrs.followed())
    ops = [op for op in ops if op.attcode in followed]
    if not ops:
        # Still store the link memories (a pause seen now must hold for later entries) and
        # the cursor (ops of attributes not followed are passed).
        remembered = decide.remember_local(_flat(ahead), memory, cursor.op_id or 0)
        stored = await outbox.commit_poll(db, owner, cursor, new_cursor, [], remembered, class_)
        return PollResult(True, calls, 0, 0, stored)
    for op in ops:
        if op.attcode == attrs.status:
            # The Inbox's Home shows each linked ticket's status: what it cached is now stale.
            services.home_cache.forget_ticket(int(op.objkey))
    changed = sorted({op.objkey for op in ops if ahead is None or op.objkey in ahead})
    fields = [*_TICKET_FIELDS, attrs.status, attrs.public_log, attrs.private_log]
    tickets = await history.changed_tickets(
        services.itop, class_, changed, [*fields, *store.link_fields()]
    )
    calls += 1
    link_map = ahead if ahead is not None else store.links_of(tickets, settings.workspaces)
    needed = decide.authors_needed([op for op in ops if op.objkey in link_map], tickets)
    emails, missing = state.users.known(needed)
    if missing:
        found = await history.user_emails(services.itop, missing)
        calls += 1
        state.users.remember(missing, found)
        emails.update(found)
    ctx = decide.Context(
        attrs=attrs,
        timezone=zone,
        options=settings.backsync.for_workspace,
        language=lambda ws: w.language if (w := settings.workspace(ws)) else settings.language,
        ticket_url=lambda ticket_id, end_user: (
            portal_url(settings, class_, ticket_id)
            if end_user
            else backoffice_url(settings, class_, ticket_id)
        ),
        emails=emails,
        cursor_before=cursor.op_id or 0,
        known_workspace=lambda ws: settings.workspace(ws) is not None,
    )
    decision = decide.decide(ops, tickets, link_map, memory, ctx)
    stored = await outbox.commit_poll(
        db, owner, cursor, new_cursor, decision.posts, decision.memory, class_
    )
    for reason, count in decision.skipped.items():
        services.metrics.backsync_skipped.labels(reason).inc(count)
    if stored and decision.posts:
        state.posted.set()
        log.info(
            "iTop changes queued for Intercom",
            changes=len(ops),
            posts=len(decision.posts),
            cursor=new_cursor,
        )
    return PollResult(True, calls, len(ops), len(decision.posts) if stored else 0, stored)


def _flat(links: dict[int, list[PolledLink]] | None) -> list[PolledLink]:
    return [link for group in (links or {}).values() for link in group]
