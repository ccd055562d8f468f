"""iTop's case-log HTML → the HTML Intercom accepts in a reply or a note.

Intercom keeps paragraphs, line breaks, links, lists and simple emphasis; anything else may be
refused or shown as text. So only those tags are kept (links only with http, https or mailto
targets), every other tag is dropped with its text kept, the content of `script`, `style` and
similar elements is dropped entirely, and all text is escaped again on the way out.
"""

from __future__ import annotations

import html
from html.parser import HTMLParser

_KEPT = frozenset({"p", "br", "a", "ul", "ol", "li", "b", "strong", "i", "em", "code", "pre"})
_VOID = frozenset({"br"})
_BLOCKS = frozenset(
    {"div", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "table", "tr", "section"}
)
_DROPPED_WITH_CONTENT = frozenset(
    {"script", "style", "head", "title", "iframe", "object", "embed", "template", "noscript"}
)
_LINK_SCHEMES = ("http://", "https://", "mailto:")


class _Cleaner(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self._open: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _DROPPED_WITH_CONTENT:
            self._skipping += 1
            return
        if self._skipping:
            return
        if tag in _BLOCKS:
            self.out.append("<br>")
            return
        if tag not in _KEPT:
            return
        if tag == "a":
            href = next((v for k, v in attrs if k == "href" and v), "")
            if not href.strip().lower().startswith(_LINK_SCHEMES):
                self._open.append("")  # a link we drop: keep its text only
                return
            self.out.append(f'<a href="{html.escape(href.strip(), quote=True)}">')
            self._open.append("a")
            return
        self.out.append(f"<{tag}>")
        if tag not in _VOID:
            self._open.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br" and not self._skipping:
            self.out.append("<br>")

    def handle_endtag(self, tag: str) -> None:
        if tag in _DROPPED_WITH_CONTENT:
            self._skipping = max(0, self._skipping - 1)
            return
        if self._skipping or tag in _VOID:
            return
        if tag in _BLOCKS:
            self.out.append("<br>")
            return
        if tag not in _KEPT or not self._open:
            return
        # Close what is open down to this tag (iTop's HTML is usually well formed; this keeps
        # the output well formed when it is not).
        if tag == "a":
            while self._open:
                top = self._open.pop()
                if top in ("a", ""):
                    if top == "a":
                        self.out.append("</a>")
                    return
                self.out.append(f"</{top}>")
            return
        if tag in self._open:
            while self._open:
                top = self._open.pop()
                if top:
                    self.out.append(f"</{top}>")
                if top == tag:
                    return

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.out.append(html.escape(data, quote=False))

    def result(self) -> str:
        while self._open:
            top = self._open.pop()
            if top:
                self.out.append(f"</{top}>")
        return "".join(self.out).strip()


def to_intercom(itop_html: str) -> str:
    """Clean HTML for Intercom; plain text in, escaped text out."""
    cleaner = _Cleaner()
    cleaner.feed(itop_html or "")
    cleaner.close()
    text = cleaner.result()
    while text.startswith("<br>"):
        text = text[4:].lstrip()
    while text.endswith("<br>"):
        text = text[:-4].rstrip()
    return text


def has_text(fragment: str) -> bool:
    cleaner = _Plain()
    cleaner.feed(fragment)
    cleaner.close()
    return bool("".join(cleaner.parts).strip())


class _Plain(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)
