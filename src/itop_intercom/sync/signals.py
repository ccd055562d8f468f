"""In-process wake-ups: the intake tells a worker of the same process that parts arrived.

Only an optimisation over polling (`sync.poll_seconds`): a worker in another process still finds
the parts at its next poll. Events are per engine, so tests that build many services do not wake
each other's workers.
"""

from __future__ import annotations

import asyncio
import weakref

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

_subscribers: weakref.WeakKeyDictionary[sa.Engine, set[asyncio.Event]] = weakref.WeakKeyDictionary()


def subscribe(engine: AsyncEngine) -> asyncio.Event:
    event = asyncio.Event()
    _subscribers.setdefault(engine.sync_engine, set()).add(event)
    return event


def unsubscribe(engine: AsyncEngine, event: asyncio.Event) -> None:
    _subscribers.get(engine.sync_engine, set()).discard(event)


def notify(engine: AsyncEngine) -> None:
    for event in _subscribers.get(engine.sync_engine, set()):
        event.set()
