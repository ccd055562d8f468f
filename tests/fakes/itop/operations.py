"""The REST operations (CoreServices::ExecOperation): list_operations, get, create,
update, apply_stimulus, delete, get_related, check_credentials."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from tests.fakes.itop.common import _VERBS, Row, _FieldSpec
from tests.fakes.itop.datamodel import _STATE_MANDATORY, _STIMULUS_DATES, _TRANSITIONS
from tests.fakes.itop.errors import _ApiError, _ResultError
from tests.fakes.itop.php import _format_date, _php_int, _php_str
from tests.fakes.itop.writes import _Writes


class _Operations(_Writes):
    """One method per REST operation."""

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


def _mandatory(params: Mapping[str, Any], name: str) -> Any:
    """RestUtils::GetMandatoryParam (isset: present and not null)."""
    if not isinstance(params, Mapping) or params.get(name) is None:
        raise _ApiError(f"Missing parameter '{name}'")
    return params[name]
