"""The fake iTop's change history, as iTop 3.2.0 returns it (transcripts 071, 110-129).

- Every REST call that changes an object opens one `CMDBChange` (origin `webservice-rest`,
  `userinfo` = the call's `comment`, `user_id` = the token user, even for an entry written on
  behalf of someone else); an entry typed in the web UI (`ui_add_entry`, `ui_set_status`) opens
  one with origin `interactive`, `userinfo` = the user's display name, `user_id` = that user.
- Each case-log append becomes a `CMDBChangeOpSetAttributeCaseLog` (`lastentry` = the 0-based
  index of the new entry); each other changed scalar attribute (status, team_id, intercom_*…)
  a `CMDBChangeOpSetAttributeScalar` (`oldvalue` / `newvalue` as strings). HTML attributes
  (description, solution) and `last_update` are not recorded as scalar ops.
- Ops carry `date`, `userinfo` and `user_id` copied from their change; `friendlyname` is the
  change id and `change_friendlyname` the change's date. Both op classes derive from the abstract
  `CMDBChangeOpSetAttribute`, itself from `CMDBChangeOp`: with `output_fields: "*"` a parent
  class lists only its own codes, `"*+"` the real subclass's (120, 127).
- Order: by the change id compared as TEXT ("10" before "5"), and within one change the ops in
  decreasing id order (iTop gives "any order"), so a client must sort by id itself (127).
- Only Administrators may read these classes (072, 119, 128).

ASSUMPTION (not recorded): filtering and `*+` on the intermediate class
`CMDBChangeOpSetAttribute` (`attcode` is one of its codes) work as on `CMDBChangeOp`; the
transcripts show `*+` on `CMDBChangeOp` (127), and a note of 120 says `CMDBChangeOpSetAttribute`
with `id,attcode,finalclass` works. `tests/data/itop-assumptions/A01-*.json` is that one
assumed exchange.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.fakes.itop.model_types import A

#: Attribute kinds whose changes iTop records as CMDBChangeOpSetAttributeScalar.
SCALAR_KINDS = frozenset({"string", "enum", "extkey", "int", "date", "datetime", "url", "email"})
#: Tracked attributes that are never in the history (iTop: last_update is not tracked, 118).
UNTRACKED = frozenset({"last_update"})

Row = dict[str, Any]


def attribute_lists() -> dict[str, list[Any]]:
    """The attributes of the history classes, in iTop's `*` order (114, 116, 118, 120)."""
    head = [
        A("change", "extkey", "Change", target="CMDBChange"),
        A("date", "datetime", "Date"),
        A("userinfo", "string", "User info"),
        A("user_id", "extkey", "User", target="User"),
        A("objclass", "string", "Object class"),
        A("objkey", "int", "Object key"),
    ]
    tail = [
        A("finalclass", "finalclass"),
        A("friendlyname", "friendlyname"),
        A("change_friendlyname", "extfield", key="change", remote="friendlyname"),
        A("user_id_friendlyname", "extfield", key="user_id", remote="friendlyname"),
    ]
    attcode = A("attcode", "string", "Attribute")
    return {
        "CMDBChange": [
            A("date", "datetime", "Date"),
            A("userinfo", "string", "User info"),
            A("user_id", "extkey", "User", target="User"),
            A("origin", "string", "Origin"),
            A("friendlyname", "friendlyname"),
            A("user_id_friendlyname", "extfield", key="user_id", remote="friendlyname"),
            A(
                "user_id_finalclass_recall",
                "extfield",
                key="user_id",
                remote="finalclass",
                default="User",
            ),
        ],
        "CMDBChangeOp": [*head, *tail],
        "CMDBChangeOpSetAttribute": [*head, attcode, *tail],
        "CMDBChangeOpSetAttributeCaseLog": [*head, attcode, A("lastentry", "int"), *tail],
        "CMDBChangeOpSetAttributeScalar": [
            *head,
            attcode,
            A("oldvalue", "string", "Old value"),
            A("newvalue", "string", "New value"),
            *tail,
        ],
    }


def history_classes(cls: Callable[..., Any]) -> list[Any]:
    """The history classes, built with the data model's `cls` helper."""
    attrs = attribute_lists()
    op = {"family": "CMDBChangeOp", "order": "change_text"}
    return [
        cls("CMDBChange", attrs["CMDBChange"], family="CMDBChange", name_attrs=("date",)),
        cls("CMDBChangeOp", attrs["CMDBChangeOp"], abstract=True, name_attrs=(), **op),
        cls(
            "CMDBChangeOpSetAttribute",
            attrs["CMDBChangeOpSetAttribute"],
            parent="CMDBChangeOp",
            abstract=True,
            name_attrs=(),
            **op,
        ),
        cls(
            "CMDBChangeOpSetAttributeCaseLog",
            attrs["CMDBChangeOpSetAttributeCaseLog"],
            parent="CMDBChangeOpSetAttribute",
            name_attrs=(),
            **op,
        ),
        cls(
            "CMDBChangeOpSetAttributeScalar",
            attrs["CMDBChangeOpSetAttributeScalar"],
            parent="CMDBChangeOpSetAttribute",
            name_attrs=(),
            **op,
        ),
    ]


def change_op_order(row: Row) -> tuple[str, int]:
    """iTop's order of change ops: change id as text, then (here) decreasing op id."""
    return (str(row["change"]), -int(row["id"]))


def _scalar(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


def record_change(
    fake: Any,
    row: Row,
    before: Row | None,
    changed: set[str],
    caller: Row,
    comment: str,
    *,
    origin: str = "webservice-rest",
) -> int | None:
    """Record one change (and its ops) for an update of `row`; returns the change id."""
    klass = fake._model[row["_class"]]
    codes = [c for c in klass.attrs if c in changed and c not in UNTRACKED]
    ops: list[Row] = []
    for code in codes:
        kind = klass.attrs[code].kind
        if kind == "caselog":
            ops.append(
                {
                    "_op": "CMDBChangeOpSetAttributeCaseLog",
                    "attcode": code,
                    "lastentry": max(len(row[code]) - 1, 0),
                }
            )
        elif kind in SCALAR_KINDS:
            old = _scalar(before.get(code)) if before is not None else ""
            new = _scalar(row.get(code))
            if old != new:
                ops.append(
                    {
                        "_op": "CMDBChangeOpSetAttributeScalar",
                        "attcode": code,
                        "oldvalue": old,
                        "newvalue": new,
                    }
                )
    if not ops:
        return None
    date = fake._history_date()
    change = fake._new_row("CMDBChange")
    change.update(date=date, userinfo=comment, user_id=int(caller["id"]), origin=origin)
    change["id"] = fake._allocate_id("CMDBChange")
    fake._store(change)
    for spec in ops:
        op = fake._new_row(spec.pop("_op"))
        op.update(
            change=int(change["id"]),
            date=date,
            userinfo=comment,
            user_id=int(caller["id"]),
            objclass=row["_class"],
            objkey=int(row["id"]),
            **spec,
        )
        op["id"] = fake._allocate_id("CMDBChangeOp")
        fake._store(op)
    return int(change["id"])
