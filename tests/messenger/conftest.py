"""Messenger fixtures: a service with the module's shared key, three workspaces in three regions,
and a helper that signs requests as the iTop module does."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from itop_intercom.messenger import signing
from itop_intercom.messenger.request import scope_key
from itop_intercom.messenger.routes import BOOT_PATH
from itop_intercom.settings.model import Settings, WorkspaceSettings
from tests.conftest import SettingsFactory

SHARED_KEY = "sk-module-7c3e9a1f5d2b8e4a"
JWT_SECRET = "ms-jwt-4d8f2a6c1e9b3f7d"
HASH_SECRET = "ms-hash-2b7e5c9a3f1d8e6c"
US, EU, AU = "wsus0001", "wseu0002", "wsau0003"
DEMO = "SELECT Organization WHERE name = 'Demo'"
ANY_PERSON = "SELECT Person"
NOBODY = "SELECT Organization WHERE name = 'Nowhere'"

AGATHA: dict[str, Any] = {
    "portal": "itop-portal",
    "user": {"id": "6", "login": "agatha.christie", "profiles": ["Portal user"]},
    "person": {
        "class": "Person",
        "id": 15,
        "name": "Agatha Christie",
        "email": "agatha.christie@demo.com",
        "org_id": 3,
        "org_name": "Demo",
    },
}


def workspaces() -> dict[str, Any]:
    """In this order: US (scope Demo, JWT), EU (any person, legacy hash), AU (no secret)."""
    return {
        US: {"scope": DEMO, "region": "us", "messenger_secret": JWT_SECRET},
        EU: {
            "scope": ANY_PERSON,
            "region": "eu",
            "messenger_secret": HASH_SECRET,
            "messenger_security": "user_hash",
        },
        AU: {"scope": NOBODY, "region": "au"},
    }


@pytest.fixture
def messenger_overrides(request: pytest.FixtureRequest) -> dict[str, Any]:
    """Changes to the `messenger` settings (parametrize indirectly)."""
    return dict(getattr(request, "param", {}))


@pytest.fixture
def settings(make_settings: SettingsFactory, messenger_overrides: dict[str, Any]) -> Settings:
    built = make_settings(
        messenger={
            "shared_key": SHARED_KEY,
            "enabled_portals": ["itop-portal", "backoffice"],
            "allowed_profiles": ["Portal user", "Service Desk Agent"],
            **messenger_overrides,
        },
    )
    # Only these workspaces, in this order (the factory would merge them after its own).
    built.workspaces = {k: WorkspaceSettings(**v) for k, v in workspaces().items()}
    return built


def results(**by_oql: bool) -> dict[str, bool]:
    return {scope_key(oql): value for oql, value in by_oql.items()}


def scopes(*pairs: tuple[str, bool]) -> dict[str, bool]:
    return {scope_key(oql): value for oql, value in pairs}


Post = Callable[..., Awaitable[httpx.Response]]


@pytest.fixture
def post(client: httpx.AsyncClient) -> Post:
    async def send(
        payload: dict[str, Any] | None = None,
        *,
        key: str = SHARED_KEY,
        path: str = BOOT_PATH,
        now: float | None = None,
        headers: dict[str, str] | None = None,
        raw: bytes | None = None,
    ) -> httpx.Response:
        body = raw if raw is not None else json.dumps(payload or {}).encode()
        signed = signing.sign(key, "POST", path, body, now=now).as_dict()
        signed.update(headers or {})
        return await client.post(
            path, content=body, headers={**signed, "Content-Type": "application/json"}
        )

    return send
