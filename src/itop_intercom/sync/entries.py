"""From a conversation part to a case-log entry: which log, what HTML, which marker.

One module for both paths that write entries (webhook parts and the history copied into a new
ticket), so that an entry looks the same whichever way it came, and so that the marker the
recovery looks for is built in exactly one place.

- Which log: replies (`comment`, `assignment` with a body, any reply of a reply topic) go to the
  public log, notes (`note`, `note_and_reopen`, the `conversation.admin.noted` topic) to the
  private log. Bot and AI-agent parts, and parts with neither text nor attachments, are not
  written. For the history only the part types the PHP extension copies are kept.
- The HTML: a first line saying the entry comes from the Intercom conversation, linking to it,
  then the body. HTML bodies are kept (iTop sanitises them on write); plain-text
  bodies (API 2.15+ webhooks) are escaped, with paragraphs, line breaks and links.
- The marker: the header's link ends with `#part-<part id>`. It names the workspace, the
  conversation and the part, survives iTop's sanitiser (links are kept) and appears in both the
  stored HTML and iTop's text rendering of an entry, so `contains_marker` can tell whether an
  entry was already written without comparing dates (which iTop converts to its timezone).
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal
from urllib.parse import quote

from itop_intercom.intercom.regions import conversation_url
from itop_intercom.itop.html_text import text_to_html
from itop_intercom.settings.model import Region

LogKind = Literal["public", "private"]

#: Topic given to parts copied from a conversation's history (not an Intercom topic).
HISTORY_TOPIC = "history"
#: Part type given to a conversation's opening message when it is copied with the history.
SOURCE_PART_TYPE = "source"

PUBLIC_TOPICS = frozenset({"conversation.user.replied", "conversation.admin.replied"})
PRIVATE_TOPICS = frozenset({"conversation.admin.noted"})
PUBLIC_PART_TYPES = frozenset({"comment", "assignment", SOURCE_PART_TYPE})
PRIVATE_PART_TYPES = frozenset({"note", "note_and_reopen"})
SKIPPED_AUTHOR_TYPES = frozenset({"bot"})

#: A tag as an HTML body has them (no space after `<`, nothing like `<` inside), so that plain
#: text such as "a < b > c" or "I <3 you" is not mistaken for HTML.
_HTML_TAG = re.compile(
    r"</?(p|br|div|span|a|b|i|u|s|strong|em|ul|ol|li|img|pre|code|h[1-6]|blockquote"
    r"|table|thead|tbody|tr|td|th|hr|sub|sup)\b[^<>]*>",
    re.IGNORECASE,
)
_TAGS = re.compile(r"<[^>]+>")

_HEADERS: Final[Mapping[str, Mapping[str, str]]] = {
    "en": {
        "public": 'Synchronised from the <a href="{url}">Intercom conversation</a>',
        "private": 'Private note synchronised from the <a href="{url}">Intercom conversation</a>',
        "attachments": "Attachments (see the ticket's attachments): {names}",
        "not_copied": "Not copied: {name} ({why})",
    },
    "fr": {
        "public": 'Synchronisé depuis la <a href="{url}">conversation Intercom</a>',
        "private": 'Note privée synchronisée depuis la <a href="{url}">conversation Intercom</a>',
        "attachments": "Pièces jointes (voir les pièces jointes du ticket) : {names}",
        "not_copied": "Non copié : {name} ({why})",
    },
}


def classify(
    topic: str,
    part_type: str | None,
    author_type: str | None,
    body: str | None,
    attachments: Sequence[Any],
    *,
    from_ai: bool = False,
) -> LogKind | None:
    """The log a part goes to, or None when there is nothing to write."""
    if author_type in SKIPPED_AUTHOR_TYPES or from_ai:
        return None
    if not has_text(body) and not attachments:
        return None
    if part_type in PRIVATE_PART_TYPES:
        return "private"
    if topic == HISTORY_TOPIC:
        return "public" if part_type in PUBLIC_PART_TYPES else None
    if topic in PRIVATE_TOPICS:
        return "private"
    if topic in PUBLIC_TOPICS:
        return "public"
    return None


def has_text(body: str | None) -> bool:
    if not body:
        return False
    return bool(html.unescape(_TAGS.sub("", body)).strip()) or "<img" in body.lower()


def is_html(body: str) -> bool:
    """Intercom sends HTML (REST, webhooks before 2.15) or plain text (webhooks 2.15+)."""
    return _HTML_TAG.search(body) is not None


def body_html(body: str | None) -> str:
    if not body:
        return ""
    return body if is_html(body) else text_to_html(body, links=True)


def marker(workspace_id: str, conversation_id: str, part_id: str) -> str:
    """The text that identifies the entry of one part in a case log (see the module doc).

    It is the host-less end of the part's link, so an entry is recognised whatever regional
    Intercom host the link was written with.
    """
    url = conversation_url(workspace_id, conversation_id)
    path = url[url.index("/a/apps/") :]
    return f"{path}#part-{quote(part_id, safe='')}"


def contains_marker(entry: Mapping[str, Any], mark: str) -> bool:
    """Whether a case-log entry as iTop returns it (`message_html`, `message`) has `mark`."""
    for key in ("message_html", "message"):
        value = entry.get(key)
        if isinstance(value, str) and (mark in value or html.escape(mark) in value):
            return True
    return False


def author_label(name: str | None, email: str | None, author_type: str | None) -> str:
    """How an author without an iTop account is shown: "<name> (Intercom)"."""
    who = (name or "").strip() or (email or "").strip() or (author_type or "someone")
    return f"{who} (Intercom)"


@dataclass(frozen=True)
class AttachmentNote:
    """What became of one attachment: copied to iTop, or not (and why)."""

    name: str
    copied: bool
    why: str = ""


def render(
    *,
    workspace_id: str,
    conversation_id: str,
    part_id: str,
    log: LogKind,
    body: str | None,
    language: str,
    region: Region = "us",
    attachments: Sequence[AttachmentNote] = (),
) -> str:
    """The HTML of the entry: header line with the marker link, body, attachment notes."""
    texts = _HEADERS.get(language, _HEADERS["en"])
    link = conversation_url(workspace_id, conversation_id, region)
    url = html.escape(f"{link}#part-{quote(part_id, safe='')}", quote=True)
    parts = [f"<p><em>{texts[log].format(url=url)}</em></p>", body_html(body)]
    copied = [html.escape(a.name) for a in attachments if a.copied]
    if copied:
        parts.append(f"<p>{texts['attachments'].format(names=', '.join(copied))}</p>")
    for note in attachments:
        if not note.copied:
            line = texts["not_copied"].format(
                name=html.escape(note.name), why=html.escape(note.why)
            )
            parts.append(f"<p>{line}</p>")
    return "".join(parts)


def part_seq(part_id: str) -> int:
    """Tie-break of parts created in the same second: Intercom's numeric ids grow with time.

    The opening message of a history copy (`source-…`) comes first; other non-numeric ids tie
    and fall back to arrival order. An integer, so that no database collation is involved.
    """
    if part_id.startswith("source-"):
        return -1
    if part_id.isdigit() and len(part_id) <= 18:
        return int(part_id)
    return 0
