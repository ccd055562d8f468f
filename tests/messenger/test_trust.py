"""Trusted or hint: what a contact's iTop identity is worth."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import SecretStr

from itop_intercom.intercom.payloads import Contact
from itop_intercom.messenger.tokens import parse_user_id, user_id
from itop_intercom.messenger.trust import ContactIdentity, contact_identity
from itop_intercom.settings.model import ResolvedWorkspace

TEMPLATE = "itop-{person_class}-{person_id}"


def workspace(*, secret: bool, enforced: bool) -> ResolvedWorkspace:
    return ResolvedWorkspace(
        id="ws",
        scope="",
        client_secret=None,
        access_token=None,
        region="us",
        language="en",
        messenger_secret=SecretStr("ms-secret-123456") if secret else None,
        messenger_enforced=enforced,
    )


def contact(**fields: Any) -> Contact:
    return Contact.model_validate({"type": "contact", "id": "c1", **fields})


ATTRS = {"custom_attributes": {"itop_contact_class": "Person", "itop_contact_id": "15"}}


def test_enforced_signed_user_id_is_trusted_over_attributes() -> None:
    claimed = contact(external_id="itop-Person-16", **ATTRS)
    found = contact_identity(claimed, workspace(secret=True, enforced=True), TEMPLATE)
    assert found == ContactIdentity("Person", 16, "trusted")


@pytest.mark.parametrize(("secret", "enforced"), [(True, False), (False, True), (False, False)])
def test_without_enforced_security_attributes_are_a_hint(secret: bool, enforced: bool) -> None:
    claimed = contact(external_id="itop-Person-16", **ATTRS)
    found = contact_identity(claimed, workspace(secret=secret, enforced=enforced), TEMPLATE)
    assert found == ContactIdentity("Person", 15, "hint")


@pytest.mark.parametrize(
    "attributes",
    [
        {},
        {"itop_contact_class": "Person"},
        {"itop_contact_class": "Person", "itop_contact_id": "x"},
        {"itop_contact_class": "Person; DROP", "itop_contact_id": "1"},
        {"itop_contact_class": "Person", "itop_contact_id": "-3"},
    ],
)
def test_unusable_attributes_name_nobody(attributes: dict[str, str]) -> None:
    claimed = contact(custom_attributes=attributes)
    assert contact_identity(claimed, workspace(secret=True, enforced=True), TEMPLATE) is None


@pytest.mark.parametrize(
    "value", ["15", "itop-Person-", "itop-Person-015", "xitop-Person-1", "itop-Per son-1"]
)
def test_other_user_ids_do_not_parse(value: str) -> None:
    assert parse_user_id(TEMPLATE, value) is None


def test_user_id_round_trip() -> None:
    assert parse_user_id(TEMPLATE, user_id(TEMPLATE, "Person", 42)) == ("Person", 42)
