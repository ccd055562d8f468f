"""Constants, type aliases and small records shared by the modules of the iTop fake."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, TypeAlias
from zoneinfo import ZoneInfo

#: UserToken `intercom_sync_app`: Administrator + REST Services User.
ADMIN_TOKEN = "admin-token"


#: UserToken `intercom_sync_agent`: REST Services User + Service Desk Agent (not admin).
AGENT_TOKEN = "agent-token"


#: UserToken `intercom_sync_norest`: Administrator WITHOUT REST Services User (086's message).
NO_REST_TOKEN = "norest-token"


#: A token that "belongs to another iTop": always an invalid login here (081).
OTHER_INSTANCE_TOKEN = "other-instance-token"


#: The web admin (UserLocal `admin`, Administrator only), as masked in 005/086.
WEB_ADMIN_LOGIN = "admin"


WEB_ADMIN_PASSWORD = "ITOP_WEB_ADMIN_PASSWORD"


#: Password of agatha.christie / victor.hugo (007/008).
TEST_USER_PASSWORD = "ITOP_TEST_USER_PASSWORD"


TIMEZONE = ZoneInfo("Europe/Paris")


SUPPORTED_VERSIONS = ("1.0", "1.1", "1.2", "1.3", "1.4")


DATETIME_FORMAT = "%Y-%m-%d %H:%M:%S"


Instance: TypeAlias = Literal["intercom", "vanilla"]


Seed: TypeAlias = Literal["lab", "install", "rebuilt"]


Row: TypeAlias = dict[str, Any]


#: One injected failure for `FakeItop.fail_next` (see its documentation).
Failure: TypeAlias = int | str | dict[str, Any] | BaseException


_VERBS: tuple[tuple[str, str], ...] = (
    ("core/create", "Create an object"),
    ("core/update", "Update an object"),
    ("core/apply_stimulus", "Apply a stimulus to change the state of an object"),
    ("core/get", "Search for objects"),
    ("core/delete", "Delete objects"),
    ("core/get_related", "Get related objects through the specified relation"),
    ("core/check_credentials", "Check user credentials"),
)


_JSON_HEADERS: tuple[tuple[str, str], ...] = (
    ("content-type", "application/json"),
    ("access-control-allow-origin", "*"),
    ("cache-control", "no-store, no-cache, must-revalidate"),
    ("expires", "Thu, 19 Nov 1981 08:52:00 GMT"),
    ("pragma", "no-cache"),
)


_TEXT_HEADERS: tuple[tuple[str, str], ...] = (
    ("content-type", "text/html; charset=UTF-8"),
    ("cache-control", "no-store, no-cache, must-revalidate"),
    ("expires", "Thu, 19 Nov 1981 08:52:00 GMT"),
    ("pragma", "no-cache"),
)


@dataclass(frozen=True)
class _Reply:
    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes


@dataclass(frozen=True)
class _FieldSpec:
    class_name: str
    fields: tuple[str, ...] | None  # None: every attribute ("*")
    extended: bool = False  # "*+"


@dataclass(frozen=True)
class _LogChange:
    replace: bool
    entries: tuple[dict[str, Any], ...]


_USER_IDS: dict[str, dict[str, int]] = {
    "intercom": {"admin": 1, "app": 2, "agent": 3, "agatha": 4, "victor": 5},
    "vanilla": {"admin": 1, "app": 4, "agent": 5, "agatha": 6, "victor": 7},
}
