"""The module's endpoint: who may call it, and the answers it gives."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from itop_intercom.messenger import signing
from itop_intercom.messenger.request import scope_key
from itop_intercom.messenger.routes import BOOT_PATH, PING_PATH
from tests.messenger.conftest import (
    AGATHA,
    ANY_PERSON,
    DEMO,
    EU,
    NOBODY,
    SHARED_KEY,
    US,
    Post,
    scopes,
)


def agatha(**changes: Any) -> dict[str, Any]:
    return {**AGATHA, **changes}


# -- authentication ----------------------------------------------------------------------------


async def test_missing_signature_is_401(client: httpx.AsyncClient) -> None:
    response = await client.post(BOOT_PATH, json=AGATHA)
    assert response.status_code == 401
    assert response.json() == {"error": "missing signature headers"}


async def test_wrong_key_is_401(post: Post) -> None:
    response = await post(AGATHA, key="not-the-shared-key")
    assert response.status_code == 401
    assert response.json() == {"error": "signature does not match"}


async def test_signature_covers_the_path_and_the_body(client: httpx.AsyncClient) -> None:
    body = b'{"portal": "itop-portal"}'
    signed = signing.sign(SHARED_KEY, "POST", PING_PATH, body).as_dict()
    assert (await client.post(BOOT_PATH, content=body, headers=signed)).status_code == 401
    signed = signing.sign(SHARED_KEY, "POST", BOOT_PATH, body).as_dict()
    tampered = b'{"portal": "backoffice"}'
    assert (await client.post(BOOT_PATH, content=tampered, headers=signed)).status_code == 401


async def test_replayed_request_is_refused(client: httpx.AsyncClient) -> None:
    import json

    body = json.dumps(agatha(scopes=scopes((DEMO, True)))).encode()
    headers = signing.sign(SHARED_KEY, "POST", BOOT_PATH, body).as_dict()
    first = await client.post(BOOT_PATH, content=body, headers=headers)
    again = await client.post(BOOT_PATH, content=body, headers=headers)
    assert first.status_code == 200
    assert again.status_code == 401
    assert again.json() == {"error": "replayed request"}


@pytest.mark.parametrize("offset", [-120, 120])
async def test_expired_or_future_request_is_refused(post: Post, offset: int) -> None:
    response = await post(AGATHA, now=time.time() + offset)
    assert response.status_code == 401
    assert response.json() == {"error": "request expired (check both clocks)"}


async def test_request_within_the_window_is_accepted(post: Post) -> None:
    response = await post(agatha(scopes=scopes((DEMO, True))), now=time.time() - 50)
    assert response.status_code == 200


@pytest.mark.parametrize("messenger_overrides", [{"shared_key": None}], indirect=True)
async def test_no_shared_key_on_the_service_is_503(post: Post) -> None:
    response = await post(AGATHA)
    assert response.status_code == 503
    assert response.json() == {"error": "messenger.shared_key is not set"}


async def test_ping_answers_an_authentic_request_only(post: Post) -> None:
    assert (await post(path=PING_PATH)).json() == {"status": "ok"}
    assert (await post(path=PING_PATH, key="wrong")).status_code == 401


@pytest.mark.parametrize(
    "raw",
    [b"not json", b"[]", b'{"portal": "itop-portal"}', b'{"portal": "x", "user": {"id": ""}}'],
)
async def test_malformed_request_is_400(post: Post, raw: bytes) -> None:
    response = await post(raw=raw)
    assert response.status_code == 400
    assert "error" in response.json()


# -- decision ----------------------------------------------------------------------------------


async def test_disabled_portal_gets_nothing(post: Post) -> None:
    answer = (await post(agatha(portal="another-portal", scopes=scopes((DEMO, True))))).json()
    assert answer == {"status": "none", "reason": "portal", "cache_seconds": 300}


async def test_profile_not_allowed_gets_nothing(post: Post) -> None:
    user = {"id": "8", "login": "x", "profiles": ["Configuration Manager"]}
    answer = (await post(agatha(user=user, scopes=scopes((DEMO, True))))).json()
    assert answer["status"] == "none"
    assert answer["reason"] == "profile"


@pytest.mark.parametrize("messenger_overrides", [{"allowed_profiles": []}], indirect=True)
async def test_no_allowed_profile_means_everyone(post: Post) -> None:
    user = {"id": "8", "login": "x", "profiles": []}
    answer = (await post(agatha(user=user, scopes=scopes((DEMO, True))))).json()
    assert answer["status"] == "boot", answer


async def test_backoffice_is_a_portal_like_the_others(post: Post) -> None:
    answer = (await post(agatha(portal="backoffice", scopes=scopes((DEMO, True))))).json()
    assert answer["status"] == "boot"


async def test_unknown_scopes_are_asked_in_settings_order(post: Post) -> None:
    answer = (await post(AGATHA)).json()
    assert answer == {
        "status": "evaluate",
        "scopes": [
            {"key": scope_key(DEMO), "oql": DEMO},
            {"key": scope_key(ANY_PERSON), "oql": ANY_PERSON},
            {"key": scope_key(NOBODY), "oql": NOBODY},
        ],
    }


async def test_first_matching_workspace_wins(post: Post) -> None:
    both = (await post(agatha(scopes=scopes((DEMO, True), (ANY_PERSON, True))))).json()
    assert both["workspace"] == US
    second = (await post(agatha(scopes=scopes((DEMO, False), (ANY_PERSON, True))))).json()
    assert second["workspace"] == EU


async def test_an_earlier_unknown_scope_is_asked_before_a_later_match(post: Post) -> None:
    answer = (await post(agatha(scopes=scopes((ANY_PERSON, True))))).json()
    assert answer == {"status": "evaluate", "scopes": [{"key": scope_key(DEMO), "oql": DEMO}]}


async def test_no_scope_admitting_the_user_gets_nothing(post: Post) -> None:
    all_false = scopes((DEMO, False), (ANY_PERSON, False), (NOBODY, False))
    answer = (await post(agatha(scopes=all_false))).json()
    assert answer["status"] == "none"
    assert answer["reason"] == "scope"


async def test_a_user_without_person_gets_nothing(post: Post) -> None:
    answer = (await post(agatha(person=None, scopes=scopes((DEMO, True))))).json()
    assert answer["reason"] == "no_person"


async def test_a_changed_scope_is_evaluated_again(post: Post) -> None:
    # A result for an OQL the settings no longer hold does not count.
    stale = scopes(("SELECT Organization WHERE name = 'Old'", True))
    answer = (await post(agatha(scopes=stale))).json()
    assert answer["status"] == "evaluate"
