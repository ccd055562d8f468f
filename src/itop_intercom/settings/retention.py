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
    """Rows deleted per transaction: short transactions never hold webhooks back for long."""
    pause_seconds: Annotated[float, Field(ge=0, le=60)] = 0.02
    """Pause between two batches, leaving the database to the webhooks and the worker (at least
    as long as the batch took)."""
