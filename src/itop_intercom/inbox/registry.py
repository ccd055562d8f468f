"""The table from component ids to screen handlers.

A component id is `action` or `action:argument` (the argument is what follows the last `:`),
so one handler serves every ticket, page or person: `ticket:42` → handler `ticket`, argument
`42`; `list:linked:2` → handler `list:linked`, argument `2`. Each screen module lists the
actions it answers in its `ACTIONS`; `inbox.actions` gathers them into the table the
composition root gives every service instance (`Services.actions`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable

from itop_intercom.inbox.context import Canvas, ScreenContext

Handler = Callable[[ScreenContext, str], Awaitable[Canvas]]


class ActionTable:
    def __init__(self, actions: Iterable[tuple[str, Handler]]) -> None:
        self._handlers: dict[str, Handler] = {}
        for name, handler in actions:
            if name in self._handlers and self._handlers[name] is not handler:
                raise ValueError(f"action {name!r} is registered twice")
            self._handlers[name] = handler

    def resolve(self, component_id: str) -> tuple[Handler, str] | None:
        """The handler and argument of a component id, or None when nothing handles it."""
        if component_id in self._handlers:
            return self._handlers[component_id], ""
        name, _, argument = component_id.rpartition(":")
        if name in self._handlers:
            return self._handlers[name], argument
        return None
