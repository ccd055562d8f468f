"""A faithful in-memory fake of iTop 3.2.0's REST/JSON API (`webservices/rest.php`).

It behaves like the two lab instances recorded in `shared/itop-rest/{intercom,vanilla}/*.json`
(the "transcripts", cited below by number, e.g. 025) with the data model of
`shared/itop-rest/datamodel/*.json`. Where the transcripts and an assumption disagree, the
transcripts win; `tests/itop/test_fake_contract.py` replays every transcript against this fake and
compares status, content type, code, message and the whole body (dates of "now" excepted).

Usage::

    fake = FakeItop()                           # intercom instance, admin token is ADMIN_TOKEN
    client = ItopClient(rest_url="http://itop.test/webservices/rest.php", token=ADMIN_TOKEN,
                        transport=fake.transport())
    base_url, stop = fake.serve_in_thread()     # real loopback HTTP (uvicorn), for benchmarks
    python -m tests.fakes.itop --port 8181 --latency 0.07

Behaviour and where it comes from
---------------------------------
Transport, auth and errors (quirks 1-4 of the transcripts' README)
- status.php answers `{"status":"RUNNING","code":0,"message":""}` without auth (001).
- POST or GET (091); `version`, `json_data`, `auth_token` read from query and form like PHP's
  `$_REQUEST` (form wins); token also in the `Auth-Token` header (083/084/085); form login with
  `auth_user`/`auth_pwd` (086) and HTTP Basic for UserLocal accounts.
- Auth first (088), then version (2), json_data (3, also for an application/json body: 090),
  JSON (4), operation, supported version (10: 004), verb (11: 079). HTTP 200 for every API error.
- Wrong/unknown token, other instance's token, no credentials, replayed cookie: code 1
  "Error: Invalid login" (080-082, 094). `rest_token_allowed = False` makes every token invalid
  (093). A user without "REST Services User" gets the message of 086 (also for NO_REST_TOKEN).
- `login_mode=rest-token` without a token: the plain-text body of 092 (text/html).
- Errors raised as exceptions come back as `{"code", "message": "Error: ..."}`; errors set on
  the result (rights: 024/072/075, page: 048, stimulus: 065) as `{"code","message","objects":null}`
  without the "Error: " prefix.
Reading (quirks 6-15)
- `core/get` with `key` as id, OQL or search object (011-017, 042, 097); `objects` keyed
  "Class::id", null when empty, real class of each object (019, 023); `Found: N` = total before
  paging (041, 070); page=0 -> 13 (048); unknown class (043), unknown output field (046);
  the OQL class wins over `class`, output fields follow `class` (047); `*` = every attribute
  (038/039). Default order: tickets by ref descending (039), other classes by friendlyname
  (023, 014), change ops by id (071).
- OQL: a small real parser/evaluator (SELECT [alias FROM] Class [AS a] [JOIN C AS b ON a.x = b.y]
  [WHERE ...] with = != <> < > <= >= LIKE, [NOT] IN, AND, OR, parentheses, '...' and "..."
  literals with backslash escapes, integers). Its syntax errors (015, 044) and unknown filter codes
  (045, vanilla 095: the full list of filter codes) are worded as iTop's. `=` on strings is case-
  and accent-insensitive like MariaDB's utf8mb4_unicode_ci (012).
- All scalars are strings, empty external key "0", empty date "" (038); an empty Person external
  key has friendlyname " " in core/get with an explicit output list on a leaf class (040), but ""
  with "*" (039), on an abstract class such as User (023) or in write answers (030);
  `parent_change_id_finalclass_recall` is "Change" only in create answers (038 vs 039).
  Stopwatches are 0, `sla_*_over` null (038).
Writing (quirks 16-21)
- `comment` mandatory (036); external keys as id / OQL / search object matching exactly one object
  (026, 033, 034: "No item found with criteria" / "Several items found (N)"); unknown attribute
  (037, vanilla 037/095). Attribute checks from the data model: NOT NULL -> "Null not allowed"
  (029), enums -> "Value not allowed [x]" (031, 032, 100; `true` becomes "1"), URL -> "Wrong
  format" (101); caller_id and the caller's org are not checked (030, 035). Defaults when omitted
  (038: urgency 4, impact 1, origin phone, ...); priority computed from impact x urgency.
  A failed DB check still consumes a ticket ref, a failed field parse does not (029-038).
- HTML attributes (description, solution, html case-log entries) are sanitised (025, 057, 058):
  script/style and unknown tags removed with their content, on* and unknown attributes removed,
  href/src must be http(s)/mailto/data:image..., leading bare text wrapped in <p> (038, 057).
- Case logs (049-062): add_item html/text (056), plain string append (057), `items` replaces the
  whole log even for non-admins (062), `user_id` (id / OQL / search object on User) replaces
  user_login by the Person's "First Last" (050, 051, 098), `user_id: 0` + `user_login` verbatim with
  an integer 0 (052), `user_login` alone ignored (053), non-admin user_id -> code 1 "<att>: Only
  administrators can set the user id" and nothing written (054), bad date (059), unknown user
  (060). Dates: ISO with Z/offset converted to Europe/Paris, naive read as Paris (050, 051).
  Entries keep insertion order (061). Each append records a CMDBChangeOpSetAttributeCaseLog with
  the caller, the comment and the 0-based entry index (071, admin only: 072).
- `status` can be written directly (063); apply_stimulus follows the UserRequest lifecycle of the
  data model dump, checks target-state mandatory attributes with PHP 8's `== ''` (an empty external
  key passes: 066), sets assignment/resolution/close dates (064, 067, 068); invalid stimulus (065).
  Closed tickets remain writable (069).
- Attachments with base64 `contents` (073, 074); delete admin-only (075), simulate (076), real
  (077); get_related answers the scope objects themselves (078, minimal).
Rights: the non-admin token can read everything but User classes and change history (024, 072),
create/update tickets and attachments (028, 055, 063), cannot delete (075) nor set user_id (054).

Inferred, NOT recorded in any transcript (flagged so that nobody mistakes them for iTop facts)
- `login_mode=rest-token` without token when rest-token is not allowed: JSON code 1 "Error:
  Invalid login" instead of the plain text of 092.
- Messages never recorded: "Invalid object <Class>::<id>", "No item found for query: <oql>",
  "Several items found (N) for query", "Wrong format for key", "Missing mandatory attribute(s) for
  applying the stimulus: a, b." (these five follow iTop's RestUtils/CoreServices sources), OQL lexer
  errors ("Unexpected input at N ..."), unknown OQL class/alias, read-only attribute writes,
  "String too long (found N, limited to M)" (README quirk 18, checked by hand), email format,
  date attributes, several issues at once, users without profile, write/create permission texts.
- Which classes a non-admin may write (tickets, attachments, contacts) and the exact HTML
  sanitiser whitelist are approximations. The html->text rendering of `message` reproduces 049-058.
- Priority matrix (impact x urgency) beyond the four combinations of 025-038; the dates set by
  ev_pending/ev_reopen; the JSON of empty images/passwords/obsolescence flags (""); `items`
  entries with a user_id (admin) are kept verbatim without a User lookup; a case-log value that
  is an object without add_item/items changes nothing; add_item defaults to format html.
- Link sets other than User.profile_list are accepted on input and always read back as [];
  get_related does not follow relations; deleting a ticket also deletes its attachments, other
  deletions ignore referential integrity. The HTML pages of `http_status` / `not_rest`.
- PHP date parsing is approximated: ISO 8601 / 'Y-m-d[ H:i[:s]]' / @epoch / now|today|yesterday|
  tomorrow; the error position of other strings is a heuristic (exact for 059).
- The service catalogue classes Contract (abstract), CustomerContract, lnkCustomerContractToService
  (with minimal ContractType and SLA targets) and ServiceSubcategory.status are transcribed from
  iTop 3.2's itop-service-mgmt datamodel, not from the dumps: their labels, the `production`
  default of the catalogue statuses (empty in iTop) and the friendlyname of a link class (the
  friendlynames of the objects it links, joined by a space) are not recorded anywhere.
- Users' ids: intercom admin 1, intercom_sync_app 2, intercom_sync_agent 3, agatha.christie 4,
  victor.hugo 5 (vanilla: 1, 4, 5, 6, 7); the extra NO_REST_TOKEN user is id 100
  ("intercom_sync_norest"). Demo persons other than those named in the transcripts are invented.

Seeds: `seed="lab"` (default) is the database as the transcripts use it after their setup cases
007-010 (agatha.christie / victor.hugo accounts, Persons 40 and 41); `seed="install"` is the clean
snapshot the recordings start from (demo data and the token users only).

Test hooks (see FakeItop): `rest_token_allowed`, `down`, `http_status`, `not_rest`, `latency`,
`fail_next`, `calls`, `clock`, `default_version`, and the helpers add_person / add_user /
add_ticket / add_object / ticket / log_entries / attachments / api / remove / serve_in_thread.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import binascii
import contextlib
import copy
import difflib
import email.parser
import email.policy
import html
import json
import re
import secrets
import socket
import threading
import time
import unicodedata
import urllib.parse
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping, MutableMapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from html.parser import HTMLParser
from typing import Any, Literal, TypeAlias
from zoneinfo import ZoneInfo

import httpx

from tests.fakes.itop_sessions import PhpSessions, with_session_cookie

__all__ = [
    "ADMIN_TOKEN",
    "AGENT_TOKEN",
    "NO_REST_TOKEN",
    "OTHER_INSTANCE_TOKEN",
    "TEST_USER_PASSWORD",
    "WEB_ADMIN_LOGIN",
    "WEB_ADMIN_PASSWORD",
    "Failure",
    "FakeItop",
]

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
Seed: TypeAlias = Literal["lab", "install"]
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

# ------------------------------------------------------------------------------------------------
# Data model (transcribed from shared/itop-rest/datamodel/*.json)
# ------------------------------------------------------------------------------------------------


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


#: Kinds whose value is computed or derived: never stored, never settable through REST.
_COMPUTED_KINDS = frozenset(
    _words("extfield friendlyname finalclass metaenum subitem obsflag obsdate stopwatch dashboard")
)
_STRING_KINDS = frozenset(
    {"string", "text", "html", "url", "email", "phone", "password", "language"}
)


@dataclass(frozen=True)
class _Attr:
    code: str
    kind: str
    label: str = ""
    null: bool = True
    size: int | None = None
    values: tuple[str, ...] = ()
    default: Any = None
    target: str = ""
    key: str = ""
    remote: str = ""
    writable: bool = True


def A(code: str, kind: str, label: str = "", **kwargs: Any) -> _Attr:
    return _Attr(code, kind, label or code, **kwargs)


@dataclass
class _Class:
    name: str
    attrs: dict[str, _Attr]
    parent: str | None = None
    abstract: bool = False
    name_attrs: tuple[str, ...] = ("name",)
    family: str = ""
    order: Literal["friendlyname", "ref_desc", "id"] = "friendlyname"


_TICKET_STATUSES = tuple(
    _words(
        "new waiting_for_approval approved rejected assigned pending escalated_tto escalated_ttr"
        " resolved closed"
    )
)


def _user_request_attrs(instance: Instance) -> list[_Attr]:
    attrs = [
        A("operational_status", "metaenum", values=("closed", "ongoing", "resolved")),
        A("ref", "string", "Ref"),
        A("org_id", "extkey", "Organization", null=False, target="Organization"),
        A("org_name", "extfield", key="org_id", remote="name"),
        A("caller_id", "extkey", "Caller", target="Person"),
        A("caller_name", "extfield", key="caller_id", remote="name"),
        A("team_id", "extkey", "Team", target="Team"),
        A("team_name", "extfield", key="team_id", remote="name"),
        A("team_email", "extfield", key="team_id", remote="email"),
        A("agent_id", "extkey", "Agent", target="Person"),
        A("agent_name", "extfield", key="agent_id", remote="name"),
        A("title", "string", "Title", null=False),
        A("description", "html", "Description", null=False, size=65535),
        A("start_date", "datetime", "Start date"),
        A("end_date", "datetime", "End date"),
        A("last_update", "datetime", "Last update"),
        A("close_date", "datetime", "Close date"),
        A("private_log", "caselog", "Private log"),
        A("contacts_list", "linkset", "Contacts"),
        A("functionalcis_list", "linkset", "CIs"),
        A("workorders_list", "linkset", "Work orders"),
        A("status", "enum", "Status", null=False, values=_TICKET_STATUSES, default="new"),
        A(
            "request_type",
            "enum",
            "Request Type",
            values=("service_request",),
            default="service_request",
        ),
        A("impact", "enum", "Impact", null=False, values=("1", "2", "3"), default="1"),
        A("priority", "enum", "Priority", null=False, values=("1", "2", "3", "4"), default="4"),
        A("urgency", "enum", "Urgency", null=False, values=("1", "2", "3", "4"), default="4"),
        A(
            "origin",
            "enum",
            "Origin",
            values=("mail", "in_person", "phone", "portal", "chat"),
            default="phone",
        ),
        A("approver_id", "extkey", "Approver", target="Person"),
        A("approver_email", "extfield", key="approver_id", remote="email"),
        A("service_id", "extkey", "Service", target="Service"),
        A("service_name", "extfield", key="service_id", remote="name"),
        A("servicesubcategory_id", "extkey", "Service subcategory", target="ServiceSubcategory"),
        A("servicesubcategory_name", "extfield", key="servicesubcategory_id", remote="name"),
        A("escalation_flag", "enum", "Hot Flag", values=("no", "yes"), default="no"),
        A("escalation_reason", "string", "Hot reason"),
        A("assignment_date", "datetime", "Assignment date"),
        A("resolution_date", "datetime", "Resolution date"),
        A("last_pending_date", "datetime", "Last pending date"),
        A("cumulatedpending", "stopwatch", "cumulatedpending"),
        A("tto", "stopwatch", "TTO"),
        A("ttr", "stopwatch", "TTR"),
        A("tto_escalation_deadline", "subitem", default=""),
        A("sla_tto_passed", "subitem", default="no"),
        A("sla_tto_over", "subitem", default=None),
        A("ttr_escalation_deadline", "subitem", default=""),
        A("sla_ttr_passed", "subitem", default="no"),
        A("sla_ttr_over", "subitem", default=None),
        A("time_spent", "duration", "Resolution delay"),
        A(
            "resolution_code",
            "enum",
            "Resolution code",
            values=(
                "assistance",
                "bug fixed",
                "hardware repair",
                "other",
                "software patch",
                "system update",
                "training",
            ),
            default="assistance",
        ),
        A("solution", "html", "Solution", size=65535),
        A("pending_reason", "text", "Pending reason", size=65535),
        A("parent_request_id", "extkey", "Parent request", target="UserRequest"),
        A("parent_request_ref", "extfield", key="parent_request_id", remote="ref"),
        A("parent_incident_id", "extkey", "Parent incident", target="Incident"),
        A("parent_incident_ref", "extfield", key="parent_incident_id", remote="ref"),
        A("parent_problem_id", "extkey", "Parent problem", target="Problem"),
        A("parent_problem_ref", "extfield", key="parent_problem_id", remote="ref"),
        A("parent_change_id", "extkey", "Parent change", target="Change"),
        A("parent_change_ref", "extfield", key="parent_change_id", remote="ref"),
        A("related_request_list", "linkset", "Child Requests"),
        A("public_log", "caselog", "Public log"),
        A(
            "user_satisfaction",
            "enum",
            "User satisfaction",
            values=("1", "2", "3", "4"),
            default="1",
        ),
        A("user_comment", "text", "User comment", size=65535),
    ]
    if instance == "intercom":
        attrs += [
            A("intercom_ref", "string", "Intercom conversation ID"),
            A("intercom_url", "url", "Intercom conversation URL", size=2048),
            A(
                "intercom_sync_activated",
                "enum",
                "Intercom sync. activated?",
                null=False,
                values=("no", "yes"),
                default="no",
            ),
        ]
    attrs += [
        A("finalclass", "finalclass"),
        A("friendlyname", "friendlyname"),
        *_key_fields("org_id", obsolescence=True),
        *_key_fields("caller_id", obsolescence=True),
        *_key_fields("team_id", obsolescence=True),
        *_key_fields("agent_id", obsolescence=True),
        *_key_fields("approver_id", obsolescence=True),
        *_key_fields("service_id"),
        *_key_fields("servicesubcategory_id"),
        *_key_fields("parent_request_id"),
        *_key_fields("parent_incident_id"),
        *_key_fields("parent_problem_id"),
        *_key_fields("parent_change_id"),
        A(
            "parent_change_id_finalclass_recall",
            "extfield",
            key="parent_change_id",
            remote="finalclass",
            default="Change",
        ),
    ]
    return attrs


def _key_fields(key: str, *, obsolescence: bool = False) -> list[_Attr]:
    out = [A(f"{key}_friendlyname", "extfield", key=key, remote="friendlyname")]
    if obsolescence:
        out.append(A(f"{key}_obsolescence_flag", "extfield", key=key, remote="obsolescence_flag"))
    return out


_CONTACT_HEAD = [
    A("status", "enum", "Status", null=False, values=("active", "inactive"), default="active"),
    A("org_id", "extkey", "Organization", null=False, target="Organization"),
    A("org_name", "extfield", key="org_id", remote="name"),
    A("email", "email", "Email"),
    A("phone", "phone", "Phone"),
    A("notify", "enum", "Notification", values=("no", "yes"), default="yes"),
    A("function", "string", "Function"),
    A("cis_list", "linkset", "CIs"),
]
_CONTACT_TAIL = [
    A("finalclass", "finalclass"),
    A("friendlyname", "friendlyname"),
    A("obsolescence_flag", "obsflag"),
    A("obsolescence_date", "obsdate"),
    *_key_fields("org_id", obsolescence=True),
]
_PERSON_ATTRS = [
    A("name", "string", "Last Name", null=False),
    *_CONTACT_HEAD,
    A("picture", "image", "Picture"),
    A("first_name", "string", "First Name", null=False),
    A("employee_number", "string", "Employee number"),
    A("mobile_phone", "phone", "Mobile phone"),
    A("location_id", "extkey", "Location", target="Location"),
    A("location_name", "extfield", key="location_id", remote="name"),
    A("manager_id", "extkey", "Manager", target="Person"),
    A("manager_name", "extfield", key="manager_id", remote="name"),
    A("team_list", "linkset", "Teams"),
    A("user_list", "linkset", "Users"),
    A("tickets_list", "linkset", "Tickets"),
    *_CONTACT_TAIL,
    *_key_fields("location_id", obsolescence=True),
    *_key_fields("manager_id", obsolescence=True),
]
_TEAM_ATTRS = [
    A("name", "string", "Name", null=False),
    *_CONTACT_HEAD,
    A("persons_list", "linkset", "Members"),
    A("tickets_list", "linkset", "Tickets"),
    *_CONTACT_TAIL,
]
_CONTACT_ATTRS = [A("name", "string", "Name", null=False), *_CONTACT_HEAD, *_CONTACT_TAIL]
_ORGANIZATION_ATTRS = [
    A("name", "string", "Name", null=False),
    A("code", "string", "Code"),
    A("status", "enum", "Status", values=("active", "inactive"), default="active"),
    A("parent_id", "extkey", "Parent", target="Organization"),
    A("parent_name", "extfield", key="parent_id", remote="name"),
    A("overview", "dashboard"),
    A("deliverymodel_id", "extkey", "Delivery model", target="DeliveryModel"),
    A("deliverymodel_name", "extfield", key="deliverymodel_id", remote="name"),
    A("friendlyname", "friendlyname"),
    A("obsolescence_flag", "obsflag"),
    A("obsolescence_date", "obsdate"),
    *_key_fields("parent_id", obsolescence=True),
    *_key_fields("deliverymodel_id"),
]
_USER_HEAD = [
    A("contactid", "extkey", "Person", target="Person"),
    A("last_name", "extfield", key="contactid", remote="name"),
    A("first_name", "extfield", key="contactid", remote="first_name"),
    A("email", "extfield", key="contactid", remote="email"),
    A("org_id", "extfield", key="contactid", remote="org_id", default=0),
]
_USER_MIDDLE = [
    A("language", "language", "Language", null=False, default="EN US"),
    A("status", "enum", "Status", null=False, values=("enabled", "disabled"), default="enabled"),
    A("profile_list", "linkset", "Profiles"),
    A("allowed_org_list", "linkset", "Allowed Organizations"),
    A("log", "caselog", "log"),
]
_USER_TAIL = [
    A("finalclass", "finalclass"),
    A("friendlyname", "friendlyname"),
    A("contactid_friendlyname", "extfield", key="contactid", remote="friendlyname"),
    A("contactid_obsolescence_flag", "extfield", key="contactid", remote="obsolescence_flag"),
    A("org_id_friendlyname", "extfield", key="contactid", remote="org_id_friendlyname"),
    A("org_id_obsolescence_flag", "extfield", key="contactid", remote="org_id_obsolescence_flag"),
]
_USER_ATTRS = [*_USER_HEAD, A("login", "string", "Login", null=False), *_USER_MIDDLE, *_USER_TAIL]
_USERLOCAL_ATTRS = [
    *_USER_HEAD,
    A("login", "string", "Login", null=False),
    *_USER_MIDDLE,
    A("reset_pwd_token", "password", "reset pwd token"),
    A("password", "password", "Password", null=False),
    A(
        "expiration",
        "enum",
        "Password expiration",
        null=False,
        values=("can_expire", "never_expire", "force_expire", "otp_expire"),
        default="never_expire",
    ),
    A("password_renewed_date", "date", "Password renewed on"),
    *_USER_TAIL,
]
_USERTOKEN_ATTRS = [
    *_USER_HEAD,
    A("login", "string", "Remote application", null=False),
    *_USER_MIDDLE,
    A("reset_pwd_token", "password", "reset pwd token"),
    A("auth_token", "password", "Auth token"),
    A("scope", "enumset", "Scope"),
    *_USER_TAIL,
]
_ATTACHMENT_ATTRS = [
    A("expire", "datetime", "Expire", null=False),
    A("temp_id", "string", "Temporary id"),
    A("item_class", "string", "Item class", null=False),
    A("item_id", "objkey", "Item"),
    A("item_org_id", "int", "Item organization"),
    A("contents", "blob", "Contents", null=False),
    A("creation_date", "datetime", "Creation date"),
    A("user_id", "extkey", "User id", target="User"),
    A("contact_id", "extkey", "Contact id", target="Person"),
    A("friendlyname", "friendlyname"),
    A("user_id_friendlyname", "extfield", key="user_id", remote="friendlyname"),
    A("user_id_finalclass_recall", "extfield", key="user_id", remote="finalclass", default="User"),
    *_key_fields("contact_id", obsolescence=True),
]
_PROFILE_ATTRS = [
    A("name", "string", "Name", null=False),
    A("description", "string", "Description"),
    A("friendlyname", "friendlyname"),
]
_USER_PROFILE_ATTRS = [
    A("userid", "extkey", "User", null=False, target="User"),
    A("userlogin", "extfield", key="userid", remote="login"),
    A("profileid", "extkey", "Profile", null=False, target="URP_Profiles"),
    A("profile", "extfield", key="profileid", remote="name"),
    A("reason", "string", "Reason"),
    A("friendlyname", "friendlyname"),
    A("userid_friendlyname", "extfield", key="userid", remote="friendlyname"),
    A("profileid_friendlyname", "extfield", key="profileid", remote="friendlyname"),
]
_CHANGE_OP_ATTRS = [
    A("date", "datetime", "Date"),
    A("userinfo", "string", "User info"),
    A("user_id", "extkey", "User", target="User"),
    A("objclass", "string", "Object class"),
    A("objkey", "int", "Object key"),
    A("attcode", "string", "Attribute"),
    A("lastentry", "int", "Last entry"),
    A("finalclass", "finalclass"),
    A("friendlyname", "friendlyname"),
    A("user_id_friendlyname", "extfield", key="user_id", remote="friendlyname"),
]
_NAMED_ATTRS = [A("name", "string", "Name", null=False), A("friendlyname", "friendlyname")]
_SERVICE_ATTRS = [
    A("name", "string", "Name", null=False),
    A("org_id", "extkey", "Provider", null=False, target="Organization"),
    A(
        "status",
        "enum",
        "Status",
        values=("implementation", "obsolete", "production"),
        default="production",
    ),
    A("friendlyname", "friendlyname"),
    *_key_fields("org_id", obsolescence=True),
]
_CATALOG_STATUSES = ("implementation", "obsolete", "production")
_SUBCATEGORY_ATTRS = [
    A("name", "string", "Name", null=False),
    A("service_id", "extkey", "Service", null=False, target="Service"),
    A("status", "enum", "Status", values=_CATALOG_STATUSES, default="production"),
    A("friendlyname", "friendlyname"),
    *_key_fields("service_id"),
]
#: Contract (abstract) and CustomerContract, from iTop 3.2's itop-service-mgmt datamodel (not
#: in the dumps): who is a customer of which services (`services_list`, through
#: lnkCustomerContractToService).
_CONTRACT_ATTRS = [
    A("name", "string", "Name", null=False),
    A("org_id", "extkey", "Customer", null=False, target="Organization"),
    A("organization_name", "extfield", key="org_id", remote="name"),
    A("contacts_list", "linkset", "Contacts"),
    A("documents_list", "linkset", "Documents"),
    A("description", "text", "Description", size=65535),
    A("start_date", "date", "Start date"),
    A("end_date", "date", "End date"),
    A("cost", "string", "Cost"),
    A("cost_currency", "enum", "Cost Currency", values=("dollars", "euros")),
    A("contracttype_id", "extkey", "Contract type", target="ContractType"),
    A("contracttype_name", "extfield", key="contracttype_id", remote="name"),
    A("billing_frequency", "string", "Billing frequency"),
    A("cost_unit", "string", "Cost unit"),
    A("provider_id", "extkey", "Provider", null=False, target="Organization"),
    A("provider_name", "extfield", key="provider_id", remote="name"),
    A("status", "enum", "Status", values=_CATALOG_STATUSES, default="production"),
]
_CONTRACT_TAIL = [
    A("finalclass", "finalclass"),
    A("friendlyname", "friendlyname"),
    *_key_fields("org_id", obsolescence=True),
    *_key_fields("contracttype_id"),
    *_key_fields("provider_id", obsolescence=True),
]
_CUSTOMER_CONTRACT_ATTRS = [
    *_CONTRACT_ATTRS,
    A("services_list", "linkset", "Services"),
    *_CONTRACT_TAIL,
]
_CONTRACT_SERVICE_ATTRS = [
    A(
        "customercontract_id",
        "extkey",
        "Customer contract",
        null=False,
        target="CustomerContract",
    ),
    A("customercontract_name", "extfield", key="customercontract_id", remote="name"),
    A("service_id", "extkey", "Service", null=False, target="Service"),
    A("service_name", "extfield", key="service_id", remote="name"),
    A("sla_id", "extkey", "SLA", target="SLA"),
    A("sla_name", "extfield", key="sla_id", remote="name"),
    A("friendlyname", "friendlyname"),
    *_key_fields("customercontract_id"),
    *_key_fields("service_id"),
    *_key_fields("sla_id"),
]
_OTHER_TICKET_ATTRS = [
    A("ref", "string", "Ref"),
    A("title", "string", "Title", null=False),
    A("finalclass", "finalclass"),
    A("friendlyname", "friendlyname"),
]


def _build_model(instance: Instance) -> dict[str, _Class]:
    def cls(name: str, attrs: list[_Attr], **kwargs: Any) -> _Class:
        return _Class(name, {a.code: a for a in attrs}, **kwargs)

    classes = [
        cls("Organization", _ORGANIZATION_ATTRS, family="Organization"),
        cls("Contact", _CONTACT_ATTRS, abstract=True, family="Contact"),
        cls(
            "Person",
            _PERSON_ATTRS,
            parent="Contact",
            family="Contact",
            name_attrs=("first_name", "name"),
        ),
        cls("Team", _TEAM_ATTRS, parent="Contact", family="Contact"),
        cls("User", _USER_ATTRS, abstract=True, family="User", name_attrs=("login",)),
        cls("UserLocal", _USERLOCAL_ATTRS, parent="User", family="User", name_attrs=("login",)),
        cls("UserToken", _USERTOKEN_ATTRS, parent="User", family="User", name_attrs=("login",)),
        cls("URP_Profiles", _PROFILE_ATTRS, family="URP_Profiles"),
        cls("URP_UserProfile", _USER_PROFILE_ATTRS, family="URP_UserProfile", name_attrs=()),
        cls(
            "UserRequest",
            _user_request_attrs(instance),
            family="Ticket",
            name_attrs=("ref",),
            order="ref_desc",
        ),
        cls(
            "Incident", _OTHER_TICKET_ATTRS, family="Ticket", name_attrs=("ref",), order="ref_desc"
        ),
        cls("Problem", _OTHER_TICKET_ATTRS, family="Ticket", name_attrs=("ref",), order="ref_desc"),
        cls("Change", _OTHER_TICKET_ATTRS, family="Ticket", name_attrs=("ref",), order="ref_desc"),
        cls(
            "Attachment",
            _ATTACHMENT_ATTRS,
            family="Attachment",
            name_attrs=("item_class", "temp_id"),
            order="id",
        ),
        cls(
            "CMDBChangeOp",
            _CHANGE_OP_ATTRS,
            abstract=True,
            family="CMDBChangeOp",
            name_attrs=(),
            order="id",
        ),
        cls(
            "CMDBChangeOpSetAttributeCaseLog",
            _CHANGE_OP_ATTRS,
            parent="CMDBChangeOp",
            family="CMDBChangeOp",
            name_attrs=(),
            order="id",
        ),
        cls("Service", _SERVICE_ATTRS, family="Service"),
        cls("ServiceSubcategory", _SUBCATEGORY_ATTRS, family="ServiceSubcategory"),
        cls("Contract", [*_CONTRACT_ATTRS, *_CONTRACT_TAIL], abstract=True, family="Contract"),
        cls("CustomerContract", _CUSTOMER_CONTRACT_ATTRS, parent="Contract", family="Contract"),
        cls(
            "lnkCustomerContractToService",
            _CONTRACT_SERVICE_ATTRS,
            family="lnkCustomerContractToService",
            name_attrs=("customercontract_id", "service_id"),
        ),
        cls("Location", _NAMED_ATTRS, family="Location"),
        cls("DeliveryModel", _NAMED_ATTRS, family="DeliveryModel"),
        cls("ContractType", _NAMED_ATTRS, family="ContractType"),
        cls("SLA", _NAMED_ATTRS, family="SLA"),
    ]
    return {c.name: c for c in classes}


#: Sub-codes of stopwatches that OQL accepts as filter codes (045).
_SLA_SUBCODES = tuple(
    _words(
        "started laststart stopped 75_deadline 75_passed 75_triggered 75_overrun 100_deadline"
        " 100_passed 100_triggered 100_overrun"
    )
)
_STOPWATCH_SUBCODES = {
    "cumulatedpending": ("started", "laststart", "stopped"),
    "tto": _SLA_SUBCODES,
    "ttr": _SLA_SUBCODES,
}
_KEY_DERIVED_REMOTES = ("friendlyname", "obsolescence_flag", "finalclass")


def _filter_codes(klass: _Class) -> list[str]:
    """The codes OQL accepts for a class, in the order of iTop's OqlNormalizeException (045)."""
    attrs = list(klass.attrs.values())
    derived = {
        a.code
        for a in attrs
        if a.kind == "extfield"
        and a.remote in _KEY_DERIVED_REMOTES
        and a.code.startswith(f"{a.key}_")
    }
    codes: list[str] = [c for c in ("finalclass", "friendlyname") if c in klass.attrs]
    for a in attrs:
        if a.code in ("finalclass", "friendlyname") or a.code in derived or a.kind == "linkset":
            continue
        codes.append(a.code)
        if a.kind == "extkey":
            codes += [d.code for d in attrs if d.code in derived and d.key == a.code]
        if a.kind == "stopwatch":
            codes += [f"{a.code}_{s}" for s in _STOPWATCH_SUBCODES.get(a.code, ())]
    codes.append("id")
    return codes


#: UserRequest lifecycle from the data model dump: transitions and the attributes that a
#: target state declares mandatory (only those REST checks, with PHP's `== ''`).
_TRANSITIONS: dict[str, dict[str, str]] = {
    "new": {
        "ev_assign": "assigned",
        "ev_timeout": "escalated_tto",
        "ev_wait_for_approval": "waiting_for_approval",
        "ev_autoresolve": "resolved",
    },
    "escalated_tto": {"ev_assign": "assigned"},
    "assigned": {
        "ev_pending": "pending",
        "ev_resolve": "resolved",
        "ev_reassign": "assigned",
        "ev_timeout": "escalated_ttr",
        "ev_autoresolve": "resolved",
    },
    "escalated_ttr": {
        "ev_pending": "pending",
        "ev_resolve": "resolved",
        "ev_reassign": "assigned",
        "ev_autoresolve": "resolved",
    },
    "waiting_for_approval": {"ev_approve": "approved", "ev_reject": "rejected"},
    "approved": {
        "ev_timeout": "escalated_tto",
        "ev_assign": "assigned",
        "ev_autoresolve": "resolved",
    },
    "rejected": {"ev_reopen": "new"},
    "pending": {"ev_assign": "assigned", "ev_autoresolve": "resolved"},
    "resolved": {"ev_close": "closed", "ev_reopen": "assigned", "ev_autoresolve": "resolved"},
    "closed": {},
}
_STATE_MANDATORY: dict[str, tuple[str, ...]] = {
    "new": ("org_id", "caller_id"),
    "escalated_tto": ("org_id", "caller_id"),
    "assigned": ("org_id", "team_id", "agent_id"),
    "escalated_ttr": ("org_id", "team_id", "agent_id"),
    "waiting_for_approval": ("org_id", "caller_id"),
    "approved": ("org_id", "caller_id"),
    "rejected": ("org_id", "caller_id"),
    "pending": ("org_id", "team_id", "agent_id", "pending_reason"),
    "resolved": ("service_id", "resolution_code", "solution"),
    "closed": (),
}
#: Dates set by the lifecycle actions (assign/resolve/close recorded in 064/067/068).
_STIMULUS_DATES = {
    "ev_assign": "assignment_date",
    "ev_reassign": "assignment_date",
    "ev_pending": "last_pending_date",
    "ev_resolve": "resolution_date",
    "ev_autoresolve": "resolution_date",
    "ev_close": "close_date",
}
#: Priority computed from impact (1 department, 2 service, 3 person) and urgency.
_PRIORITY = {
    "1": {"1": "1", "2": "1", "3": "2", "4": "4"},
    "2": {"1": "1", "2": "2", "3": "3", "4": "4"},
    "3": {"1": "2", "2": "3", "3": "3", "4": "4"},
}
_PROFILES = (
    (1, "Administrator"),
    (2, "Portal user"),
    (3, "Configuration Manager"),
    (4, "Service Desk Agent"),
    (5, "Support Agent"),
    (6, "Problem Manager"),
    (7, "Change Implementor"),
    (8, "Change Supervisor"),
    (9, "Change Approver"),
    (10, "Service Manager"),
    (11, "Document author"),
    (12, "Portal power user"),
    (1024, "REST Services User"),
)
#: Classes that only administrators can read (024, 072).
_ADMIN_READ_FAMILIES = frozenset({"User", "URP_UserProfile", "CMDBChangeOp"})
#: Classes that non-administrators can create/modify (028, 055, 063; README quirk 26).
_AGENT_WRITE_FAMILIES = frozenset({"Ticket", "Attachment", "Contact"})


# ------------------------------------------------------------------------------------------------
# Errors
# ------------------------------------------------------------------------------------------------


class _ApiError(Exception):
    """An exception as rest.php reports it: `{"code": c, "message": "Error: <message>"}`."""

    def __init__(self, message: str, code: int = 100) -> None:
        super().__init__(message)
        self.message = message
        self.code = code

    def prefixed(self, prefix: str) -> _ApiError:
        return _ApiError(f"{prefix}: {self.message}", self.code)


class _ResultError(Exception):
    """An error set on the result object: `{"code", "message", "objects": null}` (024, 065)."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


class _OqlError(Exception):
    def __init__(self, exception_class: str, message: str) -> None:
        super().__init__(message)
        self.exception_class = exception_class
        self.message = message


# ------------------------------------------------------------------------------------------------
# PHP-ish helpers
# ------------------------------------------------------------------------------------------------

_NUMERIC_RE = re.compile(r"^\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*$")


def _is_numeric(value: Any) -> bool:
    """PHP's is_numeric."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return True
    return isinstance(value, str) and bool(_NUMERIC_RE.match(value))


def _php_str(value: Any) -> str:
    """PHP's string conversion of a decoded JSON value."""
    if value is None or value is False:
        return ""
    if value is True:
        return "1"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"))
    return str(value)


def _php_int(value: Any) -> int:
    """PHP's (int) cast."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value)
    if isinstance(value, str):
        match = re.match(r"^\s*[+-]?\d+", value)
        return int(match.group(0)) if match else 0
    return 0


def _php_empty_json(value: Any) -> bool:
    """json_decode(...) == null in PHP: null, false, 0, "", [] all count."""
    return value is None or value is False or value == 0 or value == "" or value == []


def _fold(value: str) -> str:
    decomposed = unicodedata.normalize("NFKD", value)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def _collate(value: str) -> str:
    """utf8mb4_unicode_ci equality: case- and accent-insensitive, trailing spaces ignored."""
    return _fold(value).rstrip(" ")


def _is_int_text(value: str) -> bool:
    return bool(re.fullmatch(r"[+-]?\d+", value.strip()))


def _sql_equal(left: str, right: str) -> bool:
    if _is_int_text(left) and _is_int_text(right):
        return int(left) == int(right)
    return _collate(left) == _collate(right)


def _sql_compare(left: str, right: str) -> int:
    if _is_int_text(left) and _is_int_text(right):
        x, y = int(left), int(right)
        return (x > y) - (x < y)
    a, b = _collate(left), _collate(right)
    return (a > b) - (a < b)


def _sql_like(value: str, pattern: str) -> bool:
    regex = []
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\" and i + 1 < len(pattern):
            regex.append(re.escape(_fold(pattern[i + 1])))
            i += 2
            continue
        regex.append(".*" if char == "%" else "." if char == "_" else re.escape(_fold(char)))
        i += 1
    return re.fullmatch("".join(regex), _fold(value), re.S) is not None


# ------------------------------------------------------------------------------------------------
# Dates (iTop timezone Europe/Paris, format Y-m-d H:i:s, quirk 8)
# ------------------------------------------------------------------------------------------------

_ISO_RE = re.compile(
    r"^\s*(\d{4})-(\d{1,2})-(\d{1,2})"
    r"(?:[Tt ]+(\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?"
    r"\s*(Z|z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)?\s*$"
)
_RELATIVE_WORDS = {"now": 0, "today": 0, "midnight": 0, "yesterday": -1, "tomorrow": 1}


def _format_date(moment: datetime) -> str:
    return moment.astimezone(TIMEZONE).strftime(DATETIME_FORMAT)


def _parse_php_date(text: str, now: datetime) -> datetime:
    """`new DateTime($text)` in the iTop timezone (approximation, see the module docstring)."""
    if text.strip() == "":
        return now
    match = _ISO_RE.match(text)
    if match:
        year, month, day, hour, minute, second, fraction, zone = match.groups()
        try:
            moment = datetime(
                int(year),
                int(month),
                int(day),
                int(hour or 0),
                int(minute or 0),
                int(second or 0),
                int((fraction or "0")[:6].ljust(6, "0")),
            )
        except ValueError as exc:
            raise _ApiError(
                f"Failed to parse time string ({text}) at position 0 ({text[0]}): {exc}"
            ) from None
        if zone is None:
            return moment.replace(tzinfo=TIMEZONE)
        if zone in ("Z", "z", "UTC", "GMT"):
            return moment.replace(tzinfo=UTC)
        sign = 1 if zone[0] == "+" else -1
        digits = zone[1:].replace(":", "")
        offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:4] or 0))
        return moment.replace(tzinfo=timezone(sign * offset))
    epoch = re.fullmatch(r"\s*@(-?\d+)\s*", text)
    if epoch:
        return datetime.fromtimestamp(int(epoch.group(1)), UTC)
    word = text.strip().lower()
    if word in _RELATIVE_WORDS:
        base = now if word == "now" else now.replace(hour=0, minute=0, second=0, microsecond=0)
        return base + timedelta(days=_RELATIVE_WORDS[word])
    raise _ApiError(_date_error(text))


def _date_error(text: str) -> str:
    word = re.match(r"[A-Za-z]+", text)
    if word and word.group(0).lower() in _RELATIVE_WORDS:
        pos = word.end()
        reason = "Unexpected character"
    elif word:
        pos = 0
        reason = "The timezone could not be found in the database"
    else:
        prefix = re.match(
            r"\s*\d{4}-\d{1,2}-\d{1,2}(?:[Tt ]\d{1,2}:\d{2}(?::\d{2})?)?|\s*\d+", text
        )
        pos = prefix.end() if prefix else 0
        reason = "Unexpected character"
    char = text[pos] if pos < len(text) else ""
    return f"Failed to parse time string ({text}) at position {pos} ({char}): {reason}"


def _date_attribute_value(code: str, value: Any, now: datetime) -> str:
    if value is None or value == "":
        return ""
    text = _php_str(value)
    if _is_numeric(text):
        return _format_date(datetime.fromtimestamp(float(text), UTC))
    if _ISO_RE.match(text):
        return _format_date(_parse_php_date(text, now))
    raise _ApiError(
        f'Wrong format for date attribute {code}, expecting "Y-m-d H:i:s" and got "{text}"'
    )


# ------------------------------------------------------------------------------------------------
# HTML: sanitiser (025, 057, 058) and html -> text rendering of case-log messages (049-058)
# ------------------------------------------------------------------------------------------------

_VOID_TAGS = frozenset(
    _words("area base br col embed hr img input link meta param source track wbr")
)
_BLOCK_TAGS = frozenset(
    _words(
        "address article aside blockquote caption center dd div dl dt figcaption figure footer"
        " h1 h2 h3 h4 h5 h6 header hr li nav ol p pre section table tbody td tfoot th thead tr ul"
    )
)
_COMMON_ATTRS = frozenset({"style", "title", "dir", "lang"})
_ALLOWED_TAGS: dict[str, frozenset[str]] = {
    "a": frozenset({"href", "name", "id", "target", "title", "style"}),
    "img": frozenset({"src", "alt", "title", "width", "height", "style"}),
    "font": frozenset({"color", "face", "size", "style"}),
    "ol": frozenset({"start", "type", "style"}),
    "table": frozenset(
        {"width", "border", "cellpadding", "cellspacing", "summary", "align", "style"}
    ),
    "td": frozenset({"colspan", "rowspan", "width", "height", "align", "valign", "style"}),
    "th": frozenset({"colspan", "rowspan", "width", "height", "align", "valign", "style"}),
    **{
        tag: _COMMON_ATTRS
        for tag in _words(
            "abbr address article aside b big blockquote br caption center cite code dd del div"
            " dl dt em figcaption figure footer h1 h2 h3 h4 h5 h6 header hr i li mark nav p pre q"
            " s section small span strike strong sub sup tbody tfoot thead tr u ul"
        )
    },
}
_URL_ATTR_RULES = {
    "href": re.compile(r"^\s*(https?:|mailto:|ftp:|tel:|callto:|#|/)", re.I),
    "src": re.compile(r"^\s*(https?:|data:image/)", re.I),
}
#: Tags unwrapped (kept children) instead of dropped.
_TRANSPARENT_TAGS = frozenset({"html", "body"})


@dataclass
class _Node:
    tag: str  # "" for a text node
    attrs: list[tuple[str, str]] = field(default_factory=list)
    children: list[_Node] = field(default_factory=list)
    text: str = ""


class _TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = _Node("#root")
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCK_TAGS:  # libxml closes an open <p> when a block starts
            for index in range(len(self.stack) - 1, 0, -1):
                if self.stack[index].tag == "p":
                    del self.stack[index:]
                    break
        if tag == "li":
            for index in range(len(self.stack) - 1, 0, -1):
                if self.stack[index].tag in ("ul", "ol"):
                    break
                if self.stack[index].tag == "li":
                    del self.stack[index:]
                    break
        node = _Node(tag, [(k, v or "") for k, v in attrs])
        self.stack[-1].children.append(node)
        if tag not in _VOID_TAGS:
            self.stack.append(node)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in _VOID_TAGS and self.stack[-1].tag == tag:
            self.stack.pop()

    def handle_endtag(self, tag: str) -> None:
        for index in range(len(self.stack) - 1, 0, -1):
            if self.stack[index].tag == tag:
                del self.stack[index:]
                return

    def handle_data(self, data: str) -> None:
        self.stack[-1].children.append(_Node("", text=data))


def _parse_html(text: str) -> _Node:
    builder = _TreeBuilder()
    builder.feed(text)
    builder.close()
    return builder.root


def _clean(node: _Node) -> list[_Node]:
    if not node.tag:
        return [node]
    if node.tag in _TRANSPARENT_TAGS or node.tag == "#root":
        return [n for child in node.children for n in _clean(child)]
    allowed = _ALLOWED_TAGS.get(node.tag)
    if allowed is None:
        return []  # script, style, iframe, form... removed with their content
    attrs = []
    for name, value in node.attrs:
        name = name.lower()
        if name not in allowed or name.startswith("on"):
            continue
        rule = _URL_ATTR_RULES.get(name)
        if rule is not None and not rule.match(value):
            continue
        attrs.append((name, value))
    children = [n for child in node.children for n in _clean(child)]
    return [_Node(node.tag, attrs, children)]


def _escape_text(text: str) -> str:
    return (
        text.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace("\xa0", "&nbsp;")
    )


def _serialize(nodes: Iterable[_Node]) -> str:
    out = []
    for node in nodes:
        if not node.tag:
            out.append(_escape_text(node.text))
            continue
        attrs = "".join(
            f' {name}="{value.replace("&", "&amp;").replace(chr(34), "&quot;")}"'
            for name, value in node.attrs
        )
        if node.tag in _VOID_TAGS:
            out.append(f"<{node.tag}{attrs}>")
        else:
            out.append(f"<{node.tag}{attrs}>{_serialize(node.children)}</{node.tag}>")
    return "".join(out)


def _sanitize_html(text: str) -> str:
    """iTop's HTML sanitiser as observed: 025 (script, onclick), 057 (img src=x), 058 (kept)."""
    nodes = _clean(_parse_html(text))
    # libxml wraps leading bare text (and the inline content that follows) in a <p> (038, 057)
    first = next((n for n in nodes if n.tag or n.text.strip()), None)
    if first is not None and not first.tag:
        start = nodes.index(first)
        end = start
        while end < len(nodes) and nodes[end].tag not in _BLOCK_TAGS:
            end += 1
        nodes = [*nodes[:start], _Node("p", [], nodes[start:end]), *nodes[end:]]
    return _serialize(nodes)


def _html_to_text(text: str) -> str:
    """The plain-text `message` of an html case-log entry (049-058)."""
    blocks: list[str] = []
    _render_blocks(_parse_html(text).children, blocks, pre=False)
    lines = "\n\n".join(b for b in (_tidy(b) for b in blocks) if b)
    return lines.strip()


def _tidy(block: str) -> str:
    return "\n".join(line.strip() for line in block.split("\n")).strip()


def _render_blocks(nodes: list[_Node], blocks: list[str], *, pre: bool) -> None:
    buffer: list[str] = []

    def flush() -> None:
        if buffer:
            blocks.append("".join(buffer))
            buffer.clear()

    for node in nodes:
        if node.tag in ("ul", "ol"):
            flush()
            items = []
            for number, item in enumerate(c for c in node.children if c.tag == "li"):
                marker = f"{number + 1}. " if node.tag == "ol" else "- "
                items.append(marker + _tidy(_render_inline(item.children, pre=pre)))
            blocks.append("\n".join(items))
        elif node.tag in _BLOCK_TAGS or node.tag in _TRANSPARENT_TAGS:
            flush()
            _render_blocks(node.children, blocks, pre=pre or node.tag == "pre")
        else:
            buffer.append(_render_inline([node], pre=pre))
    flush()


def _render_inline(nodes: list[_Node], *, pre: bool) -> str:
    out = []
    for node in nodes:
        if not node.tag:
            out.append(node.text if pre else re.sub(r"\s+", " ", node.text))
        elif node.tag == "br":
            out.append("\n")
        elif node.tag in ("img", "script", "style"):
            continue
        elif node.tag == "a":
            inner = _render_inline(node.children, pre=pre).strip()
            href = dict(node.attrs).get("href", "")
            out.append(f"[{inner}]({href})" if href else inner)
        elif node.tag in _BLOCK_TAGS:
            out.append("\n" + _render_inline(node.children, pre=pre) + "\n")
        else:
            out.append(_render_inline(node.children, pre=pre))
    return "".join(out)


def _text_to_html(text: str) -> str:
    """message_html of a `format: text` entry (056)."""
    escaped = html.escape(text, quote=True).replace("&#x27;", "&apos;")
    return escaped.replace("\r\n", "\n").replace("\n", "<br/>")


_URL_RE = re.compile(r"^(https?|ftps?|mailto|news|gopher|file)://[^\s/$.?#][^\s]*$", re.I)
_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


# ------------------------------------------------------------------------------------------------
# OQL: lexer, parser (015, 044) and the AST evaluated by the store
# ------------------------------------------------------------------------------------------------

_OQL_TOKEN_RE = re.compile(
    r"""(?P<ws>\s+)
    |(?P<str>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
    |(?P<num>\d+)
    |(?P<name>[A-Za-z_][A-Za-z0-9_]*)
    |(?P<quoted>`[^`]*`)
    |(?P<op>!=|<>|<=|>=|=|<|>|\(|\)|,|\.)""",
    re.X | re.S,
)
_OQL_KEYWORDS = frozenset(
    {"SELECT", "FROM", "AS", "WHERE", "JOIN", "ON", "AND", "OR", "NOT", "IN", "LIKE"}
)
#: Token names as iTop's parser reports them ("NAME" is recorded in 015, the rest inferred).
_OQL_TOKEN_NAMES = {
    "NAME": "NAME",
    "STRVAL": "STRVAL",
    "INTVAL": "INTVAL",
    "(": "PAR_OPEN",
    ")": "PAR_CLOSE",
    ",": "COMA",
    ".": "DOT",
    "=": "EQ",
    "!=": "NOT_EQ",
    "<>": "NOT_EQ",
    "<": "LT",
    ">": "GT",
    "<=": "LE",
    ">=": "GE",
    "AS": "AS_ALIAS",
    "AND": "LOG_AND",
    "OR": "LOG_OR",
}


@dataclass(frozen=True)
class _Tok:
    kind: str  # NAME, STRVAL, INTVAL, a keyword, an operator, or EOF
    text: str
    value: str
    pos: int


class _Lexer:
    """Lazy: like iTop's parser, a bad token is reported before a later bad character."""

    def __init__(self, query: str) -> None:
        self.query = query
        self.pos = 0
        self._peeked: _Tok | None = None

    def _scan(self) -> _Tok:
        while True:
            if self.pos >= len(self.query):
                return _Tok("EOF", "", "", len(self.query))
            match = _OQL_TOKEN_RE.match(self.query, self.pos)
            if match is None:
                raise _OqlError(
                    "OQLParserSyntaxErrorException",
                    f"Unexpected input at {self.pos} in '{self.query}'",
                )
            start, self.pos = self.pos, match.end()
            kind = match.lastgroup
            text = match.group(0)
            if kind == "ws":
                continue
            if kind == "str":
                return _Tok("STRVAL", text, re.sub(r"\\(.)", r"\1", text[1:-1], flags=re.S), start)
            if kind == "num":
                return _Tok("INTVAL", text, text, start)
            if kind == "quoted":
                return _Tok("NAME", text, text[1:-1], start)
            if kind == "name":
                upper = text.upper()
                return _Tok(upper if upper in _OQL_KEYWORDS else "NAME", text, text, start)
            return _Tok(text, text, text, start)

    def peek(self) -> _Tok:
        if self._peeked is None:
            self._peeked = self._scan()
        return self._peeked

    def next(self) -> _Tok:
        token = self.peek()
        self._peeked = None
        return token


@dataclass(frozen=True)
class _Field:
    alias: str | None
    code: str
    pos: int


@dataclass(frozen=True)
class _Literal:
    value: str


_Operand: TypeAlias = _Field | _Literal


@dataclass(frozen=True)
class _Compare:
    op: str  # = != < > <= >= LIKE NOT LIKE
    left: _Operand
    right: _Operand


@dataclass(frozen=True)
class _InList:
    operand: _Operand
    values: tuple[str, ...]
    negate: bool


@dataclass(frozen=True)
class _Bool:
    op: str  # AND / OR
    items: tuple[_Cond, ...]


_Cond: TypeAlias = _Compare | _InList | _Bool


@dataclass(frozen=True)
class _ClassRef:
    name: str
    alias: str
    pos: int


@dataclass(frozen=True)
class _Query:
    text: str
    selected: str  # alias of the selected class
    classes: tuple[_ClassRef, ...]
    joins: tuple[tuple[_Field, _Field], ...]
    where: _Cond | None


class _Parser:
    def __init__(self, query: str) -> None:
        self.query = query
        self.lexer = _Lexer(query)

    def fail(self, token: _Tok) -> _OqlError:
        if token.kind == "EOF":
            found = "Unexpected token End of Input - found '0' at 0"
        else:
            name = _OQL_TOKEN_NAMES.get(token.kind, token.kind)
            found = f"Unexpected token {name} - found '{token.text}' at {token.pos}"
        return _OqlError("OQLParserSyntaxErrorException", f"{found} in '{self.query}'")

    def expect(self, kind: str) -> _Tok:
        token = self.lexer.next()
        if token.kind != kind:
            raise self.fail(token)
        return token

    def accept(self, kind: str) -> _Tok | None:
        if self.lexer.peek().kind == kind:
            return self.lexer.next()
        return None

    def parse(self) -> _Query:
        self.expect("SELECT")
        first = self.expect("NAME")
        classes: list[_ClassRef] = []
        if self.accept("FROM"):
            name = self.expect("NAME")
            alias = self.expect("NAME").value if self.accept("AS") else name.value
            selected = first.value
            classes.append(_ClassRef(name.value, alias, name.pos))
        else:
            alias = self.expect("NAME").value if self.accept("AS") else first.value
            selected = alias
            classes.append(_ClassRef(first.value, alias, first.pos))
        joins = []
        while self.accept("JOIN"):
            name = self.expect("NAME")
            alias = self.expect("NAME").value if self.accept("AS") else name.value
            classes.append(_ClassRef(name.value, alias, name.pos))
            self.expect("ON")
            left = self.field(self.expect("NAME"))
            self.expect("=")
            right = self.field(self.expect("NAME"))
            joins.append((left, right))
        where = self.condition() if self.accept("WHERE") else None
        token = self.lexer.next()
        if token.kind != "EOF":
            raise self.fail(token)
        return _Query(self.query, selected, tuple(classes), tuple(joins), where)

    def field(self, first: _Tok) -> _Field:
        if self.accept("."):
            code = self.expect("NAME")
            return _Field(first.value, code.value, code.pos)
        return _Field(None, first.value, first.pos)

    def condition(self) -> _Cond:
        items = [self.conjunction()]
        while self.accept("OR"):
            items.append(self.conjunction())
        return items[0] if len(items) == 1 else _Bool("OR", tuple(items))

    def conjunction(self) -> _Cond:
        items = [self.atom()]
        while self.accept("AND"):
            items.append(self.atom())
        return items[0] if len(items) == 1 else _Bool("AND", tuple(items))

    def atom(self) -> _Cond:
        if self.accept("("):
            inner = self.condition()
            self.expect(")")
            return inner
        left = self.operand()
        token = self.lexer.next()
        if token.kind in ("=", "!=", "<>", "<", ">", "<=", ">=", "LIKE"):
            op = "!=" if token.kind == "<>" else token.kind
            return _Compare(op, left, self.operand())
        if token.kind == "NOT":
            after = self.lexer.next()
            if after.kind == "IN":
                return _InList(left, self.value_list(), True)
            if after.kind == "LIKE":
                return _Compare("NOT LIKE", left, self.operand())
            raise self.fail(after)
        if token.kind == "IN":
            return _InList(left, self.value_list(), False)
        raise self.fail(token)

    def operand(self) -> _Operand:
        token = self.lexer.next()
        if token.kind == "NAME":
            return self.field(token)
        if token.kind in ("STRVAL", "INTVAL"):
            return _Literal(token.value)
        raise self.fail(token)

    def value_list(self) -> tuple[str, ...]:
        self.expect("(")
        values = []
        while True:
            token = self.lexer.next()
            if token.kind not in ("STRVAL", "INTVAL"):
                raise self.fail(token)
            values.append(token.value)
            if self.accept(")"):
                return tuple(values)
            self.expect(",")


def _parse_oql(query: str) -> _Query:
    return _Parser(query).parse()


# ------------------------------------------------------------------------------------------------
# The fake
# ------------------------------------------------------------------------------------------------


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


_APP_FAILURE_STRINGS = frozenset({"not_rest", "invalid_login"})
_TRANSPORT_FAILURE_STRINGS = frozenset(
    {"connect_error", "timeout_before", "timeout_after", "disconnect_after"}
)
_HTML_ERROR = (
    "<!DOCTYPE html><html><head><title>{status} {reason}</title></head><body>"
    "<h1>{reason}</h1><p>The server encountered an error.</p><hr><address>Apache</address>"
    "</body></html>"
)
_HTML_LOGIN_PAGE = (
    '<!DOCTYPE html><html><head><meta charset="utf-8"><title>iTop login</title></head>'
    '<body><form method="post"><input type="text" name="auth_user">'
    '<input type="password" name="auth_pwd"><input type="submit" value="Enter iTop">'
    "</form></body></html>"
)
_COOKIE_NAMES = {
    "intercom": "itop-9d568d508d92ceef47384b67c975c1f6",
    "vanilla": "itop-7f9203c1b48cfd5082ed5d455d74c269",
}
_USER_IDS: dict[str, dict[str, int]] = {
    "intercom": {"admin": 1, "app": 2, "agent": 3, "agatha": 4, "victor": 5},
    "vanilla": {"admin": 1, "app": 4, "agent": 5, "agatha": 6, "victor": 7},
}
_NO_REST_USER_ID = 100


class FakeItop:
    """iTop 3.2.0's rest.php in memory. See the module docstring for what it implements.

    Toggles (settable at any time):

    - ``rest_token_allowed``: False = `rest-token` missing from allowed_login_types (093).
    - ``down``: `transport()` raises httpx.ConnectError before anything happens.
    - ``http_status``: answer rest.php and status.php with this status and an HTML page.
    - ``not_rest``: answer HTTP 200 with an HTML page (a wrong URL, a login page).
    - ``latency``: seconds slept after handling each request and before answering (so a client
      timeout loses the answer of a write that was applied, as with a real server).
    - ``fail_next``: a FIFO of failures, each consumed by ONE rest.php request:
      an ``int`` = that HTTP status with an HTML body; ``"not_rest"`` = HTML page with HTTP 200;
      ``"invalid_login"`` = code 1 "Error: Invalid login"; a ``dict`` = that JSON body with
      HTTP 200 (e.g. ``{"code": 100, "message": "Error: boom"}``); and, through `transport()`
      only: ``"connect_error"`` (httpx.ConnectError, the request never reaches iTop),
      ``"timeout_before"`` (httpx.ReadTimeout, never reaches iTop), ``"timeout_after"``
      (the request IS processed, then httpx.ReadTimeout), ``"disconnect_after"`` (processed,
      then httpx.RemoteProtocolError), or an exception instance to raise before sending.
      Injected answers are recorded in ``calls`` (with ``injected`` set) but not processed.
    - ``calls``: one dict per rest.php request that reached the fake (HTTP only, not `api()`):
      ``{"method", "operation", "json_data" (decoded or None), "user" (login or None),
      "version", "injected"}``.
    - ``clock``: returns the current time (aware datetime); dates are stored in Europe/Paris.
    - ``sessions``: the PHP sessions of in-flight calls; a call whose session cookie is held by
      another call in flight is refused with code 1 "Invalid login", as a real iTop does
      (``sessions.refused`` counts them; see `tests.fakes.itop_sessions`).
    """

    def __init__(
        self,
        *,
        instance: Instance = "intercom",
        latency: float = 0.0,
        seed: Seed = "lab",
    ) -> None:
        if instance not in ("intercom", "vanilla"):
            raise ValueError(f"unknown instance {instance!r}")
        self.instance: Instance = instance
        self.latency = latency
        self.rest_token_allowed = True
        self.down = False
        self.http_status: int | None = None
        self.not_rest = False
        self.fail_next: list[Failure] = []
        self.calls: list[dict[str, Any]] = []
        self.sessions = PhpSessions(_COOKIE_NAMES[instance])
        self.clock: Callable[[], datetime] = lambda: datetime.now(TIMEZONE)
        self._model = _build_model(instance)
        self._filter_code_cache: dict[str, list[str]] = {}
        self._rows: dict[str, dict[int, Row]] = {
            name: {} for name, klass in self._model.items() if not klass.abstract
        }
        self._next_id: dict[str, int] = {}
        self._ref_counter = 0
        self._tokens: dict[str, int] = {}
        self._seed(seed)

    # -- public helpers -----------------------------------------------------------------------

    @property
    def default_version(self) -> str:
        """The API version the lab used for this instance (README): 1.4 intercom, 1.3 vanilla."""
        return "1.4" if self.instance == "intercom" else "1.3"

    @property
    def app(self) -> Callable[..., Awaitable[None]]:
        """The ASGI application (POST/GET /webservices/rest.php, GET /webservices/status.php)."""
        return self._asgi

    def transport(self) -> httpx.AsyncBaseTransport:
        """An httpx transport to the ASGI app honouring `down`, `fail_next` and read timeouts."""
        return _FakeTransport(self)

    def now(self) -> datetime:
        return self.clock().astimezone(TIMEZONE)

    def api(
        self, payload: Mapping[str, Any], *, token: str = ADMIN_TOKEN, version: str | None = None
    ) -> dict[str, Any]:
        """Run one REST call in process (no HTTP, no latency, not recorded in `calls`)."""
        params = {
            "version": version or self.default_version,
            "json_data": json.dumps(payload),
            "auth_token": token,
        }
        reply = self._rest(params, {}, None)
        body: dict[str, Any] = json.loads(reply.body)
        return body

    def add_person(
        self,
        first_name: str,
        name: str,
        email: str,
        org_id: int = 3,
        status: str = "active",
        **fields: Any,
    ) -> int:
        values = {
            "first_name": first_name,
            "name": name,
            "email": email,
            "org_id": org_id,
            "status": status,
            **fields,
        }
        return self._helper_create("Person", values)

    def add_user(
        self,
        login: str,
        contactid: int,
        profiles: Iterable[str] = ("Portal user",),
        finalclass: str = "UserLocal",
        *,
        password: str = TEST_USER_PASSWORD,
        token: str | None = None,
        status: str = "enabled",
    ) -> int:
        """A User (UserLocal with `password`, or UserToken with `token`); returns its id."""
        if finalclass not in ("UserLocal", "UserToken"):
            raise ValueError("finalclass must be UserLocal or UserToken")
        if self._user_by_login(login) is not None:
            raise ValueError(f"login {login!r} already exists")
        links = []
        for profile in profiles:
            row = self._find_by("URP_Profiles", "name", profile)
            if row is None:
                raise ValueError(f"unknown profile {profile!r}")
            links.append({"profileid": row["id"], "reason": ""})
        values: dict[str, Any] = {
            "login": login,
            "contactid": contactid,
            "status": status,
            "profile_list": links,
        }
        if finalclass == "UserLocal":
            values["password"] = password
        row = self._new_row(finalclass)
        row.update(values)
        issues = self._check(row, None)
        if issues:
            raise ValueError("; ".join(issues))
        row["id"] = self._allocate_id("User")
        self._store(row)
        if finalclass == "UserToken":
            self._tokens[token or f"{login}-token"] = row["id"]
        return int(row["id"])

    def add_ticket(self, **fields: Any) -> int:
        """A UserRequest created like core/create by the admin token user; returns its id.

        Defaults: org Demo (3), caller Agatha Christie (15), a title and a description. `ref`,
        `status`, dates... may be given; values accept the REST input forms.
        """
        values = {
            "org_id": 3,
            "caller_id": 15,
            "title": f"Ticket created by the fake #{self._ref_counter + 1}",
            "description": "<p>Created by the test fake.</p>",
            **fields,
        }
        return self._helper_create("UserRequest", values)

    def add_object(self, class_name: str, *, object_id: int | None = None, **fields: Any) -> int:
        """An object of any concrete class, created like core/create by the admin token user
        (REST input forms, defaults and checks); returns its id. `object_id` gives it that id
        instead of the next one of its family (ids then continue after it), e.g. to mirror
        known data; it must be free. Raises ValueError when iTop would refuse the object.
        """
        klass = self._model.get(class_name)
        if klass is None or klass.abstract:
            raise ValueError(f"{class_name!r} is not a concrete class of this fake")
        if object_id is not None:
            if object_id < 1:
                raise ValueError(f"invalid object id {object_id}")
            family = [n for n, k in self._model.items() if k.family == klass.family]
            if any(object_id in self._rows.get(name, {}) for name in family):
                raise ValueError(f"{klass.family} id {object_id} is already used")
        return self._helper_create(class_name, fields, object_id)

    def ticket(self, ticket_id: int) -> dict[str, Any]:
        """Every attribute of a UserRequest as core/get '*' shows it, plus its "id"."""
        row = self._rows["UserRequest"].get(int(ticket_id))
        if row is None:
            raise KeyError(f"no UserRequest {ticket_id}")
        fields = {"id": str(row["id"])}
        fields.update({code: self._render(row, code, "read") for code in self._attrs_of(row)})
        return fields

    def log_entries(self, ticket_id: int, attcode: str = "public_log") -> list[dict[str, Any]]:
        """The case-log entries of a ticket, in insertion order, as REST returns them."""
        row = self._rows["UserRequest"].get(int(ticket_id))
        if row is None:
            raise KeyError(f"no UserRequest {ticket_id}")
        return copy.deepcopy(list(row[attcode]))

    def attachments(self, ticket_id: int) -> list[dict[str, Any]]:
        """Attachments of a UserRequest: id, filename, mimetype, data (base64), content
        (bytes), user_id, contact_id, creation_date."""
        out = []
        for row in sorted(self._rows["Attachment"].values(), key=lambda r: int(r["id"])):
            if row["item_class"] != "UserRequest" or int(row["item_id"]) != int(ticket_id):
                continue
            blob = row["contents"] or {}
            content = bytes(blob.get("data", b""))
            out.append(
                {
                    "id": int(row["id"]),
                    "filename": str(blob.get("filename", "")),
                    "mimetype": str(blob.get("mimetype", "")),
                    "data": base64.b64encode(content).decode("ascii"),
                    "content": content,
                    "user_id": int(row["user_id"]),
                    "contact_id": int(row["contact_id"]),
                    "creation_date": str(row["creation_date"]),
                }
            )
        return out

    def remove(self, class_name: str, object_id: int) -> None:
        """Delete an object without any check (test setup)."""
        row = self._find(class_name, int(object_id))
        if row is None:
            raise KeyError(f"no {class_name} {object_id}")
        del self._rows[row["_class"]][int(object_id)]
        self._tokens = {
            t: uid
            for t, uid in self._tokens.items()
            if uid != int(object_id) or self._model[row["_class"]].family != "User"
        }

    def serve_in_thread(
        self, port: int = 0, host: str = "127.0.0.1"
    ) -> tuple[str, Callable[[], None]]:
        """Serve the fake on real loopback HTTP with uvicorn in a daemon thread.

        Returns (base_url, stop); the REST URL is base_url + "/webservices/rest.php".
        `down` and the transport-level `fail_next` entries only apply to `transport()`.
        """
        import uvicorn

        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        config = uvicorn.Config(
            self.app,
            log_level="warning",
            access_log=False,
            lifespan="off",
            loop="asyncio",
            interface="asgi3",
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name="fake-itop", daemon=True
        )
        thread.start()
        deadline = time.monotonic() + 10
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                sock.close()
                raise RuntimeError("the fake iTop server did not start")
            time.sleep(0.01)
        bound_port = sock.getsockname()[1]

        def stop() -> None:
            server.should_exit = True
            thread.join(timeout=10)
            sock.close()

        return f"http://{host}:{bound_port}", stop

    # -- seed data ----------------------------------------------------------------------------

    def _seed(self, seed: Seed) -> None:
        for oid, name, code in (
            (1, "My Company/Department", "SOMECODE"),
            (2, "IT Department", ""),
            (3, "Demo", ""),
        ):
            self._seed_row("Organization", oid, name=name, code=code)
        for pid, name in _PROFILES:
            self._seed_row("URP_Profiles", pid, name=name, description=name)
        persons = [
            (1, "My first name", "My last name", "my.email@foo.org", 1, ""),
            (2, "Jules", "Verne", "jules.verne@it.com", 2, ""),
            (5, "Marcel", "Proust", "marcel.proust@it.com", 2, ""),
            (6, "Claude", "Monet", "claude.monet@demo.com", 3, ""),
            (7, "Victor", "Hugo", "victor.hugo@it.com", 2, ""),
            (15, "Agatha", "Christie", "agatha.christie@demo.com", 3, ""),
            (16, "Pablo", "Picasso", "pablo.picasso@demo.com", 3, ""),
            (17, "Frida", "Kahlo", "frida.kahlo@demo.com", 3, ""),
            (18, "Vincent", "Van Gogh", "vincent.van-gogh@demo.com", 3, ""),
        ]
        if seed == "lab":
            persons += [
                (40, "Claude", "Monet-Duplicate", "claude.monet@demo.com", 3, ""),
                (41, "Conan", "O'Brien", "conan.o'brien@demo.com", 3, "+33 1 23 45 67 89"),
            ]
        for cid, first, last, mail, org, phone in persons:
            self._seed_row(
                "Person", cid, first_name=first, name=last, email=mail, org_id=org, phone=phone
            )
        self._seed_row("Team", 37, name="Helpdesk", org_id=2, email="helpdesk@it.com")
        self._seed_row("Team", 38, name="Level 2 support", org_id=2, email="support@it.com")
        self._seed_row("Service", 1, name="Computers and peripherals", org_id=2)
        self._seed_row("ServiceSubcategory", 1, name="New desktop ordering", service_id=1)
        ids = _USER_IDS[self.instance]

        def user(
            uid: int, finalclass: str, login: str, contact: int, profiles: list[int], **extra: Any
        ) -> None:
            links = [{"profileid": p, "reason": ""} for p in profiles]
            self._seed_row(
                finalclass, uid, login=login, contactid=contact, profile_list=links, **extra
            )

        user(ids["admin"], "UserLocal", WEB_ADMIN_LOGIN, 1, [1], password=WEB_ADMIN_PASSWORD)
        user(ids["app"], "UserToken", "intercom_sync_app", 0, [1, 1024])
        user(ids["agent"], "UserToken", "intercom_sync_agent", 0, [1024, 4])
        user(_NO_REST_USER_ID, "UserToken", "intercom_sync_norest", 0, [1])
        self._tokens = {
            ADMIN_TOKEN: ids["app"],
            AGENT_TOKEN: ids["agent"],
            NO_REST_TOKEN: _NO_REST_USER_ID,
        }
        if seed == "lab":
            user(
                ids["agatha"], "UserLocal", "agatha.christie", 15, [2], password=TEST_USER_PASSWORD
            )
            user(ids["victor"], "UserLocal", "victor.hugo", 7, [4, 5], password=TEST_USER_PASSWORD)
        for name, klass in self._model.items():
            if klass.abstract:
                continue
            existing = [i for i in self._rows[name] if i != _NO_REST_USER_ID]
            family = klass.family
            self._next_id[family] = max(self._next_id.get(family, 1), max(existing, default=0) + 1)
        self._next_id["Contact"] = 42 if seed == "lab" else 40

    def _seed_row(self, class_name: str, object_id: int, **values: Any) -> None:
        row = self._new_row(class_name)
        row.update(values)
        row["id"] = object_id
        self._store(row)

    # -- storage ------------------------------------------------------------------------------

    def _new_row(self, class_name: str) -> Row:
        row: Row = {"_class": class_name, "id": 0}
        for attr in self._model[class_name].attrs.values():
            if attr.kind in _COMPUTED_KINDS:
                continue
            if attr.kind == "extkey" or attr.kind in ("int", "objkey"):
                row[attr.code] = 0
            elif attr.kind in ("caselog", "linkset"):
                row[attr.code] = []
            elif attr.kind in ("blob", "image"):
                row[attr.code] = None
            elif attr.kind == "language":
                row[attr.code] = "EN US"
            elif attr.kind == "enum":
                row[attr.code] = attr.default or ""
            else:
                row[attr.code] = ""
        return row

    def _store(self, row: Row) -> None:
        self._rows[row["_class"]][int(row["id"])] = row

    def _allocate_id(self, family: str) -> int:
        value = self._next_id.get(family, 1)
        self._next_id[family] = value + 1
        return value

    def _is_a(self, name: str, ancestor: str) -> bool:
        current: str | None = name
        while current is not None:
            if current == ancestor:
                return True
            current = self._model[current].parent
        return False

    def _concrete(self, name: str) -> list[str]:
        return [n for n, k in self._model.items() if not k.abstract and self._is_a(n, name)]

    def _rows_of(self, name: str) -> list[Row]:
        return [row for concrete in self._concrete(name) for row in self._rows[concrete].values()]

    def _find(self, name: str, object_id: int) -> Row | None:
        for concrete in self._concrete(name):
            row = self._rows[concrete].get(object_id)
            if row is not None:
                return row
        return None

    def _find_by(self, name: str, code: str, value: str) -> Row | None:
        for row in self._rows_of(name):
            if row.get(code) == value:
                return row
        return None

    def _user_by_login(self, login: str) -> Row | None:
        for row in self._rows_of("User"):
            if _collate(str(row["login"])) == _collate(login):
                return row
        return None

    def _attrs_of(self, row: Row) -> list[str]:
        return list(self._model[row["_class"]].attrs)

    def _filter_codes(self, name: str) -> list[str]:
        if name not in self._filter_code_cache:
            self._filter_code_cache[name] = _filter_codes(self._model[name])
        return self._filter_code_cache[name]

    def _sorted(self, class_name: str, rows: Iterable[Row]) -> list[Row]:
        order = self._model[class_name].order
        unique = {(r["_class"], r["id"]): r for r in rows}.values()
        if order == "ref_desc":
            return sorted(
                unique, key=lambda r: (_collate(str(r.get("ref", ""))), r["id"]), reverse=True
            )
        if order == "id":
            return sorted(unique, key=lambda r: int(r["id"]))
        return sorted(unique, key=lambda r: (_collate(self._friendlyname(r)), int(r["id"])))

    # -- users and rights ---------------------------------------------------------------------

    def _profiles(self, user: Row) -> set[str]:
        names = set()
        for link in user.get("profile_list", []):
            profile = self._find("URP_Profiles", int(link["profileid"]))
            if profile is not None:
                names.add(str(profile["name"]))
        return names

    def _is_admin(self, user: Row) -> bool:
        return "Administrator" in self._profiles(user)

    def _display_name(self, user: Row) -> str:
        """UserRights::GetUserFriendlyName: the Person's "First Last", else the login."""
        person = self._find("Person", int(user.get("contactid") or 0))
        if person is not None:
            return f"{person['first_name']} {person['name']}"
        return str(user["login"])

    def _can_read(self, user: Row, class_name: str) -> bool:
        return self._is_admin(user) or self._model[class_name].family not in _ADMIN_READ_FAMILIES

    def _can_write(self, user: Row, class_name: str) -> bool:
        return self._is_admin(user) or self._model[class_name].family in _AGENT_WRITE_FAMILIES

    def _admin_row(self) -> Row:
        row = self._find("User", _USER_IDS[self.instance]["app"])
        if row is None:  # pragma: no cover - the seed always has it
            raise RuntimeError("the admin token user is missing")
        return row

    # -- rendering (quirks 7 and 9) -----------------------------------------------------------

    def _friendlyname(self, row: Row) -> str:
        klass = self._model[row["_class"]]
        if klass.name == "URP_UserProfile":
            user = self._find("User", int(row["userid"]))
            profile = self._find("URP_Profiles", int(row["profileid"]))
            login = user["login"] if user else ""
            name = profile["name"] if profile else ""
            return f"Link between {login} and {name}"
        parts = []
        for code in klass.name_attrs:
            attr = klass.attrs[code]
            if attr.kind == "extkey":  # a link class: named after the objects it links
                target = self._find(attr.target, int(row.get(code) or 0))
                parts.append(self._friendlyname(target) if target is not None else "")
            else:
                parts.append(_php_str(self._render(row, code, "read")))
        return " ".join(parts)

    def _render(self, row: Row, code: str, mode: str) -> Any:
        """One output value. `mode`: "get" (core/get with an explicit list), "read" (core/get
        '*', helpers), "write" (update answers) or "create" (create answers)."""
        if code == "id":
            return str(row["id"])
        klass = self._model[row["_class"]]
        attr = klass.attrs[code]
        kind = attr.kind
        if kind == "extfield":
            return self._render_external(klass, attr, row, mode)
        if kind == "friendlyname":
            return self._friendlyname(row)
        if kind == "finalclass":
            return klass.name
        if kind == "metaenum":
            status = row.get("status", "")
            if status in ("resolved",):
                return "resolved"
            if status in ("closed", "rejected"):
                return "closed"
            return "ongoing"
        if kind == "stopwatch":
            return 0
        if kind == "subitem":
            return attr.default
        if kind in ("obsflag", "obsdate", "dashboard", "enumset", "duration", "password"):
            return ""
        if kind in ("extkey", "int", "objkey"):
            return str(int(row.get(code) or 0))
        if kind == "caselog":
            return {"entries": copy.deepcopy(list(row.get(code) or []))}
        if kind == "linkset":
            if code == "profile_list":
                return [self._render_profile_link(row, link) for link in row.get(code) or []]
            return []
        if kind in ("blob", "image"):
            blob = row.get(code) or {}
            return {
                "data": base64.b64encode(bytes(blob.get("data", b""))).decode("ascii"),
                "mimetype": str(blob.get("mimetype", "")),
                "filename": str(blob.get("filename", "")),
                "downloads_count": int(blob.get("downloads_count", 0)),
            }
        value = row.get(code)
        return "" if value is None else str(value)

    def _render_external(self, klass: _Class, attr: _Attr, row: Row, mode: str) -> Any:
        key_attr = klass.attrs[attr.key]
        target_id = int(row.get(attr.key) or 0)
        target = self._find(key_attr.target, target_id) if target_id else None
        if target is None:
            if attr.remote == "friendlyname" and mode == "get":
                # 040: " " when the friendlyname is made of several attributes (Person)
                return " " * (len(self._model[key_attr.target].name_attrs) - 1)
            if attr.remote == "finalclass":
                return attr.default if mode == "create" else ""  # 038 vs 039
            return "0" if attr.default == 0 else ""
        if attr.remote.endswith("obsolescence_flag"):
            return ""
        value = self._render(target, attr.remote, "read")
        return value

    def _render_profile_link(self, user: Row, link: Mapping[str, Any]) -> dict[str, Any]:
        profile = self._find("URP_Profiles", int(link["profileid"]))
        name = str(profile["name"]) if profile else ""
        return {
            "profileid": str(int(link["profileid"])),
            "profile": name,
            "reason": str(link.get("reason", "")),
            "friendlyname": f"Link between {user['login']} and {name}",
            "profileid_friendlyname": name,
        }

    def _filter_value(self, row: Row, code: str) -> str:
        if code == "id":
            return str(row["id"])
        if code not in self._model[row["_class"]].attrs:
            return ""  # stopwatch sub-codes
        value = self._render(row, code, "read")
        if isinstance(value, str):
            return value
        if value is None:
            return ""
        if isinstance(value, bool | int | float):
            return str(value)
        return json.dumps(value)

    def _fields_for(self, row: Row, spec: _FieldSpec | None) -> list[str]:
        if spec is None:
            return ["id", "friendlyname"]
        if spec.extended:
            return self._attrs_of(row)
        if self._is_a(row["_class"], spec.class_name):
            if spec.fields is None:
                return list(self._model[spec.class_name].attrs)
            return list(spec.fields)
        return ["id", "friendlyname"]

    def _object_result(
        self, row: Row, message: str, spec: _FieldSpec | None, mode: str
    ) -> tuple[str, dict[str, Any]]:
        fields = {code: self._render(row, code, mode) for code in self._fields_for(row, spec)}
        return f"{row['_class']}::{row['id']}", {
            "code": 0,
            "message": message,
            "class": row["_class"],
            "key": str(row["id"]),
            "fields": fields,
        }

    # -- searching ----------------------------------------------------------------------------

    def _run_oql(self, text: str) -> tuple[str, list[Row]]:
        """Parse, normalise and evaluate an OQL query; raises _OqlError."""
        query = _parse_oql(text)
        aliases: dict[str, str] = {}
        for ref in query.classes:
            if ref.name not in self._model:
                raise _OqlError(
                    "OqlNormalizeException",
                    f"Unknown class - found '{ref.name}' at {ref.pos} in '{text}', expecting "
                    f"{{{', '.join(sorted(self._model))}}}, I would suggest to use "
                    f"'{_suggest(ref.name, list(self._model))}'",
                )
            aliases[ref.alias] = ref.name
        main_alias = query.classes[0].alias
        if query.selected not in aliases:
            raise _OqlError(
                "OqlNormalizeException",
                f"Unknown class alias - found '{query.selected}' at 7 in '{text}', expecting "
                f"{{{', '.join(aliases)}}}, I would suggest to use ''",
            )

        def check(item: _Field) -> None:
            alias = item.alias or main_alias
            if alias not in aliases:
                raise _OqlError(
                    "OqlNormalizeException",
                    f"Unknown class alias - found '{alias}' at {item.pos} in '{text}', "
                    f"expecting {{{', '.join(aliases)}}}, I would suggest to use ''",
                )
            codes = self._filter_codes(aliases[alias])
            if item.code not in codes:
                raise _OqlError(
                    "OqlNormalizeException",
                    f"Unknown filter code - found '{item.code}' at {item.pos} in '{text}', "
                    f"expecting {{{', '.join(codes)}}}, I would suggest to use "
                    f"'{_suggest(item.code, codes)}'",
                )

        for left, right in query.joins:
            check(left)
            check(right)
        for item in _fields_of(query.where):
            check(item)

        def value(operand: _Operand, env: Mapping[str, Row]) -> str:
            if isinstance(operand, _Literal):
                return operand.value
            return self._filter_value(env[operand.alias or main_alias], operand.code)

        def holds(cond: _Cond, env: Mapping[str, Row]) -> bool:
            if isinstance(cond, _Bool):
                results = (holds(item, env) for item in cond.items)
                return all(results) if cond.op == "AND" else any(results)
            if isinstance(cond, _InList):
                found = any(_sql_equal(value(cond.operand, env), v) for v in cond.values)
                return found != cond.negate
            left, right = value(cond.left, env), value(cond.right, env)
            if cond.op == "=":
                return _sql_equal(left, right)
            if cond.op == "!=":
                return not _sql_equal(left, right)
            if cond.op == "LIKE":
                return _sql_like(left, right)
            if cond.op == "NOT LIKE":
                return not _sql_like(left, right)
            order = _sql_compare(left, right)
            return {"<": order < 0, ">": order > 0, "<=": order <= 0, ">=": order >= 0}[cond.op]

        def combinations(index: int, env: dict[str, Row]) -> Iterator[dict[str, Row]]:
            if index == len(query.classes):
                yield env
                return
            ref = query.classes[index]
            for row in self._rows_of(ref.name):
                candidate = {**env, ref.alias: row}
                if index > 0:
                    left, right = query.joins[index - 1]
                    if not _sql_equal(value(left, candidate), value(right, candidate)):
                        continue
                yield from combinations(index + 1, candidate)

        selected_class = aliases[query.selected]
        found = [
            env[query.selected]
            for env in combinations(0, {})
            if query.where is None or holds(query.where, env)
        ]
        return selected_class, self._sorted(selected_class, found)

    def _criteria(
        self, class_name: str, criteria: Mapping[str, Any], caller: Row, *, check_parent: bool
    ) -> tuple[str, list[tuple[str, str]], list[str]]:
        final = criteria.get("finalclass")
        if final is not None:
            final_name = _php_str(final)
            if final_name not in self._model:
                raise _ApiError(f"finalclass: Unknown class '{final_name}'")
            if check_parent and not self._is_a(final_name, class_name):
                raise _ApiError(
                    f"finalclass: '{final_name}' is not a child class of '{class_name}'"
                )
            class_name = final_name
        conditions = []
        report = []
        for code, raw in criteria.items():
            real = self._make_value(class_name, code, raw, caller)
            shown = (
                json.dumps(raw, separators=(",", ":"))
                if isinstance(raw, dict | list)
                else (_php_str(raw))
            )
            conditions.append((code, _php_str(real)))
            report.append(f"{code}: {shown} ({_php_str(real)})")
        return class_name, conditions, report

    def _matching(self, class_name: str, conditions: list[tuple[str, str]]) -> list[Row]:
        rows = [
            row
            for row in self._rows_of(class_name)
            if all(_sql_equal(self._filter_value(row, code), v) for code, v in conditions)
        ]
        return self._sorted(class_name, rows)

    def _object_set_from_key(self, class_name: str, key: Any, caller: Row) -> tuple[str, list[Row]]:
        """RestUtils::GetObjectSetFromKey."""
        if isinstance(key, dict):
            target, conditions, _ = self._criteria(class_name, key, caller, check_parent=False)
            return target, self._matching(target, conditions)
        if _is_numeric(key):
            row = self._find(class_name, int(float(key)))
            return class_name, [] if row is None else [row]
        if isinstance(key, str):
            try:
                return self._run_oql(key)
            except _OqlError as exc:
                raise _ApiError(
                    f"Query failed to execute: query = {key}, exception_class = "
                    f"{exc.exception_class}, exception_message = {exc.message}"
                ) from None
        raise _ApiError("Wrong format for key")

    def _find_object_from_key(
        self, class_name: str, key: Any, caller: Row, *, allow_null: bool = False
    ) -> Row | None:
        """RestUtils::FindObjectFromKey: exactly one object (or None for 0 when allowed)."""
        if isinstance(key, dict):
            target, conditions, report = self._criteria(class_name, key, caller, check_parent=True)
            rows = self._matching(target, conditions)
            if not rows:
                raise _ApiError(f"No item found with criteria: {', '.join(report)}")
            if len(rows) > 1:
                raise _ApiError(
                    f"Several items found ({len(rows)}) with criteria: {', '.join(report)}"
                )
            return rows[0]
        if _is_numeric(key):
            number = int(float(key))
            if allow_null and float(key) == 0:
                return None
            row = self._find(class_name, number)
            if row is None:
                raise _ApiError(f"Invalid object {class_name}::{_php_str(key).strip()}")
            return row
        if isinstance(key, str):
            try:
                _, rows = self._run_oql(key)
            except _OqlError as exc:
                raise _ApiError(exc.message) from None
            if not rows:
                raise _ApiError(f"No item found for query: {key}")
            if len(rows) > 1:
                raise _ApiError(f"Several items found ({len(rows)}) for query: {key}")
            return rows[0]
        raise _ApiError("Wrong format for key")

    # -- values (RestUtils::MakeValue and the attribute definitions) --------------------------

    def _make_value(self, class_name: str, code: str, value: Any, caller: Row) -> Any:
        try:
            attr = self._model[class_name].attrs.get(code)
            if attr is None:
                raise _ApiError("Unknown attribute")
            return self._value_for(class_name, attr, value, caller)
        except _ApiError as exc:
            raise exc.prefixed(code) from None

    def _value_for(self, class_name: str, attr: _Attr, value: Any, caller: Row) -> Any:
        kind = attr.kind
        if kind == "extkey":
            target = self._find_object_from_key(attr.target, value, caller, allow_null=True)
            return 0 if target is None else int(target["id"])
        if kind == "linkset":
            if not isinstance(value, list):
                raise _ApiError("A link set must be defined by an array of objects")
            if attr.code != "profile_list":
                return []  # other link sets are accepted and ignored by this fake
            links = []
            for item in value:
                link = {"profileid": 0, "reason": ""}
                if isinstance(item, dict):
                    for link_code, link_value in item.items():
                        if link_code == "userid":
                            continue
                        real = self._make_value("URP_UserProfile", link_code, link_value, caller)
                        link[link_code] = real
                if link["profileid"]:
                    links.append(link)
            return links
        if kind == "caselog":
            return self._case_log_change(value, caller)
        if kind in ("datetime", "date"):
            return _date_attribute_value(attr.code, value, self.now())
        if kind == "blob":
            return _blob(value)
        if kind in ("int", "objkey"):
            return _php_int(value)
        if kind == "html":
            text = _php_str(value)
            return _sanitize_html(text) if text.strip() else text
        return _php_str(value)

    def _case_log_change(self, value: Any, caller: Row) -> _LogChange:
        if isinstance(value, dict):
            if value.get("items") is not None:
                items = value["items"] if isinstance(value["items"], list) else []
                entries = [self._log_entry(item, caller, check_user=False) for item in items]
                return _LogChange(True, tuple(entries))
            if value.get("add_item") is not None:
                return _LogChange(False, (self._log_entry(value["add_item"], caller),))
            return _LogChange(False, ())
        return _LogChange(False, (self._log_entry({"message": _php_str(value)}, caller),))

    def _log_entry(self, item: Any, caller: Row, *, check_user: bool = True) -> dict[str, Any]:
        """ormCaseLog::AddLogEntryFromJSON (050-060)."""
        data: Mapping[str, Any] = item if isinstance(item, dict) else {}
        message = _php_str(data.get("message"))
        text_format = _php_str(data["format"]) if data.get("format") is not None else "html"
        user_id: str | int
        if data.get("user_id") is not None:
            if not self._is_admin(caller):
                raise _ApiError("Only administrators can set the user id", code=1)
            raw = data["user_id"]
            loose_zero = raw is False or (_is_numeric(raw) and float(raw) == 0)
            if check_user and not loose_zero:
                try:
                    user = self._find_object_from_key("User", raw, caller)
                except _ApiError as exc:
                    raise exc.prefixed("user_id") from None
                assert user is not None
                user_id = str(user["id"])
                login = self._display_name(user)
            else:
                user_id = 0 if loose_zero else _php_str(raw)
                login = _php_str(data.get("user_login"))
        else:
            user_id = str(caller["id"])
            login = self._display_name(caller)
        now = self.now()
        moment = (
            _parse_php_date(_php_str(data["date"]), now) if data.get("date") is not None else (now)
        )
        if text_format == "text":
            message_html, plain = _text_to_html(message), message
        else:
            message_html = _sanitize_html(message) if message.strip() else message
            plain = _html_to_text(message_html)
        return {
            "date": _format_date(moment),
            "user_login": login,
            "user_id": user_id,
            "message": plain,
            "message_html": message_html,
        }

    def _apply_fields(self, row: Row, fields: Any, caller: Row) -> set[str]:
        """RestUtils::MakeObjectFromFields / UpdateObjectFromFields on `row` (a working copy)."""
        class_name = row["_class"]
        if isinstance(fields, dict):
            items: list[tuple[str, Any]] = list(fields.items())
        elif isinstance(fields, list):
            items = [(str(index), value) for index, value in enumerate(fields)]
        else:
            items = []
        changed: set[str] = set()
        for code, value in items:
            real = self._make_value(class_name, code, value, caller)
            attr = self._model[class_name].attrs[code]
            if attr.kind in _COMPUTED_KINDS or not attr.writable:
                raise _ApiError(
                    f"Attempting to set the value on the read-only attribute {class_name}::{code}"
                ).prefixed(code)
            if isinstance(real, _LogChange):
                current = [] if real.replace else list(row[code])
                row[code] = current + [dict(entry) for entry in real.entries]
                if real.entries or real.replace:
                    changed.add(code)
                continue
            row[code] = real
            changed.add(code)
        return changed

    # -- writing (DBInsert / DBUpdate) --------------------------------------------------------

    def _check(self, row: Row, only: set[str] | None) -> list[str]:
        """DoCheckToWrite: NOT NULL, enums, sizes, formats (029, 031, 032, 100, 101)."""
        klass = self._model[row["_class"]]
        issues = []
        for attr in klass.attrs.values():
            if only is not None and attr.code not in only:
                continue
            kind = attr.kind
            if kind in _COMPUTED_KINDS or kind in ("linkset", "caselog", "image", "enumset"):
                continue
            if kind == "password" and attr.code != "password":
                continue
            value = row.get(attr.code)
            reason = None
            if _is_null(kind, value):
                if not attr.null:
                    reason = "Null not allowed"
            elif kind == "enum" and value not in attr.values:
                reason = f"Value not allowed [{value}]"
            elif kind in _STRING_KINDS or kind == "enum":
                limit = attr.size or (65535 if kind in ("text", "html") else 255)
                if len(str(value)) > limit:
                    reason = f"String too long (found {len(str(value))}, limited to {limit})"
                elif (kind == "url" and not _URL_RE.match(str(value))) or (
                    kind == "email" and not _EMAIL_RE.match(str(value))
                ):
                    reason = f"Wrong format [{value}]"
            if reason:
                issues.append(
                    f"Unexpected value for attribute '{attr.label}' ({attr.code}) : {reason}"
                )
        profiles_checked = only is None or "profile_list" in only
        if klass.family == "User" and profiles_checked and not row.get("profile_list"):
            issues.append("At least one profile must be assigned to this user.")
        return issues

    def _compute(self, row: Row) -> None:
        if row["_class"] == "UserRequest":
            row["priority"] = _PRIORITY.get(row["impact"], {}).get(row["urgency"], row["priority"])

    def _insert(self, row: Row, caller: Row, object_id: int | None = None) -> None:
        now = _format_date(self.now())
        if row["_class"] == "UserRequest":
            if not row["ref"]:
                self._ref_counter += 1  # consumed even when the checks below fail (029)
                row["ref"] = f"R-{self._ref_counter:06d}"
            row["start_date"] = row["start_date"] or now
            row["last_update"] = now
        if row["_class"] == "Attachment":
            row["creation_date"] = row["creation_date"] or now
            row["expire"] = row["expire"] or _format_date(self.now() + timedelta(hours=1))
            row["user_id"] = row["user_id"] or int(caller["id"])
            row["contact_id"] = row["contact_id"] or int(caller.get("contactid") or 0)
        self._compute(row)
        issues = self._check(row, None)
        if issues:
            raise _cannot_save(issues, row["_class"], -1)
        family = self._model[row["_class"]].family
        if object_id is None:
            row["id"] = self._allocate_id(family)
        else:
            row["id"] = object_id
            self._next_id[family] = max(self._next_id.get(family, 1), object_id + 1)
        self._store(row)

    def _update(self, row: Row, changed: set[str], caller: Row, comment: str) -> None:
        if row["_class"] == "UserRequest":
            row["last_update"] = _format_date(self.now())
            changed = changed | {"last_update"}
        self._compute(row)
        issues = self._check(row, changed)
        if issues:
            raise _cannot_save(issues, row["_class"], int(row["id"]))
        self._store(row)
        klass = self._model[row["_class"]]
        for code in sorted(changed, key=list(klass.attrs).index):
            if klass.attrs[code].kind == "caselog":
                self._record_case_log_change(row, code, caller, comment)

    def _record_case_log_change(self, row: Row, code: str, caller: Row, comment: str) -> None:
        op = self._new_row("CMDBChangeOpSetAttributeCaseLog")
        op.update(
            date=_format_date(self.now()),
            userinfo=comment,
            user_id=int(caller["id"]),
            objclass=row["_class"],
            objkey=int(row["id"]),
            attcode=code,
            lastentry=max(len(row[code]) - 1, 0),
        )
        op["id"] = self._allocate_id("CMDBChangeOp")
        self._store(op)

    def _helper_create(
        self, class_name: str, values: Mapping[str, Any], object_id: int | None = None
    ) -> int:
        caller = self._admin_row()
        row = self._new_row(class_name)
        try:
            self._apply_fields(row, dict(values), caller)
            self._insert(row, caller, object_id)
        except _ApiError as exc:
            raise ValueError(exc.message) from None
        return int(row["id"])

    # -- operations (CoreServices::ExecOperation) ---------------------------------------------

    def _op_list_operations(self, version: str) -> dict[str, Any]:
        return {
            "code": 0,
            "message": f"Operations: {len(_VERBS)}",
            "version": version,
            "operations": [
                {"verb": verb, "description": text, "extension": "CoreServices"}
                for verb, text in _VERBS
            ],
        }

    def _class_param(self, params: Mapping[str, Any]) -> str:
        name = _php_str(_mandatory(params, "class"))
        if name not in self._model:
            raise _ApiError(f"class: '{name}' is not a valid class'")  # sic (043)
        return name

    def _field_spec(self, class_name: str, params: Mapping[str, Any]) -> _FieldSpec:
        raw = params.get("output_fields")
        text = "*" if raw is None else _php_str(raw)
        if text == "*":
            return _FieldSpec(class_name, None)
        if text == "*+":
            return _FieldSpec(class_name, None, extended=True)
        codes = []
        for part in text.split(","):
            code = part.strip()
            if code != "id" and code not in self._model[class_name].attrs:
                raise _ApiError(f"output_fields: invalid attribute code '{code}'")
            codes.append(code)
        return _FieldSpec(class_name, tuple(codes))

    def _op_get(self, params: Mapping[str, Any], caller: Row) -> dict[str, Any]:
        class_name = self._class_param(params)
        key = _mandatory(params, "key")
        spec = self._field_spec(class_name, params)
        limit = _php_int(params["limit"]) if params.get("limit") is not None else 0
        page = _php_int(params["page"]) if params.get("page") is not None else 1
        if page < 1:
            raise _ResultError(
                "The request page number is not valid. It must be an integer greater than 0", 13
            )
        target, rows = self._object_set_from_key(class_name, key, caller)
        if not self._can_read(caller, target):
            raise _ResultError(
                "The current user does not have enough permissions for reading data of class "
                f"{target}",
                1,
            )
        total = len(rows)
        if limit > 0:
            rows = rows[(page - 1) * limit : page * limit]
        # 040 vs 023/039: an explicit list on a leaf class loads only those columns, and an
        # empty Person key then has friendlyname " "; '*' or an abstract class loads objects.
        leaf = not self._model[target].abstract
        mode = "get" if spec.fields is not None and leaf else "read"
        objects = dict(self._object_result(row, "", spec, mode) for row in rows)
        return {"code": 0, "message": f"Found: {total}", "objects": objects or None}

    def _op_create(self, params: Mapping[str, Any], caller: Row) -> dict[str, Any]:
        _mandatory(params, "comment")
        class_name = self._class_param(params)
        fields = _mandatory(params, "fields")
        spec = self._field_spec(class_name, params)
        if not self._can_write(caller, class_name):
            raise _ResultError(
                "The current user does not have enough permissions for creating data of class "
                f"{class_name}",
                1,
            )
        if self._model[class_name].abstract:
            raise _ApiError(f"Cannot instantiate the abstract class {class_name}")
        row = self._new_row(class_name)
        self._apply_fields(row, fields, caller)
        self._insert(row, caller)
        key, result = self._object_result(row, "created", spec, "create")
        return {"code": 0, "message": None, "objects": {key: result}}

    def _writable_target(
        self, params: Mapping[str, Any], caller: Row
    ) -> tuple[str, Any, Any, _FieldSpec, Row]:
        comment = _php_str(_mandatory(params, "comment"))
        class_name = self._class_param(params)
        key = _mandatory(params, "key")
        fields = _mandatory(params, "fields")
        spec = self._field_spec(class_name, params)
        target, _ = self._object_set_from_key(class_name, key, caller)
        if not self._can_write(caller, target):
            raise _ResultError(
                "The current user does not have enough permissions for modifying data of class "
                f"{target}",
                1,
            )
        row = self._find_object_from_key(class_name, key, caller)
        assert row is not None
        return comment, key, fields, spec, row

    def _op_update(self, params: Mapping[str, Any], caller: Row) -> dict[str, Any]:
        comment, _, fields, spec, original = self._writable_target(params, caller)
        row = copy.deepcopy(original)
        changed = self._apply_fields(row, fields, caller)
        self._update(row, changed, caller, comment)
        key, result = self._object_result(row, "updated", spec, "write")
        return {"code": 0, "message": None, "objects": {key: result}}

    def _op_apply_stimulus(self, params: Mapping[str, Any], caller: Row) -> dict[str, Any]:
        # CoreServices reads comment, class, key, fields, output_fields, then stimulus
        _mandatory(params, "comment")
        class_name = self._class_param(params)
        _mandatory(params, "key")
        _mandatory(params, "fields")
        self._field_spec(class_name, params)
        stimulus = _php_str(_mandatory(params, "stimulus"))
        comment, _, fields, spec, original = self._writable_target(params, caller)
        row = copy.deepcopy(original)
        changed = self._apply_fields(row, fields, caller)
        state = str(row.get("status", ""))
        transitions = _TRANSITIONS.get(state, {}) if row["_class"] == "UserRequest" else {}
        if stimulus not in transitions:
            raise _ResultError(
                f"Invalid stimulus: '{stimulus}' on the object {self._friendlyname(row)} in "
                f"state '{state}'",
                100,
            )
        target_state = transitions[stimulus]
        missing = [
            code
            for code in _STATE_MANDATORY[target_state]
            if row.get(code) is None or row.get(code) == ""  # PHP 8: 0 == '' is false (066)
        ]
        if missing:
            raise _ResultError(
                f"Missing mandatory attribute(s) for applying the stimulus: {', '.join(missing)}.",
                100,
            )
        row["status"] = target_state
        changed.add("status")
        date_code = _STIMULUS_DATES.get(stimulus)
        if date_code:
            row[date_code] = _format_date(self.now())
            changed.add(date_code)
        self._update(row, changed, caller, comment)
        key, result = self._object_result(row, "updated", spec, "write")
        return {"code": 0, "message": None, "objects": {key: result}}

    def _op_delete(self, params: Mapping[str, Any], caller: Row) -> dict[str, Any]:
        _mandatory(params, "comment")
        class_name = self._class_param(params)
        key = _mandatory(params, "key")
        simulate = bool(params.get("simulate", False))
        target, rows = self._object_set_from_key(class_name, key, caller)
        if not self._is_admin(caller):
            raise _ResultError(
                "The current user does not have enough permissions for deleting data of class "
                f"{target}",
                1,
            )
        objects = dict(self._object_result(row, "", None, "write") for row in rows)
        if not simulate:
            for row in rows:
                del self._rows[row["_class"]][int(row["id"])]
                if self._model[row["_class"]].family == "Ticket":
                    for attachment in list(self._rows["Attachment"].values()):
                        if (attachment["item_class"], int(attachment["item_id"])) == (
                            row["_class"],
                            int(row["id"]),
                        ):
                            del self._rows["Attachment"][int(attachment["id"])]
        prefix = "SIMULATING: " if simulate else ""
        return {"code": 0, "message": f"{prefix}Deleted: {len(rows)}", "objects": objects or None}

    def _op_get_related(self, params: Mapping[str, Any], caller: Row) -> dict[str, Any]:
        class_name = self._class_param(params)
        key = _mandatory(params, "key")
        _mandatory(params, "relation")
        _, rows = self._object_set_from_key(class_name, key, caller)
        objects = dict(self._object_result(row, "", None, "write") for row in rows)
        if rows:
            counts: dict[str, int] = {}
            for row in rows:
                counts[row["_class"]] = counts.get(row["_class"], 0) + 1
            stats = ", ".join(f"{name}= {count}" for name, count in counts.items())
            message = f"Scope: {len(rows)}; Related objects: {stats}"
        else:
            message = "Nothing found"
        return {"code": 0, "message": message, "objects": objects or None, "relations": []}

    def _op_check_credentials(self, params: Mapping[str, Any], caller: Row) -> dict[str, Any]:
        login = _php_str(_mandatory(params, "user"))
        password = _php_str(_mandatory(params, "password"))
        user = self._user_by_login(login)
        authorized = (
            user is not None
            and user["_class"] == "UserLocal"
            and user["status"] == "enabled"
            and user["password"] == password
        )
        return {"code": 0, "message": None, "authorized": authorized}

    # -- rest.php -----------------------------------------------------------------------------

    def _json_reply(self, body: Mapping[str, Any]) -> _Reply:
        cookie = f"{_COOKIE_NAMES[self.instance]}={secrets.token_hex(13)}; path=/"
        return _Reply(200, (*_JSON_HEADERS, ("set-cookie", cookie)), json.dumps(body).encode())

    def _error_reply(self, code: int, message: str) -> _Reply:
        return self._json_reply({"code": code, "message": f"Error: {message}"})

    def _authenticate(self, params: Mapping[str, str], headers: Mapping[str, str]) -> Row | _Reply:
        invalid = self._error_reply(1, "Invalid login")
        token = headers.get("auth-token") or params.get("auth_token") or ""
        user: Row | None
        if token:
            if not self.rest_token_allowed:
                return invalid  # 093
            user_id = self._tokens.get(token)
            user = self._find("User", user_id) if user_id is not None else None
        elif params.get("login_mode") == "rest-token":
            if not self.rest_token_allowed:
                return invalid  # inferred, not recorded
            cookie = f"{_COOKIE_NAMES[self.instance]}={secrets.token_hex(13)}; path=/"
            text = "login_mode 'rest-token' forced without any token passed"  # 092
            return _Reply(200, (*_TEXT_HEADERS, ("set-cookie", cookie)), text.encode())
        else:
            login, password = params.get("auth_user"), params.get("auth_pwd")
            basic = headers.get("authorization", "")
            if login is None and basic.lower().startswith("basic "):
                with contextlib.suppress(ValueError, binascii.Error, UnicodeDecodeError):
                    decoded = base64.b64decode(basic[6:].strip()).decode("utf-8")
                    login, _, password = decoded.partition(":")
            user = self._user_by_login(login) if login else None
            if user is not None and (
                user["_class"] != "UserLocal" or user["password"] != (password or "")
            ):
                user = None
        if user is None or user.get("status") != "enabled":
            return invalid
        if "REST Services User" not in self._profiles(user):
            return self._error_reply(
                1,
                "This user is not authorized to use the web services. (The profile REST "
                "Services User is required to access the REST web services)",
            )
        return user

    def _rest(
        self,
        params: Mapping[str, str],
        headers: Mapping[str, str],
        record: MutableMapping[str, Any] | None,
    ) -> _Reply:
        authenticated = self._authenticate(params, headers)
        if isinstance(authenticated, _Reply):
            return authenticated
        caller = authenticated
        if record is not None:
            record["user"] = caller["login"]
        version = params.get("version")
        if not version:
            return self._error_reply(2, "Missing parameter 'version' (e.g. '1.0')")
        raw = params.get("json_data")
        if not raw:
            return self._error_reply(3, "Missing parameter 'json_data'")
        try:
            data = json.loads(raw)
        except ValueError:
            data = None
        if _php_empty_json(data):
            return self._error_reply(4, "Parameter json_data is not a valid JSON structure")
        if not isinstance(data, dict) or data.get("operation") is None:
            return self._error_reply(100, "Missing parameter 'operation'")
        if version not in SUPPORTED_VERSIONS:
            return self._error_reply(10, f"There is no service available for version '{version}'")
        operation = _php_str(data["operation"])
        if operation == "list_operations":
            return self._json_reply(self._op_list_operations(version))
        handlers: dict[str, Callable[[Mapping[str, Any], Row], dict[str, Any]]] = {
            "core/get": self._op_get,
            "core/create": self._op_create,
            "core/update": self._op_update,
            "core/apply_stimulus": self._op_apply_stimulus,
            "core/delete": self._op_delete,
            "core/get_related": self._op_get_related,
            "core/check_credentials": self._op_check_credentials,
        }
        handler = handlers.get(operation)
        if handler is None:
            return self._error_reply(11, f"Unknown verb '{operation}' in version '{version}'")
        try:
            body = handler(data, caller)
        except _ApiError as exc:
            return self._error_reply(exc.code, exc.message)
        except _ResultError as exc:
            return self._json_reply({"code": exc.code, "message": exc.message, "objects": None})
        return self._json_reply(body)

    # -- HTTP ---------------------------------------------------------------------------------

    def _html_reply(self, status: int, page: str | None = None) -> _Reply:
        reason = _REASONS.get(status, "Error")
        text = page or _HTML_ERROR.format(status=status, reason=reason)
        return _Reply(status, (("content-type", "text/html; charset=UTF-8"),), text.encode())

    def _pop_failure(self, *, transport: bool) -> Failure | None:
        if not self.fail_next:
            return None
        head = self.fail_next[0]
        known = _APP_FAILURE_STRINGS | _TRANSPORT_FAILURE_STRINGS
        if isinstance(head, str) and head not in known:
            raise ValueError(f"unknown injected failure {head!r}; use one of {sorted(known)}")
        is_transport = isinstance(head, BaseException) or (
            isinstance(head, str) and head in _TRANSPORT_FAILURE_STRINGS
        )
        if is_transport != transport:
            return None
        return self.fail_next.pop(0)

    def _serve(
        self,
        method: str,
        path: str,
        query: str,
        headers: Mapping[str, str],
        body: bytes,
        *,
        session_clash: bool = False,
    ) -> _Reply:
        if path.endswith("/webservices/status.php"):
            if self.http_status is not None:
                return self._html_reply(self.http_status)
            if self.not_rest:
                return self._html_reply(200, _HTML_LOGIN_PAGE)
            status = {"status": "RUNNING", "code": 0, "message": ""}
            headers_out = (
                ("content-type", "application/json"),
                ("access-control-allow-origin", "*"),
            )
            return _Reply(200, headers_out, json.dumps(status).encode())
        if not path.endswith("/webservices/rest.php"):
            return self._html_reply(404)
        params = dict(urllib.parse.parse_qsl(query, keep_blank_values=True, errors="replace"))
        content_type = headers.get("content-type", "").lower()
        if content_type.startswith("application/x-www-form-urlencoded"):
            form = body.decode("utf-8", "replace")
            params.update(urllib.parse.parse_qsl(form, keep_blank_values=True, errors="replace"))
        elif content_type.startswith("multipart/form-data"):
            params.update(_multipart_fields(headers.get("content-type", ""), body))
        try:
            decoded = json.loads(params["json_data"]) if params.get("json_data") else None
        except ValueError:
            decoded = None
        record: dict[str, Any] = {
            "method": method,
            "operation": decoded.get("operation") if isinstance(decoded, dict) else None,
            "json_data": decoded,
            "user": None,
            "version": params.get("version"),
            "injected": None,
        }
        self.calls.append(record)
        failure = self._pop_failure(transport=False)
        if failure is not None:
            record["injected"] = failure
            if isinstance(failure, int):
                return self._html_reply(failure)
            if isinstance(failure, dict):
                return self._json_reply(failure)
            if failure == "invalid_login":
                return self._error_reply(1, "Invalid login")
            return self._html_reply(200, _HTML_LOGIN_PAGE)
        if self.not_rest:
            return self._html_reply(200, _HTML_LOGIN_PAGE)
        if self.http_status is not None:
            return self._html_reply(self.http_status)
        if session_clash:
            # Refused at login, before anything is read or written (see `itop_sessions`).
            record["injected"] = "session_race"
            return self._error_reply(1, "Invalid login")
        return self._rest(params, headers, record)

    async def _asgi(
        self,
        scope: MutableMapping[str, Any],
        receive: Callable[[], Awaitable[MutableMapping[str, Any]]],
        send: Callable[[MutableMapping[str, Any]], Awaitable[None]],
    ) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        headers = {
            name.decode("latin-1").lower(): value.decode("latin-1")
            for name, value in scope.get("headers", [])
        }
        session = self.sessions.enter(headers.get("cookie", ""))
        try:
            reply = self._serve(
                scope["method"],
                scope["path"],
                scope.get("query_string", b"").decode("latin-1"),
                headers,
                b"".join(chunks),
                session_clash=session.clash,
            )
            reply_headers = with_session_cookie(reply.headers, self.sessions, session)
            if self.latency > 0:
                await asyncio.sleep(self.latency)
            await send(
                {
                    "type": "http.response.start",
                    "status": reply.status,
                    "headers": [
                        (k.encode("latin-1"), v.encode("latin-1")) for k, v in reply_headers
                    ],
                }
            )
            await send({"type": "http.response.body", "body": reply.body})
        finally:
            self.sessions.leave(session)


def _fields_of(cond: _Cond | None) -> Iterator[_Field]:
    if cond is None:
        return
    if isinstance(cond, _Bool):
        for item in cond.items:
            yield from _fields_of(item)
        return
    operands = [cond.operand] if isinstance(cond, _InList) else [cond.left, cond.right]
    for operand in operands:
        if isinstance(operand, _Field):
            yield operand


def _suggest(word: str, candidates: list[str]) -> str:
    close = difflib.get_close_matches(word, candidates, n=1, cutoff=0.85)
    return close[0] if close else ""


def _is_null(kind: str, value: Any) -> bool:
    if kind == "extkey":
        return not value
    if kind == "blob":
        return not value or not value.get("data")
    if kind in ("int", "objkey"):
        return value is None
    return value is None or value == ""


def _blob(value: Any) -> dict[str, Any] | None:
    if not isinstance(value, dict):
        return None
    raw = _php_str(value.get("data"))
    try:
        data = base64.b64decode(raw, validate=False)
    except (binascii.Error, ValueError):
        data = b""
    return {
        "data": data,
        "filename": _php_str(value.get("filename")),
        "mimetype": _php_str(value.get("mimetype")),
        "downloads_count": 0,
    }


def _cannot_save(issues: list[str], class_name: str, object_id: int) -> _ApiError:
    listing = ", ".join(f"{index}=>{issue}" for index, issue in enumerate(issues))
    return _ApiError(
        f"{', '.join(issues)}: issues = {{{listing}}}, class = {class_name}, id = {object_id}"
    )


def _mandatory(params: Mapping[str, Any], name: str) -> Any:
    """RestUtils::GetMandatoryParam (isset: present and not null)."""
    if not isinstance(params, Mapping) or params.get(name) is None:
        raise _ApiError(f"Missing parameter '{name}'")
    return params[name]


def _multipart_fields(content_type: str, body: bytes) -> dict[str, str]:
    head = f"Content-Type: {content_type}\r\n\r\n".encode("latin-1")
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    fields = {}
    for part in message.walk():
        if part.is_multipart():
            continue
        name = part.get_param("name", header="content-disposition")
        if isinstance(name, str):
            payload = part.get_payload(decode=True)
            fields[name] = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""
    return fields


_REASONS = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    408: "Request Timeout",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


class _FakeTransport(httpx.AsyncBaseTransport):
    """Forwards to the ASGI app; honours `down`, transport-level `fail_next` and read timeouts
    (httpx's ASGITransport alone ignores timeouts)."""

    def __init__(self, fake: FakeItop) -> None:
        self._fake = fake
        self._asgi = httpx.ASGITransport(app=fake.app)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        fake = self._fake
        if fake.down:
            raise httpx.ConnectError("All connection attempts failed", request=request)
        failure = None
        if request.url.path.endswith("/webservices/rest.php"):
            failure = fake._pop_failure(transport=True)
        if failure == "connect_error":
            raise httpx.ConnectError("All connection attempts failed", request=request)
        if failure == "timeout_before":
            raise httpx.ReadTimeout("The read operation timed out", request=request)
        if isinstance(failure, BaseException):
            raise failure
        timeouts = request.extensions.get("timeout") or {}
        read_timeout = timeouts.get("read")
        try:
            response = await asyncio.wait_for(
                self._asgi.handle_async_request(request), timeout=read_timeout
            )
        except TimeoutError:
            raise httpx.ReadTimeout("The read operation timed out", request=request) from None
        if failure == "timeout_after":
            raise httpx.ReadTimeout("The read operation timed out", request=request)
        if failure == "disconnect_after":
            raise httpx.RemoteProtocolError(
                "Server disconnected without sending a response.", request=request
            )
        return response

    async def aclose(self) -> None:
        await self._asgi.aclose()


def main(argv: list[str] | None = None) -> None:
    """`python -m tests.fakes.itop --port 8181 --latency 0.07 [--instance vanilla]`."""
    import uvicorn

    parser = argparse.ArgumentParser(description="Serve the fake iTop REST API over HTTP.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8181)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds per request")
    parser.add_argument("--instance", choices=("intercom", "vanilla"), default="intercom")
    args = parser.parse_args(argv)
    fake = FakeItop(instance=args.instance, latency=args.latency)
    print(
        f"fake iTop ({args.instance}) on http://{args.host}:{args.port}/webservices/rest.php\n"
        f"tokens: admin={ADMIN_TOKEN} agent={AGENT_TOKEN} no-rest={NO_REST_TOKEN}",
        flush=True,
    )
    uvicorn.run(
        fake.app,
        host=args.host,
        port=args.port,
        log_level="warning",
        lifespan="off",
        interface="asgi3",
    )


if __name__ == "__main__":
    main()
