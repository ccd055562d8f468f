"""The composition root: every long-lived object belongs to one service instance."""

from __future__ import annotations

import json

import pytest

from itop_intercom.inbox.background import POST_MESSAGE_JOB, post_message
from itop_intercom.inbox.history import COPY_HISTORY_JOB, copy_later
from itop_intercom.logs import configure, get_logger
from itop_intercom.runtime import Services, build_services
from itop_intercom.settings.model import Settings
from tests.fakes.itop import ADMIN_TOKEN


async def test_two_services_share_no_cache_writer_gate_or_table(
    services: Services, settings: Settings
) -> None:
    other = build_services(settings)
    try:
        for name in (
            "db",
            "part_writer",
            "actions",
            "job_handlers",
            "person_lookups",
            "creations",
            "preview_outbox",
            "refused_origins",
            "catalog",
            "secret_mask",
        ):
            assert getattr(other, name) is not getattr(services, name), name
        assert other.db.wakeups is not services.db.wakeups
        services.refused_origins.add("chat")
        assert "chat" not in other.refused_origins
    finally:
        await other.aclose()


def test_serve_and_worker_get_the_inbox_jobs(services: Services) -> None:
    assert services.job_handlers[POST_MESSAGE_JOB] is post_message
    assert services.job_handlers[COPY_HISTORY_JOB] is copy_later


def test_every_inbox_action_resolves(services: Services) -> None:
    for component_id in ("home", "ticket:42", "list:linked:2", "form:submit", "person:Person-3"):
        assert services.actions.resolve(component_id) is not None, component_id
    assert services.actions.resolve("no-such-action") is None


def test_the_settings_secrets_are_masked_once_logging_has_the_mask(
    services: Services, capsys: pytest.CaptureFixture[str]
) -> None:
    configure("info", "json", services.secret_mask)
    get_logger("t").warning("call failed", detail=f"GET /x?auth_token={ADMIN_TOKEN}")
    event = json.loads(capsys.readouterr().err.strip().splitlines()[-1])
    assert ADMIN_TOKEN not in json.dumps(event)
    assert event["detail"] == "GET /x?auth_token=***"
