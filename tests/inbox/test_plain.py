"""HTML to text and back."""

from __future__ import annotations

from itop_intercom.inbox.plain import html_to_text, one_line


def test_html_to_text() -> None:
    assert html_to_text(None) == ""
    assert html_to_text("plain") == "plain"
    assert html_to_text("<p>a &amp; b</p><p>c<br>d</p>") == "a & b\n\nc\nd"
    assert html_to_text("<style>p{}</style><script>x()</script><p>kept</p>") == "kept"
    assert html_to_text("<ul><li>one</li><li>two</li></ul>") == "one\ntwo"
    assert html_to_text("<p>non&nbsp;breaking   spaces</p>") == "non breaking spaces"


def test_one_line() -> None:
    assert one_line("short", 10) == "short"
    assert one_line("a  b\n c", 10) == "a b c"
    cut = one_line("the quick brown fox jumps over the lazy dog", 20)
    assert cut == "the quick brown fox…" and len(cut) <= 20
