"""Which change goes to which conversation, as what: the back-sync's rules, without any I/O.

For each followed change op of a linked ticket (sorted by id), for each of the ticket's links:
- the link must be on at that point: when links are kept in the ticket itself, the ops of its
  link attributes in the same batch say exactly when a link was made, paused or resumed;
  otherwise the poller remembers when it saw a link on (`since_op`), and a link's `linked_at`
  excludes anything written before it;
- never an echo: an entry this service wrote (its REST `comment` starts with our prefix, or the
  entry carries the `#part-<id>` link of a conversation part) is not sent back;
- a public-log entry becomes a reply; a private-log entry a note (when enabled); a status change
  a note (when enabled), plus a reply on resolution and close / reopen (when enabled).
"""

from __future__ import annotations

import contextlib
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from itop_intercom.itop.client import ItopObject
from itop_intercom.itop.history import ChangeOp, to_utc
from itop_intercom.links import PolledLink
from itop_intercom.settings.backsync import BacksyncOptions
from itop_intercom.sync.back import render

#: Every REST write of this service carries a `comment` with this prefix (iTop keeps it as the
#: change's `userinfo`), so the history tells our writes from everyone else's.
OUR_COMMENT_PREFIX = "itop-intercom:"
#: The link every entry copied from Intercom carries: a conversation URL ending in `#part-<id>`.
_PART_MARKER = re.compile(r"/a/apps/[^/\s\"'<>]+/[^\s\"'<>]*conversations/[^\s\"'<>#]+#part-")
_REOPENED_FROM = frozenset({"resolved", "closed"})


@dataclass(frozen=True)
class Attributes:
    """The ticket attribute codes the back-sync follows in the history."""

    public_log: str
    private_log: str
    status: str
    link_codes: tuple[str, ...] = ()
    """(conversation attribute, sync attribute) when links are kept in the ticket itself, so
    that their changes are in the history too; empty otherwise (`LinkStore.history_codes`)."""

    @property
    def links_in_history(self) -> bool:
        return len(self.link_codes) == 2

    def followed(self) -> list[str]:
        return [self.public_log, self.private_log, self.status, *self.link_codes]


@dataclass(frozen=True)
class LinkMemory:
    sync_on: bool
    since_op: int


LinkKey = tuple[int, str, str]


@dataclass(frozen=True)
class Post:
    op_id: int
    kind: str
    workspace_id: str
    conversation_id: str
    ticket_id: int
    payload: dict[str, Any]
    changed_at: float


@dataclass
class Decision:
    posts: list[Post] = field(default_factory=list)
    memory: dict[LinkKey, LinkMemory] = field(default_factory=dict)
    """Link memories to store (local links whose state the poller saw change)."""
    skipped: Counter[str] = field(default_factory=Counter)


@dataclass(frozen=True)
class Context:
    attrs: Attributes
    timezone: str
    options: Callable[[str], BacksyncOptions]
    language: Callable[[str], str]
    ticket_url: Callable[[int, bool], str]
    """(ticket id, for the end user?) → the portal page or the back-office page."""
    emails: Mapping[int, str]
    cursor_before: int
    known_workspace: Callable[[str], bool] = lambda _workspace_id: True
    """Whether a workspace is configured: links to others cannot be posted to (skipped)."""


def is_echo(op: ChangeOp, entry: Mapping[str, Any] | None) -> bool:
    """Whether this service wrote the change (see the module doc)."""
    if op.userinfo.startswith(OUR_COMMENT_PREFIX):
        return True
    if entry is not None:
        for key in ("message_html", "message"):
            value = entry.get(key)
            if isinstance(value, str) and _PART_MARKER.search(value):
                return True
    return False


def entries(ticket: ItopObject, attcode: str) -> list[Mapping[str, Any]]:
    value = ticket.fields.get(attcode)
    if isinstance(value, Mapping):
        items = value.get("entries")
        if isinstance(items, list):
            return [e for e in items if isinstance(e, Mapping)]
    return []


def entry_of(ticket: ItopObject, op: ChangeOp) -> Mapping[str, Any] | None:
    items = entries(ticket, op.attcode)
    if op.lastentry is None or not 0 <= op.lastentry < len(items):
        return None
    return items[op.lastentry]


def authors_needed(ops: Iterable[ChangeOp], tickets: Mapping[int, ItopObject]) -> set[int]:
    """The iTop users whose email the posts of `ops` may need."""
    needed: set[int] = set()
    for op in ops:
        ticket = tickets.get(op.objkey)
        if op.is_caselog and ticket is not None:
            entry = entry_of(ticket, op)
            if entry is not None:
                with contextlib.suppress(TypeError, ValueError):
                    needed.add(int(entry.get("user_id") or 0))
        else:
            needed.add(op.user_id)
    needed.discard(0)
    return needed


def remember_local(
    links: Sequence[PolledLink], memory: Mapping[LinkKey, LinkMemory], cursor_before: int
) -> dict[LinkKey, LinkMemory]:
    """New memories of local links: a link seen on (again) starts after `cursor_before`."""
    changed: dict[LinkKey, LinkMemory] = {}
    for link in links:
        key = (link.ticket_id, link.workspace_id, link.conversation_id)
        known = memory.get(key)
        if link.sync_on and (known is None or not known.sync_on):
            changed[key] = LinkMemory(True, cursor_before)
        elif not link.sync_on and (known is None or known.sync_on):
            changed[key] = LinkMemory(False, known.since_op if known else cursor_before)
    return changed


def _itop_timeline(ops: Sequence[ChangeOp], link: PolledLink, attrs: Attributes) -> list[Any]:
    """(op id, linked-to-this-conversation, sync on) after each link op of the ticket."""
    ref_code, sync_code = attrs.link_codes
    ref_ops = [op for op in ops if op.attcode == ref_code]
    sync_ops = [op for op in ops if op.attcode == sync_code]
    linked = (ref_ops[0].oldvalue or "") == link.conversation_id if ref_ops else True
    on = (sync_ops[0].oldvalue or "") == "yes" if sync_ops else link.sync_on
    timeline: list[Any] = [(0, linked, on)]
    for op in sorted(ref_ops + sync_ops, key=lambda o: o.id):
        if op.attcode == ref_code:
            linked = (op.newvalue or "") == link.conversation_id
        else:
            on = (op.newvalue or "") == "yes"
        timeline.append((op.id, linked, on))
    return timeline


def _on_at(timeline: Sequence[Any], op_id: int) -> bool:
    state = timeline[0]
    for point in timeline:
        if point[0] < op_id:
            state = point
    return bool(state[1] and state[2])


def decide(
    ops: Sequence[ChangeOp],
    tickets: Mapping[int, ItopObject],
    links: Mapping[int, Sequence[PolledLink]],
    memory: Mapping[LinkKey, LinkMemory],
    ctx: Context,
) -> Decision:
    attrs = ctx.attrs
    decision = Decision()
    if not attrs.links_in_history:
        all_links = [link for group in links.values() for link in group]
        decision.memory = remember_local(all_links, memory, ctx.cursor_before)
    memories = {**memory, **decision.memory}
    by_ticket: dict[int, list[ChangeOp]] = {}
    for op in ops:
        by_ticket.setdefault(op.objkey, []).append(op)
    for ticket_id, ticket_ops in by_ticket.items():
        ticket = tickets.get(ticket_id)
        ticket_links = links.get(ticket_id, [])
        if ticket is None or not ticket_links:
            decision.skipped["not_linked"] += sum(1 for op in ticket_ops if _content(op, attrs))
            continue
        timelines = {
            (link.workspace_id, link.conversation_id): _itop_timeline(ticket_ops, link, attrs)
            for link in ticket_links
            if attrs.links_in_history
        }
        for op in ticket_ops:
            if not _content(op, attrs):
                continue
            entry = entry_of(ticket, op) if op.is_caselog else None
            if op.is_caselog and entry is None:
                decision.skipped["entry_missing"] += 1
                continue
            if is_echo(op, entry):
                decision.skipped["echo"] += 1
                continue
            for link in ticket_links:
                if not ctx.known_workspace(link.workspace_id):
                    decision.skipped["workspace_unknown"] += 1
                    continue
                if not _link_on(op, link, attrs, timelines, memories, ctx):
                    decision.skipped["off"] += 1
                    continue
                decision.posts.extend(_posts(op, ticket, entry, link, ctx))
    return decision


def _content(op: ChangeOp, attrs: Attributes) -> bool:
    return op.attcode in (attrs.public_log, attrs.private_log, attrs.status)


def _link_on(
    op: ChangeOp,
    link: PolledLink,
    attrs: Attributes,
    timelines: Mapping[tuple[str, str], Sequence[Any]],
    memories: Mapping[LinkKey, LinkMemory],
    ctx: Context,
) -> bool:
    if attrs.links_in_history:
        return _on_at(timelines[(link.workspace_id, link.conversation_id)], op.id)
    known = memories.get((link.ticket_id, link.workspace_id, link.conversation_id))
    if not link.sync_on or known is None or not known.sync_on or op.id <= known.since_op:
        return False
    if link.linked_at is not None:
        written = to_utc(op.date, ctx.timezone)
        if written is not None and written < link.linked_at.replace(microsecond=0):
            return False
    return True


def _posts(
    op: ChangeOp,
    ticket: ItopObject,
    entry: Mapping[str, Any] | None,
    link: PolledLink,
    ctx: Context,
) -> list[Post]:
    attrs = ctx.attrs
    options = ctx.options(link.workspace_id)
    if not options.enabled:
        return []
    language = ctx.language(link.workspace_id)
    ref = ticket.get("ref") or f"{ticket.class_}::{ticket.id}"
    written = to_utc(op.date, ctx.timezone)
    changed_at = written.timestamp() if written is not None else 0.0
    base = {"ticket_ref": ref, "language": language}

    def post(kind: str, payload: dict[str, Any]) -> Post:
        for_end_user = render.MESSAGE_TYPES[kind] == "comment"
        url = ctx.ticket_url(ticket.id, for_end_user)
        return Post(
            op.id,
            kind,
            link.workspace_id,
            link.conversation_id,
            ticket.id,
            {**base, "ticket_url": url, **payload},
            changed_at,
        )

    if entry is not None:
        kind = "reply" if op.attcode == attrs.public_log else "note"
        if kind == "note" and not options.private_notes:
            return []
        body = render.entry_body(str(entry.get("message_html") or entry.get("message") or ""))
        if not body:
            return []
        try:
            author = int(entry.get("user_id") or 0)
        except (TypeError, ValueError):
            author = 0
        return [
            post(
                kind,
                {
                    "body": body,
                    "author_name": str(entry.get("user_login") or "").strip()[:255],
                    "author_email": ctx.emails.get(author, ""),
                },
            )
        ]
    new, old = op.newvalue or "", op.oldvalue or ""
    solution = ticket.get("solution")
    author_email = ctx.emails.get(op.user_id, "")
    posts = []
    if options.status_notes:
        body = render.status_body(ref, new, solution, language)
        posts.append(post("status", {"body": body, "author_email": author_email}))
    if options.reply_on_resolution and new == "resolved":
        body = render.resolution_body(ref, solution, language)
        posts.append(post("resolution", {"body": body, "author_email": author_email}))
    if options.close_conversations:
        if new == "closed":
            posts.append(post("close", {"author_email": author_email}))
        elif old in _REOPENED_FROM and new not in _REOPENED_FROM:
            posts.append(post("reopen", {"author_email": author_email}))
    return posts
