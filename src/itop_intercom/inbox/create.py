"""Submitting the creation form, and the confirmation canvas.

A mandatory field left empty (or a value of the wrong shape) shows the form again with the
field marked and every value kept, without calling iTop: the choices shown come from the
canvas's stored data. iTop refusing the create shows the form again with iTop's reason in
words an agent understands. Otherwise the confirmation says what was done and, when something
after the create call did not happen yet, what is missing and that it will be retried.
"""

from __future__ import annotations

from typing import Final

from itop_intercom.inbox import creation, form, form_choices
from itop_intercom.inbox.context import Canvas, ScreenContext
from itop_intercom.inbox.form_choices import ChoiceView
from itop_intercom.inbox.form_state import FormField, FormState, form_fields
from itop_intercom.inbox.labels import attribute_label, ticket_ref
from itop_intercom.inbox.refusals import explain
from itop_intercom.inbox.registry import Handler
from itop_intercom.intercom import canvas as ck


def validate(
    ctx: ScreenContext,
    fields: list[FormField],
    state: FormState,
    views: dict[str, ChoiceView],
) -> dict[str, str]:
    """Errors by attribute code; empty when the form may be sent to iTop."""
    t = ctx.t
    errors: dict[str, str] = {}
    for form_field in fields:
        attcode = form_field.attcode
        spec = form_field.spec
        value = state.value(attcode).strip()
        label = attribute_label(ctx, attcode)
        if not value:
            if spec.mandatory:
                view = views.get(attcode)
                empty = view is not None and view.mode in ("empty", "waiting")
                errors[attcode] = t("form.no_value" if empty else "form.required", label=label)
            continue
        if spec.kind == "integer" and not value.lstrip("-").isdigit():
            errors[attcode] = t("form.integer", label=label)
        elif spec.max_length is not None and len(value) > spec.max_length:
            errors[attcode] = t("form.too_long", label=label, max=spec.max_length)
    return errors


async def submit(ctx: ScreenContext, _arg: str) -> Canvas:
    state = FormState.from_context(ctx)
    if state is None:
        return await form.open_form(ctx, "")
    fields = form_fields(ctx.services.settings)
    views = form_choices.from_stored(ctx)
    errors = validate(ctx, fields, state, views)
    if errors:
        return form.render(ctx, state, views, errors=errors, banner=ctx.t("form.fix_errors"))
    outcome = await creation.create(ctx, fields, state)
    if outcome.ticket is None:
        refusal = explain(ctx, outcome.refusal or "")
        field_errors = {refusal.attcode: refusal.message} if refusal.attcode else {}
        return form.render(ctx, state, views, errors=field_errors, banner=refusal.message)
    return confirmation(ctx, outcome)


def confirmation(ctx: ScreenContext, outcome: creation.Outcome) -> Canvas:
    t = ctx.t
    ticket = outcome.ticket
    assert ticket is not None
    ref = ticket_ref(ticket)
    backoffice, _portal = creation.ticket_urls(ctx, ticket)
    components: list[ck.Component] = [
        ck.text(t("created.title", ref=ref), style="header"),
        ck.text(t("created.linked")),
    ]
    history = outcome.history
    if history is not None:
        if history.failed:
            components.append(ck.text(t("created.history_later"), style="error"))
        elif history.parts:
            components.append(ck.text(t("created.history", count=history.parts), style="muted"))
    if outcome.link_pending:
        components.append(ck.text(t("created.link_later"), style="error"))
    if outcome.reply_posted:
        components.append(ck.text(t("created.reply_posted"), style="muted"))
    else:
        components.append(ck.text(t("created.reply_later"), style="error"))
    if ctx.services.settings.view_ticket.show_open_in_backoffice_button:
        components.append(ck.url_button(f"open:{ticket.id}", t("detail.open"), backoffice))
    components.append(ck.submit_button("home", t("common.done")))
    return ck.canvas(components, {"screen": "created", "ticket": ticket.id})


#: The component ids this screen answers (see `registry`).
ACTIONS: Final[tuple[tuple[str, Handler], ...]] = (("form:submit", submit),)
