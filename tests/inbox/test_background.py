"""The background job that posts a late note or reply exactly once."""

from __future__ import annotations

import pytest

from itop_intercom.inbox.background import POST_MESSAGE_JOB, enqueue_message, post_message
from itop_intercom.runtime import Services
from itop_intercom.sync import jobs
from itop_intercom.sync.worker import Worker
from tests.conftest import WORKSPACE
from tests.fakes.intercom import FakeIntercom
from tests.fakes.signing import DEFAULT_ADMIN_ID, canvas_initialize_body

MARKER = "https://itop.test/pages/UI.php?operation=details&class=UserRequest&id=7"


def _conversation(fake_intercom: FakeIntercom, conversation_id: str) -> None:
    body = canvas_initialize_body(WORKSPACE, conversation_id=conversation_id, contact_email=None)
    fake_intercom.add_conversation(body["conversation"])


async def test_posts_once(services: Services, fake_intercom: FakeIntercom) -> None:
    _conversation(fake_intercom, "77")
    await enqueue_message(
        services,
        workspace_id=WORKSPACE,
        conversation_id="77",
        admin_id=DEFAULT_ADMIN_ID,
        message_type="note",
        body=f'<p><a href="{MARKER.replace("&", "&amp;")}">R-1</a></p>',
        marker=MARKER,
        maybe_posted=True,
    )
    await Worker(services).run_once()
    assert [r["message_type"] for r in fake_intercom.replies] == ["note"]
    # Run again (a worker died after posting): the marker is found, nothing is doubled.
    payload = {
        "workspace_id": WORKSPACE,
        "conversation_id": "77",
        "admin_id": DEFAULT_ADMIN_ID,
        "message_type": "note",
        "body": "<p>again</p>",
        "marker": MARKER,
        "maybe_posted": True,
    }
    await post_message(services, payload)
    assert len(fake_intercom.replies) == 1


async def test_gone_conversation_is_given_up(services: Services) -> None:
    payload = {
        "workspace_id": WORKSPACE,
        "conversation_id": "does-not-exist",
        "admin_id": "1",
        "message_type": "comment",
        "body": "<p>x</p>",
        "marker": MARKER,
        "maybe_posted": False,
    }
    with pytest.raises(jobs.PermanentJobError):
        await post_message(services, payload)
    assert services.job_handlers[POST_MESSAGE_JOB] is post_message
