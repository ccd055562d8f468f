"""Plain text into iTop's HTML: escaped, paragraphs and line breaks kept, links on request."""

from __future__ import annotations

from itop_intercom.itop.html_text import text_to_html


def test_text_to_html_escapes_and_keeps_lines() -> None:
    assert text_to_html("a <b>\nc\n\nd & e") == "<p>a &lt;b&gt;<br>c</p><p>d &amp; e</p>"
    assert text_to_html("  ") == ""


def test_links_become_anchors_only_when_asked() -> None:
    text = "see https://ex.com/?a=1&b=2 now"
    assert text_to_html(text) == "<p>see https://ex.com/?a=1&amp;b=2 now</p>"
    assert text_to_html(text, links=True) == (
        '<p>see <a href="https://ex.com/?a=1&amp;b=2">https://ex.com/?a=1&amp;b=2</a> now</p>'
    )
