"""The PHP array-literal reader: what config-itop.php files contain, and where they go wrong."""

from __future__ import annotations

from typing import Any

import pytest

from itop_intercom.settings.legacy_format import LegacyFormatError
from itop_intercom.settings.php_array import (
    parse_php_array,
    parse_php_module_settings,
)


def _error(text: str) -> LegacyFormatError:
    with pytest.raises(LegacyFormatError) as info:
        parse_php_array(text)
    return info.value


# -- strings -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("literal", "expected"),
    [
        (r"'plain'", "plain"),
        (r"'it\'s'", "it's"),
        (r"'back\\slash'", "back\\slash"),
        (r"'no\nescape\t'", "no\\nescape\\t"),
        (r"'a\b'", "a\\b"),
        ("'multi\nline'", "multi\nline"),
        ("'$not_a_variable'", "$not_a_variable"),
        (r'"tab\tnl\ncr\r"', "tab\tnl\ncr\r"),
        (r'"q\"b\\d\$"', 'q"b\\d$'),
        (r'"v\v e\e f\f"', "v\v e\x1b f\f"),
        (r'"octal \101\60 hex \x41\x4a"', "octal A0 hex AJ"),
        (r'"unicode \u{e9}\u{1F600}"', "unicode é\U0001f600"),
        (r'"unknown \q kept"', "unknown \\q kept"),
        (r'"price: 5 $"', "price: 5 $"),
        (r'"brace { $ }"', "brace { $ }"),
        (r'"single \' kept"', "single \\' kept"),
        ("'a' . 'b' . \"c\"", "abc"),
        ("'port ' . 8080", "port 8080"),
        ("''", ""),
    ],
)
def test_strings(literal: str, expected: str) -> None:
    assert parse_php_array(literal) == expected


@pytest.mark.parametrize(
    ("text", "column"),
    [('"hello $name"', 8), ('"x {$a[1]}"', 4), ('"x ${a}"', 4)],
)
def test_interpolation_is_refused_with_its_position(text: str, column: int) -> None:
    error = _error(text)
    assert (error.line, error.column) == (1, column)
    assert "interpolat" in error.message
    assert "name" not in error.message  # the variable's name is not echoed


# -- scalars -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("literal", "expected"),
    [
        ("true", True),
        ("TRUE", True),
        ("True", True),
        ("false", False),
        ("FaLsE", False),
        ("null", None),
        ("NULL", None),
        ("\\true", True),
        ("0", 0),
        ("42", 42),
        ("-42", -42),
        ("+7", 7),
        ("- 3", -3),
        ("1_000_000", 1_000_000),
        ("0x1F", 31),
        ("0b101", 5),
        ("017", 15),
        ("0o17", 15),
        ("1.5", 1.5),
        ("-0.25", -0.25),
        (".5", 0.5),
        ("1e3", 1000.0),
        ("2.5E-2", 0.025),
        ("9223372036854775807", 9223372036854775807),
        ("-9223372036854775808", -9223372036854775808),
        ("9223372036854775808", 9.223372036854775808e18),
    ],
)
def test_scalars(literal: str, expected: Any) -> None:
    value = parse_php_array(literal)
    assert value == expected
    assert type(value) is type(expected)


# -- arrays ------------------------------------------------------------------------------------


def test_both_array_syntaxes_nested_with_trailing_commas() -> None:
    text = """
    array (
        'list' => ['a', 'b',],
        'hash' => array('x' => array('y' => [true, null],),),
        'empty' => array(),
        'empty_short' => [],
        "dq key" => 1,
    )
    """
    assert parse_php_array(text) == {
        "list": ["a", "b"],
        "hash": {"x": {"y": [True, None]}},
        "empty": [],
        "empty_short": [],
        "dq key": 1,
    }


def test_array_keyword_is_case_insensitive_and_allows_spaces() -> None:
    assert parse_php_array("ARRAY ( 1 )") == [1]
    assert parse_php_array("Array\n(\n'a' => 1\n)") == {"a": 1}


def test_php_key_semantics() -> None:
    # Explicit 0..n keys make a list, as iTop writes `0 => 'Ticket'`.
    assert parse_php_array("array(0 => 'a', 1 => 'b')") == ["a", "b"]
    # '1' is the integer key 1 in PHP; implicit keys continue after the largest integer key.
    assert parse_php_array("array('1' => 'a', 'b')") == {"1": "a", "2": "b"}
    assert parse_php_array("array(5 => 'a', 'b', 'k' => 'c', 'd')") == {
        "5": "a",
        "6": "b",
        "k": "c",
        "7": "d",
    }
    # '01' is not a canonical integer, so it stays a string key.
    assert parse_php_array("array('01' => 'x')") == {"01": "x"}
    assert parse_php_array("array(true => 'x', null => 'y', 2.7 => 'z')") == {
        "1": "x",
        "": "y",
        "2": "z",
    }
    # Keys 0 and 1 given out of order are a hash, not a list.
    assert parse_php_array("array(1 => 'b', 0 => 'a')") == {"1": "b", "0": "a"}


def test_comments_everywhere() -> None:
    text = """array( // one-line comment with ) and ' inside
        # hash comment with ]
        'a' /* block ) comment */ => /** doc */ 1, # after
        /* multi
           line ' " comment */
        'b' => 'not // a comment', 'c' => "not # a comment either",
    )"""
    assert parse_php_array(text) == {
        "a": 1,
        "b": "not // a comment",
        "c": "not # a comment either",
    }


# -- module settings in a whole configuration file ------------------------------------------


CONFIG = """<?php
/**
 * Configuration file, generated by the iTop configuration wizard
 */
$MySettings = array(
    'app_root_url' => 'https://itop.example.com/',
    'db_pwd' => "p@ss",
);

$MyModuleSettings = array(
    'itop-backup' => array (
        'retention_count' => 5 * 2,
        'path' => __DIR__ . '/backups',
        'callback' => function ($x) { return [$x, ')']; },
        'when' => <<<EOT
        contains ) and ' quotes
        EOT,
    ),
    'combodo-intercom-integration' => array (
        'workspaces' => array (
            'ab12cd34' => array ('scope' => 'SELECT Organization'),
        ),
        'sync_app.ticket.class' => 'UserRequest',
    ),
    'itop-portal-base' => array (CONSTANT_WE_CANNOT_READ => PHP_INT_MAX),
);

$MyModules = array('addons' => array('user rights' => 'addons/userrights.php'));
?>
Trailing HTML with 'quotes" and $MyModuleSettings = array('combodo-intercom-integration' => 1)
"""


def test_module_settings_from_a_config_file_skip_other_modules() -> None:
    assert parse_php_module_settings(CONFIG) == {
        "workspaces": {"ab12cd34": {"scope": "SELECT Organization"}},
        "sync_app.ticket.class": "UserRequest",
    }


def test_module_name_is_a_parameter() -> None:
    # Other modules' entries are only parsed when asked for, and then strictly.
    with pytest.raises(LegacyFormatError) as info:
        parse_php_module_settings(CONFIG, module="itop-backup")
    assert (info.value.line, info.value.column) == (12, 32)
    assert "an expression ('*') cannot be read without PHP" in info.value.message
    with pytest.raises(LegacyFormatError, match="CONSTANT_WE_CANNOT_READ"):
        parse_php_module_settings(CONFIG, module="itop-portal-base")


def test_last_assignment_wins_as_in_php() -> None:
    text = """<?php
    $MyModuleSettings = array('combodo-intercom-integration' => array('a' => 1));
    $MyModuleSettings = array('combodo-intercom-integration' => array('a' => 2));
    """
    assert parse_php_module_settings(text) == {"a": 2}


def test_snippet_without_settings_variable() -> None:
    text = """'combodo-intercom-integration' => array (
        'enabled_portals' => array ('itop-portal'),
    ),"""
    assert parse_php_module_settings(text) == {"enabled_portals": ["itop-portal"]}


def test_empty_module_entry_is_an_empty_hash() -> None:
    assert (
        parse_php_module_settings(
            "<?php $MyModuleSettings = ['combodo-intercom-integration' => []];"
        )
        == {}
    )


def test_missing_module_entry() -> None:
    text = "<?php\n\n$MyModuleSettings = array('itop-backup' => array());\n"
    with pytest.raises(LegacyFormatError) as info:
        parse_php_module_settings(text)
    assert info.value.line == 3
    assert "has no 'combodo-intercom-integration' entry" in info.value.message


def test_no_settings_at_all() -> None:
    with pytest.raises(LegacyFormatError, match="no \\$MyModuleSettings"):
        parse_php_module_settings("<?php\n$MySettings = array();\n")


def test_module_entry_must_be_a_hash() -> None:
    text = "<?php\n$MyModuleSettings = array(\n  'combodo-intercom-integration' => 'x',\n);"
    with pytest.raises(LegacyFormatError) as info:
        parse_php_module_settings(text)
    assert (info.value.line, info.value.column) == (3, 37)


# -- malformed input ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "line", "column", "fragment"),
    [
        ("array(\n  'a' => 'unterminated,\n)", 2, 10, "unterminated single-quoted string"),
        ('array(\n\n  "open\n)', 3, 3, "unterminated double-quoted string"),
        ("array(\n  'a' => 1\n  'b' => 2,\n)", 3, 3, "expected ',' or ')'"),
        ("array(\n  'a' => [1, 2,\n", 3, 1, "missing ']' to close the array opened at line 2"),
        ("array('a' => 1,\n 'b' => 2", 2, 10, "missing ')' to close the array opened at line 1"),
        ("array(1,, 2)", 1, 9, "unexpected ','"),
        (
            "array(\n  'a' => 1,\n  'a' => 2,\n)",
            3,
            3,
            "key 'a' appears twice in this array (first at line 2)",
        ),
        ("array('a' => PHP_EOL)", 1, 14, "constant PHP_EOL"),
        ("array('a' => $var)", 1, 14, "variables cannot be read"),
        ("array('a' => <<<EOT\ntext\nEOT\n)", 1, 14, "heredoc"),
        ("array('a' => `ls`)", 1, 14, "backtick"),
        ("array('a' => 1) /* never closed", 1, 17, "unterminated /* comment"),
        ("array('a' => 'x' . $y)", 1, 20, "only quoted strings can be joined"),
        ("array(array(1) => 2)", 1, 7, "an array cannot be used as a key"),
        ("array('a' =>)", 1, 13, "unexpected ')'"),
        ("array('a' => 1) junk", 1, 17, "after the value"),
        ("array('a' => 12abc)", 1, 14, "invalid number"),
        ("array('a' => 089)", 1, 14, "invalid octal number"),
        ("array('a' => -'x')", 1, 14, "a number must follow '-'"),
        ("", 1, 1, "unexpected end of the file"),
    ],
)
def test_malformed_input_reports_line_and_column(
    text: str, line: int, column: int, fragment: str
) -> None:
    error = _error(text)
    assert fragment in error.message
    assert (error.line, error.column) == (line, column)
    assert str(error).startswith(f"line {line}, column {column}: ")


def test_malformed_module_entry_in_a_config_file() -> None:
    text = CONFIG.replace(
        "'sync_app.ticket.class' => 'UserRequest',", "'sync_app.ticket.class' => ,"
    )
    with pytest.raises(LegacyFormatError) as info:
        parse_php_module_settings(text)
    assert info.value.line == 23


def test_unbalanced_other_module_is_reported() -> None:
    text = "<?php\n$MyModuleSettings = array(\n  'x' => array(1, (2),\n);\n"
    with pytest.raises(LegacyFormatError) as info:
        parse_php_module_settings(text)
    assert info.value.line == 4


def test_errors_do_not_echo_bare_words_that_could_be_secrets() -> None:
    secret = "sk_live_0123456789abcdef"
    error = _error(f"array('client_secret' => {secret})")
    assert secret not in str(error)
    error = _error("array('client_secret' => 0a1b2c3d4e)")
    assert "0a1b2c3d4e" not in str(error)
    error = _error('array("tok$en")')
    assert "en" not in str(error).split(":", 1)[0] and "$en" not in str(error)


def test_legacy_format_error_without_position() -> None:
    assert str(LegacyFormatError("nope")) == "nope"
    assert str(LegacyFormatError("nope", 3)) == "line 3: nope"
