"""Reading iTop's change history: what happened to tickets since a cursor, in one call.

iTop records every case-log append as a `CMDBChangeOpSetAttributeCaseLog` (with `lastentry`, the
0-based index of the new entry in that log) and every scalar change such as `status` as a
`CMDBChangeOpSetAttributeScalar` (`oldvalue`, `newvalue`). Both are subclasses of
`CMDBChangeOpSetAttribute`, so one query on that class with `output_fields: "*+"` returns both
kinds with their own fields; `attcode` narrows it to the attributes we follow.

What the rows say and what they do not:
- `date`, `userinfo` and `user_id` are copied from the op's `CMDBChange`: `user_id` is the user
  who made the call (for a REST write, the token user, even when the entry was written on behalf
  of someone else) and `userinfo` is the REST call's `comment` (for a web UI change, the user's
  display name). The displayed author of a case-log entry is on the entry itself.
- Rows do not come back in id order (iTop orders by the change id compared as text, and the ops
  of one change in any order): `since` sorts them by id, and the highest id is the next cursor.
- Dates are iTop-local (its `timezone` setting) without an offset, in OQL literals as in rows.
- Only users with the Administrator profile may read the history (code 1 otherwise).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from itop_intercom.itop import oql
from itop_intercom.itop.client import ItopClient, ItopObject

#: The parent class of case-log and scalar ops (its `*+` output carries each subclass's fields).
OP_CLASS = "CMDBChangeOpSetAttribute"
#: The root class, for an iTop that refuses the query on `OP_CLASS` (its `*+` output is the one
#: recorded; `attcode` is not one of its codes, so the attributes are filtered here instead).
ROOT_OP_CLASS = "CMDBChangeOp"
CASELOG_OP = "CMDBChangeOpSetAttributeCaseLog"
DATE_FORMAT = "%Y-%m-%d %H:%M:%S"


@dataclass(frozen=True)
class ChangeOp:
    id: int
    change_id: int
    op_class: str
    objclass: str
    objkey: int
    attcode: str
    date: str
    """iTop-local time, `Y-m-d H:i:s`."""
    userinfo: str
    user_id: int
    """Who made the change (the REST caller, or the user logged in to the UI)."""
    lastentry: int | None = None
    oldvalue: str | None = None
    newvalue: str | None = None

    @property
    def is_caselog(self) -> bool:
        return self.op_class == CASELOG_OP or self.lastentry is not None


def _int(value: str, default: int = 0) -> int:
    try:
        return int(value)
    except ValueError:
        return default


def _op(obj: ItopObject) -> ChangeOp:
    lastentry = obj.fields.get("lastentry")
    return ChangeOp(
        id=obj.id,
        change_id=_int(obj.get("change")),
        op_class=obj.get("finalclass") or obj.class_,
        objclass=obj.get("objclass"),
        objkey=_int(obj.get("objkey")),
        attcode=obj.get("attcode"),
        date=obj.get("date"),
        userinfo=obj.get("userinfo"),
        user_id=_int(obj.get("user_id")),
        lastentry=None if lastentry in (None, "") else _int(str(lastentry)),
        oldvalue=None if "oldvalue" not in obj.fields else obj.get("oldvalue"),
        newvalue=None if "newvalue" not in obj.fields else obj.get("newvalue"),
    )


def history_query(
    objclass: str,
    attcodes: Iterable[str],
    *,
    after_id: int | None = None,
    since: str | None = None,
    objkeys: Sequence[int] = (),
    op_class: str = OP_CLASS,
) -> str:
    """The OQL of one poll: ops of `attcodes` on `objclass` after `after_id` (or, before any
    cursor exists, from the iTop-local time `since`), optionally only for `objkeys`."""
    where = [f"objclass = {oql.quote(oql.identifier(objclass))}"]
    if op_class != ROOT_OP_CLASS:
        where.append(f"attcode IN {oql.in_list(sorted({oql.identifier(a) for a in attcodes}))}")
    if after_id is not None:
        where.append(f"id > {oql.integer(after_id)}")
    elif since is not None:
        datetime.strptime(since, DATE_FORMAT)  # only a well-formed date goes into the OQL
        where.append(f"date >= {oql.quote(since)}")
    if objkeys:
        where.append("objkey IN (" + ", ".join(oql.integer(k) for k in sorted(set(objkeys))) + ")")
    return f"SELECT {op_class} WHERE " + " AND ".join(where)


async def since(
    client: ItopClient,
    objclass: str,
    attcodes: Iterable[str],
    *,
    after_id: int | None = None,
    since: str | None = None,
    objkeys: Sequence[int] = (),
    op_class: str = OP_CLASS,
) -> list[ChangeOp]:
    """Every followed change after the cursor, sorted by id (one `core/get` on `op_class`).

    The highest id of the result is the next cursor; with `ROOT_OP_CLASS`, ops of attributes
    not followed are returned too (so that the cursor passes them) and must be ignored."""
    codes = list(attcodes)
    query = history_query(
        objclass, codes, after_id=after_id, since=since, objkeys=objkeys, op_class=op_class
    )
    result = await client.get(op_class, query, "*+")
    return sorted((_op(obj) for obj in result.objects), key=lambda op: op.id)


async def can_read(client: ItopClient) -> None:
    """Raises the iTop error (code 1 without the Administrator profile) when the token user may
    not read the history; returns quietly otherwise."""
    await client.get(CASELOG_OP, f"SELECT {CASELOG_OP} WHERE id = 0", "id")


async def user_emails(client: ItopClient, user_ids: Iterable[int]) -> dict[int, str]:
    """The email of each user's person (User's `email` field); users without one are left out."""
    ids = sorted({int(i) for i in user_ids if int(i) > 0})
    if not ids:
        return {}
    query = "SELECT User WHERE id IN (" + ", ".join(str(i) for i in ids) + ")"
    result = await client.get("User", query, "id,email")
    return {obj.id: obj.get("email").strip() for obj in result.objects if obj.get("email").strip()}


async def changed_tickets(
    client: ItopClient, class_: str, ids: Iterable[int], fields: Sequence[str]
) -> dict[int, ItopObject]:
    """The tickets the history named, by id, with `fields` (one `core/get` for them all)."""
    wanted = sorted({int(i) for i in ids})
    if not wanted:
        return {}
    query = f"SELECT {oql.identifier(class_)} WHERE id IN (" + ", ".join(map(str, wanted)) + ")"
    result = await client.get(class_, query, ",".join(dict.fromkeys(fields)))
    return {obj.id: obj for obj in result.objects}


def local_now(zone: str) -> str:
    """Now in iTop's time zone, as iTop writes dates."""
    return datetime.now(ZoneInfo(zone)).strftime(DATE_FORMAT)


def to_utc(value: str, zone: str) -> datetime | None:
    """An iTop-local date as an aware UTC datetime (None when it is not a date)."""
    try:
        naive = datetime.strptime(value, DATE_FORMAT)
    except ValueError:
        return None
    return naive.replace(tzinfo=ZoneInfo(zone)).astimezone(UTC)
