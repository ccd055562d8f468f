"""The table from component ids to screen handlers.

A component id is `action` or `action:argument` (the argument is what follows the last `:`),
so one handler serves every ticket, page or person: `ticket:42` → handler `ticket`, argument
`42`; `list:linked:2` → handler `list:linked`, argument `2`. Screen modules register their
handlers with `@action(name)`; `dispatch` imports them all.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from itop_intercom.inbox.context import Canvas, ScreenContext

Handler = Callable[[ScreenContext, str], Awaitable[Canvas]]

ACTIONS: dict[str, Handler] = {}


def action(name: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        if name in ACTIONS and ACTIONS[name] is not handler:
            raise ValueError(f"action {name!r} is registered twice")
        ACTIONS[name] = handler
        return handler

    return register


def resolve(component_id: str) -> tuple[Handler, str] | None:
    """The handler and argument of a component id, or None when nothing handles it."""
    if component_id in ACTIONS:
        return ACTIONS[component_id], ""
    name, _, argument = component_id.rpartition(":")
    if name in ACTIONS:
        return ACTIONS[name], argument
    return None
