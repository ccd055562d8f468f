"""Inbox fixtures: every screen test runs with both link stores (the intercom iTop keeps links in
its `intercom_*` fields, the vanilla one in our database) and in English and French (the French
workspace has its own client secret).
"""

from __future__ import annotations

import httpx
import pytest

from itop_intercom.locale import Texts
from tests.conftest import CLIENT_SECRET, OTHER_CLIENT_SECRET, OTHER_WORKSPACE, WORKSPACE
from tests.fakes.intercom import FakeIntercom
from tests.fakes.itop import FakeItop
from tests.fakes.signing import canvas_initialize_body
from tests.inbox.catalog import with_service_catalog
from tests.inbox.driver import Inbox


@pytest.fixture(params=["itop", "local"])
def store_kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def fake_itop(store_kind: str) -> FakeItop:
    fake = FakeItop(instance="intercom" if store_kind == "itop" else "vanilla")
    with_service_catalog(fake)
    return fake


@pytest.fixture(params=["en", "fr"])
def language(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def t(language: str) -> Texts:
    return Texts(language)


@pytest.fixture
def inbox(client: httpx.AsyncClient, language: str, fake_intercom: FakeIntercom) -> Inbox:
    workspace, secret = (
        (WORKSPACE, CLIENT_SECRET) if language == "en" else (OTHER_WORKSPACE, OTHER_CLIENT_SECRET)
    )
    driver = Inbox(client, workspace, secret)
    register_conversation(driver, fake_intercom)
    return driver


def register_conversation(driver: Inbox, fake_intercom: FakeIntercom) -> None:
    """Serve the driver's conversation from the Intercom fake (replies, notes, history)."""
    body = canvas_initialize_body(
        driver.workspace,
        conversation_id=driver.conversation_id,
        contact_email=driver.contact_email,
        parts=driver.parts,
    )
    fake_intercom.add_conversation(body["conversation"])
