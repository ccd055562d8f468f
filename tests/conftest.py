"""Shared fixtures: settings, both databases, the fakes, and an app wired to them.

Every test that touches the database runs twice, on SQLite and on PostgreSQL (the server on the
machine; `scripts/test` starts it). Set ITOP_INTERCOM_TEST_POSTGRES_URL to use another server.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from itop_intercom.runtime import Services
from itop_intercom.settings.model import Settings
from itop_intercom.store import db as store_db
from itop_intercom.store.tables import metadata
from tests.fakes.intercom import FakeIntercom
from tests.fakes.itop import ADMIN_TOKEN, FakeItop
from tests.inbox import canvas_rules
from tests.pgtemp import temporary_postgres_database
from tests.reference import missing_reference, shared_dir
from tests.service import asgi_client, running_service, services_on

WORKSPACE = "ws4test1"
OTHER_WORKSPACE = "ws4test2"
CLIENT_SECRET = "cs-test-5b1e0f3d9a7c"
OTHER_CLIENT_SECRET = "cs-other-8d2c4e6f1a3b"
ACCESS_TOKEN = "intercom-test-token"

POSTGRES_ADMIN_URL = os.environ.get(
    "ITOP_INTERCOM_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.startswith("ITOP_INTERCOM_") and name != "ITOP_INTERCOM_TEST_POSTGRES_URL":
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


# -- databases ------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("db") / "template.sqlite3"
    store_db.upgrade(f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def _postgres_database() -> Iterator[str]:
    try:
        with temporary_postgres_database(
            POSTGRES_ADMIN_URL, "itop_intercom_test", durable=False
        ) as url:
            store_db.upgrade(url)
            yield url
    except sa.exc.OperationalError as exc:
        pytest.fail(f"PostgreSQL is not reachable at {POSTGRES_ADMIN_URL}: {exc.orig}")


@pytest.fixture(scope="session")
def _postgres_admin_engine(_postgres_database: str) -> Iterator[sa.Engine]:
    """One connection pool for resetting the test database between tests."""
    engine = sa.create_engine(store_db.sync_url(_postgres_database))
    yield engine
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, _sqlite_template: Path
) -> Iterator[str]:
    """A migrated, empty database of each kind."""
    if request.param == "sqlite":
        path = tmp_path / "itop-intercom.sqlite3"
        shutil.copy(_sqlite_template, path)
        yield f"sqlite+aiosqlite:///{path}"
        return
    url: str = request.getfixturevalue("_postgres_database")
    engine: sa.Engine = request.getfixturevalue("_postgres_admin_engine")
    # DELETE, not TRUNCATE: on tables this small it takes milliseconds where TRUNCATE (new
    # files for every table and index) takes a quarter of a second, for every test.
    with engine.begin() as conn:
        for table in reversed(metadata.sorted_tables):
            conn.execute(table.delete())
        for table in metadata.sorted_tables:
            if "id" in table.c and table.c.id.autoincrement is not False:
                conn.execute(
                    sa.text("SELECT setval(pg_get_serial_sequence(:t, 'id'), 1, false)"),
                    {"t": table.name},
                )
    yield url


# -- settings and fakes ---------------------------------------------------------------------


@pytest.fixture
def fake_itop() -> FakeItop:
    return FakeItop(instance="intercom")


@pytest.fixture
def fake_intercom() -> FakeIntercom:
    return FakeIntercom(workspace_id=WORKSPACE)


SettingsFactory = Callable[..., Settings]


@pytest.fixture
def make_settings(database_url: str) -> SettingsFactory:
    def factory(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "public_url": "https://itop-intercom.test",
            "database": {"url": database_url},
            # Retries without waiting: the fakes answer at once, the tests check that the
            # retries happen, not how long the backoff is (tests/itop, tests/intercom do).
            "itop": {
                "url": "http://itop.test/",
                "token": ADMIN_TOKEN,
                "rest_version": "1.4",
                "retry_delay_seconds": 0.001,
            },
            "intercom": {
                "client_secret": CLIENT_SECRET,
                "access_token": ACCESS_TOKEN,
                "api_base": "http://intercom.test",
                "retry_delay_seconds": 0.001,
            },
            "workspaces": {
                WORKSPACE: {"scope": "SELECT Person"},
                OTHER_WORKSPACE: {
                    "scope": "SELECT Person",
                    "client_secret": OTHER_CLIENT_SECRET,
                    "language": "fr",
                },
            },
            "sync": {"settle_seconds": 0},
        }
        for key, value in overrides.items():
            if isinstance(value, dict) and isinstance(values.get(key), dict):
                values[key] = {**values[key], **value}
            else:
                values[key] = value
        return Settings(**values)

    return factory


@pytest.fixture
def settings(make_settings: SettingsFactory) -> Settings:
    return make_settings()


@pytest.fixture
async def services(
    settings: Settings, fake_itop: FakeItop, fake_intercom: FakeIntercom
) -> AsyncIterator[Services]:
    built = services_on(settings, fake_itop, fake_intercom)
    yield built
    await built.aclose()


ServiceFactory = Callable[..., AbstractAsyncContextManager[tuple[Services, httpx.AsyncClient]]]


@pytest.fixture
def make_service(
    make_settings: SettingsFactory, fake_itop: FakeItop, fake_intercom: FakeIntercom
) -> ServiceFactory:
    """Services on the fakes with settings overrides, and a client on their app, for tests
    that need other settings than the `services` and `client` fixtures':
    `async with make_service(sync={"settle_seconds": 1}) as (services, http): ...`."""

    def factory(
        **overrides: Any,
    ) -> AbstractAsyncContextManager[tuple[Services, httpx.AsyncClient]]:
        return running_service(make_settings(**overrides), fake_itop, fake_intercom)

    return factory


@pytest.fixture
async def client(services: Services) -> AsyncIterator[httpx.AsyncClient]:
    async with asgi_client(services) as http:
        yield http


# -- the Canvas Kit validation count ----------------------------------------------------------


def pytest_sessionfinish(session: pytest.Session) -> None:
    """On a pytest-xdist worker: hand this worker's canvas count to the controller."""
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput["canvases"] = dict(canvas_rules.CHECKED)


def pytest_testnodedown(node: Any, error: object) -> None:
    """On the pytest-xdist controller: add up the workers' canvas counts."""
    canvas_rules.CHECKED.update(getattr(node, "workeroutput", {}).get("canvases", {}))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Say how many canvases the screen tests validated (see `tests.inbox.canvas_rules`)."""
    if getattr(terminalreporter.config, "workeroutput", None) is not None:
        return
    if canvas_rules.CHECKED:
        screens = ", ".join(f"{name} {n}" for name, n in sorted(canvas_rules.CHECKED.items()))
        total = sum(canvas_rules.CHECKED.values())
        terminalreporter.write_line(f"Canvas Kit validation: {total} canvases passed ({screens})")
        if not canvas_rules.schema_available():
            terminalreporter.write_line(
                "Canvas Kit validation: without Intercom's schema (our rules only): "
                + missing_reference(shared_dir() / canvas_rules.SCHEMA)
            )
