"""The fake's change history has the shapes and quirks of iTop's (transcripts 110-129).

The writes of 110-113, 117 and 125 are made on a fresh fake (users 2 app, 3 agent, 4 Agatha,
5 Victor as in the snapshot of 110); then the queries of 114, 116, 118, 120, 124, 126 and 127 must
answer with the transcripts' field codes in the same order and the same values, ids aside (the
snapshot's history started at op 453 and change 5, the fake's does not).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.itop import ADMIN_TOKEN, AGENT_TOKEN, FakeItop
from tests.itop.test_fake_contract import TRANSCRIPTS


def _case(number: int) -> dict[str, Any]:
    if TRANSCRIPTS is None:
        pytest.fail("the iTop transcripts were not found (set ITOP_TRANSCRIPTS_DIR)")
    path = next(Path(TRANSCRIPTS, "intercom").glob(f"{number:03d}-*.json"))
    data: dict[str, Any] = json.loads(path.read_text("utf-8"))
    return data


def _request(number: int) -> dict[str, Any]:
    payload: dict[str, Any] = _case(number)["request_form"]["json_data"]
    return payload


def _token(number: int) -> str:
    return AGENT_TOKEN if "intercom_sync_agent" in str(_case(number)["token_user"]) else ADMIN_TOKEN


@pytest.fixture
def fake() -> FakeItop:
    """Tickets 1-3 as in the snapshot, the writes of 110-113 and 117, then 125's UI entry."""
    fake = FakeItop(instance="intercom")
    for _ in range(3):
        fake.add_ticket()
    for number in (110, 111, 112, 113, 117):
        body = fake.api(_request(number), token=_token(number))
        assert body["code"] == 0, body
    fake.ui_add_entry(1, "<p>Typed in the iTop console by Victor Hugo.</p>", login="victor.hugo")
    return fake


def _since(fake: FakeItop, first_op: int, query: str) -> str:
    """The recorded query with the recorded cursor replaced by the fake's."""
    return query.replace("452", str(first_op - 1)).replace("460", str(first_op + 7))


def _objects(body: dict[str, Any]) -> list[dict[str, Any]]:
    assert body["code"] == 0, body
    return list((body["objects"] or {}).values())


def _comparable(obj: dict[str, Any], *, drop: tuple[str, ...] = ()) -> dict[str, Any]:
    """An object without its ids (key, change, friendlyname = the change id, dates)."""
    ids = ("change", "friendlyname", "date", "change_friendlyname", *drop)
    return {
        "class": obj["class"],
        "fields": {k: v for k, v in obj["fields"].items() if k not in ids},
        "codes": list(obj["fields"]),
    }


def _first_op(fake: FakeItop) -> int:
    return fake.last_change_op_id() - 8  # 4 case-log ops, 4 scalar ops, the UI entry


def test_caselog_ops_have_the_fields_of_114(fake: FakeItop) -> None:
    recorded = _case(114)
    query = _since(fake, _first_op(fake), _request(114)["key"])
    body = fake.api({**_request(114), "key": query + f" AND id < {fake.last_change_op_id()}"})
    got = sorted(_objects(body), key=lambda o: int(o["key"]))
    want = sorted(_objects(recorded["response_json"]), key=lambda o: int(o["key"]))
    assert [_comparable(o) for o in got] == [_comparable(o) for o in want]


def test_status_op_has_old_and_new_values_118(fake: FakeItop) -> None:
    query = _since(fake, _first_op(fake), _request(118)["key"])
    got = _objects(fake.api({**_request(118), "key": query}))
    want = _objects(_case(118)["response_json"])
    assert [_comparable(o) for o in got] == [_comparable(o) for o in want]


def test_changes_show_origin_and_the_real_writer_116_126(fake: FakeItop) -> None:
    ops = _objects(
        fake.api(
            {
                "operation": "core/get",
                "class": "CMDBChangeOpSetAttributeCaseLog",
                "key": f"SELECT CMDBChangeOpSetAttributeCaseLog WHERE id >= {_first_op(fake)}",
                "output_fields": "change",
            }
        )
    )
    changes = ",".join(sorted({o["fields"]["change"] for o in ops}, key=int))
    body = fake.api({**_request(116), "key": f"SELECT CMDBChange WHERE id IN ({changes})"})
    got = sorted(_objects(body), key=lambda o: int(o["key"]))
    want = sorted(_objects(_case(116)["response_json"]), key=lambda o: int(o["key"]))
    want += _objects(_case(126)["response_json"])
    assert [_comparable(o) for o in got] == [_comparable(o) for o in want]
    # The on-behalf write (112) shows the token user, not Victor: only the entry names him.
    assert [o["fields"]["user_id"] for o in got] == ["2", "3", "2", "3", "5"]
    assert [o["fields"]["origin"] for o in got][-1] == "interactive"


def test_parent_class_lists_its_own_codes_with_star_and_subclass_codes_with_star_plus(
    fake: FakeItop,
) -> None:
    first = _first_op(fake)
    star = _objects(fake.api({**_request(120), "key": _since(fake, first, _request(120)["key"])}))
    assert list(star[0]["fields"]) == list(_objects(_case(120)["response_json"])[0]["fields"])
    plus = _objects(fake.api({**_request(127), "key": _since(fake, first, _request(127)["key"])}))
    want = _objects(_case(127)["response_json"])
    by_class = {o["class"]: list(o["fields"]) for o in want}
    assert {o["class"]: list(o["fields"]) for o in plus} == by_class
    assert sorted(_comparable(o)["fields"]["attcode"] for o in plus) == sorted(
        o["fields"]["attcode"] for o in want
    )


def test_rows_do_not_come_back_in_id_order_127(fake: FakeItop) -> None:
    """Change ids compared as text, ops of one change in no id order: sort on the client."""
    # Push the change ids past a power of ten, as in 127 (change 10 sorts before change 5).
    while fake.last_change_op_id() < 100:
        fake.api(_request(110))
    fake.api(_request(117) | {"stimulus": "ev_pending", "fields": {}}, token=AGENT_TOKEN)
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


def test_ui_entry_is_found_by_joining_its_change_124(fake: FakeItop) -> None:
    query = _since(fake, _first_op(fake), _request(124)["key"])
    got = _objects(fake.api({**_request(124), "key": query}))
    want = _objects(_case(124)["response_json"])
    assert [_comparable(o) for o in got] == [_comparable(o) for o in want]


@pytest.mark.parametrize("class_name", ["CMDBChange", "CMDBChangeOpSetAttributeScalar"])
def test_the_agent_token_may_not_read_the_history(fake: FakeItop, class_name: str) -> None:
    body = fake.api(
        {
            "operation": "core/get",
            "class": class_name,
            "key": f"SELECT {class_name}",
            "output_fields": "id",
        },
        token=AGENT_TOKEN,
    )
    assert body["code"] == 1
    assert f"reading data of class {class_name}" in body["message"]


def test_the_back_sync_poll_answers_like_the_assumed_exchange(fake: FakeItop) -> None:
    """The one exchange assumed rather than recorded (tests/data/itop-assumptions/A01)."""
    path = Path(__file__).parents[1] / "data" / "itop-assumptions"
    case = json.loads(next(path.glob("A01-*.json")).read_text("utf-8"))
    assert case["assumed"] is True
    request = case["request_form"]["json_data"]
    query = _since(fake, _first_op(fake), request["key"])
    got = sorted(_objects(fake.api({**request, "key": query})), key=lambda o: int(o["key"]))
    want = sorted(_objects(case["response_json"]), key=lambda o: int(o["key"]))
    assert [_comparable(o) for o in got] == [_comparable(o) for o in want]
