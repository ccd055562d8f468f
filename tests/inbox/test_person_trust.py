"""The contact's iTop identity: signed (Messenger security enforced) it names the person, unsigned
it is a hint that only the contact's email can confirm."""

from __future__ import annotations

from typing import Any

import pytest

from itop_intercom.locale import Texts
from itop_intercom.settings.model import Settings
from tests.conftest import OTHER_CLIENT_SECRET, OTHER_WORKSPACE, WORKSPACE, SettingsFactory
from tests.fakes.itop import FakeItop
from tests.inbox.driver import Inbox

AGATHA = {"itop_contact_class": "Person", "itop_contact_id": "15"}
MESSENGER_SECRET = "ms-test-3f9a1c7e5b2d"


def _workspaces(**messenger: Any) -> dict[str, Any]:
    return {
        WORKSPACE: {"scope": "SELECT Person", **messenger},
        OTHER_WORKSPACE: {
            "scope": "SELECT Person",
            "client_secret": OTHER_CLIENT_SECRET,
            "language": "fr",
            **messenger,
        },
    }


@pytest.fixture(params=["enforced", "not_enforced"])
def enforced(request: pytest.FixtureRequest) -> bool:
    return bool(request.param == "enforced")


@pytest.fixture
def settings(make_settings: SettingsFactory, enforced: bool) -> Settings:
    return make_settings(
        workspaces=_workspaces(messenger_secret=MESSENGER_SECRET, messenger_enforced=enforced)
    )


def _external_id(value: str) -> Any:
    def hook(body: dict[str, Any]) -> None:
        body["contact"]["external_id"] = value

    return hook


def _person_searches(fake_itop: FakeItop) -> list[Any]:
    return [
        c
        for c in fake_itop.calls
        if "SELECT Person WHERE email" in str((c.get("json_data") or {}).get("key"))
    ]


async def test_signed_user_id_names_the_person_only_when_enforced(
    inbox: Inbox, fake_itop: FakeItop, enforced: bool
) -> None:
    inbox.contact_email = None
    inbox.hook = _external_id("itop-Person-15")
    await inbox.initialize()
    # Enforced: Intercom accepted this user id only from a token we signed. Not enforced: anyone
    # could have booted the Messenger with it, and there is no email to confirm it.
    assert inbox.component("home:create")["disabled"] is (not enforced)
    assert not _person_searches(fake_itop)


async def test_user_id_of_another_form_is_not_trusted(inbox: Inbox, enforced: bool) -> None:
    inbox.contact_email = None
    inbox.hook = _external_id("15")
    await inbox.initialize()
    assert inbox.component("home:create")["disabled"]


async def test_unsigned_attributes_of_someone_else_are_ignored(
    inbox: Inbox, fake_itop: FakeItop, t: Texts, enforced: bool
) -> None:
    # Pablo's browser claims to be Agatha: the contact's email (Pablo's) wins.
    inbox.contact_attributes = AGATHA
    inbox.contact_email = "pablo.picasso@demo.com"
    await inbox.initialize()
    assert t("home.person_is", name="Pablo Picasso") in inbox.texts()
    assert t("home.person_is", name="Agatha Christie") not in inbox.texts()


async def test_unsigned_attributes_confirmed_by_the_email(
    inbox: Inbox, t: Texts, enforced: bool
) -> None:
    inbox.contact_attributes = AGATHA
    inbox.contact_email = "agatha.christie@demo.com"
    await inbox.initialize()
    assert not inbox.component("home:create")["disabled"]
    assert t("home.person_is", name="Agatha Christie") in inbox.texts()


async def test_a_confirmed_hint_settles_a_shared_email(
    inbox: Inbox, t: Texts, enforced: bool
) -> None:
    # Two persons share claude.monet@demo.com: the hint names one of them, and the email
    # confirms it, so the agent is not asked to choose.
    inbox.contact_email = "claude.monet@demo.com"
    inbox.contact_attributes = {"itop_contact_class": "Person", "itop_contact_id": "40"}
    await inbox.initialize()
    assert t("home.person_is", name="Claude Monet-Duplicate") in inbox.texts()
    assert not inbox.component("home:create")["disabled"]
