"""iTop HTML → Intercom HTML: links, paragraphs and lists kept, the rest dropped safely."""

from __future__ import annotations

import pytest

from itop_intercom.sync.back.html import to_intercom


def test_paragraphs_links_and_lists_are_kept() -> None:
    source = (
        '<p>Hello <strong>Agatha</strong>,</p><p>see <a href="https://kb.example/42">the KB</a>'
        "</p><ul><li>one</li><li>two</li></ul>"
    )
    assert to_intercom(source) == source


def test_scripts_styles_and_their_content_are_dropped() -> None:
    source = '<p>ok</p><script>alert("x")</script><style>p{}</style><p>after</p>'
    assert to_intercom(source) == "<p>ok</p><p>after</p>"


@pytest.mark.parametrize(
    "href", ["javascript:alert(1)", "data:text/html,<b>x</b>", "/relative/path", "vbscript:x"]
)
def test_links_to_other_schemes_keep_only_their_text(href: str) -> None:
    assert to_intercom(f'<p><a href="{href}">click</a></p>') == "<p>click</p>"


def test_unknown_tags_and_attributes_go_but_the_text_stays() -> None:
    source = (
        '<p class="x" onclick="evil()"><span style="color:red">red</span> <img src="a.png"></p>'
    )
    assert to_intercom(source) == "<p>red </p>"


def test_text_is_escaped_again() -> None:
    assert to_intercom("<p>1 &lt; 2 &amp; 3 &gt; 2</p>") == "<p>1 &lt; 2 &amp; 3 &gt; 2</p>"
    assert to_intercom("plain <b>bold</b> & more") == "plain <b>bold</b> &amp; more"


def test_block_elements_become_line_breaks() -> None:
    assert to_intercom("<div>first</div><div>second</div>") == "first<br><br>second"


def test_unclosed_tags_are_closed() -> None:
    assert to_intercom("<p><strong>bold <em>both") == "<p><strong>bold <em>both</em></strong></p>"


def test_link_href_is_escaped() -> None:
    out = to_intercom('<a href="https://x.example/?a=1&amp;b=&quot;2&quot;">x</a>')
    assert out == '<a href="https://x.example/?a=1&amp;b=&quot;2&quot;">x</a>'
