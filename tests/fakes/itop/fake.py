"""FakeItop: the public face of the fake (toggles, helpers for tests, seed data)."""

from __future__ import annotations

import base64
import copy
import json
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any

import httpx

from tests.fakes.itop.common import (
    _USER_IDS,
    ADMIN_TOKEN,
    AGENT_TOKEN,
    NO_REST_TOKEN,
    TEST_USER_PASSWORD,
    TIMEZONE,
    WEB_ADMIN_LOGIN,
    WEB_ADMIN_PASSWORD,
    Failure,
    Instance,
    Row,
    Seed,
)
from tests.fakes.itop.datamodel import _PROFILES, _build_model
from tests.fakes.itop.errors import _ApiError, _ResultError
from tests.fakes.itop.server import _COOKIE_NAMES, _Server
from tests.fakes.itop.sessions import PhpSessions
from tests.fakes.itop.transport import _FakeTransport
from tests.loopback import serve_in_thread

_NO_REST_USER_ID = 100


class FakeItop(_Server):
    """iTop 3.2.0's rest.php in memory. What it implements: the docstring of `tests.fakes.itop`.

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
      (``sessions.refused`` counts them; see `tests.fakes.itop.sessions`).
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
        self._origin = "webservice-rest"
        """The origin of the changes being recorded (`interactive` for the UI helpers)."""
        self._seed(seed)

    # -- public helpers -----------------------------------------------------------------------

    @property
    def default_version(self) -> str:
        """The API version the lab used for this instance (README): 1.4 intercom, 1.3 vanilla."""
        return "1.4" if self.instance == "intercom" else "1.3"

    def transport(self) -> httpx.AsyncBaseTransport:
        """An httpx transport to the ASGI app honouring `down`, `fail_next` and read timeouts."""
        return _FakeTransport(self)

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

    def ui_add_entry(
        self,
        ticket_id: int,
        message_html: str,
        *,
        login: str = "victor.hugo",
        attcode: str = "public_log",
    ) -> None:
        """An entry typed in the back office by `login` (125, 129): the entry's author is that
        user, and its change has origin `interactive` and userinfo = the user's display name."""
        fields = {attcode: {"add_item": {"message": message_html, "format": "html"}}}
        self._as_ui(login, "core/update", {"key": int(ticket_id), "fields": fields})

    def ui_apply_stimulus(
        self, ticket_id: int, stimulus: str, *, login: str = "victor.hugo", **fields: Any
    ) -> None:
        """A lifecycle transition clicked in the back office by `login` (origin `interactive`)."""
        self._as_ui(
            login,
            "core/apply_stimulus",
            {"key": int(ticket_id), "stimulus": stimulus, "fields": fields},
        )

    def _as_ui(self, login: str, operation: str, params: dict[str, Any]) -> None:
        user = self._user_by_login(login)
        if user is None:
            raise ValueError(f"no user {login!r}")
        payload = {
            "operation": operation,
            "class": "UserRequest",
            "comment": self._display_name(user),
            "output_fields": "id",
            **params,
        }
        self._origin = "interactive"
        try:
            handler = self._op_update if operation == "core/update" else self._op_apply_stimulus
            handler(payload, user)
        except (_ApiError, _ResultError) as exc:
            raise ValueError(str(exc)) from None
        finally:
            self._origin = "webservice-rest"

    def last_change_op_id(self) -> int:
        """The highest change op id so far (0 when the history is empty)."""
        return max((int(r["id"]) for r in self._rows_of("CMDBChangeOp")), default=0)

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
        return serve_in_thread(self.app, name="fake-itop", host=host, port=port)

    # -- seed data ----------------------------------------------------------------------------

    def _seed(self, seed: Seed) -> None:
        # The lab's history did not start empty (install, token users): its change ids had two
        # digits when 071 was recorded, so their text order (iTop's order of change ops) was
        # their numeric order there. Ids from 10 keep that true for the replayed cases.
        self._next_id["CMDBChange"] = 10
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
        # The lab rebuilt for the cases 110+ numbered its users alike in both instances.
        ids = _USER_IDS["intercom" if seed == "rebuilt" else self.instance]

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
