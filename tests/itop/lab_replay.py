"""Rebuilding, on a fresh fake, the state the lab's database had before a recorded case.

The iTop transcripts `tests/data/itop-rest/{intercom,vanilla}/NNN-*.json` were recorded in
sequence on one database per instance: a case sees what the earlier ones wrote. `prepare` gives a
`FakeItop` in that state by replaying, through `FakeItop.api()`, the earlier state-changing cases
of the same folder (their recorded codes are asserted on the way) and the writes the lab made
without recording them (described in the notes of 062, 125 and 132). The cases 110+ were
recorded on a lab rebuilt and reset to one snapshot right before 110: they start from that
snapshot (`before_history_cases`) and their writes run with the fake's clock at the time the lab
showed, so their dates, ids and date comparisons come out as recorded.
"""

from __future__ import annotations

import json
import os
import urllib.parse
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from tests.fakes.itop import ADMIN_TOKEN, AGENT_TOKEN, OTHER_INSTANCE_TOKEN, FakeItop
from tests.fakes.itop.snapshots import at, before_history_cases
from tests.reference import DATA

#: The copy of the transcripts kept in the repository.
COPY = DATA / "itop-rest"


def _transcripts_dir() -> Path | None:
    candidate = Path(os.environ.get("ITOP_TRANSCRIPTS_DIR") or COPY)
    return candidate if (candidate / "intercom").is_dir() else None


TRANSCRIPTS = _transcripts_dir()
FOLDERS: tuple[Literal["intercom", "vanilla"], ...] = ("intercom", "vanilla")
#: Cases 078-094 do not change the database; the others are replayed to rebuild the state.
_STATELESS = range(78, 95)
#: From this case on, the lab was rebuilt and reset to one snapshot (`before_history_cases`).
_REBUILT_FROM = 110
#: Operations that leave the database as it was (not replayed to rebuild a state).
_READ_ONLY = frozenset({"core/get", "core/check_credentials", "list_operations"})


def load(folder: str, name: str) -> dict[str, Any]:
    assert TRANSCRIPTS is not None
    data: dict[str, Any] = json.loads((TRANSCRIPTS / folder / name).read_text("utf-8"))
    return data


def number_of(name: str) -> int:
    return int(name[:3])


def by_number(folder: str) -> dict[int, str]:
    assert TRANSCRIPTS is not None
    return {
        number_of(p.name): p.name for p in (TRANSCRIPTS / folder).glob("[0-9][0-9][0-9]-*.json")
    }


def token_for(case: dict[str, Any]) -> str | None:
    user = case.get("token_user") or ""
    if "intercom_sync_app" in user:
        return ADMIN_TOKEN
    if "intercom_sync_agent" in user:
        return AGENT_TOKEN
    if "OTHER lab instance" in user:
        return OTHER_INSTANCE_TOKEN
    return None


def version_of(case: dict[str, Any]) -> str:
    query = urllib.parse.urlsplit(str(case["url_path_and_query"])).query
    return dict(urllib.parse.parse_qsl(query))["version"]


def _first_log_message_lost_by_062(fake: FakeItop, folder: str) -> None:
    """062's notes: an unrecorded add_item put one entry in ticket 2's public_log first."""
    body = {
        "operation": "core/update",
        "comment": "itop-lab",
        "class": "UserRequest",
        "key": 2,
        "output_fields": "id",
        "fields": {
            "public_log": {
                "add_item": {
                    "message": "<p>First message of the conversation (will be lost)</p>",
                    "format": "html",
                }
            }
        },
    }
    assert fake.api(body)["code"] == 0


def _entry_typed_in_the_console(fake: FakeItop, folder: str) -> None:
    """125's notes: victor.hugo typed a public_log entry on ticket 1 in the web UI (a form
    login and the activity panel's ajax call, not REST), after 123 and before 124 was
    recorded. Its time is the date of its change op in 125."""
    [op] = load(folder, by_number(folder)[125])["response_json"]["objects"].values()
    fake.clock = _clock_at(op["fields"]["date"])
    fake.ui_add_entry(1, "<p>Typed in the iTop console by Victor Hugo.</p>", login="victor.hugo")


def _ticket_linked_before_132(fake: FakeItop, folder: str) -> None:
    """132's notes (intercom only): UserRequest 4 was created, linked to a conversation, just
    before 132 was recorded, with this call."""
    if 132 not in by_number(folder):
        return
    body = {
        "operation": "core/create",
        "comment": "Intercom sync: ticket created from conversation 215471290184",
        "class": "UserRequest",
        "output_fields": "id,ref,caller_id,status,intercom_ref",
        "fields": {
            "org_id": 2,
            "caller_id": 7,
            "title": "VPN drops every hour",
            "description": "<p>Created from an Intercom conversation.</p>",
            "origin": "chat",
            "intercom_ref": "215471290184",
            "intercom_url": "https://app.intercom.com/a/inbox/ws1bars/inbox/conversation/215471290184",
            "intercom_sync_activated": "yes",
        },
    }
    answer = fake.api(body)
    assert answer["code"] == 0 and list(answer["objects"]) == ["UserRequest::4"], answer


#: Writes the lab made without recording them, by the case they came just before (they are
#: part of the state of that case and of every later one).
_UNRECORDED_STEPS: dict[int, Callable[[FakeItop, str], None]] = {
    62: _first_log_message_lost_by_062,
    124: _entry_typed_in_the_console,
    132: _ticket_linked_before_132,
}


def _clock_at(local_time: str) -> Callable[[], datetime]:
    moment = at(local_time)
    return lambda: moment


def _recorded_clock(case: dict[str, Any]) -> Callable[[], datetime] | None:
    """The lab's clock during a recorded write: the `last_update` it gave the ticket."""
    for answer in ((case["response_json"] or {}).get("objects") or {}).values():
        stamp = answer.get("fields", {}).get("last_update")
        if stamp:
            return _clock_at(stamp)
    return None


def _replay(fake: FakeItop, folder: str, name: str) -> None:
    """Replay one recorded case through `api()`; its recorded code must come back."""
    case = load(folder, name)
    token = token_for(case)
    assert token is not None, name
    answer = fake.api(case["request_form"]["json_data"], token=token, version=version_of(case))
    recorded = case["response_json"]["code"]
    assert answer["code"] == recorded, f"setup replay of {name}: {answer}"


def prepare(folder: Literal["intercom", "vanilla"], number: int) -> FakeItop:
    """A fake in the state the recorded database had just before case `number`."""
    if number >= _REBUILT_FROM:
        return _prepare_rebuilt(folder, number)
    setup_case = 7 <= number <= 10
    fake = FakeItop(instance=folder, seed="install" if setup_case else "lab")
    if setup_case:
        prior = list(range(7, number))
    elif number >= 25:
        prior = [n for n in range(25, number) if n not in _STATELESS]
    else:
        prior = []
    files = by_number(folder)
    for n in prior:
        if n in _UNRECORDED_STEPS:
            _UNRECORDED_STEPS[n](fake, folder)
        if n in files:
            _replay(fake, folder, files[n])
    if number in _UNRECORDED_STEPS:
        _UNRECORDED_STEPS[number](fake, folder)
    if number == 23:
        fake.remove("User", 100)  # the fake's extra NO_REST_TOKEN user did not exist in the lab
    if number == 93:
        fake.rest_token_allowed = False  # 093: rest-token removed from allowed_login_types
    return fake


def _prepare_rebuilt(folder: Literal["intercom", "vanilla"], number: int) -> FakeItop:
    """The same for the cases recorded on the lab rebuilt before 110: its snapshot, then the
    writes of 110.. in order, each at the time the lab's clock showed, so that dates, ids and
    the date comparisons of 122/123 come out as recorded."""
    fake = before_history_cases(folder)
    files = by_number(folder)
    for n in range(_REBUILT_FROM, number):
        if n in _UNRECORDED_STEPS:
            _UNRECORDED_STEPS[n](fake, folder)
        if n not in files:
            continue
        case = load(folder, files[n])
        if case["request_form"]["json_data"].get("operation") in _READ_ONLY:
            continue
        clock = _recorded_clock(case)
        assert clock is not None, f"{files[n]}: no last_update to date the write"
        fake.clock = clock
        _replay(fake, folder, files[n])
    if number in _UNRECORDED_STEPS:
        _UNRECORDED_STEPS[number](fake, folder)
    fake.clock = _recorded_clock(load(folder, files[number])) or fake.clock
    return fake
