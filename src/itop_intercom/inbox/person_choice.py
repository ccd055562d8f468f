"""When the contact's iTop person is not obvious.

Several active persons with the contact's email: the agent chooses, and the choice is kept for the
conversation (never guessed: a wrong person would see or own someone else's ticket). No person: the
canvas says which email was searched and what an administrator can do about it, and still lets the
agent find a ticket by its reference to link it (see `find`).
"""

from __future__ import annotations

from typing import Final

from itop_intercom.inbox.context import Canvas, ScreenContext
from itop_intercom.inbox.home import render as render_home
from itop_intercom.inbox.person import remember_choice, resolve
from itop_intercom.inbox.registry import Handler
from itop_intercom.intercom import canvas as ck
from itop_intercom.itop.people import Person


def person_id_of(person: Person) -> str:
    return f"person:{person.class_}-{person.id}"


async def choose(ctx: ScreenContext, _arg: str) -> Canvas:
    match = await resolve(ctx)
    if match.kind != "ambiguous":
        return await render_home(ctx)
    t = ctx.t
    items = [
        ck.list_item(
            person_id_of(person),
            person.name,
            subtitle=person.org_name or None,
            tertiary_text=person.email or None,
        )
        for person in match.candidates[:30]
    ]
    return ck.canvas(
        [
            ck.text(t("person.choose_title"), style="header"),
            ck.text(t("person.choose_text", count=len(match.candidates), email=match.email)),
            ck.list_(items),
            ck.submit_button("home", t("common.back"), style="secondary"),
        ],
        {"screen": "person_choice"},
    )


async def chosen(ctx: ScreenContext, argument: str) -> Canvas:
    class_, _, raw_id = argument.partition("-")
    if class_.isidentifier() and raw_id.isdigit() and len(raw_id) <= 12:
        await remember_choice(ctx, class_, int(raw_id))
    return await render_home(ctx)


async def no_person(ctx: ScreenContext, _arg: str) -> Canvas:
    return no_person_canvas(ctx)


def no_person_canvas(ctx: ScreenContext, *, error: str | None = None) -> Canvas:
    t = ctx.t
    contact = ctx.request.contact
    email = (contact.email or "") if contact is not None else ""
    components: list[ck.Component] = [ck.text(t("noperson.title"), style="header")]
    if email:
        components.append(ck.text(t("noperson.searched", email=email)))
    else:
        components.append(ck.text(t("noperson.no_email")))
    components.append(ck.text(t("noperson.admin_can"), style="muted"))
    components.append(ck.divider())
    components.append(
        ck.input_(
            "find",
            t("noperson.find_label"),
            value=ctx.input_text("find"),
            placeholder=t("noperson.find_placeholder"),
            submit=True,
        )
    )
    if error:
        components.append(ck.text(error, style="error"))
    components.append(ck.submit_button("home", t("common.back"), style="secondary"))
    return ck.canvas(components, {"screen": "noperson"})


#: The component ids this screen answers (see `registry`).
ACTIONS: Final[tuple[tuple[str, Handler], ...]] = (
    ("home:person", choose),
    ("person", chosen),
    ("home:noperson", no_person),
)
