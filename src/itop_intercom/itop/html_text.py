"""Plain text into iTop's HTML attributes and case logs.

iTop wraps plain text in `<p>` but keeps its newlines as they are (they do not show),
so text typed by an agent or sent by Intercom (API 2.15+ webhooks) is converted here: escaped,
blank lines → paragraphs, newlines → `<br>`.
"""

from __future__ import annotations

import html
import re

_URL = re.compile(r"https?://[^\s<>\"']+")


def text_to_html(text: str, *, links: bool = False) -> str:
    """Escaped HTML of `text`; with `links`, bare http(s) URLs become anchors."""
    paragraphs = [p for p in re.split(r"\n\s*\n", text.replace("\r\n", "\n").strip()) if p]
    out = []
    for paragraph in paragraphs:
        escaped = html.escape(paragraph, quote=True)
        if links:
            escaped = _URL.sub(lambda m: f'<a href="{m.group(0)}">{m.group(0)}</a>', escaped)
        out.append("<p>" + escaped.replace("\n", "<br>") + "</p>")
    return "".join(out)
