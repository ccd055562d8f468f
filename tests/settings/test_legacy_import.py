"""`config import`: the extension's settings become a settings file the service accepts."""

from __future__ import annotations

import io
import os
import stat
import tomllib
from pathlib import Path
from typing import Any

import pytest

from itop_intercom.settings.legacy_convert import ImportResult, LegacyImportError, convert
from itop_intercom.settings.legacy_format import LegacyFormatError
from itop_intercom.settings.legacy_import import detect_form, run_import
from itop_intercom.settings.loader import load_settings
from itop_intercom.settings.model import DEFAULT_ATTRIBUTES_MAPPING, Settings

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "legacy"
PHP_EXAMPLE = EXAMPLES / "config-itop.php"
XML_EXAMPLE = EXAMPLES / "module-settings.delta.xml"
FAKE_CLIENT_SECRET = "FAKE-client-secret-0000-not-real"
FAKE_ACCESS_TOKEN = "FAKE-access-token=\\not\\real\\="
SECRETS = (FAKE_CLIENT_SECRET, FAKE_ACCESS_TOKEN)


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    # The service's loader reads ITOP_INTERCOM_* variables; they must not leak into the checks.
    for name in list(os.environ):
        if name.upper().startswith("ITOP_INTERCOM_"):
            monkeypatch.delenv(name)


class Run:
    """One `config import` run with its captured console."""

    def __init__(self, source: Path, output: Path | None, secrets: str | None = None) -> None:
        self.stdout = io.StringIO()
        self.stderr = io.StringIO()
        self.status = run_import(source, output, secrets, self.stdout, self.stderr)
        self.out = self.stdout.getvalue()
        self.err = self.stderr.getvalue()

    def assert_no_secret_on_console(self, *secrets: str) -> None:
        for secret in secrets or SECRETS:
            assert secret not in self.out
            assert secret not in self.err
            # Not even a recognisable part of it.
            assert secret[5:20] not in self.out + self.err


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _php(module_body: str) -> str:
    return (
        "<?php\n$MyModuleSettings = array(\n  'combodo-intercom-integration' => array(\n"
        f"{module_body}\n  ),\n);\n"
    )


# -- convert -----------------------------------------------------------------------------------


FLAT: dict[str, Any] = {
    "workspaces": {"ab12cd34": {"scope": "SELECT Organization"}},
    "sync_app.client_secret": "cs",
    "sync_app.access_token": "at",
    "sync_app.ticket.class": "Incident",
    "sync_app.ticket.attributes_mapping": {"public_log": "log_public", "status": "state"},
    "sync_app.create_ticket.form_attributes": ["title"],
    "sync_app.search_ticket.excluded_states": ["closed"],
    "sync_app.search_ticket.subtitle_attribute": "ref",
    "sync_app.view_ticket.details_attributes": ["title", "status"],
    "sync_app.view_ticket.show_open_in_backoffice_button": False,
    "sync_app.portal_url_maker_class": "iTopPortalViewUrlMaker",
    "enabled_portals": ["backoffice"],
    "allowed_profiles": ["Support Agent"],
}

NESTED: dict[str, Any] = {
    "workspaces": {"ab12cd34": {"scope": "SELECT Organization"}},
    "sync_app": {
        "client_secret": "cs",
        "access_token": "at",
        "ticket": {
            "class": "Incident",
            "attributes_mapping": {"public_log": "log_public", "status": "state"},
        },
        "create_ticket": {"form_attributes": ["title"]},
        "search_ticket": {"excluded_states": ["closed"], "subtitle_attribute": "ref"},
        "view_ticket": {
            "details_attributes": ["title", "status"],
            "show_open_in_backoffice_button": False,
        },
        "portal_url_maker_class": "iTopPortalViewUrlMaker",
    },
    "enabled_portals": ["backoffice"],
    "allowed_profiles": ["Support Agent"],
}

EXPECTED_DOCUMENT: dict[str, Any] = {
    "workspaces": {"ab12cd34": {"scope": "SELECT Organization"}},
    "ticket": {
        "class": "Incident",
        "attributes_mapping": {"public_log": "log_public", "status": "state"},
    },
    "create_ticket": {"form_attributes": ["title"]},
    "search_ticket": {"excluded_states": ["closed"], "subtitle_attribute": "ref"},
    "view_ticket": {
        "details_attributes": ["title", "status"],
        "show_open_in_backoffice_button": False,
    },
    "messenger": {
        "portal_url_maker": "itop-portal",
        "enabled_portals": ["backoffice"],
        "allowed_profiles": ["Support Agent"],
    },
}


@pytest.mark.parametrize("legacy", [FLAT, NESTED], ids=["flat", "nested"])
def test_every_setting_is_carried_over(legacy: dict[str, Any]) -> None:
    result = convert(legacy)
    assert result.document == EXPECTED_DOCUMENT
    assert result.secrets == {"client_secret": "cs", "access_token": "at"}
    assert result.warnings == []
    assert len(result.carried_over) == 14  # each attribute mapping counts


def test_mixed_spellings() -> None:
    legacy = {
        "sync_app.ticket": {"class": "Incident"},
        "sync_app": {"view_ticket.show_open_in_backoffice_button": True},
        "workspaces.ab12cd34.scope": "SELECT Organization",
        "sync_app.ticket.attributes_mapping.status": "state",
    }
    result = convert(legacy)
    assert result.document == {
        "workspaces": {"ab12cd34": {"scope": "SELECT Organization"}},
        "ticket": {"class": "Incident", "attributes_mapping": {"status": "state"}},
        "view_ticket": {"show_open_in_backoffice_button": True},
    }


def test_flat_dotted_value_wins_over_nested_one() -> None:
    legacy = {
        "sync_app": {"ticket": {"class": "Nested"}},
        "sync_app.ticket.class": "Flat",
        "sync_app.search_ticket": {"subtitle_attribute": "title"},
        "sync_app.search_ticket.subtitle_attribute": "title",
    }
    result = convert(legacy)
    assert result.document["ticket"]["class"] == "Flat"
    conflicts = [w for w in result.warnings if "set twice" in w]
    # Same value twice is not worth a warning; different values are.
    assert conflicts == [
        "sync_app.ticket.class is set twice, as 'sync_app.ticket.class' and as "
        "'sync_app' > 'ticket' > 'class': kept 'sync_app.ticket.class'"
    ]


def test_conflicting_secrets_are_reported_without_their_values() -> None:
    result = convert(
        {"sync_app": {"client_secret": "nested-secret"}, "sync_app.client_secret": "flat-secret"}
    )
    assert result.secrets == {"client_secret": "flat-secret"}
    assert any("sync_app.client_secret is set twice" in w for w in result.warnings)
    assert not any(
        "secret-" in w.split(" is set twice")[1] for w in result.warnings if "twice" in w
    )


def test_unknown_settings_are_reported_not_dropped_silently() -> None:
    legacy = {
        "workspaces": {"ab12cd34": {"scope": "SELECT Organization", "colour": "blue"}},
        "sync_app": {"foo": 1, "ticket": {"klass": "x"}},
        "sync_app.bar.baz": True,
        "sync_app.ticket.class.extra": "x",
        "sync_app.ticket.attributes_mapping": {"agent_id": "agent_id", "status": "status"},
        "api_key": "abc",
        "something_else": [],
    }
    result = convert(legacy)
    assert result.warnings == [
        "unknown setting workspaces.ab12cd34.colour: not carried over",
        "unknown setting sync_app.foo: not carried over",
        "unknown setting sync_app.ticket.klass: not carried over",
        "unknown setting sync_app.bar.baz: not carried over",
        "unknown setting sync_app.ticket.class.extra: not carried over",
        "unknown setting sync_app.ticket.attributes_mapping.agent_id: not carried over "
        f"(known logical names: {', '.join(DEFAULT_ATTRIBUTES_MAPPING)})",
        "unknown setting api_key: not carried over (the Messenger app id of the extension's "
        "first versions; declare that workspace under [workspaces.<ID>])",
        "unknown setting something_else: not carried over",
    ]
    assert result.document["ticket"] == {"attributes_mapping": {"status": "status"}}


def test_wrong_types_are_errors_listing_every_problem() -> None:
    legacy = {
        "workspaces": {"ab12cd34": "SELECT Organization"},
        "sync_app": "oops",
        "enabled_portals": "itop-portal",
        "allowed_profiles": ["Portal user", 3],
    }
    with pytest.raises(LegacyImportError) as info:
        convert(legacy)
    assert info.value.problems == [
        "workspaces.ab12cd34: expected an array of keys => values, found a string",
        "sync_app: expected an array of keys => values, found a string",
        "enabled_portals: expected a list of strings, found a string",
        "allowed_profiles: expected a list of strings, found a list",
    ]


def test_wrong_types_of_leaves() -> None:
    legacy = {
        "sync_app.client_secret": 1234,
        "sync_app.ticket.class": ["UserRequest"],
        "sync_app.view_ticket.show_open_in_backoffice_button": "maybe",
        "sync_app.portal_url_maker_class": 3.5,
    }
    with pytest.raises(LegacyImportError) as info:
        convert(legacy)
    assert info.value.problems == [
        "sync_app.client_secret: expected a string, found an integer",
        "sync_app.ticket.class: expected a string, found a list",
        "sync_app.view_ticket.show_open_in_backoffice_button: expected true or false, "
        "found a string",
        "sync_app.portal_url_maker_class: expected a class name, found a number",
    ]
    assert "1234" not in str(info.value)


def test_null_and_empty_values() -> None:
    legacy: dict[str, Any] = {
        "workspaces": {"ab12cd34": {"scope": "SELECT Organization"}},
        "sync_app.client_secret": "",
        "sync_app.access_token": None,
        "sync_app.ticket.class": None,
        "sync_app.search_ticket": None,
        "enabled_portals": None,
        "allowed_profiles": None,
        "sync_app.create_ticket.form_attributes": [],
        "sync_app.portal_url_maker_class": "",
    }
    result = convert(legacy)
    assert result.secrets == {}
    assert result.document == {
        "workspaces": {"ab12cd34": {"scope": "SELECT Organization"}},
        "create_ticket": {"form_attributes": []},
        # The extension lets everybody chat when allowed_profiles is empty; so do we.
        "messenger": {"allowed_profiles": []},
    }
    assert result.warnings == [
        "sync_app.search_ticket is null: not carried over, the defaults apply",
        "sync_app.client_secret is empty: not carried over",
        "sync_app.access_token is empty: not carried over",
        "sync_app.ticket.class is null: not carried over, the default applies",
        "enabled_portals is null: the extension then shows the chat widget in every portal "
        "and in the back office; not carried over, list them in messenger.enabled_portals "
        "(default: itop-portal)",
        "sync_app.portal_url_maker_class is empty: not carried over, the default applies",
    ]


def test_php_hash_with_numeric_keys_is_a_list_of_its_values() -> None:
    result = convert({"sync_app.search_ticket.excluded_states": {"2": "closed", "0": "rejected"}})
    assert result.document["search_ticket"]["excluded_states"] == ["closed", "rejected"]


@pytest.mark.parametrize(
    ("value", "expected", "warned"),
    [
        (True, True, False),
        (False, False, False),
        (1, True, False),
        (0, False, False),
        ("true", True, False),
        ("1", True, False),
        ("0", False, False),
        ("", False, False),
        ("false", False, True),
        ("No", False, True),
    ],
)
def test_booleans(value: Any, expected: bool, warned: bool) -> None:
    result = convert({"sync_app.view_ticket.show_open_in_backoffice_button": value})
    assert result.document["view_ticket"]["show_open_in_backoffice_button"] is expected
    warnings = [w for w in result.warnings if w.startswith("sync_app.view_ticket")]
    assert bool(warnings) is warned
    if warned:
        assert "read as false (the extension took any non-empty string for true)" in warnings[0]


@pytest.mark.parametrize(
    ("class_name", "expected", "warning"),
    [
        ("iTopPortalViewUrlMaker", "itop-portal", None),
        ("\\itopportalviewurlmaker", "itop-portal", None),
        ("iTopPortalEditUrlMaker", "itop-portal", "links to the portal's edit page"),
        ("iTopStandardURLMaker", "backoffice", None),
        (
            "\\Acme\\MyPortalUrlMaker",
            "itop-portal",
            "unknown URL maker class Acme\\MyPortalUrlMaker",
        ),
    ],
)
def test_portal_url_maker_class(class_name: str, expected: str, warning: str | None) -> None:
    result = convert({"sync_app.portal_url_maker_class": class_name})
    assert result.document["messenger"]["portal_url_maker"] == expected
    if warning is None:
        assert result.warnings == [
            "no workspace is defined: add a [workspaces.<ID>] table for each Intercom workspace"
        ]
    else:
        assert any(warning in w for w in result.warnings)


def test_workspace_warnings() -> None:
    result = convert({"workspaces": {"ab12cd34": {}, "ef56gh78": []}})
    assert result.document == {"workspaces": {"ab12cd34": {}, "ef56gh78": {}}}
    assert result.warnings == [
        "workspaces.ab12cd34 has no scope: the chat widget will not be shown for this "
        "workspace until you set one",
        "workspaces.ef56gh78 has no scope: the chat widget will not be shown for this "
        "workspace until you set one",
    ]
    assert convert({"workspaces": []}).warnings == [
        "no workspace is defined: add a [workspaces.<ID>] table for each Intercom workspace"
    ]


def test_secrets_never_in_the_document() -> None:
    result = convert(FLAT)
    assert "cs" not in repr(result.document)
    assert "intercom" not in result.document
    assert isinstance(result, ImportResult)


# -- form detection ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "name", "form"),
    [
        (b"<?php\n$x = 1;", "config.txt", "php"),
        (b"\xef\xbb\xbf  <?PHP\n", "x.xml", "php"),
        (b'<?xml version="1.0"?><itop_design/>', "delta.php", "xml"),
        (b"\n<itop_design/>", "delta", "xml"),
        (b"'combodo-intercom-integration' => array()", "snippet.php", "php"),
        (b"'combodo-intercom-integration' => array()", "snippet", "php"),
        (b"", "settings.xml", "xml"),
    ],
)
def test_detect_form(raw: bytes, name: str, form: str) -> None:
    assert detect_form(raw, Path(name)) == form


def test_detect_form_gives_up_clearly() -> None:
    with pytest.raises(LegacyFormatError, match="cannot tell"):
        detect_form(b"hello", Path("notes.txt"))


# -- the command, end to end -------------------------------------------------------------------


def _assert_example_settings(settings: Settings) -> None:
    """Every value of the example files, as the service sees it."""
    assert list(settings.workspaces) == ["ab12cd34", "ef56gh78"]
    assert settings.workspaces["ab12cd34"].scope == "SELECT Organization WHERE name = 'Demo'"
    assert (
        settings.workspaces["ef56gh78"].scope
        == "SELECT Organization WHERE code = \"EU\" AND status = 'active'"
    )
    assert settings.ticket.class_ == "UserRequest"
    assert settings.ticket.attributes_mapping == DEFAULT_ATTRIBUTES_MAPPING
    assert settings.create_ticket.form_attributes == ["title", "description", "urgency", "impact"]
    assert settings.search_ticket.excluded_states == ["rejected", "resolved", "closed"]
    assert settings.search_ticket.subtitle_attribute == "title"
    assert settings.view_ticket.details_attributes == [
        "status",
        "title",
        "agent_id",
        "start_date",
        "last_update",
    ]
    assert settings.view_ticket.show_open_in_backoffice_button is False
    assert settings.messenger.portal_url_maker == "itop-portal"
    assert settings.messenger.enabled_portals == ["itop-portal", "backoffice"]
    assert settings.messenger.allowed_profiles == ["Portal user", "Portal power user"]


@pytest.mark.parametrize("example", [PHP_EXAMPLE, XML_EXAMPLE], ids=["php", "xml"])
def test_examples_with_secret_files(example: Path, tmp_path: Path) -> None:
    output = tmp_path / "itop-intercom.toml"
    run = Run(example, output)
    assert run.status == 0, run.err
    assert run.out == ""
    assert "warning" not in run.err
    assert "wrote" in run.err and "21 settings carried over" in run.err
    run.assert_no_secret_on_console()

    text = output.read_text(encoding="utf-8")
    for secret in SECRETS:
        assert secret not in text
    assert f"from the\n# iTop {'configuration file' if example == PHP_EXAMPLE else 'XML'}" in text
    assert str(example) in text
    assert '# public_url = "https://' in text
    assert "# [itop]" in text and "ITOP_INTERCOM_INTERCOM__CLIENT_SECRET" in text

    client_secret_file = Path(f"{output}.client_secret")
    access_token_file = Path(f"{output}.access_token")
    for path, secret in (
        (client_secret_file, FAKE_CLIENT_SECRET),
        (access_token_file, FAKE_ACCESS_TOKEN),
    ):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert path.read_text(encoding="utf-8").strip() == secret
    assert tomllib.loads(text)["intercom"] == {
        "client_secret_file": str(client_secret_file),
        "access_token_file": str(access_token_file),
    }

    settings = load_settings(output)
    _assert_example_settings(settings)
    assert settings.intercom.client_secret is not None
    assert settings.intercom.client_secret.get_secret_value() == FAKE_CLIENT_SECRET
    assert settings.intercom.access_token is not None
    assert settings.intercom.access_token.get_secret_value() == FAKE_ACCESS_TOKEN
    workspace = settings.workspace("ab12cd34")
    assert workspace is not None and workspace.client_secret == settings.intercom.client_secret


def test_existing_secret_files_are_made_private(tmp_path: Path) -> None:
    output = tmp_path / "out.toml"
    stale = Path(f"{output}.client_secret")
    stale.write_text("old")
    stale.chmod(0o644)
    assert Run(PHP_EXAMPLE, output).status == 0
    assert stat.S_IMODE(stale.stat().st_mode) == 0o600
    assert stale.read_text().strip() == FAKE_CLIENT_SECRET
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


@pytest.mark.parametrize("example", [PHP_EXAMPLE, XML_EXAMPLE], ids=["php", "xml"])
def test_examples_inline(example: Path, tmp_path: Path) -> None:
    output = tmp_path / "out.toml"
    run = Run(example, output, "inline")
    assert run.status == 0, run.err
    run.assert_no_secret_on_console()
    assert stat.S_IMODE(output.stat().st_mode) == 0o600
    assert not Path(f"{output}.client_secret").exists()
    text = output.read_text(encoding="utf-8")
    assert "WARNING: the Intercom app's secrets below are in clear text" in text
    assert "ITOP_INTERCOM_INTERCOM__ACCESS_TOKEN" in text
    settings = load_settings(output)
    _assert_example_settings(settings)
    assert settings.intercom.access_token is not None
    assert settings.intercom.access_token.get_secret_value() == FAKE_ACCESS_TOKEN


@pytest.mark.parametrize("example", [PHP_EXAMPLE, XML_EXAMPLE], ids=["php", "xml"])
def test_examples_to_stdout_omit_secrets(example: Path, tmp_path: Path) -> None:
    run = Run(example, None)
    assert run.status == 0, run.err
    run.assert_no_secret_on_console()
    assert "were left out" in run.err
    assert "ITOP_INTERCOM_INTERCOM__CLIENT_SECRET" in run.err
    settings_file = _write(tmp_path, "from-stdout.toml", run.out)
    settings = load_settings(settings_file)
    _assert_example_settings(settings)
    assert settings.intercom.client_secret is None
    assert "intercom" not in tomllib.loads(run.out)


def test_omit_with_an_output_file(tmp_path: Path) -> None:
    output = tmp_path / "out.toml"
    run = Run(PHP_EXAMPLE, output, "omit")
    assert run.status == 0
    run.assert_no_secret_on_console()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.toml"]
    for secret in SECRETS:
        assert secret not in output.read_text()
    # The file is an ordinary settings file: the umask applies, not 0600.
    assert stat.S_IMODE(output.stat().st_mode) & 0o077 == 0o666 & ~_umask() & 0o077


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


@pytest.mark.parametrize("mode", ["inline", "files"])
def test_secret_modes_that_need_a_file(mode: str) -> None:
    run = Run(PHP_EXAMPLE, None, mode)
    assert run.status == 2
    assert run.out == ""
    assert f"--secrets {mode} needs -o FILE" in run.err
    run.assert_no_secret_on_console()


def test_unknown_secrets_mode(tmp_path: Path) -> None:
    run = Run(PHP_EXAMPLE, tmp_path / "out.toml", "print")
    assert run.status == 2
    assert "--secrets must be one of inline, files, omit" in run.err
    assert list(tmp_path.iterdir()) == []


def test_unknown_settings_are_warned_on_stderr(tmp_path: Path) -> None:
    source = _write(
        tmp_path,
        "config-itop.php",
        _php(
            "    'workspaces' => array('ab12cd34' => array('scope' => 'SELECT Organization')),\n"
            "    'sync_app.foo' => 'bar',\n"
            "    'sync_app.client_secret' => 'sk_FAKE_secret_value_123',"
        ),
    )
    output = tmp_path / "out.toml"
    run = Run(source, output)
    assert run.status == 0
    assert "warning: unknown setting sync_app.foo: not carried over" in run.err
    run.assert_no_secret_on_console("sk_FAKE_secret_value_123")
    assert load_settings(output).workspaces["ab12cd34"].scope == "SELECT Organization"
    assert not Path(f"{output}.access_token").exists()
    assert Path(f"{output}.client_secret").exists()


@pytest.mark.parametrize(
    ("name", "text", "location"),
    [
        (
            "config-itop.php",
            _php("    'workspaces' => array(\n      'ab12cd34' => array('scope' => 'x'\n    ),"),
            "line 8, column 2: found ';' where ',' or ')' was expected: the array opened at "
            "line 2 is not closed",
        ),
        (
            "config-itop.php",
            _php(
                "    'workspaces' => array(\n"
                "      'ab12cd34' => []\n"
                "      'ef56gh78' => [],\n"
                "    ),"
            ),
            "line 6, column 7: expected ',' or ')', found a string",
        ),
        (
            "config-itop.php",
            _php("    'sync_app.client_secret' => \"sk_FAKE_$secret\","),
            "line 4, column 42: a double-quoted string interpolates",
        ),
        (
            "delta.xml",
            "<itop_design>\n<module_parameters>\n<parameters id='combodo-intercom-integration'>"
            "\n<x type='bool'>perhaps</x>\n</parameters></module_parameters></itop_design>",
            'line 4, column 1: <x type="bool"> must contain true or false',
        ),
        (
            "delta.xml",
            "<itop_design>\n  <oops>\n</itop_design>",
            "line 3, column 3: not well-formed",
        ),
    ],
)
def test_malformed_input_exits_1_and_writes_nothing(
    tmp_path: Path, name: str, text: str, location: str
) -> None:
    source = _write(tmp_path, name, text)
    output = tmp_path / "out" / "settings.toml"
    output.parent.mkdir()
    run = Run(source, output)
    assert run.status == 1
    assert run.err.startswith(f"itop-intercom: error: {source}: {location}"), run.err
    assert run.out == ""
    assert list(output.parent.iterdir()) == []
    run.assert_no_secret_on_console("sk_FAKE_")


def test_not_utf8(tmp_path: Path) -> None:
    source = tmp_path / "config-itop.php"
    source.write_bytes(b"<?php\n\n$x = '\xe9';\n")
    run = Run(source, None)
    assert run.status == 1
    assert "line 3: the file is not UTF-8 text" in run.err


def test_type_problems_exit_1(tmp_path: Path) -> None:
    source = _write(tmp_path, "c.php", _php("    'enabled_portals' => 'itop-portal',"))
    run = Run(source, tmp_path / "out.toml")
    assert run.status == 1
    assert "these settings cannot be carried over:\n  enabled_portals: expected a list" in run.err
    assert not (tmp_path / "out.toml").exists()


def test_document_refused_by_the_service_is_not_written(tmp_path: Path) -> None:
    # A workspace id that Intercom never produces: the service's own validation refuses it.
    source = _write(
        tmp_path,
        "c.php",
        _php(
            "    'workspaces' => array('not an id!' => array('scope' => 'SELECT Organization')),\n"
            "    'sync_app.client_secret' => 'sk_FAKE_secret_value_123',"
        ),
    )
    output = tmp_path / "out.toml"
    run = Run(source, output)
    assert run.status == 1
    assert "the imported settings would not be accepted by the service" in run.err
    assert "workspaces" in run.err and "not an Intercom workspace id" in run.err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.php"]
    run.assert_no_secret_on_console("sk_FAKE_secret_value_123")


def test_missing_input(tmp_path: Path) -> None:
    run = Run(tmp_path / "nope.php", None)
    assert run.status == 1
    assert run.err.startswith("itop-intercom: error: cannot read")


def test_output_must_not_be_the_input(tmp_path: Path) -> None:
    source = _write(tmp_path, "c.php", PHP_EXAMPLE.read_text())
    run = Run(source, source)
    assert run.status == 2
    assert "the output file is the input file" in run.err
    assert source.read_text() == PHP_EXAMPLE.read_text()


def test_unwritable_output_exits_1(tmp_path: Path) -> None:
    run = Run(PHP_EXAMPLE, tmp_path / "missing-dir" / "out.toml")
    assert run.status == 1
    assert run.err.startswith("itop-intercom: error: cannot write")
    run.assert_no_secret_on_console()


def test_no_secrets_in_the_legacy_settings(tmp_path: Path) -> None:
    source = _write(
        tmp_path,
        "c.php",
        _php("    'workspaces' => array('ab12cd34' => array('scope' => 'SELECT Organization')),"),
    )
    output = tmp_path / "out.toml"
    run = Run(source, output)
    assert run.status == 0
    assert "were not in the extension's settings" in output.read_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.php", "out.toml"]
