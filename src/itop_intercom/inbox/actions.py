"""Every Inbox screen's actions in one table (built by the composition root, `runtime`)."""

from __future__ import annotations

from itop_intercom.inbox import create, detail, find, form, home, link, lists, person_choice
from itop_intercom.inbox.registry import ActionTable


def action_table() -> ActionTable:
    return ActionTable(
        [
            *home.ACTIONS,
            *lists.ACTIONS,
            *detail.ACTIONS,
            *link.ACTIONS,
            *form.ACTIONS,
            *create.ACTIONS,
            *person_choice.ACTIONS,
            *find.ACTIONS,
        ]
    )
