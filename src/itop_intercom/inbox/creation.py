"""Creating the ticket, and everything that follows, so that a ticket is never lost or doubled.

One create call carries the organisation, the caller, the form's values, `origin` and (with the
iTop link store) the link fields. Then, in order: the link in our store (local link store), the
conversation's history into the ticket's logs, and a reply to the end user with the ticket's
portal URL. Whatever fails after the create call is reported (`Outcome`) and retried in the
background; the ticket itself is never undone.

The whole sequence runs as a task shielded from the canvas budget and remembered by the form's
token for a while: when iTop is slow, the agent gets a Retry canvas while the creation goes on,
and Retry (same token) waits for that same task instead of creating a second ticket. This holds
within one service instance; a Retry routed to another instance of a scaled-out setup would not
see the task (a limitation the README states).
"""

from __future__ import annotations

import asyncio
import html
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from itop_intercom.inbox import history, messages
from itop_intercom.inbox.context import ScreenContext
from itop_intercom.inbox.form_state import FormField, FormState
from itop_intercom.inbox.labels import ticket_ref
from itop_intercom.inbox.refusals import refuses_value
from itop_intercom.itop.client import ItopObject
from itop_intercom.itop.errors import ItopApiError, may_have_been_applied
from itop_intercom.itop.html_text import text_to_html
from itop_intercom.itop.ticket_urls import backoffice_url, portal_url
from itop_intercom.logs import get_logger

log = get_logger("itop_intercom.inbox.creation")

#: How long a finished creation is remembered for a Retry of the same form.
REMEMBER_SECONDS = 3600.0
REMEMBER_MAX = 1000


@dataclass
class Outcome:
    """What happened: the ticket, or iTop's refusal; and which follow-ups are pending."""

    ticket: ItopObject | None = None
    refusal: str | None = None
    history: history.HistoryResult | None = None
    link_pending: bool = False
    reply_posted: bool = False


class Creations:
    """Running and recently finished creations, by form token (one registry per service
    instance, `Services.creations`)."""

    def __init__(self) -> None:
        self._tasks: OrderedDict[str, tuple[float, asyncio.Task[Outcome]]] = OrderedDict()

    def get_or_start(
        self, token: str, start: Callable[[bool], Awaitable[Outcome]]
    ) -> asyncio.Task[Outcome]:
        """The task of this form: the running or successful one, else a new attempt (a refused
        or failed attempt may be tried again). `start(uncertain)` is told when the previous
        attempt timed out during the create call, so that it may have created the ticket."""
        self._prune()
        known = self._tasks.get(token)
        uncertain = False
        if known is not None:
            task = known[1]
            if not task.done():
                return task
            if not task.cancelled():
                error = task.exception()
                if error is None and task.result().ticket is not None:
                    return task
                uncertain = may_have_been_applied(error)
        task = asyncio.ensure_future(start(uncertain))
        task.add_done_callback(_consume)
        self._tasks[token] = (time.monotonic(), task)
        return task

    def _prune(self) -> None:
        limit = time.monotonic() - REMEMBER_SECONDS
        while self._tasks:
            token, (started, task) = next(iter(self._tasks.items()))
            if (started < limit and task.done()) or len(self._tasks) > REMEMBER_MAX:
                self._tasks.pop(token)
            else:
                break


def _consume(task: asyncio.Task[Outcome]) -> None:
    """Failures are awaited by the canvas (or logged here when nobody waits any more)."""
    if not task.cancelled() and task.exception() is not None:
        log.info("creation attempt failed", error=type(task.exception()).__name__)


async def create(ctx: ScreenContext, fields: list[FormField], state: FormState) -> Outcome:
    """Create (or join the creation already running for this form) and its follow-ups."""
    task = ctx.services.creations.get_or_start(
        state.token, lambda uncertain: _run(ctx, fields, state, uncertain=uncertain)
    )
    return await asyncio.shield(task)


def ticket_fields(ctx: ScreenContext, fields: list[FormField], state: FormState) -> dict[str, Any]:
    settings = ctx.services.settings
    mapping = settings.ticket.attributes_mapping
    values: dict[str, Any] = {
        mapping["org_id"]: state.caller.org_id,
        mapping["caller_id"]: state.caller.id,
    }
    for form_field in fields:
        value = state.value(form_field.attcode).strip()
        if not value:
            continue
        spec = form_field.spec
        if spec.kind == "textarea" and spec.html:
            values[form_field.attcode] = text_to_html(value)
        elif spec.kind == "integer":
            values[form_field.attcode] = int(value)
        else:
            values[form_field.attcode] = value
    return values


async def _create_call(ctx: ScreenContext, values: dict[str, Any]) -> ItopObject:
    """The create call, with `origin` = the configured value, or the fallback when this iTop
    does not know it (a refused create creates nothing, so trying again is safe)."""
    ticket_settings = ctx.services.settings.ticket
    origin = ticket_settings.origin
    fallback = ticket_settings.origin_fallback
    comment = f"itop-intercom: created from Intercom by {ctx.agent_label}"
    tickets = ctx.services.tickets
    # Origins this iTop refused (an iTop without `chat`) are not tried again.
    refused = ctx.services.refused_origins
    if origin and origin not in refused:
        try:
            return await tickets.create({**values, "origin": origin}, comment=comment)
        except ItopApiError as exc:
            if not refuses_value(exc.message, "origin", origin):
                raise
            log.warning("iTop refused the origin; using the fallback", origin=origin)
            refused.add(origin)
    with_fallback = {**values, "origin": fallback} if fallback else values
    return await tickets.create(with_fallback, comment=comment)


async def _already_created(ctx: ScreenContext, state: FormState) -> ItopObject | None:
    """After a create call that timed out: the ticket it may have created (same caller and
    title, not linked to another conversation), so that Retry does not create a second one."""
    title = state.value("title").strip()
    if not title:
        return None
    tickets = ctx.services.tickets
    found = await tickets.recent_of_caller(state.caller.id, title)
    if found is None:
        return None
    store = await ctx.services.link_store()
    return found if await store.may_be_created_for(found.id, ctx.conversation_id) else None


async def _run(
    ctx: ScreenContext, fields: list[FormField], state: FormState, *, uncertain: bool
) -> Outcome:
    store = await ctx.services.link_store()
    values = ticket_fields(ctx, fields, state)
    values.update(store.creation_fields(ctx.conversation_id, ctx.conversation_url))
    ticket = await _already_created(ctx, state) if uncertain else None
    if ticket is None:
        try:
            ticket = await _create_call(ctx, values)
        except ItopApiError as exc:
            if exc.code == 100:
                return Outcome(refusal=exc.message)
            raise
    log.info("ticket created", ticket=ticket.id, conversation=ctx.conversation_id)
    outcome = Outcome(ticket=ticket)
    try:
        await store.after_create(ctx.workspace.id, ctx.conversation_id, ticket.id, ctx.agent_label)
    except Exception as exc:
        log.error("could not record the link of a new ticket", error=type(exc).__name__)
        outcome.link_pending = True
    else:
        ctx.services.home_cache.linked_here(
            ctx.workspace.id, ctx.conversation_id, ticket, created_for=state.caller.id
        )
    outcome.history = await history.copy(ctx, ticket)
    outcome.reply_posted = await _reply(ctx, ticket)
    return outcome


async def _reply(ctx: ScreenContext, ticket: ItopObject) -> bool:
    settings = ctx.services.settings
    class_ = ctx.services.tickets.class_
    url = portal_url(settings, class_, ticket.id)
    body = ctx.t(
        "reply.created",
        ticket=f'<a href="{html.escape(url)}">{html.escape(ticket_ref(ticket))}</a>',
    )
    return await messages.post(ctx, "comment", f"<p>{body}</p>", marker=url)


def ticket_urls(ctx: ScreenContext, ticket: ItopObject) -> tuple[str, str]:
    settings = ctx.services.settings
    class_ = ctx.services.tickets.class_
    return backoffice_url(settings, class_, ticket.id), portal_url(settings, class_, ticket.id)
