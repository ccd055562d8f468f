"""The fake's storage: rows, class hierarchy, users' rights and how a row renders in JSON."""

from __future__ import annotations

import base64
import copy
import json
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any

from tests.fakes.itop.common import ADMIN_TOKEN, TIMEZONE, Failure, Instance, Row, _FieldSpec
from tests.fakes.itop.datamodel import _ADMIN_READ_FAMILIES, _AGENT_WRITE_FAMILIES, _filter_codes
from tests.fakes.itop.history import change_op_order
from tests.fakes.itop.model_types import _COMPUTED_KINDS, _Attr, _Class
from tests.fakes.itop.php import _collate, _php_str
from tests.fakes.itop.sessions import PhpSessions


class _Rows:
    """State of the fake (set by `FakeItop.__init__`), storage, rights and rendering."""

    instance: Instance
    latency: float
    rest_token_allowed: bool
    down: bool
    http_status: int | None
    not_rest: bool
    fail_next: list[Failure]
    calls: list[dict[str, Any]]
    sessions: PhpSessions
    clock: Callable[[], datetime]
    _model: dict[str, _Class]
    _origin: str
    _filter_code_cache: dict[str, list[str]]
    _rows: dict[str, dict[int, Row]]
    _next_id: dict[str, int]
    _ref_counter: int
    _tokens: dict[str, int]

    def now(self) -> datetime:
        return self.clock().astimezone(TIMEZONE)

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
        if order == "change_text":
            return sorted(unique, key=change_op_order)
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
        row = self._find("User", self._tokens.get(ADMIN_TOKEN, 0))
        if row is None:  # pragma: no cover - every seed has it
            raise RuntimeError("the admin token user is missing")
        return row

    # -- rendering (quirks 7 and 9) -----------------------------------------------------------

    def _friendlyname(self, row: Row) -> str:
        klass = self._model[row["_class"]]
        if klass.family == "CMDBChangeOp":
            return str(row["change"])  # an op is named after its change (114)
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
