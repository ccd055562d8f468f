"""Read the PHP extension's module settings out of an iTop XML datamodel delta.

iTop lets a module's settings be given in XML instead of `config-itop.php`:

    <itop_design version="3.1">
      <module_parameters>
        <parameters id="combodo-intercom-integration" _delta="define">
          <workspaces type="hash">
            <abc12345 type="hash"><scope>SELECT Organization</scope></abc12345>
          </workspaces>
          <enabled_portals type="array"><item>itop-portal</item></enabled_portals>
          …

Values follow iTop's conventions: `type="hash"` (child element names are the keys),
`type="array"` (each child element, conventionally `<item>`, is a value), `type="bool"`,
`type="int"`, and anything else is a string (outer whitespace removed). We are stricter than iTop
where iTop would silently produce a surprising value (an element with children but no type, a
boolean that is neither true nor false, a key given twice): the admin gets a message with the
line and column instead.

The document is read with defusedxml's SAX parser (no DTD, no entity expansion, no external
resource) because the SAX locator gives the line of every element, which ElementTree loses.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from typing import Any
from xml.sax import InputSource, SAXParseException
from xml.sax.handler import ContentHandler
from xml.sax.xmlreader import AttributesImpl, Locator

import defusedxml
import defusedxml.sax

from itop_intercom.settings.legacy_format import DEFAULT_MODULE, LegacyFormatError

#: `_delta` values under which a `<parameters>` element carries settings.
_DEFINING_DELTAS = frozenset({"", "define", "redefine", "force", "define_if_not_exists", "merge"})


@dataclass
class _Element:
    name: str
    attributes: dict[str, str]
    line: int
    column: int
    children: list[_Element] = field(default_factory=list)
    text: list[str] = field(default_factory=list)
    text_line: int = 0
    text_column: int = 0

    def error(self, message: str) -> LegacyFormatError:
        return LegacyFormatError(message, self.line, self.column)


class _TreeBuilder(ContentHandler):
    """Build a small element tree that remembers where each element starts."""

    def __init__(self) -> None:
        super().__init__()
        self.root: _Element | None = None
        self._stack: list[_Element] = []
        self._locator: Locator | None = None

    def setDocumentLocator(self, locator: Locator) -> None:
        self._locator = locator

    def position(self) -> tuple[int, int]:
        if self._locator is None:
            return 0, 0
        # Expat columns are 0-based; ours (and editors') are 1-based.
        return self._locator.getLineNumber() or 0, (self._locator.getColumnNumber() or 0) + 1

    def startElement(self, name: str, attrs: AttributesImpl) -> None:
        line, column = self.position()
        element = _Element(name, {key: attrs[key] for key in attrs.getNames()}, line, column)
        if self._stack:
            self._stack[-1].children.append(element)
        else:
            self.root = element
        self._stack.append(element)

    def endElement(self, name: str) -> None:
        self._stack.pop()

    def characters(self, content: str) -> None:
        element = self._stack[-1]
        if not element.text_line and content.strip():
            element.text_line, element.text_column = self.position()
        element.text.append(content)


def _parse_tree(text: str | bytes) -> _Element:
    builder = _TreeBuilder()
    parser = defusedxml.sax.make_parser()
    parser.setContentHandler(builder)
    parser.forbid_dtd = True
    source = InputSource()
    if isinstance(text, bytes):
        # Bytes: the XML declaration's encoding applies.
        source.setByteStream(io.BytesIO(text))
    else:
        source.setCharacterStream(io.StringIO(text))
    try:
        parser.parse(source)
    except SAXParseException as exc:
        raise LegacyFormatError(
            f"not well-formed XML: {exc.getMessage()}",
            exc.getLineNumber(),
            (exc.getColumnNumber() or 0) + 1,
        ) from None
    except defusedxml.DefusedXmlException:
        line, column = builder.position()
        raise LegacyFormatError(
            "DTDs and entity declarations are not allowed in a datamodel delta",
            line or None,
            column or None,
        ) from None
    if builder.root is None:  # pragma: no cover - expat refuses documents without a root
        raise LegacyFormatError("the document has no root element", 1, 1)
    return builder.root


def _find_parameters(root: _Element, module: str) -> list[_Element]:
    found: list[_Element] = []

    def walk(element: _Element) -> None:
        for child in element.children:
            if (
                element.name == "module_parameters"
                and child.name == "parameters"
                and child.attributes.get("id") == module
                and child.attributes.get("_delta", "").strip().lower() in _DEFINING_DELTAS
            ):
                found.append(child)
            else:
                walk(child)

    walk(root)
    return found


def _value(element: _Element) -> Any:
    """An element's value, following iTop's `type` attribute conventions."""
    kind = element.attributes.get("type", "").strip().lower()
    text = "".join(element.text)
    if kind in ("hash", "array"):
        if text.strip():
            raise LegacyFormatError(
                f'<{element.name} type="{kind}"> contains text; its values must be child elements',
                element.text_line,
                element.text_column,
            )
        if kind == "array":
            return [_value(child) for child in _live(element.children)]
        return _hash(element)
    if element.children:
        raise element.children[0].error(
            f'<{element.name}> has child elements: add type="hash" (children are keys) or '
            'type="array" (children are items)'
        )
    value = text.strip()
    if kind in ("bool", "boolean"):
        lowered = value.lower()
        if lowered in ("true", "1"):
            return True
        if lowered in ("false", "0"):
            return False
        raise element.error(f'<{element.name} type="{kind}"> must contain true or false')
    if kind in ("int", "integer"):
        if not re.fullmatch(r"[+-]?[0-9]+", value):
            raise element.error(f'<{element.name} type="{kind}"> must contain an integer')
        return int(value)
    if kind in ("", "string"):
        return value
    raise element.error(
        f'<{element.name}> has an unknown type="{element.attributes["type"]}" '
        "(known: hash, array, bool, int, string)"
    )


def _live(children: list[_Element]) -> list[_Element]:
    # An element marked for deletion removes something from the datamodel; it has no value.
    return [c for c in children if c.attributes.get("_delta", "").strip().lower() != "delete"]


def _hash(element: _Element) -> dict[str, Any]:
    result: dict[str, Any] = {}
    lines: dict[str, int] = {}
    for child in _live(element.children):
        if child.name in result:
            raise child.error(
                f"<{child.name}> appears twice in <{element.name}> (first at line "
                f"{lines[child.name]})"
            )
        result[child.name] = _value(child)
        lines[child.name] = child.line
    return result


def parse_xml_module_settings(text: str | bytes, module: str = DEFAULT_MODULE) -> dict[str, Any]:
    """The settings of `module` from an iTop XML delta (`<module_parameters><parameters id=…>`).

    Accepts `str` (the XML declaration's encoding is then irrelevant) or `bytes` (decoded as the
    declaration says). Raises `LegacyFormatError` with the line and column of the problem.
    """
    root = _parse_tree(text)
    found = _find_parameters(root, module)
    if not found:
        raise root.error(f'no <module_parameters><parameters id="{module}"> element found')
    if len(found) > 1:
        raise found[1].error(
            f'<parameters id="{module}"> is defined twice (first at line {found[0].line})'
        )
    parameters = found[0]
    if "".join(parameters.text).strip():
        raise LegacyFormatError(
            f'<parameters id="{module}"> contains text; settings must be child elements',
            parameters.text_line,
            parameters.text_column,
        )
    return _hash(parameters)
