"""The Messenger's settings: secrets from the file, a file path or the environment; templates."""

from __future__ import annotations

from pathlib import Path

import pytest

from itop_intercom.settings import SettingsError, load_settings


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "settings.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_secrets_from_files(tmp_path: Path) -> None:
    (tmp_path / "key").write_text("sk-from-file-1234567\n", encoding="utf-8")
    (tmp_path / "ms").write_text("ms-from-file-7654321\n", encoding="utf-8")
    path = write(
        tmp_path,
        f'[messenger]\nshared_key_file = "{tmp_path / "key"}"\n'
        f'[workspaces.abc123de]\nscope = "SELECT Person"\n'
        f'messenger_secret_file = "{tmp_path / "ms"}"\n',
    )
    settings = load_settings(path)
    assert settings.messenger.shared_key is not None
    assert settings.messenger.shared_key.get_secret_value() == "sk-from-file-1234567"
    workspace = settings.workspace("abc123de")
    assert workspace is not None and workspace.messenger_secret is not None
    assert workspace.messenger_secret.get_secret_value() == "ms-from-file-7654321"
    assert (workspace.messenger_security, workspace.messenger_enforced) == ("jwt", False)
    assert "ms-from-file" not in repr(settings)


def test_secrets_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ITOP_INTERCOM_MESSENGER__SHARED_KEY", "sk-from-env-1234567")
    monkeypatch.setenv("ITOP_INTERCOM_WORKSPACES__abc123de__MESSENGER_SECRET", "ms-env-99887766")
    path = write(tmp_path, '[workspaces.abc123de]\nscope = "SELECT Person"\n')
    settings = load_settings(path)
    assert settings.messenger.shared_key is not None
    assert settings.messenger.shared_key.get_secret_value() == "sk-from-env-1234567"
    workspace = settings.workspace("abc123de")
    assert workspace is not None and workspace.messenger_secret is not None
    assert workspace.messenger_secret.get_secret_value() == "ms-env-99887766"


@pytest.mark.parametrize(
    "text",
    [
        '[messenger]\nuser_id_template = "itop-{person_id}"\n',
        "[messenger]\ntoken_seconds = 10\n",
        '[workspaces.abc123de]\nmessenger_security = "md5"\n',
    ],
)
def test_invalid_messenger_settings_are_refused(tmp_path: Path, text: str) -> None:
    with pytest.raises(SettingsError):
        load_settings(write(tmp_path, text))
