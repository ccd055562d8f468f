"""Applying one delivery to iTop: its attachments, then its case-log entry — exactly once.

Each iTop write is a *step*, recorded before it is sent (`queue.start_step`, which also fences
the worker's lease) and after its outcome is known. A delivery found with a step recorded but no
outcome (the worker died, or the call timed out and may have been applied) is checked against
iTop before anything is written again:

- the entry step: read the ticket's log and look for the entry's marker (see `entries`);
  found → the delivery is done, nothing is written;
- an attachment step: read the ticket's attachments and look for one with the same file name
  and the same bytes that no other delivery has claimed; found → adopt it.

Attachments go first and the entry last: the entry is the step that completes the delivery, and
it lists what was copied (and what was not, e.g. over the size limit) so that agents see it.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from itop_intercom.errors import NotConfigured
from itop_intercom.intercom.errors import IntercomError, IntercomTooLarge
from itop_intercom.itop.errors import ItopApiError
from itop_intercom.logs import get_logger
from itop_intercom.settings.model import Region
from itop_intercom.store.tables import deliveries as deliveries_t
from itop_intercom.sync import entries, queue
from itop_intercom.sync.authors import AuthorDirectory
from itop_intercom.sync.queue import Delivery

if TYPE_CHECKING:
    from itop_intercom.runtime import Services

log = get_logger("itop_intercom.sync.apply")

ENTRY_STEP = "entry"
ATTACHMENT_STEP = "attachment:"


class LeaseLost(Exception):
    """Another worker holds the conversation now: stop without writing."""


class TicketGone(Exception):
    """The ticket no longer exists in iTop (permanent)."""


@dataclass
class Finished:
    """Deliveries of one conversation written to iTop but not yet recorded as done: recorded
    in the next transaction of that conversation (see `queue.start_step`)."""

    deliveries: list[Delivery] = field(default_factory=list)

    def take(self) -> list[Delivery]:
        taken, self.deliveries = self.deliveries, []
        return taken


@dataclass
class ApplyContext:
    """What one worker shares across deliveries: who it is, and its caches."""

    services: Services
    owner: str
    authors: AuthorDirectory
    ticket_orgs: dict[tuple[str, int], int] = field(default_factory=dict)

    @property
    def lease_seconds(self) -> float:
        return self.services.settings.sync.lease_seconds


async def apply(ctx: ApplyContext, delivery: Delivery, finished: Finished) -> None:
    """Write the delivery to iTop and add it to `finished`; raises on failure (the caller
    classifies and schedules, and records `finished` in the same transaction)."""
    if delivery.log not in ("public", "private"):
        # Nothing to write (cannot normally be planned); finish it rather than block.
        finished.deliveries.append(delivery)
        return
    uncertain = delivery.started_at is not None and delivery.step == ENTRY_STEP
    if uncertain and await _entry_exists(ctx, delivery):
        log.info("entry already in iTop, not written again", delivery=delivery.id)
        finished.deliveries.append(delivery)
        return
    notes = await _attachments(ctx, delivery, finished)
    await _write_entry(ctx, delivery, notes, finished)
    finished.deliveries.append(delivery)


# -- the entry -------------------------------------------------------------------------------


def log_attcode(services: Services, log_kind: str) -> str:
    return services.tickets.attr("public_log" if log_kind == "public" else "private_log")


def _language_and_region(services: Services, workspace_id: str) -> tuple[str, Region]:
    workspace = services.settings.workspace(workspace_id)
    if workspace is None:
        return services.settings.language, services.settings.intercom.region
    return workspace.language, workspace.region


async def _write_entry(
    ctx: ApplyContext,
    delivery: Delivery,
    notes: list[entries.AttachmentNote],
    finished: Finished,
) -> None:
    services = ctx.services
    log_kind: entries.LogKind = "private" if delivery.log == "private" else "public"
    language, region = _language_and_region(services, delivery.workspace_id)
    message = entries.render(
        workspace_id=delivery.workspace_id,
        conversation_id=delivery.conversation_id,
        part_id=delivery.part_id,
        log=log_kind,
        body=delivery.body,
        language=language,
        region=region,
        attachments=notes,
    )
    author = await ctx.authors.resolve(
        delivery.author_email, delivery.author_name, delivery.author_type
    )
    item: dict[str, Any] = {
        "message": message,
        "format": "html",
        "date": datetime.fromtimestamp(delivery.part_created_at, UTC).strftime(
            "%Y-%m-%dT%H:%M:%SZ"
        ),
        "user_id": author.user_id,
    }
    if author.user_id == 0:
        item["user_login"] = author.label
    if not await queue.start_step(
        services.db,
        delivery,
        ctx.owner,
        ctx.lease_seconds,
        ENTRY_STEP,
        finished=finished.take(),
    ):
        raise LeaseLost()
    await services.itop.update(
        delivery.ticket_class,
        delivery.ticket_id,
        {log_attcode(services, log_kind): {"add_item": item}},
        "id",
        comment=(
            f"itop-intercom: Intercom conversation {delivery.conversation_id}, "
            f"part {delivery.part_id}"
        ),
    )


async def _entry_exists(ctx: ApplyContext, delivery: Delivery) -> bool:
    """Whether the ticket's log already holds this part's entry (see the module doc)."""
    services = ctx.services
    attcode = log_attcode(services, delivery.log or "public")
    ticket = await _ticket(ctx, delivery, ["id", attcode])
    value = ticket.get(attcode)
    items = value.get("entries") if isinstance(value, dict) else None
    mark = entries.marker(delivery.workspace_id, delivery.conversation_id, delivery.part_id)
    return any(
        isinstance(entry, dict) and entries.contains_marker(entry, mark) for entry in items or []
    )


async def _ticket(ctx: ApplyContext, delivery: Delivery, fields: list[str]) -> dict[str, Any]:
    ticket = await ctx.services.tickets.get(
        delivery.ticket_id, fields, class_=delivery.ticket_class
    )
    if ticket is None:
        raise TicketGone(f"ticket {delivery.ticket_class}::{delivery.ticket_id} no longer exists")
    return dict(ticket.fields)


# -- attachments ------------------------------------------------------------------------------


async def _attachments(
    ctx: ApplyContext, delivery: Delivery, finished: Finished
) -> list[entries.AttachmentNote]:
    """Copy the part's attachments not copied yet; return what became of each of them."""
    services = ctx.services
    done: list[dict[str, Any]] = list(delivery.progress.get("attachments") or [])
    notes: list[entries.AttachmentNote] = []
    for index, attachment in enumerate(delivery.attachments):
        name = str(attachment.get("name") or f"attachment-{index + 1}")
        if index < len(done):
            record = done[index]
            notes.append(entries.AttachmentNote(name, "itop_id" in record, record.get("why", "")))
            continue
        record = await _copy_attachment(ctx, delivery, index, name, attachment, finished)
        done.append(record)
        delivery.progress["attachments"] = done
        await queue.save_progress(services.db, delivery, finished=finished.take())
        notes.append(entries.AttachmentNote(name, "itop_id" in record, record.get("why", "")))
    return notes


async def _copy_attachment(
    ctx: ApplyContext,
    delivery: Delivery,
    index: int,
    name: str,
    attachment: dict[str, Any],
    finished: Finished,
) -> dict[str, Any]:
    services = ctx.services
    limit = services.settings.sync.attachment_max_bytes
    url = attachment.get("url")
    if not isinstance(url, str) or not url:
        return {"name": name, "why": "no download link"}
    announced = attachment.get("filesize")
    if isinstance(announced, int) and announced > limit:
        log.warning(
            "attachment over the size limit, not copied",
            delivery=delivery.id,
            size=announced,
            limit=limit,
        )
        return {"name": name, "why": f"over the {_size(limit)} limit"}
    workspace = services.settings.workspace(delivery.workspace_id)
    if workspace is None:
        return {"name": name, "why": "workspace no longer configured"}
    try:
        data = await services.intercom(workspace).download(url, limit)
    except IntercomTooLarge:
        log.warning("attachment over the size limit, not copied", delivery=delivery.id, limit=limit)
        return {"name": name, "why": f"over the {_size(limit)} limit"}
    except NotConfigured:
        return {"name": name, "why": "no Intercom access token to download it"}
    except IntercomError as exc:
        if exc.transient:
            raise
        log.warning("attachment could not be downloaded", delivery=delivery.id, error=exc.message)
        return {"name": name, "why": "could not be downloaded from Intercom"}
    encoded = base64.b64encode(data).decode("ascii")
    mimetype = str(attachment.get("content_type") or "application/octet-stream")
    step = f"{ATTACHMENT_STEP}{index}"
    if delivery.started_at is not None and delivery.step == step:
        adopted = await _find_attachment(ctx, delivery, name, data)
        if adopted is not None:
            return {"name": name, "itop_id": adopted}
    org_id = await _ticket_org(ctx, delivery)
    if not await queue.start_step(
        services.db, delivery, ctx.owner, ctx.lease_seconds, step, finished=finished.take()
    ):
        raise LeaseLost()
    created = await services.tickets.create_attachment(
        delivery.ticket_id,
        org_id,
        name,
        mimetype,
        encoded,
        comment=f"itop-intercom: attachment of Intercom part {delivery.part_id}",
    )
    return {"name": name, "itop_id": created.id}


async def _ticket_org(ctx: ApplyContext, delivery: Delivery) -> int:
    key = (delivery.ticket_class, delivery.ticket_id)
    org = ctx.ticket_orgs.get(key)
    if org is None:
        fields = await _ticket(ctx, delivery, ["id", ctx.services.tickets.attr("org_id")])
        org = int(fields.get(ctx.services.tickets.attr("org_id")) or 0)
        ctx.ticket_orgs[key] = org
    return org


async def _find_attachment(
    ctx: ApplyContext, delivery: Delivery, name: str, data: bytes
) -> int | None:
    """An attachment of the ticket with this name and content that no delivery recorded."""
    tickets = ctx.services.tickets
    try:
        found = await tickets.attachments(
            delivery.ticket_class, delivery.ticket_id, ["id", "contents"]
        )
    except ItopApiError:
        return None
    claimed = await _claimed_attachment_ids(ctx, delivery)
    for obj in found:
        contents = obj.fields.get("contents")
        if obj.id in claimed or not isinstance(contents, dict):
            continue
        if contents.get("filename") != name:
            continue
        try:
            if base64.b64decode(str(contents.get("data") or "")) == data:
                return obj.id
        except (binascii.Error, ValueError):
            continue
    return None


async def _claimed_attachment_ids(ctx: ApplyContext, delivery: Delivery) -> set[int]:
    d = deliveries_t
    query = sa.select(d.c.progress).where(
        d.c.ticket_class == delivery.ticket_class,
        d.c.ticket_id == delivery.ticket_id,
        d.c.progress.is_not(None),
    )
    async with ctx.services.engine.connect() as conn:
        rows = (await conn.execute(query)).scalars().all()
    ids: set[int] = set()
    for progress in rows:
        for record in (progress or {}).get("attachments") or []:
            if isinstance(record, dict) and isinstance(record.get("itop_id"), int):
                ids.add(record["itop_id"])
    return ids


def _size(n: int) -> str:
    if n >= 1024 * 1024:
        return f"{n / (1024 * 1024):.0f} MB"
    if n >= 1024:
        return f"{n / 1024:.0f} KB"
    return f"{n} bytes"
