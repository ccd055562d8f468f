"""The durable job runner: run once, retry with backoff, dead after a permanent error or max age."""

from __future__ import annotations

import time
from typing import Any

import pytest
import sqlalchemy as sa

from itop_intercom.intercom.errors import IntercomUnavailable
from itop_intercom.runtime import Services, build_services
from itop_intercom.settings.model import Settings
from itop_intercom.store.tables import jobs as jobs_t
from itop_intercom.sync import jobs
from itop_intercom.sync.worker import Worker

calls: list[dict[str, Any]] = []
failures: list[BaseException] = []


async def record(services: Services, payload: dict[str, Any]) -> None:
    if failures:
        raise failures.pop(0)
    calls.append(payload)


@pytest.fixture(autouse=True)
def _reset(services: Services) -> None:
    calls.clear()
    failures.clear()
    services.job_handlers["test.record"] = record


async def job_row(services: Services, job_id: int) -> Any:
    async with services.engine.connect() as conn:
        return (await conn.execute(sa.select(jobs_t).where(jobs_t.c.id == job_id))).one()


async def test_a_job_runs_once(services: Services, worker: Worker) -> None:
    job_id = await jobs.enqueue(services.db, "test.record", {"n": 1})
    await worker.run_once()
    await worker.run_once()
    assert calls == [{"n": 1}]
    row = await job_row(services, job_id)
    assert (row.state, row.attempts, row.lease_owner) == ("done", 1, None)


async def test_a_transient_failure_is_retried_later(services: Services, worker: Worker) -> None:
    failures.append(IntercomUnavailable("Intercom is down", maybe_applied=False))
    job_id = await jobs.enqueue(services.db, "test.record", {"n": 2})
    await worker.run_once()
    row = await job_row(services, job_id)
    assert row.state == "pending"
    assert row.due_at > time.time()
    assert "Intercom is down" in row.last_error
    async with services.engine.begin() as conn:
        await conn.execute(sa.update(jobs_t).values(due_at=0))
    await worker.run_once()
    assert calls == [{"n": 2}]
    assert (await job_row(services, job_id)).state == "done"


async def test_a_permanent_failure_is_a_dead_job(services: Services, worker: Worker) -> None:
    failures.append(jobs.PermanentJobError("conversation deleted"))
    job_id = await jobs.enqueue(services.db, "test.record", {})
    await worker.run_once()
    row = await job_row(services, job_id)
    assert (row.state, row.last_error) == ("dead", "conversation deleted")


async def test_a_job_failing_past_the_maximum_age_is_dead(
    services: Services, worker: Worker
) -> None:
    failures.append(IntercomUnavailable("still down", maybe_applied=False))
    job_id = await jobs.enqueue(services.db, "test.record", {})
    async with services.engine.begin() as conn:
        await conn.execute(sa.update(jobs_t).values(age_from=time.time() - 25 * 3600))
    await worker.run_once()
    row = await job_row(services, job_id)
    assert row.state == "dead"
    assert row.last_error.startswith("gave up after 24 h")


async def test_an_unknown_kind_waits_for_a_worker_that_knows_it(
    services: Services, worker: Worker
) -> None:
    job_id = await jobs.enqueue(services.db, "test.unknown", {})
    await worker.run_once()
    row = await job_row(services, job_id)
    assert row.state == "pending"
    assert "no handler" in row.last_error


async def test_a_leased_job_is_not_run_by_another_worker(
    services: Services, worker: Worker
) -> None:
    await jobs.enqueue(services.db, "test.record", {})
    claimed = await jobs.claim(services.db, "someone-else", 10, 60)
    assert len(claimed) == 1
    await worker.run_once()
    assert calls == []


async def test_enqueue_checks_its_arguments(services: Services) -> None:
    with pytest.raises(ValueError):
        await jobs.enqueue(services.db, "", {})
    with pytest.raises(TypeError):
        await jobs.enqueue(services.db, "test.record", {"x": object()})


async def test_handlers_belong_to_their_service(services: Services, settings: Settings) -> None:
    other = build_services(settings)
    try:
        assert "test.record" not in other.job_handlers
        assert services.job_handlers["test.record"] is record
    finally:
        await other.aclose()
