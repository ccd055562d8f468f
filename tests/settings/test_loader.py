"""Settings from a TOML file and the environment, and the messages of invalid settings."""

from __future__ import annotations

from pathlib import Path

import pytest

from itop_intercom.settings import SettingsError, load_settings

EXAMPLE = Path(__file__).resolve().parents[2] / "itop-intercom.example.toml"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "settings.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_example_file_is_valid_and_keeps_the_extension_defaults() -> None:
    settings = load_settings(EXAMPLE)
    assert settings.ticket.class_ == "UserRequest"
    assert settings.create_ticket.form_attributes[:3] == ["title", "description", "urgency"]
    assert settings.create_ticket.fields["urgency"].values.keys() == {"1", "2", "3", "4"}
    assert settings.search_ticket.excluded_states == ["rejected", "closed"]
    assert settings.view_ticket.details_attributes == [
        "status",
        "title",
        "description",
        "start_date",
        "last_update",
    ]
    assert settings.messenger.allowed_profiles == ["Portal user"]
    assert settings.database_url.startswith("sqlite+aiosqlite:///")
    assert settings.data_dir == EXAMPLE.parent / "data"


def test_defaults_without_any_file() -> None:
    settings = load_settings(None)
    assert settings.itop.rest_version == "1.3"
    assert settings.ticket.attributes_mapping["public_log"] == "public_log"
    assert settings.server.max_body_bytes == 1024 * 1024


def test_environment_overrides_the_file_and_nests_with_double_underscore(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(
        tmp_path,
        '[itop]\nurl = "https://itop.example.com/"\n[workspaces.abc123]\nscope = "SELECT Person"\n',
    )
    monkeypatch.setenv("ITOP_INTERCOM_ITOP__TOKEN", "tok-from-env")
    monkeypatch.setenv("ITOP_INTERCOM_INTERCOM__CLIENT_SECRET", "global-secret")
    monkeypatch.setenv("ITOP_INTERCOM_WORKSPACES__abc123__ACCESS_TOKEN", "ws-token")
    monkeypatch.setenv("ITOP_INTERCOM_DATABASE__URL", "postgresql://u@db/x")
    settings = load_settings(path)
    assert settings.itop.token is not None
    assert settings.itop.token.get_secret_value() == "tok-from-env"
    workspace = settings.workspace("abc123")
    assert workspace is not None
    assert workspace.scope == "SELECT Person"
    assert workspace.client_secret is not None
    assert workspace.client_secret.get_secret_value() == "global-secret"  # global fallback
    assert workspace.access_token is not None
    assert workspace.access_token.get_secret_value() == "ws-token"
    assert settings.database_url == "postgresql+psycopg://u@db/x"


def test_secrets_from_files(tmp_path: Path) -> None:
    secret = tmp_path / "token"
    secret.write_text("file-token\n")
    path = write(tmp_path, f'[itop]\ntoken_file = "{secret}"\n')
    settings = load_settings(path)
    assert settings.itop.token is not None
    assert settings.itop.token.get_secret_value() == "file-token"


def test_secrets_never_show_in_the_model_repr(tmp_path: Path) -> None:
    path = write(tmp_path, '[intercom]\nclient_secret = "very-secret-value"\n')
    settings = load_settings(path)
    assert "very-secret-value" not in repr(settings)
    assert "very-secret-value" not in str(settings.model_dump())


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('[itop]\nurl = "not a url"\n', "itop.url:"),
        ('[itop]\nrest_version = "2.0"\n', "itop.rest_version: Value error, must be an iTop REST"),
        ('[workspaces.abc]\nregion = "mars"\n', "workspaces.abc.region:"),
        ('[workspaces.abc]\nlanguage = "de"\n', "workspaces.abc.language:"),
        ('[ticket.attributes_mapping]\nbogus = "x"\n', "unknown logical name(s) bogus"),
        ("[server]\nport = 0\n", "server.port:"),
        ('[itop]\nurll = "x"\n', "itop.urll: unknown setting"),
        ('[database]\nurl = "mysql://x"\n', "database.url: Value error, must start with"),
        ('[itop]\ntoken_file = "/nonexistent/token"\n', "cannot read the itop.token file"),
    ],
)
def test_invalid_settings_name_the_key_and_the_problem(
    tmp_path: Path, text: str, expected: str
) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(write(tmp_path, text))
    assert expected in str(caught.value)


def test_invalid_toml_is_reported_with_its_position(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="not valid TOML"):
        load_settings(write(tmp_path, "[itop\nurl = 1\n"))


def test_a_missing_file_is_reported(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="does not exist"):
        load_settings(tmp_path / "nope.toml")


def test_invalid_value_is_not_echoed(tmp_path: Path) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(write(tmp_path, '[server]\nport = "secret-looking-value"\n'))
    assert "secret-looking-value" not in str(caught.value)


def test_relative_secret_files_are_relative_to_the_settings_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    conf = tmp_path / "conf"
    conf.mkdir()
    (conf / "itop.token").write_text("relative-token")
    path = conf / "settings.toml"
    path.write_text('[itop]\ntoken_file = "itop.token"\n')
    monkeypatch.chdir(tmp_path)
    settings = load_settings(path)
    assert settings.itop.token is not None
    assert settings.itop.token.get_secret_value() == "relative-token"
    assert settings.data_dir == conf / "data"


def test_the_example_explains_every_key() -> None:
    import re

    from itop_intercom.settings.keys import leaf_paths, node_of
    from itop_intercom.settings.model import Settings

    text = EXAMPLE.read_text(encoding="utf-8")
    missing = []
    for path in leaf_paths(node_of(Settings)):
        name = path[-1]
        if name == "<name>":
            continue  # an entry of a table whose keys are data (attribute names…)
        if not re.search(rf"(?<![\w.]){re.escape(name)}(?![\w])", text):
            missing.append(".".join(path))
    assert missing == []
    # Self-contained: no pointer to documents that are not in the repository.
    for outside in ("DESIGN", "NOTES", "quirk"):
        assert outside not in text
