"""The fake's OQL UNION and multi-alias SELECT, as recorded on iTop 3.2 (cases 130-134, 139).

The contract test replays these transcripts once the fake rebuilds their lab state; these tests
check the behaviours the Inbox relies on directly, on tickets created here.
"""

from __future__ import annotations

from typing import Any

from tests.fakes.itop import FakeItop

FIELDS = "id,ref,caller_id,intercom_ref"
ONGOING = "t.status NOT IN ('closed','rejected')"


def _get(fake: FakeItop, key: str, class_: str = "UserRequest") -> dict[str, Any]:
    return fake.api({"operation": "core/get", "class": class_, "key": key, "output_fields": FIELDS})


def _fake() -> tuple[FakeItop, list[int]]:
    fake = FakeItop(instance="intercom")
    agatha = [fake.add_ticket(title=f"Agatha {n}", caller_id=15) for n in range(3)]
    linked = fake.add_ticket(title="Victor's", caller_id=7, intercom_ref="4242")
    return fake, [*agatha, linked]


def test_union_merges_branches_once_in_ref_order() -> None:
    fake, (a1, a2, a3, _linked) = _fake()
    answer = _get(
        fake,
        f"SELECT UserRequest WHERE caller_id = 15 UNION SELECT UserRequest WHERE id = {a3}",
    )
    assert answer["message"] == "Found: 3"
    assert list(answer["objects"]) == [f"UserRequest::{i}" for i in (a3, a2, a1)]


def test_union_with_a_join_branch_by_email() -> None:
    fake, (a1, a2, a3, linked) = _fake()
    answer = _get(
        fake,
        "SELECT UserRequest WHERE intercom_ref = '4242' UNION SELECT UserRequest AS t JOIN "
        "Person AS p ON t.caller_id = p.id WHERE p.email = 'agatha.christie@demo.com' AND "
        + ONGOING,
    )
    assert answer["message"] == "Found: 4"
    assert list(answer["objects"]) == [f"UserRequest::{i}" for i in (linked, a3, a2, a1)]


def test_union_with_limit_counts_every_distinct_object() -> None:
    fake, (*_agatha, linked) = _fake()
    answer = fake.api(
        {
            "operation": "core/get",
            "class": "UserRequest",
            "key": "SELECT UserRequest WHERE caller_id = 15 UNION SELECT UserRequest WHERE "
            f"id = {linked}",
            "output_fields": "id",
            "limit": 2,
        }
    )
    assert answer["message"] == "Found: 4"
    assert len(answer["objects"]) == 2


def test_union_branch_selecting_two_classes_is_refused() -> None:
    fake, _ = _fake()
    query = (
        "SELECT UserRequest WHERE intercom_ref = '4242' UNION SELECT t, p FROM UserRequest AS t "
        "JOIN Person AS p ON t.caller_id = p.id WHERE p.email = 'x@y.z'"
    )
    answer = _get(fake, query)
    assert answer["code"] == 100
    assert "Too many selected classes in the subquery - found 'p' at 63" in answer["message"]


def test_union_branch_of_another_class_is_refused() -> None:
    fake, _ = _fake()
    answer = _get(
        fake,
        "SELECT UserRequest WHERE id = 1 UNION SELECT p FROM UserRequest AS t JOIN Person AS p "
        "ON t.caller_id = p.id",
    )
    assert answer["code"] == 100
    assert "Incompatible classes: could not find a common ancestor" in answer["message"]


def test_select_two_aliases_returns_the_first_only() -> None:
    fake, _ = _fake()
    answer = _get(
        fake,
        "SELECT t, p FROM UserRequest AS t JOIN Person AS p ON t.caller_id = p.id "
        "WHERE p.email = 'agatha.christie@demo.com'",
    )
    assert answer["message"] == "Found: 3"
    assert {obj["class"] for obj in answer["objects"].values()} == {"UserRequest"}


def test_union_all_and_parentheses_are_syntax_errors() -> None:
    fake, _ = _fake()
    for query in (
        "SELECT UserRequest WHERE id = 1 UNION ALL SELECT UserRequest WHERE id = 2",
        "SELECT UserRequest WHERE id = 1 UNION (SELECT UserRequest WHERE id = 2)",
    ):
        answer = _get(fake, query)
        assert answer["code"] == 100
        assert "OQLParserSyntaxErrorException" in answer["message"]
