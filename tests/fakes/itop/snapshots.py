"""The lab database the change-history cases start from (110+), rebuilt on a fresh fake.

The cases 110 and later were recorded on a lab rebuilt with the same iTop versions and reset to
one snapshot right before 110, so their ids differ from the earlier cases. What the recordings
show of that snapshot, in both instances:

- Users 2 `intercom_sync_app`, 3 `intercom_sync_agent` (the token users), 4 `agatha.christie`
  (Portal user, Person 15) and 5 `victor.hugo` (Service Desk Agent + Support Agent, Person 7).
- Open tickets R-000001..R-000003 (ids 1-3, org Demo, caller Agatha Christie), their titles
  (read back by the JOIN / UNION cases), R-000001 and R-000002 `new`, R-000003 assigned to the
  team Helpdesk (37) and the agent Victor Hugo (7) with last_update 00:41:39 (intercom) or
  00:41:32 (vanilla) on 2026-12-02, Europe/Paris time (122).
- The change history ends at CMDBChange 4 and change op N = 452 (intercom) or 451 (vanilla):
  the next write opens change 5 and op N + 1 (110, 114).

Not recorded, so chosen here: the tickets' descriptions, and their creation dates (the same
second as R-000003's assignment). The fake records no change for a creation (iTop writes a
CMDBChangeOpCreate), so the three creations are counted as changes 1-3 and R-000003's
assignment (four scalar ops, as 117 shows for ev_assign) as change 4 ending at op N.
"""

from __future__ import annotations

from datetime import datetime

from tests.fakes.itop.common import DATETIME_FORMAT, TIMEZONE, Instance
from tests.fakes.itop.fake import FakeItop

#: The highest CMDBChangeOp id of the snapshot: the poll cursor N of the cases 114-127.
HISTORY_CURSOR: dict[Instance, int] = {"intercom": 452, "vanilla": 451}
#: The highest CMDBChange id of the snapshot (110's notes).
LAST_CHANGE = 4
#: When R-000003 was assigned, as its last_update shows (122), in the iTop timezone.
SNAPSHOT_TIME: dict[Instance, str] = {
    "intercom": "2026-12-02 00:41:39",
    "vanilla": "2026-12-02 00:41:32",
}
#: The titles of R-000001..R-000003 (130, 131, 139).
TITLES = (
    "Lab: cannot print from laptop",
    "Lab: VPN disconnects every hour",
    "Lab: new mailbox for intern",
)
_HELPDESK_TEAM = 37
_VICTOR_HUGO_PERSON = 7
_AGATHA_CHRISTIE_PERSON = 15


def at(local_time: str) -> datetime:
    """A `Y-m-d H:i:s` time of the iTop timezone (Europe/Paris), as an aware datetime."""
    return datetime.strptime(local_time, DATETIME_FORMAT).replace(tzinfo=TIMEZONE)


def continue_history(fake: FakeItop, *, after_change: int, after_op: int) -> None:
    """Number the next CMDBChange `after_change + 1` and the next change op `after_op + 1`.

    A restored database keeps its history counters: a fake that mirrors one must hand out
    the same ids for a poll by `id > N` to see what the recordings saw. Raises ValueError when
    the fake already holds a change or an op at or above those numbers.
    """
    changes = [int(row["id"]) for row in fake._rows_of("CMDBChange")]
    if max(changes, default=0) > after_change or fake.last_change_op_id() > after_op:
        raise ValueError("the fake's history already goes past that point")
    fake._next_id["CMDBChange"] = after_change + 1
    fake._next_id["CMDBChangeOp"] = after_op + 1


def before_history_cases(instance: Instance) -> FakeItop:
    """A fake in the state of the lab snapshot the cases 110+ of `instance` start from.

    Its clock is the fake's usual one (the current time) on return.
    """
    fake = FakeItop(instance=instance, seed="rebuilt")
    agatha = fake.add_user("agatha.christie", _AGATHA_CHRISTIE_PERSON, ["Portal user"])
    victor = fake.add_user(
        "victor.hugo", _VICTOR_HUGO_PERSON, ["Service Desk Agent", "Support Agent"]
    )
    if (agatha, victor) != (4, 5):  # pragma: no cover - the rebuilt seed ends at User 3
        raise RuntimeError(f"snapshot users got ids {agatha}, {victor} instead of 4, 5")
    clock = fake.clock
    fake.clock = lambda: at(SNAPSHOT_TIME[instance])
    try:
        tickets = [
            fake.add_ticket(
                org_id=3,
                caller_id=_AGATHA_CHRISTIE_PERSON,
                title=title,
                description=f"<p>{title} (lab snapshot ticket).</p>",
            )
            for title in TITLES
        ]
        # The three creations were changes 1-3 in iTop; the assignment below is change 4
        # and its four scalar ops end at the cursor N.
        continue_history(fake, after_change=LAST_CHANGE - 1, after_op=HISTORY_CURSOR[instance] - 4)
        assigned = fake.api(
            {
                "operation": "core/apply_stimulus",
                "comment": "lab snapshot",
                "class": "UserRequest",
                "key": tickets[2],
                "stimulus": "ev_assign",
                "output_fields": "id",
                "fields": {"team_id": _HELPDESK_TEAM, "agent_id": _VICTOR_HUGO_PERSON},
            }
        )
    finally:
        fake.clock = clock
    if assigned["code"] != 0 or fake.last_change_op_id() != HISTORY_CURSOR[instance]:
        raise RuntimeError(f"the snapshot's assignment did not apply as recorded: {assigned}")
    return fake
