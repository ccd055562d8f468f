"""HTML: the sanitiser of HTML attributes and the html -> text rendering of case-log messages."""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from html.parser import HTMLParser

from tests.fakes.itop.model_types import _words

_VOID_TAGS = frozenset(
    _words("area base br col embed hr img input link meta param source track wbr")
)


_BLOCK_TAGS = frozenset(
    _words(
        "address article aside blockquote caption center dd div dl dt figcaption figure footer"
        " h1 h2 h3 h4 h5 h6 header hr li nav ol p pre section table tbody td tfoot th thead tr ul"
    )
)


_COMMON_ATTRS = frozenset({"style", "title", "dir", "lang"})


_ALLOWED_TAGS: dict[str, frozenset[str]] = {
    "a": frozenset({"href", "name", "id", "target", "title", "style"}),
    "img": frozenset({"src", "alt", "title", "width", "height", "style"}),
    "font": frozenset({"color", "face", "size", "style"}),
    "ol": frozenset({"start", "type", "style"}),
    "table": frozenset(
        {"width", "border", "cellpadding", "cellspacing", "summary", "align", "style"}
    ),
    "td": frozenset({"colspan", "rowspan", "width", "height", "align", "valign", "style"}),
    "th": frozenset({"colspan", "rowspan", "width", "height", "align", "valign", "style"}),
    **{
        tag: _COMMON_ATTRS
        for tag in _words(
            "abbr address article aside b big blockquote br caption center cite code dd del div"
            " dl dt em figcaption figure footer h1 h2 h3 h4 h5 h6 header hr i li mark nav p pre q"
            " s section small span strike strong sub sup tbody tfoot thead tr u ul"
        )
    },
}


_URL_ATTR_RULES = {
    "href": re.compile(r"^\s*(https?:|mailto:|ftp:|tel:|callto:|#|/)", re.I),
    "src": re.compile(r"^\s*(https?:|data:image/)", re.I),
}


#: Tags unwrapped (kept children) instead of dropped.
_TRANSPARENT_TAGS = frozenset({"html", "body"})


@dataclass
class _Node:
    tag: str  # "" for a text node
    attrs: list[tuple[str, str]] = field(default_factory=list)
    children: list[_Node] = field(default_factory=list)
    text: str = ""


class _TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = _Node("#root")
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCK_TAGS:  # libxml closes an open <p> when a block starts
            for index in range(len(self.stack) - 1, 0, -1):
                if self.stack[index].tag == "p":
                    del self.stack[index:]
                    break
        if tag == "li":
            for index in range(len(self.stack) - 1, 0, -1):
                if self.stack[index].tag in ("ul", "ol"):
                    break
                if self.stack[index].tag == "li":
                    del self.stack[index:]
                    break
        node = _Node(tag, [(k, v or "") for k, v in attrs])
        self.stack[-1].children.append(node)
        if tag not in _VOID_TAGS:
            self.stack.append(node)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in _VOID_TAGS and self.stack[-1].tag == tag:
            self.stack.pop()

    def handle_endtag(self, tag: str) -> None:
        for index in range(len(self.stack) - 1, 0, -1):
            if self.stack[index].tag == tag:
                del self.stack[index:]
                return

    def handle_data(self, data: str) -> None:
        self.stack[-1].children.append(_Node("", text=data))


def _parse_html(text: str) -> _Node:
    builder = _TreeBuilder()
    builder.feed(text)
    builder.close()
    return builder.root


def _clean(node: _Node) -> list[_Node]:
    if not node.tag:
        return [node]
    if node.tag in _TRANSPARENT_TAGS or node.tag == "#root":
        return [n for child in node.children for n in _clean(child)]
    allowed = _ALLOWED_TAGS.get(node.tag)
    if allowed is None:
        return []  # script, style, iframe, form... removed with their content
    attrs = []
    for name, value in node.attrs:
        name = name.lower()
        if name not in allowed or name.startswith("on"):
            continue
        rule = _URL_ATTR_RULES.get(name)
        if rule is not None and not rule.match(value):
            continue
        attrs.append((name, value))
    children = [n for child in node.children for n in _clean(child)]
    return [_Node(node.tag, attrs, children)]


def _escape_text(text: str) -> str:
    return (
        text.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace("\xa0", "&nbsp;")
    )


def _serialize(nodes: Iterable[_Node]) -> str:
    out = []
    for node in nodes:
        if not node.tag:
            out.append(_escape_text(node.text))
            continue
        attrs = "".join(
            f' {name}="{value.replace("&", "&amp;").replace(chr(34), "&quot;")}"'
            for name, value in node.attrs
        )
        if node.tag in _VOID_TAGS:
            out.append(f"<{node.tag}{attrs}>")
        else:
            out.append(f"<{node.tag}{attrs}>{_serialize(node.children)}</{node.tag}>")
    return "".join(out)


def _sanitize_html(text: str) -> str:
    """iTop's HTML sanitiser as observed: 025 (script, onclick), 057 (img src=x), 058 (kept)."""
    nodes = _clean(_parse_html(text))
    # libxml wraps leading bare text (and the inline content that follows) in a <p> (038, 057)
    first = next((n for n in nodes if n.tag or n.text.strip()), None)
    if first is not None and not first.tag:
        start = nodes.index(first)
        end = start
        while end < len(nodes) and nodes[end].tag not in _BLOCK_TAGS:
            end += 1
        nodes = [*nodes[:start], _Node("p", [], nodes[start:end]), *nodes[end:]]
    return _serialize(nodes)


def _html_to_text(text: str) -> str:
    """The plain-text `message` of an html case-log entry (049-058)."""
    blocks: list[str] = []
    _render_blocks(_parse_html(text).children, blocks, pre=False)
    lines = "\n\n".join(b for b in (_tidy(b) for b in blocks) if b)
    return lines.strip()


def _tidy(block: str) -> str:
    return "\n".join(line.strip() for line in block.split("\n")).strip()


def _render_blocks(nodes: list[_Node], blocks: list[str], *, pre: bool) -> None:
    buffer: list[str] = []

    def flush() -> None:
        if buffer:
            blocks.append("".join(buffer))
            buffer.clear()

    for node in nodes:
        if node.tag in ("ul", "ol"):
            flush()
            items = []
            for number, item in enumerate(c for c in node.children if c.tag == "li"):
                marker = f"{number + 1}. " if node.tag == "ol" else "- "
                items.append(marker + _tidy(_render_inline(item.children, pre=pre)))
            blocks.append("\n".join(items))
        elif node.tag in _BLOCK_TAGS or node.tag in _TRANSPARENT_TAGS:
            flush()
            _render_blocks(node.children, blocks, pre=pre or node.tag == "pre")
        else:
            buffer.append(_render_inline([node], pre=pre))
    flush()


def _render_inline(nodes: list[_Node], *, pre: bool) -> str:
    out = []
    for node in nodes:
        if not node.tag:
            out.append(node.text if pre else re.sub(r"\s+", " ", node.text))
        elif node.tag == "br":
            out.append("\n")
        elif node.tag in ("img", "script", "style"):
            continue
        elif node.tag == "a":
            inner = _render_inline(node.children, pre=pre).strip()
            href = dict(node.attrs).get("href", "")
            out.append(f"[{inner}]({href})" if href else inner)
        elif node.tag in _BLOCK_TAGS:
            out.append("\n" + _render_inline(node.children, pre=pre) + "\n")
        else:
            out.append(_render_inline(node.children, pre=pre))
    return "".join(out)


def _text_to_html(text: str) -> str:
    """message_html of a `format: text` entry (056)."""
    escaped = html.escape(text, quote=True).replace("&#x27;", "&apos;")
    return escaped.replace("\r\n", "\n").replace("\n", "<br/>")
