"""Writing: DBInsert / DBUpdate with iTop's checks, computed fields and change records."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from tests.fakes.itop.common import Row
from tests.fakes.itop.datamodel import _PRIORITY
from tests.fakes.itop.errors import _ApiError
from tests.fakes.itop.history import record_change
from tests.fakes.itop.model_types import _COMPUTED_KINDS, _STRING_KINDS
from tests.fakes.itop.php import _format_date
from tests.fakes.itop.search import _Search

_URL_RE = re.compile(r"^(https?|ftps?|mailto|news|gopher|file)://[^\s/$.?#][^\s]*$", re.I)


_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class _Writes(_Search):
    """Checks, inserts, updates and case-log change records."""

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
        before = self._rows[row["_class"]].get(int(row["id"]))
        self._store(row)
        record_change(self, row, before, changed, caller, comment, origin=self._origin)

    def _history_date(self) -> str:
        return _format_date(self.now())

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


def _is_null(kind: str, value: Any) -> bool:
    if kind == "extkey":
        return not value
    if kind == "blob":
        return not value or not value.get("data")
    if kind in ("int", "objkey"):
        return value is None
    return value is None or value == ""


def _cannot_save(issues: list[str], class_name: str, object_id: int) -> _ApiError:
    listing = ", ".join(f"{index}=>{issue}" for index, issue in enumerate(issues))
    return _ApiError(
        f"{', '.join(issues)}: issues = {{{listing}}}, class = {class_name}, id = {object_id}"
    )
