"""One stored-part row for the webhook intake and the history copy, cut to the table's widths."""

from __future__ import annotations

from datetime import UTC, datetime

from itop_intercom.intercom.payloads import Author
from itop_intercom.store.tables import conversation_parts
from itop_intercom.sync.part_rows import MAX_ID, part_row, width


def test_text_is_cut_to_the_column_widths_of_the_table() -> None:
    author = Author(type="user", id="u" * 100, name="n" * 400, email="e" * 300)
    row = part_row(
        workspace_id="ws4test1",
        conversation_id="c1",
        part_id="p1",
        topic="conversation.user.replied" + "x" * 200,
        notification_id="n" * 200,
        part_type="comment" + "y" * 100,
        author=author,
        body="<p>hello</p>",
        attachments=[],
        created_at=1_700_000_000,
        received_at=datetime.now(UTC),
    )
    for column in ("notification_id", "topic", "part_type", "author_id", "author_name"):
        assert len(row[column]) == width(conversation_parts.c[column]), column
    assert row["author_email"] == "e" * 255
    assert set(row) == {c.name for c in conversation_parts.columns} - {"id", "planned_at"}
    assert MAX_ID == 64


def test_an_empty_author_is_stored_as_nulls() -> None:
    row = part_row(
        workspace_id="ws4test1",
        conversation_id="c1",
        part_id="p1",
        topic="history",
        notification_id=None,
        part_type="",
        author=None,
        body=None,
        attachments=[],
        created_at=1,
        received_at=datetime.now(UTC),
    )
    assert (row["author_type"], row["author_name"], row["notification_id"]) == (None,) * 3
    assert row["log"] is None
