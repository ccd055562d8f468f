"""The boot answer: identity signed with the workspace's Messenger secret, regional api_base,
company, and never a secret in the answer or the logs."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

import pytest

from itop_intercom.messenger.tokens import parse_user_id
from tests.messenger.conftest import (
    AGATHA,
    ANY_PERSON,
    DEMO,
    EU,
    HASH_SECRET,
    JWT_SECRET,
    NOBODY,
    SHARED_KEY,
    US,
    Post,
    scopes,
)


def _b64decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def verify_jwt(token: str, secret: str) -> dict[str, Any]:
    """An independent HS256 check: header, signature over `header.payload`, then the claims."""
    header, payload, mac = token.split(".")
    assert json.loads(_b64decode(header)) == {"alg": "HS256", "typ": "JWT"}
    expected = hmac.new(secret.encode(), f"{header}.{payload}".encode(), hashlib.sha256).digest()
    assert hmac.compare_digest(expected, _b64decode(mac)), "JWT signature does not verify"
    claims: dict[str, Any] = json.loads(_b64decode(payload))
    return claims


async def boot(post: Post, *pairs: tuple[str, bool], **changes: Any) -> dict[str, Any]:
    response = await post({**AGATHA, **changes, "scopes": scopes(*pairs)})
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


async def test_jwt_carries_the_signed_identity_with_a_short_expiry(post: Post) -> None:
    before = int(time.time())
    answer = await boot(post, (DEMO, True))
    assert answer["workspace"] == US
    assert answer["verified"] is True
    settings = answer["settings"]
    claims = verify_jwt(settings["intercom_user_jwt"], JWT_SECRET)
    assert claims["user_id"] == "itop-Person-15"
    assert claims["email"] == "agatha.christie@demo.com"
    assert claims["itop_contact_class"] == "Person"
    assert claims["itop_contact_id"] == 15
    assert before + 3600 <= claims["exp"] <= int(time.time()) + 3600
    # Signed attributes travel only inside the token: the browser cannot change them.
    for key in ("user_id", "email", "itop_contact_class", "itop_contact_id", "user_hash"):
        assert key not in settings
    assert settings["name"] == "Agatha Christie"
    assert settings["app_id"] == US
    assert settings["api_base"] == "https://api-iam.intercom.io"
    assert settings["company"] == {"company_id": "itop-org-3", "name": "Demo"}
    assert answer["widget_url"] == f"https://widget.intercom.io/widget/{US}"
    # Reused until five minutes before the token expires.
    assert answer["cache_seconds"] == 3300


async def test_jwt_does_not_verify_with_another_secret(post: Post) -> None:
    answer = await boot(post, (DEMO, True))
    with pytest.raises(AssertionError, match="does not verify"):
        verify_jwt(answer["settings"]["intercom_user_jwt"], HASH_SECRET)


async def test_legacy_user_hash_and_eu_region(post: Post) -> None:
    answer = await boot(post, (DEMO, False), (ANY_PERSON, True))
    settings = answer["settings"]
    assert answer["workspace"] == EU
    assert settings["api_base"] == "https://api-iam.eu.intercom.io"
    assert settings["user_id"] == "itop-Person-15"
    expected = hmac.new(HASH_SECRET.encode(), b"itop-Person-15", hashlib.sha256).hexdigest()
    assert settings["user_hash"] == expected
    assert settings["itop_contact_id"] == 15
    assert "intercom_user_jwt" not in settings


async def test_without_secret_the_widget_boots_unsigned_in_au(post: Post) -> None:
    answer = await boot(post, (DEMO, False), (ANY_PERSON, False), (NOBODY, True))
    settings = answer["settings"]
    assert answer["verified"] is False
    assert settings["api_base"] == "https://api-iam.au.intercom.io"
    assert settings["email"] == "agatha.christie@demo.com"
    assert (settings["itop_contact_class"], settings["itop_contact_id"]) == ("Person", 15)
    assert "user_hash" not in settings and "intercom_user_jwt" not in settings


async def test_person_without_organisation_has_no_company(post: Post) -> None:
    person = {**AGATHA["person"], "org_id": 0, "org_name": ""}
    answer = await boot(post, (DEMO, True), person=person)
    assert "company" not in answer["settings"]


@pytest.mark.parametrize(
    "messenger_overrides",
    [{"user_id_template": "acme:{person_class}:{person_id}", "company_id_template": "org{org_id}"}],
    indirect=True,
)
async def test_user_id_and_company_id_templates(post: Post) -> None:
    answer = await boot(post, (DEMO, True))
    claims = verify_jwt(answer["settings"]["intercom_user_jwt"], JWT_SECRET)
    assert claims["user_id"] == "acme:Person:15"
    assert parse_user_id("acme:{person_class}:{person_id}", claims["user_id"]) == ("Person", 15)
    assert answer["settings"]["company"]["company_id"] == "org3"


async def test_marker_differs_per_person_and_hides_the_id(post: Post) -> None:
    first = await boot(post, (DEMO, True))
    other_person = {**AGATHA["person"], "id": 16}
    second = await boot(post, (DEMO, True), person=other_person)
    assert first["marker"] != second["marker"]
    assert "itop-Person" not in first["marker"]
    assert len(first["marker"]) == 32 and int(first["marker"], 16) >= 0


async def test_no_secret_in_any_answer_or_log(
    post: Post, capsys: pytest.CaptureFixture[str]
) -> None:
    texts = []
    for pairs in ([(DEMO, True)], [(DEMO, False), (ANY_PERSON, True)], []):
        texts.append((await post({**AGATHA, "scopes": scopes(*pairs)})).text)
    texts.append((await post(AGATHA, key="wrong")).text)
    texts.append((await post(AGATHA, key=SHARED_KEY + "x")).text)
    captured = capsys.readouterr()
    everything = "\n".join([*texts, captured.out, captured.err])
    assert "itop-Person-15" in texts[1]  # the answers were real ones
    for secret in (SHARED_KEY, JWT_SECRET, HASH_SECRET):
        assert secret not in everything
