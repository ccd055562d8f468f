"""The fake's change history beyond the recorded cases (110-129 are replayed exactly by
`test_fake_contract.py` on the rebuilt lab snapshot): the one assumed exchange the back-sync
relies on, and the text order of change ids once they cross a power of ten.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.itop import AGENT_TOKEN, FakeItop
from tests.fakes.itop.snapshots import before_history_cases, continue_history
from tests.itop.lab_replay import by_number, load, prepare


def _objects(body: dict[str, Any]) -> list[dict[str, Any]]:
    assert body["code"] == 0, body
    return list((body["objects"] or {}).values())


def _request(number: int) -> dict[str, Any]:
    payload: dict[str, Any] = load("intercom", by_number("intercom")[number])["request_form"][
        "json_data"
    ]
    return payload


def test_the_back_sync_poll_answers_like_the_assumed_exchange() -> None:
    """The one exchange assumed rather than recorded (tests/data/itop-assumptions/A01), on the
    lab as it was after the writes of 110-117 and 125's web-UI entry: same objects, same ids."""
    fake = prepare("intercom", 129)
    path = Path(__file__).parents[1] / "data" / "itop-assumptions"
    case = json.loads(next(path.glob("A01-*.json")).read_text("utf-8"))
    assert case["assumed"] is True
    got = _objects(fake.api(case["request_form"]["json_data"]))
    want = _objects(case["response_json"])
    assert sorted(got, key=lambda o: int(o["key"])) == sorted(want, key=lambda o: int(o["key"]))
    # iTop's order: the change ids as text (10 before 5), which is not the order of the ids.
    assert [o["fields"]["change"] for o in got] == [o["fields"]["change"] for o in want]


def test_rows_do_not_come_back_in_id_order() -> None:
    """Change ids compared as text, ops of one change in no id order: sort on the client."""
    fake = FakeItop(instance="intercom")
    for _ in range(3):
        fake.add_ticket()
    # Push the change ids past a power of ten, as in 127 (change 10 sorts before change 5).
    while fake.last_change_op_id() < 100:
        fake.api(_request(110))
    fake.api(_request(117), token=AGENT_TOKEN)
    body = fake.api(
        {
            "operation": "core/get",
            "class": "CMDBChangeOp",
            "key": "SELECT CMDBChangeOp",
            "output_fields": "change",
        }
    )
    ids = [int(o["key"]) for o in _objects(body)]
    assert ids != sorted(ids)
    changes = [o["fields"]["change"] for o in _objects(body)]
    assert changes == sorted(changes)  # as text
    assert sorted(changes, key=int) != changes


def test_a_restored_snapshot_keeps_its_history_counters() -> None:
    """The vanilla snapshot ends at op 451 and change 4: the next write is op 452 of change 5
    (vanilla 114), and the counters cannot be moved back under existing rows."""
    fake = before_history_cases("vanilla")
    assert fake.last_change_op_id() == 451
    assert fake.api(_request(110))["code"] == 0
    [op] = _objects(
        fake.api(
            {
                "operation": "core/get",
                "class": "CMDBChangeOp",
                "key": "SELECT CMDBChangeOp WHERE id > 451",
                "output_fields": "change,objkey",
            }
        )
    )
    assert (op["key"], op["fields"]) == ("452", {"change": "5", "objkey": "1"})
    with pytest.raises(ValueError, match="already goes past"):
        continue_history(fake, after_change=4, after_op=451)
