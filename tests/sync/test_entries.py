"""Part → case-log entry: which log, the HTML, the marker that makes recovery possible."""

from __future__ import annotations

import pytest

from itop_intercom.sync import entries
from itop_intercom.sync.entries import AttachmentNote, classify

FILE = [{"name": "a.pdf"}]


@pytest.mark.parametrize(
    ("topic", "part_type", "author", "body", "attachments", "expected"),
    [
        ("conversation.user.replied", "comment", "user", "<p>hi</p>", [], "public"),
        ("conversation.user.replied", "open", "lead", "reopened with text", [], "public"),
        ("conversation.admin.replied", "comment", "admin", "<p>hi</p>", [], "public"),
        ("conversation.admin.replied", "assignment", "admin", "<p>hi</p>", [], "public"),
        ("conversation.admin.replied", "assignment", "admin", None, [], None),
        ("conversation.admin.noted", "note", "admin", "<p>n</p>", [], "private"),
        ("conversation.admin.noted", "note_and_reopen", "admin", "<p>n</p>", [], "private"),
        ("conversation.admin.replied", "note", "admin", "<p>n</p>", [], "private"),
        ("conversation.user.replied", "comment", "user", "", FILE, "public"),
        ("conversation.user.replied", "comment", "user", "<p> </p>", [], None),
        ("conversation.user.replied", "comment", "user", '<img src="x.png">', [], "public"),
        ("conversation.admin.replied", "comment", "bot", "<p>Fin here</p>", [], None),
        ("conversation.admin.closed", "close", "admin", "<p>bye</p>", [], None),
        ("history", "source", "user", "<p>opening</p>", [], "public"),
        ("history", "comment", "user", "<p>c</p>", [], "public"),
        ("history", "assignment", "admin", "<p>a</p>", [], "public"),
        ("history", "note", "admin", "<p>n</p>", [], "private"),
        ("history", "note_and_reopen", "admin", "<p>n</p>", [], "private"),
        ("history", "open", "admin", "<p>o</p>", [], None),
        ("history", "close", "admin", "<p>c</p>", [], None),
        ("history", "comment", "bot", "<p>c</p>", [], None),
    ],
)
def test_classify(
    topic: str,
    part_type: str,
    author: str,
    body: str | None,
    attachments: list[dict[str, str]],
    expected: str | None,
) -> None:
    assert classify(topic, part_type, author, body, attachments) == expected


def test_ai_agent_answers_are_not_written() -> None:
    assert classify("conversation.admin.replied", "comment", "admin", "x", [], from_ai=True) is None


def test_html_is_kept_and_plain_text_is_made_safe() -> None:
    assert entries.body_html("<p>Hi <b>there</b></p>") == "<p>Hi <b>there</b></p>"
    text = 'a < b & "c"\nline two\n\n<script>x</script> http://ex.com/?a=1&b=2'
    assert entries.body_html(text) == (
        "<p>a &lt; b &amp; &quot;c&quot;<br>line two</p>"
        '<p>&lt;script&gt;x&lt;/script&gt; <a href="http://ex.com/?a=1&amp;b=2">'
        "http://ex.com/?a=1&amp;b=2</a></p>"
    )
    assert entries.body_html(None) == ""
    assert entries.is_html("<br/>") and not entries.is_html("I <3 you")


def test_render_has_a_header_with_the_marker_then_the_body_then_attachments() -> None:
    html = entries.render(
        workspace_id="ws1",
        conversation_id="123",
        part_id="456",
        log="public",
        body="hello",
        language="en",
        attachments=[
            AttachmentNote("a.pdf", True),
            AttachmentNote("<big>.iso", False, "over the 10 MB limit"),
        ],
    )
    url = "https://app.intercom.com/a/apps/ws1/inbox/inbox/all/conversations/123#part-456"
    assert html == (
        f'<p><em>Synchronised from the <a href="{url}">Intercom conversation</a></em></p>'
        "<p>hello</p>"
        "<p>Attachments (see the ticket's attachments): a.pdf</p>"
        "<p>Not copied: &lt;big&gt;.iso (over the 10 MB limit)</p>"
    )
    assert url.endswith(entries.marker("ws1", "123", "456"))


def test_render_in_french_and_for_private_notes() -> None:
    html = entries.render(
        workspace_id="ws1",
        conversation_id="1",
        part_id="2",
        log="private",
        body="<p>x</p>",
        language="fr",
    )
    assert html.startswith("<p><em>Note privée synchronisée depuis la <a href=")


def test_ids_cannot_break_out_of_the_link() -> None:
    html = entries.render(
        workspace_id="ws1",
        conversation_id='1"><script>',
        part_id="2",
        log="public",
        body="x",
        language="en",
    )
    assert "<script>" not in html
    assert "%22%3E%3Cscript%3E" in html


def test_the_marker_is_found_in_html_or_in_itops_text_rendering() -> None:
    mark = entries.marker("ws1", "1", "22")
    assert entries.contains_marker({"message_html": f'<a href="{mark}">x</a>'}, mark)
    assert entries.contains_marker({"message": f"[x]({mark})\n\nhello"}, mark)
    other = entries.marker("ws1", "1", "2")
    assert not entries.contains_marker({"message_html": f'<a href="{other}">x</a>'}, mark)
    assert not entries.contains_marker({"message": None}, mark)


def test_author_label() -> None:
    assert entries.author_label("Ann", "ann@x.example", "user") == "Ann (Intercom)"
    assert entries.author_label(" ", "ann@x.example", "user") == "ann@x.example (Intercom)"
    assert entries.author_label(None, None, "lead") == "lead (Intercom)"
    assert entries.author_label(None, None, None) == "someone (Intercom)"


def test_part_order_tie_break() -> None:
    assert entries.part_seq("source-77") == -1
    assert entries.part_seq("999") < entries.part_seq("1000")
    assert entries.part_seq("abc") == 0
    assert entries.part_seq("9" * 30) == 0  # does not fit a BIGINT: arrival order decides


def test_entry_links_to_the_regional_inbox_and_is_recognised_whatever_the_host() -> None:
    from itop_intercom.sync.entries import contains_marker, marker, render

    html = render(
        workspace_id="ws1",
        conversation_id="77",
        part_id="9",
        log="public",
        body="<p>hi</p>",
        language="en",
        region="eu",
    )
    assert "https://app.eu.intercom.com/a/apps/ws1/inbox/inbox/all/conversations/77#part-9" in html
    mark = marker("ws1", "77", "9")
    assert contains_marker({"message_html": html}, mark)
    us_html = html.replace("app.eu.intercom.com", "app.intercom.com")
    assert contains_marker({"message_html": us_html}, mark)
    assert not contains_marker({"message_html": html}, marker("ws1", "77", "10"))
