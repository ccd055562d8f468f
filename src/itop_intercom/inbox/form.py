"""The creation form: opening it, re-rendering it when a choice or a search changes, drawing it.

The form opens prefilled: the caller and their organisation (not editable: they are the
contact's person), the title from the conversation's subject or first message, the description
from the first message, and the defaults of the form description. Nothing typed is ever lost:
every re-render (a choice changed, a search, a validation error, iTop refusing) starts from what
the agent submitted.
"""

from __future__ import annotations

from typing import Final

from itop_intercom.inbox import form_choices
from itop_intercom.inbox.context import Canvas, ScreenContext
from itop_intercom.inbox.form_choices import ChoiceView
from itop_intercom.inbox.form_state import (
    NONE_OPTION,
    Caller,
    FormField,
    FormState,
    field_id,
    form_fields,
    search_id,
)
from itop_intercom.inbox.labels import attribute_label
from itop_intercom.inbox.person import resolve
from itop_intercom.inbox.person_choice import choose, no_person_canvas
from itop_intercom.inbox.plain import html_to_text, one_line
from itop_intercom.inbox.registry import Handler
from itop_intercom.intercom import canvas as ck
from itop_intercom.intercom.payloads import Conversation

TITLE_CHARS = 80
#: A prefilled description longer than this is cut: the canvas and its stored data must stay
#: under 64 KB each, and the whole conversation is copied into the ticket's log anyway.
DESCRIPTION_CHARS = 8000


def first_message(conversation: Conversation | None) -> str:
    """The text of the message that opened the conversation (else its first comment)."""
    if conversation is None:
        return ""
    if conversation.source is not None:
        text = html_to_text(conversation.source.body)
        if text:
            return text
    for part in conversation.parts:
        if part.part_type == "comment":
            text = html_to_text(part.body)
            if text:
                return text
    return ""


def prefill(ctx: ScreenContext, form_field: FormField) -> str:
    spec = form_field.spec
    conversation = ctx.request.conversation
    if spec.prefill == "subject":
        subject = ""
        if conversation is not None:
            source_subject = conversation.source.subject if conversation.source else None
            subject = html_to_text(source_subject or conversation.title or "")
        text = subject or first_message(conversation)
        limit = min(spec.max_length or TITLE_CHARS, TITLE_CHARS)
        return one_line(text, limit)
    if spec.prefill == "first_message":
        text = first_message(conversation)
        limit = min(spec.max_length or DESCRIPTION_CHARS, DESCRIPTION_CHARS)
        return text if len(text) <= limit else text[: limit - 1] + "…"
    return spec.default or ""


async def open_form(ctx: ScreenContext, _arg: str) -> Canvas:
    match = await resolve(ctx, load=True)
    if match.person is None:
        if match.kind == "ambiguous":
            return await choose(ctx, "")
        return no_person_canvas(ctx)
    fields = form_fields(ctx.services.settings)
    values = {f.attcode: prefill(ctx, f) for f in fields}
    state = FormState.new(Caller.of(match.person), values)
    views = await form_choices.compute(ctx, fields, state)
    return render(ctx, state, views)


async def refresh(ctx: ScreenContext, _arg: str) -> Canvas:
    """A choice with dependents changed, or a search was submitted: draw the form again."""
    state = FormState.from_context(ctx)
    if state is None:
        return await open_form(ctx, "")
    fields = form_fields(ctx.services.settings)
    views = await form_choices.compute(ctx, fields, state)
    return render(ctx, state, views)


def _label(ctx: ScreenContext, form_field: FormField) -> str:
    label = attribute_label(ctx, form_field.attcode)
    return ctx.t("form.mandatory", label=label) if form_field.spec.mandatory else label


def _choice(
    ctx: ScreenContext,
    form_field: FormField,
    view: ChoiceView,
    state: FormState,
    submits: bool,
) -> list[ck.Component]:
    t = ctx.t
    attcode = form_field.attcode
    label = _label(ctx, form_field)
    current = state.value(attcode)
    if view.mode == "waiting":
        needed = ", ".join(attribute_label(ctx, name) for name in view.waiting_for)
        return [ck.text(t("form.waiting", label=label, needed=needed), style="muted")]
    if view.mode == "empty":
        return [ck.text(t("form.no_choice", label=label), style="muted")]
    if view.mode == "fixed":
        return [ck.text(t("form.fixed", label=label, value=view.options[0][1]))]
    components: list[ck.Component] = []
    if view.mode == "search":
        components.append(
            ck.input_(
                search_id(attcode),
                t("form.search_label", label=label),
                value=state.searches.get(attcode, ""),
                placeholder=t("form.search_placeholder", count=view.total),
                submit=True,
            )
        )
        if state.searches.get(attcode) and view.matches > len(view.options):
            components.append(ck.text(t("form.search_more", count=view.matches), style="muted"))
        elif state.searches.get(attcode) and view.matches == 0:
            components.append(ck.text(t("form.search_none"), style="muted"))
    options = [(oid, text or t("form.none")) for oid, text in view.options]
    real = [o for o in options if o[0] != NONE_OPTION]
    if len(options) >= 2:
        value = current or (NONE_OPTION if options[0][0] == NONE_OPTION else None)
        selector_label = label if view.mode == "select" else t("form.pick", label=label)
        if submits:
            components.append(
                ck.single_select(
                    field_id(attcode), selector_label, options, value=value, submit=True
                )
            )
        else:
            components.append(ck.dropdown(field_id(attcode), selector_label, options, value=value))
    elif len(real) == 1 and current == real[0][0]:
        components.append(ck.text(t("form.fixed", label=label, value=real[0][1])))
    return components


def render(
    ctx: ScreenContext,
    state: FormState,
    views: dict[str, ChoiceView],
    *,
    errors: dict[str, str] | None = None,
    banner: str | None = None,
) -> Canvas:
    """The form canvas; `errors` by attribute code, `banner` for a refusal of iTop."""
    t = ctx.t
    errors = errors or {}
    fields = form_fields(ctx.services.settings)
    with_dependents = form_choices.dependents(fields)
    caller = state.caller
    components: list[ck.Component] = [
        ck.text(t("form.title"), style="header"),
        ck.text(t("form.caller", name=caller.name, org=caller.org_name), style="muted"),
    ]
    if banner:
        components.append(ck.text(banner, style="error"))
    for form_field in fields:
        attcode = form_field.attcode
        kind = form_field.spec.kind
        error = errors.get(attcode)
        if kind == "choice":
            view = views.get(attcode) or ChoiceView(attcode, "empty")
            components += _choice(ctx, form_field, view, state, attcode in with_dependents)
        elif kind == "textarea":
            components.append(
                ck.textarea(
                    field_id(attcode),
                    _label(ctx, form_field),
                    value=state.values.get(attcode, ""),
                    error=error is not None,
                )
            )
        else:
            components.append(
                ck.input_(
                    field_id(attcode), _label(ctx, form_field), value=state.values.get(attcode, "")
                )
            )
        if error:
            components.append(ck.text(error, style="error"))
    components.append(ck.submit_button("form:submit", t("form.create")))
    components.append(ck.submit_button("home", t("common.cancel"), style="secondary"))
    choice_codes = {f.attcode for f in fields if f.spec.kind == "choice"}
    stored = {
        "screen": "form",
        "form": state.to_json(choice_codes=choice_codes),
        "views": form_choices.to_stored(views),
    }
    return ck.canvas(components, stored)


#: The component ids this screen answers (see `registry`).
ACTIONS: Final[tuple[tuple[str, Handler], ...]] = (
    ("home:create", open_form),
    ("field", refresh),
    ("search", refresh),
)
