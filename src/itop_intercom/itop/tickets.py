"""Ticket operations on iTop, parameterised by the ticket settings (class, attribute mapping).

Only explicit `output_fields` are requested: iTop then loads only those columns, and update
answers would otherwise echo whole case logs (every entry, HTML and text).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from itop_intercom.itop import oql
from itop_intercom.itop.client import GetResult, ItopClient, ItopObject
from itop_intercom.itop.errors import ItopApiError
from itop_intercom.itop.probes import probe_class
from itop_intercom.settings.model import Settings


@dataclass(frozen=True)
class TicketPage:
    tickets: list[ItopObject]
    total: int


class Tickets:
    def __init__(self, client: ItopClient, settings: Settings) -> None:
        self.client = client
        self.class_ = oql.identifier(settings.ticket.class_)
        self._mapping = settings.ticket.attributes_mapping
        self._excluded = settings.search_ticket.excluded_states
        self.subtitle_attribute = settings.search_ticket.subtitle_attribute

    def attr(self, logical: str) -> str:
        return oql.identifier(self._mapping[logical])

    def list_fields(self, *extra: str) -> str:
        fields = ["id", "ref", "friendlyname", self.attr("status"), self.subtitle_attribute]
        fields.extend(extra)
        return ",".join(dict.fromkeys(fields))

    async def _page(self, query: str, fields: str, limit: int, page: int) -> TicketPage:
        result: GetResult = await self.client.get(
            self.class_, query, fields, limit=limit, page=page
        )
        return TicketPage(result.objects, result.total)

    def _not_excluded(self, alias: str = "") -> str:
        if not self._excluded:
            return ""
        return f" AND {alias}{self.attr('status')} NOT IN {oql.in_list(self._excluded)}"

    def ongoing_query(self, caller_id: int) -> str:
        """The caller's tickets not in an excluded state (the "ongoing" tickets)."""
        query = f"SELECT {self.class_} WHERE {self.attr('caller_id')} = {oql.integer(caller_id)}"
        return query + self._not_excluded()

    def ongoing_by_email_query(self, email: str) -> str:
        """The ongoing tickets of every active person with this email, without looking the
        persons up first (a JOIN on Person; the tickets come back, never the persons)."""
        return (
            f"SELECT {self.class_} AS t JOIN Person AS p ON t.{self.attr('caller_id')} = p.id"
            f" WHERE p.email = {oql.quote(email.strip())} AND p.status != 'inactive'"
            + self._not_excluded("t.")
        )

    def is_ongoing_of(self, ticket: ItopObject, caller_id: int) -> bool:
        """What `ongoing_query` selects, checked on a ticket read with the caller and status."""
        return (
            ticket.get(self.attr("caller_id")) == str(caller_id)
            and ticket.get(self.attr("status")) not in self._excluded
        )

    def conversation_query(self, conversation_id: str) -> str:
        """Tickets whose `intercom_ref` field holds the conversation (extension datamodel)."""
        ref = self.attr("intercom_ref")
        return f"SELECT {self.class_} WHERE {ref} = {oql.quote(conversation_id)}"

    def ids_query(self, ids: Sequence[int]) -> str:
        id_list = ", ".join(oql.integer(i) for i in ids)
        return f"SELECT {self.class_} WHERE id IN ({id_list})"

    async def ongoing_of_caller(
        self, caller_id: int, *, limit: int = 30, page: int = 1, extra_fields: Sequence[str] = ()
    ) -> TicketPage:
        query = self.ongoing_query(caller_id)
        return await self._page(query, self.list_fields(*extra_fields), limit, page)

    async def by_conversation(
        self,
        conversation_id: str,
        *,
        limit: int = 30,
        page: int = 1,
        extra_fields: Sequence[str] = (),
    ) -> TicketPage:
        """Tickets whose `intercom_ref` field holds the conversation (extension datamodel)."""
        query = self.conversation_query(conversation_id)
        fields = self.list_fields(self.attr("intercom_sync_activated"), *extra_fields)
        return await self._page(query, fields, limit, page)

    async def synced_of_conversations(
        self, conversation_ids: Sequence[str], fields: Sequence[str]
    ) -> list[ItopObject]:
        """Tickets whose `intercom_ref` is one of the conversations, with sync on (extension
        datamodel), in one call."""
        ref, flag = self.attr("intercom_ref"), self.attr("intercom_sync_activated")
        refs = oql.in_list(conversation_ids)
        query = f"SELECT {self.class_} WHERE {ref} IN {refs} AND {flag} = 'yes'"
        result = await self.client.get(self.class_, query, ",".join(dict.fromkeys(fields)))
        return result.objects

    async def synced(self, fields: Sequence[str]) -> list[ItopObject]:
        """Every ticket with sync on (extension datamodel), in one call."""
        query = f"SELECT {self.class_} WHERE {self.attr('intercom_sync_activated')} = 'yes'"
        result = await self.client.get(self.class_, query, ",".join(dict.fromkeys(fields)))
        return result.objects

    async def has_attributes(self, attcodes: Sequence[str]) -> bool:
        """Whether the ticket class has these attributes: iTop refuses a query whose output
        fields it does not know (code 100), even when it matches nothing."""
        try:
            await probe_class(self.client, self.class_, list(dict.fromkeys(["id", *attcodes])))
        except ItopApiError as exc:
            if exc.code == 100:
                return False
            raise
        return True

    async def by_ids(self, ids: Sequence[int], *, extra_fields: Sequence[str] = ()) -> TicketPage:
        if not ids:
            return TicketPage([], 0)
        query = self.ids_query(ids)
        result = await self.client.get(self.class_, query, self.list_fields(*extra_fields))
        return TicketPage(result.objects, result.total)

    async def recent_of_caller(self, caller_id: int, title: str) -> ItopObject | None:
        """The newest ticket of this caller with exactly this title (to recognise a ticket that
        a timed-out create call did create)."""
        query = (
            f"SELECT {self.class_} WHERE {self.attr('caller_id')} = {oql.integer(caller_id)}"
            f" AND title = {oql.quote(title)}"
        )
        result = await self.client.get(self.class_, query, self.list_fields(), limit=50, page=1)
        return max(result.objects, key=lambda ticket: ticket.id, default=None)

    async def find_by_ref(self, reference: str) -> ItopObject | None:
        """The ticket with this reference (`R-000123`), or with this id when only digits are
        given; None when there is none or the text matches several."""
        text = reference.strip()
        query = f"SELECT {self.class_} WHERE ref = {oql.quote(text)}"
        if text.isdigit() and len(text) <= 12:
            query += f" OR id = {oql.integer(text)}"
        result = await self.client.get(self.class_, query, self.list_fields(), limit=2, page=1)
        return result.objects[0] if len(result.objects) == 1 else None

    async def get(
        self, ticket_id: int, fields: Sequence[str], *, class_: str | None = None
    ) -> ItopObject | None:
        """The ticket, of the configured class or of `class_` (a delivery planned before the
        settings changed keeps the class it was planned for)."""
        klass = oql.identifier(class_) if class_ is not None else self.class_
        query = f"SELECT {klass} WHERE id = {oql.integer(ticket_id)}"
        result = await self.client.get(klass, query, ",".join(dict.fromkeys(fields)))
        return result.objects[0] if result.objects else None

    async def attachments(
        self, ticket_class: str, ticket_id: int, fields: Sequence[str]
    ) -> list[ItopObject]:
        """The attachments of one ticket."""
        query = (
            f"SELECT Attachment WHERE item_class = {oql.quote(ticket_class)} "
            f"AND item_id = {oql.integer(ticket_id)}"
        )
        result = await self.client.get("Attachment", query, ",".join(dict.fromkeys(fields)))
        return result.objects

    async def create(self, fields: Mapping[str, Any], *, comment: str) -> ItopObject:
        return await self.client.create(
            self.class_, fields, "id,ref,friendlyname,org_id", comment=comment
        )

    async def update_if_unlinked(
        self, ticket_id: int, fields: Mapping[str, Any], *, comment: str
    ) -> ItopObject:
        """Update the ticket only while its `intercom_ref` is empty: the key is an OQL query
        that matches nothing otherwise, and iTop then refuses with code 100."""
        key = (
            f"SELECT {self.class_} WHERE id = {oql.integer(ticket_id)}"
            f" AND {self.attr('intercom_ref')} = ''"
        )
        return await self.client.update(
            self.class_, key, fields, "id,ref,friendlyname", comment=comment
        )

    async def set_fields(self, ticket_id: int, fields: Mapping[str, Any], *, comment: str) -> None:
        await self.client.update(self.class_, ticket_id, fields, "id", comment=comment)

    async def add_caselog_entry(
        self,
        ticket_id: int,
        log_attcode: str,
        message_html: str,
        *,
        author_email: str | None,
        author_label: str,
        date: datetime,
        comment: str,
    ) -> None:
        """Append one entry on behalf of the user with `author_email`, or under a free name.

        `user_id` as a search object lets iTop find the user in the same call; with
        `author_email=None` the entry is written with `user_id: 0` and the label verbatim.
        iTop accepts either only from a token user with the Administrator profile. Never
        `items`: it replaces the whole log instead of appending.
        """
        item: dict[str, Any] = {
            "message": message_html,
            "format": "html",
            "date": date.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        if author_email:
            item["user_id"] = {"email": author_email}
        else:
            item["user_id"] = 0
            item["user_login"] = author_label
        await self.client.update(
            self.class_, ticket_id, {log_attcode: {"add_item": item}}, "id", comment=comment
        )

    async def create_attachment(
        self,
        ticket_id: int,
        org_id: int,
        filename: str,
        mimetype: str,
        data_b64: str,
        *,
        comment: str,
    ) -> ItopObject:
        return await self.client.create(
            "Attachment",
            {
                "item_class": self.class_,
                "item_id": ticket_id,
                "item_org_id": org_id,
                "contents": {"data": data_b64, "filename": filename, "mimetype": mimetype},
            },
            "id",
            comment=comment,
        )
