"""Copying the conversation so far into a ticket just created from it.

(Adapter over the sync's history planner: filled in when `sync.history` lands.)
"""

from __future__ import annotations

from dataclasses import dataclass

from itop_intercom.inbox.context import ScreenContext
from itop_intercom.itop.client import ItopObject


@dataclass(frozen=True)
class HistoryResult:
    parts: int
    """How many parts (opening message included) will be written to the ticket."""
    failed: bool = False
    """Nothing could be planned now; a background job will copy the history."""


async def copy(ctx: ScreenContext, ticket: ItopObject) -> HistoryResult:
    return HistoryResult(0)
