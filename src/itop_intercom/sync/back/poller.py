"""One poll of iTop's change history: read, decide, store (see `sync.back`).

iTop cost: one `core/get` on the history when nothing changed, whatever the number of linked
tickets; when something changed, one more for all the changed tickets together (their logs,
ref, status, solution and, for links kept in iTop, the link fields), and one for authors whose
email is not cached yet. The outbox rows and the cursor advance are stored together, after
the iTop reads, so a crash anywhere re-reads the same changes and nothing is lost or doubled.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

from itop_intercom.itop import history
from itop_intercom.itop.client import ItopObject
from itop_intercom.itop.errors import CODE_INTERNAL_ERROR, ItopApiError, readable
from itop_intercom.itop.ticket_urls import backoffice_url, portal_url
from itop_intercom.logs import get_logger
from itop_intercom.runtime import Services
from itop_intercom.sync.back import decide, links, outbox
from itop_intercom.sync.back.state import BacksyncState

log = get_logger("itop_intercom.sync.back.poller")

#: Ticket fields read for the changed tickets (plus the link fields when links live in iTop).
_TICKET_FIELDS = ("id", "ref", "solution")


@dataclass(frozen=True)
class PollResult:
    polled: bool
    """False when another instance holds the poll lease (or back-sync has nothing to follow)."""
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


async def attributes(services: Services) -> decide.Attributes:
    ticket = services.settings.ticket
    store = await services.link_store()
    return decide.Attributes(
        public_log=ticket.attribute("public_log"),
        private_log=ticket.attribute("private_log"),
        status=ticket.attribute("status"),
        intercom_ref=ticket.attribute("intercom_ref"),
        intercom_url=ticket.attribute("intercom_url"),
        intercom_sync=ticket.attribute("intercom_sync_activated"),
        links_in_itop=store.kind == "itop",
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
    attrs = await attributes(services)
    class_ = settings.ticket.class_
    local: dict[int, list[decide.LinkView]] = {}
    memory: dict[decide.LinkKey, decide.LinkMemory] = {}
    if not attrs.links_in_itop:
        local = await links.local_links(db.engine, class_)
        memory = await outbox.load_memory(db, class_)
        if not local:
            return PollResult(polled=True)
    state = state_of(services)
    calls = 1
    read = partial(
        history.since,
        services.itop,
        class_,
        attrs.followed(),
        after_id=cursor.op_id,
        since=cursor.since if cursor.op_id is None else None,
        objkeys=sorted(local) if not attrs.links_in_itop else (),
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
        # Still record the link memories (a pause seen now must hold for later entries).
        stored = await _commit(services, owner, cursor, None, [], local, memory, attrs)
        return PollResult(True, calls, 0, 0, stored)
    changed = sorted({op.objkey for op in ops if not local or op.objkey in local})
    tickets = await _tickets(services, class_, changed, attrs)
    calls += 1
    link_map = (
        links.itop_links(tickets, attrs, settings.workspaces) if attrs.links_in_itop else local
    )
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
    )
    decision = decide.decide(ops, tickets, link_map, memory, ctx)
    stored = await outbox.commit_poll(
        db, owner, cursor, new_cursor, decision.posts, decision.memory, class_
    )
    metrics = services.metrics
    for reason, count in decision.skipped.items():
        metrics.backsync_skipped.labels(reason).inc(count)
    if stored and decision.posts:
        state.posted.set()
        log.info(
            "iTop changes queued for Intercom",
            changes=len(ops),
            posts=len(decision.posts),
            cursor=new_cursor,
        )
    return PollResult(True, calls, len(ops), len(decision.posts) if stored else 0, stored)


async def _commit(
    services: Services,
    owner: str,
    cursor: outbox.Cursor,
    new_cursor: int | None,
    posts: list[decide.Post],
    local: dict[int, list[decide.LinkView]],
    memory: dict[decide.LinkKey, decide.LinkMemory],
    attrs: decide.Attributes,
) -> bool:
    remembered = {}
    if not attrs.links_in_itop:
        flat = [link for group in local.values() for link in group]
        remembered = decide.remember_local(flat, memory, cursor.op_id or 0)
    return await outbox.commit_poll(
        services.db,
        owner,
        cursor,
        new_cursor,
        posts,
        remembered,
        services.settings.ticket.class_,
    )


async def _tickets(
    services: Services, class_: str, ids: list[int], attrs: decide.Attributes
) -> dict[int, ItopObject]:
    if not ids:
        return {}
    fields = [*_TICKET_FIELDS, attrs.status, attrs.public_log, attrs.private_log]
    if attrs.links_in_itop:
        fields += [attrs.intercom_ref, attrs.intercom_url, attrs.intercom_sync]
    query = f"SELECT {class_} WHERE id IN (" + ", ".join(str(int(i)) for i in ids) + ")"
    result = await services.itop.get(class_, query, ",".join(dict.fromkeys(fields)))
    return {obj.id: obj for obj in result.objects}
