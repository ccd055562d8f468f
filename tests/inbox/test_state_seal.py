"""stored_data passed through the agent's browser: only state we sealed is acted upon."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
from pydantic import SecretStr

from itop_intercom.inbox.state_seal import MAC_KEY, seal, seal_answer, unseal
from itop_intercom.locale import Texts
from itop_intercom.settings.model import ResolvedWorkspace
from tests.fakes.itop import FakeItop
from tests.inbox.driver import Inbox


def workspace(workspace_id: str = "ws1", secret: str | None = "s3cret-value") -> ResolvedWorkspace:
    return ResolvedWorkspace(
        id=workspace_id,
        scope="",
        client_secret=SecretStr(secret) if secret else None,
        access_token=None,
        region="us",
        language="en",
    )


STATE = {"screen": "form", "form": {"caller": {"id": 15, "org_id": 3}, "token": "t1"}}


def test_a_sealed_state_comes_back_whatever_the_key_order() -> None:
    sealed = seal(STATE, workspace(), "42")
    assert sealed[MAC_KEY] and {k: v for k, v in sealed.items() if k != MAC_KEY} == STATE
    reordered = dict(reversed(list(sealed.items())))
    reordered["form"] = dict(reversed(list(reordered["form"].items())))
    assert unseal(reordered, workspace(), "42") == STATE
    assert unseal({}, workspace(), "42") == {}
    # A JavaScript round trip writes whole floats as integers.
    floats = seal({**STATE, "n": 2.0, "m": [1.5]}, workspace(), "42")
    assert unseal({**floats, "n": 2}, workspace(), "42") is not None
    assert unseal({**floats, "m": [1]}, workspace(), "42") is None
    assert seal({}, workspace(), "42") == {}


def changed(path: tuple[str, ...], value: Any) -> Callable[[dict[str, Any]], None]:
    def change(state: dict[str, Any]) -> None:
        target = state
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return change


@pytest.mark.parametrize(
    "tamper",
    [
        changed(("form", "caller", "org_id"), 4),
        changed(("form", "caller", "id"), "15"),  # same number, other type
        changed(("form", "token"), "t2"),
        changed(("screen",), "created"),
        changed(("extra",), True),
        changed((MAC_KEY,), "0" * 64),
        changed((MAC_KEY,), 12),
        changed((MAC_KEY,), "é"),
        lambda state: state.pop(MAC_KEY),
    ],
)
def test_any_change_to_a_sealed_state_is_refused(tamper: Callable[[dict[str, Any]], None]) -> None:
    sealed = copy.deepcopy(seal(STATE, workspace(), "42"))
    tamper(sealed)
    assert unseal(sealed, workspace(), "42") is None


def test_a_state_is_bound_to_its_workspace_secret_and_conversation() -> None:
    sealed = seal(STATE, workspace(), "42")
    assert unseal(sealed, workspace(), "43") is None
    assert unseal(sealed, workspace("ws2"), "42") is None
    assert unseal(sealed, workspace(secret="another-secret"), "42") is None
    assert unseal(sealed, workspace(secret=None), "42") is None


def test_answers_get_their_state_sealed_and_empty_states_dropped() -> None:
    answer: dict[str, Any] = {"canvas": {"content": {"components": []}, "stored_data": STATE}}
    sealed = seal_answer(answer, workspace(), "42")["canvas"]["stored_data"]
    assert unseal(sealed, workspace(), "42") == STATE
    empty: dict[str, Any] = {"canvas": {"content": {"components": []}, "stored_data": {}}}
    assert "stored_data" not in seal_answer(empty, workspace(), "42")["canvas"]


# -- through the app: a tampered state gives a readable canvas, never a write ---------------------


@pytest.fixture
def language() -> str:
    return "en"


@pytest.fixture
def store_kind() -> str:
    return "itop"


def form_state(inbox: Inbox) -> dict[str, Any]:
    state: dict[str, Any] = inbox.answer["canvas"]["stored_data"]
    return state


@pytest.mark.parametrize(
    "tamper",
    [
        # Another caller and organisation than the contact's person.
        lambda state: state["form"]["caller"].update(id=7, org_id=2),
        lambda state: state["form"]["caller"].update(org_id=1),
        # Another form token (to replay or forge a creation).
        lambda state: state["form"].update(token="f" * 32),
        # The MAC removed, or one computed with a key that is not the service's.
        lambda state: state.pop(MAC_KEY),
        lambda state: state.update(seal(state, workspace(secret="guessed"), "215470926154826")),
    ],
)
async def test_a_tampered_form_state_creates_nothing(
    inbox: Inbox, fake_itop: FakeItop, t: Texts, tamper: Callable[[dict[str, Any]], None]
) -> None:
    await inbox.initialize()
    await inbox.click("home:create")
    tamper(form_state(inbox))
    await inbox.click("form:submit", field__title="Forged", field__description="x")
    assert t("error.state_rejected") in inbox.texts()
    assert inbox.screen == "home"
    assert not [c for c in fake_itop.calls if c["operation"] in ("core/create", "core/update")]


async def test_a_state_from_another_conversation_creates_nothing(
    inbox: Inbox, fake_itop: FakeItop, t: Texts
) -> None:
    await inbox.initialize()
    await inbox.click("home:create")
    # The same valid form state, submitted in another conversation of the same workspace.
    inbox.conversation_id = "215470926154999"
    await inbox.click("form:submit", field__title="Replayed", field__description="x")
    assert t("error.state_rejected") in inbox.texts()
    assert not [c for c in fake_itop.calls if c["operation"] == "core/create"]


async def test_a_tampered_retry_state_replays_nothing(
    inbox: Inbox, fake_itop: FakeItop, t: Texts
) -> None:
    await inbox.initialize()
    await inbox.click("home:create")
    state = form_state(inbox)
    # As the error canvas would store it, but written by the browser, not by us.
    inbox.answer["canvas"]["stored_data"] = {
        "screen": "error",
        "retry": {"stored": {k: v for k, v in state.items() if k != MAC_KEY}, "inputs": {}},
    }
    inbox.answer["canvas"]["content"]["components"].append(
        {"type": "button", "id": "form:submit", "label": "Retry", "action": {"type": "submit"}}
    )
    await inbox.click("form:submit")
    assert t("error.state_rejected") in inbox.texts()
    assert not [c for c in fake_itop.calls if c["operation"] == "core/create"]


async def test_the_untouched_state_still_creates_the_ticket(
    inbox: Inbox, fake_itop: FakeItop
) -> None:
    await inbox.initialize()
    await inbox.click("home:create")
    await inbox.click("form:submit", field__title="Printer", field__description="Broken")
    assert inbox.screen == "created"
    assert len([c for c in fake_itop.calls if c["operation"] == "core/create"]) == 1


async def test_the_note_is_shown_even_when_itop_is_down(
    inbox: Inbox, fake_itop: FakeItop, t: Texts
) -> None:
    await inbox.initialize()
    await inbox.click("home:create")
    form_state(inbox)["form"]["caller"]["org_id"] = 99
    fake_itop.down = True
    await inbox.click("form:submit", field__title="Forged", field__description="x")
    # Home may still come from the caches; either way the note is first and nothing is written.
    assert inbox.texts()[0] == t("error.state_rejected")
    assert inbox.screen in ("home", "error")
    assert not [c for c in fake_itop.calls if c["operation"] == "core/create"]
