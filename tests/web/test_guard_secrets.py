"""Which secrets the guard tries, and in which order (the workspace hint only orders them)."""

from __future__ import annotations

from itop_intercom.settings.model import Settings
from itop_intercom.web.guard import candidate_secrets, client_secrets, workspace_hint


def settings() -> Settings:
    return Settings(
        intercom={"client_secret": "app-secret-1"},
        workspaces={
            "shared1": {"scope": ""},  # uses the app's secret
            "shared2": {"scope": ""},
            "own1": {"scope": "", "client_secret": "own-secret-2"},
            "own2": {"scope": "", "client_secret": "own-secret-3"},
        },
    )


def test_every_secret_is_tried_once_whatever_the_hint() -> None:
    configured = settings()
    secrets = client_secrets(configured)
    assert secrets == ["app-secret-1", "own-secret-2", "own-secret-3"]
    for hint in (None, "shared1", "own2", "unknown", "OWN1"):
        assert sorted(candidate_secrets(configured, secrets, hint)) == sorted(secrets)
    assert candidate_secrets(configured, secrets, "own2")[0] == "own-secret-3"
    assert candidate_secrets(configured, secrets, "shared2")[0] == "app-secret-1"


def test_a_workspace_without_any_secret_adds_none() -> None:
    configured = Settings(workspaces={"lonely": {"scope": ""}})
    assert client_secrets(configured) == []
    assert candidate_secrets(configured, [], "lonely") == []


def test_the_hint_is_found_without_parsing() -> None:
    assert workspace_hint(b'{"x": 1, "app_id" : "abc_12-3"}', "app_id") == "abc_12-3"
    assert workspace_hint(b'{"workspace_id":"w1"}', "workspace_id") == "w1"
    assert workspace_hint(b'{"app_id": 12}', "app_id") is None
    assert workspace_hint(b'{"app_id": "' + b"a" * 65 + b'"}', "app_id") is None
    assert workspace_hint(b'{"app_id": "a\\"b"}', "app_id") is None
