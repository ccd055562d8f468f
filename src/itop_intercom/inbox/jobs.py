"""The background jobs of the Inbox, by kind: the job-handler table that the composition root
(`runtime`) gives every service instance, so that `serve` and `worker` run the same handlers."""

from __future__ import annotations

from itop_intercom.inbox import background, history
from itop_intercom.sync.jobs import JobHandler


def job_handlers() -> dict[str, JobHandler]:
    return {
        background.POST_MESSAGE_JOB: background.post_message,
        history.COPY_HISTORY_JOB: history.copy_later,
    }
