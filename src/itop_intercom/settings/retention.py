"""How long the sync's bookkeeping is kept, and how the worker purges it."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field


class RetentionSettings(BaseModel):
    # Unknown keys are refused, as in every settings table.
    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    """The worker purges old rows (off: nothing is ever deleted; `db purge` still works)."""
    done_days: Annotated[float, Field(gt=0)] = 30.0
    """Applied parts (done deliveries), finished jobs and sent back-sync posts are kept this long
    after they finished."""
    dead_days: Annotated[float, Field(gt=0)] = 90.0
    """Dead deliveries, jobs and back-sync posts are kept until replayed, or this long after they
    died."""
    every_minutes: Annotated[float, Field(gt=0, le=1440)] = 60.0
    """How often the worker looks for rows past retention."""
    batch_size: Annotated[int, Field(ge=1, le=10000)] = 500
    """Most rows deleted per transaction; each batch is also kept to a few milliseconds, so that
    webhooks never wait long behind one."""
    pause_seconds: Annotated[float, Field(ge=0, le=60)] = 0.25
    """Pause between two batches, leaving the database and the processor to the webhooks and
    the worker (at least as long as the batch took). With batches of a few milliseconds, 0.25 s
    purges about 1,700 rows a second: a backlog of a million parts (two million rows with their
    deliveries) in about twenty minutes, a day of ordinary traffic in seconds. Lower purges
    faster at some cost to the webhooks' latency (0.1 s: about 4,000 rows a second)."""
