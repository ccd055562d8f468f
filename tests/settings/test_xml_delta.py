"""The XML datamodel delta reader: iTop's `type` conventions, positions of errors, safety."""

from __future__ import annotations

import pytest

from itop_intercom.settings.legacy_format import LegacyFormatError
from itop_intercom.settings.xml_delta import parse_xml_module_settings


def _delta(body: str, module: str = "combodo-intercom-integration") -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<itop_design version="3.1">\n'
        "  <module_parameters>\n"
        f'    <parameters id="{module}" _delta="define">\n'
        f"{body}\n"
        "    </parameters>\n"
        "  </module_parameters>\n"
        "</itop_design>\n"
    )


def _error(text: str | bytes) -> LegacyFormatError:
    with pytest.raises(LegacyFormatError) as info:
        parse_xml_module_settings(text)
    return info.value


def test_types_follow_itop_conventions() -> None:
    body = """
      <!-- comments are ignored -->
      <workspaces type="hash">
        <ab12cd34 type="hash"><scope>SELECT Organization</scope></ab12cd34>
      </workspaces>
      <plain>  surrounded by spaces  </plain>
      <typed type="string">text</typed>
      <empty/>
      <list type="array"><item>a</item><item> b </item><other_name>c</other_name></list>
      <empty_list type="array"></empty_list>
      <empty_hash type="hash"/>
      <yes type="bool">true</yes><no type="bool">FALSE</no>
      <one type="boolean">1</one><zero type="bool"> 0 </zero>
      <count type="int">-42</count><positive type="integer">+7</positive>
      <nested type="array"><item type="hash"><k>v</k></item><item type="array"/></nested>
      <cdata><![CDATA[SELECT Person WHERE name < "x" AND id > 3]]></cdata>
      <entities>a &lt; b &amp; &quot;c&quot; &#233;</entities>
      <sync_app.ticket.class>UserRequest</sync_app.ticket.class>
    """
    assert parse_xml_module_settings(_delta(body)) == {
        "workspaces": {"ab12cd34": {"scope": "SELECT Organization"}},
        "plain": "surrounded by spaces",
        "typed": "text",
        "empty": "",
        "list": ["a", "b", "c"],
        "empty_list": [],
        "empty_hash": {},
        "yes": True,
        "no": False,
        "one": True,
        "zero": False,
        "count": -42,
        "positive": 7,
        "nested": [{"k": "v"}, []],
        "cdata": 'SELECT Person WHERE name < "x" AND id > 3',
        "entities": 'a < b & "c" é',
        "sync_app.ticket.class": "UserRequest",
    }


def test_only_the_module_parameters_are_read() -> None:
    text = """<itop_design>
      <classes><class id="UserRequest"/></classes>
      <module_parameters>
        <parameters id="itop-backup" _delta="define"><x>1</x></parameters>
        <parameters id="combodo-intercom-integration" _delta="redefine"><x>2</x></parameters>
      </module_parameters>
    </itop_design>"""
    assert parse_xml_module_settings(text) == {"x": "2"}
    assert parse_xml_module_settings(text, module="itop-backup") == {"x": "1"}


def test_deleted_nodes_carry_no_value() -> None:
    body = '<a>1</a><b _delta="delete"/>'
    assert parse_xml_module_settings(_delta(body)) == {"a": "1"}


def test_bytes_follow_the_declared_encoding() -> None:
    text = _delta("<scope>SELECT Organization WHERE name = 'Société'</scope>").replace(
        "UTF-8", "ISO-8859-1"
    )
    assert parse_xml_module_settings(text.encode("iso-8859-1")) == {
        "scope": "SELECT Organization WHERE name = 'Société'"
    }
    # As text, the declaration no longer matters.
    assert parse_xml_module_settings(text)["scope"].endswith("'Société'")


def test_module_not_found() -> None:
    error = _error(_delta("<x>1</x>", module="itop-backup"))
    assert error.line == 2
    assert 'parameters id="combodo-intercom-integration"' in error.message


def test_module_defined_twice() -> None:
    text = """<itop_design><module_parameters>
      <parameters id="combodo-intercom-integration" _delta="define"/>
      <parameters id="combodo-intercom-integration" _delta="define"/>
    </module_parameters></itop_design>"""
    error = _error(text)
    assert error.line == 3
    assert "defined twice (first at line 2)" in error.message


@pytest.mark.parametrize(
    ("body", "line", "column", "fragment"),
    [
        ("<a>\n<b></a>", 6, 6, "not well-formed XML: mismatched tag"),
        ("<a>1</a>\n  <b type='bool'>yes</b>", 6, 3, 'type="bool"> must contain true or false'),
        ("<n type='int'>1.5</n>", 5, 1, 'type="int"> must contain an integer'),
        ("<x type='float'>1.5</x>", 5, 1, 'unknown type="float"'),
        ("<h>\n  <k>v</k>\n</h>", 6, 3, "has child elements: add type="),
        ("<h type='hash'>text<k>v</k></h>", 5, 16, "contains text"),
        ("<l type='array'><item>a</item>oops</l>", 5, 31, "contains text"),
        ("<k>1</k>\n<k>2</k>", 6, 1, "<k> appears twice in <parameters> (first at line 5)"),
        ("<b type='bool'><x/></b>", 5, 16, "has child elements"),
    ],
)
def test_malformed_input_reports_line_and_column(
    body: str, line: int, column: int, fragment: str
) -> None:
    error = _error(_delta(body))
    assert fragment in error.message
    assert (error.line, error.column) == (line, column)


def test_text_directly_in_parameters() -> None:
    error = _error(_delta("stray text"))
    assert error.line == 5
    assert "contains text" in error.message


def test_not_xml_at_all() -> None:
    error = _error("<itop_design>\n  <module_parameters>\n")
    assert error.line == 3
    assert "not well-formed XML" in error.message


def test_entity_expansion_is_refused() -> None:
    text = (
        '<?xml version="1.0"?>\n'
        '<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]>\n'
        "<itop_design><module_parameters>"
        '<parameters id="combodo-intercom-integration"><x>&lol2;</x></parameters>'
        "</module_parameters></itop_design>"
    )
    error = _error(text)
    assert "DTDs and entity declarations are not allowed" in error.message
    assert error.line == 2


def test_external_entity_is_refused() -> None:
    text = (
        '<?xml version="1.0"?>\n'
        '<!DOCTYPE x [<!ENTITY secret SYSTEM "file:///etc/passwd">]>\n'
        "<itop_design><module_parameters>"
        '<parameters id="combodo-intercom-integration"><x>&secret;</x></parameters>'
        "</module_parameters></itop_design>"
    )
    assert "not allowed" in _error(text).message


def test_bad_value_messages_do_not_echo_the_value() -> None:
    error = _error(_delta("<b type='bool'>sk_live_secret_value</b>"))
    assert "sk_live_secret_value" not in str(error)
