"""Finding objects: OQL evaluation, keys given as id / OQL / search object, and
the conversion of REST values to stored values (RestUtils::MakeValue)."""

from __future__ import annotations

import base64
import binascii
import difflib
import json
from collections.abc import Iterator, Mapping
from typing import Any

from tests.fakes.itop.common import Row, _LogChange
from tests.fakes.itop.errors import _ApiError, _OqlError
from tests.fakes.itop.html_text import _html_to_text, _sanitize_html, _text_to_html
from tests.fakes.itop.model_types import _COMPUTED_KINDS, _Attr
from tests.fakes.itop.oql import (
    _Bool,
    _Cond,
    _Field,
    _fields_of,
    _InList,
    _Literal,
    _Operand,
    _parse_oql,
    _Query,
)
from tests.fakes.itop.php import (
    _date_attribute_value,
    _format_date,
    _is_numeric,
    _parse_php_date,
    _php_int,
    _php_str,
    _sql_compare,
    _sql_equal,
    _sql_like,
)
from tests.fakes.itop.rows import _Rows


class _Search(_Rows):
    """Searching and value conversion."""

    # -- searching ----------------------------------------------------------------------------

    def _run_oql(self, text: str) -> tuple[str, list[Row]]:
        """Parse, normalise and evaluate an OQL query, UNION included; raises _OqlError.

        A UNION merges its branches into one set (each object once, in the default order of
        the branches' common class); each branch must select one class, and the branches'
        classes must have a common ancestor (recorded 130, 132-134; the fake has no Ticket class,
        so only branches of one ticket class mix here)."""
        query = _parse_oql(text)
        if not query.unions:
            return self._run_branch(query, text)
        branches = [query, *query.unions]
        found: list[Row] = []
        common: str | None = None
        for branch in branches:
            if branch.also_selected:
                alias, pos = branch.also_selected[0]
                raise _OqlError(
                    "OqlNormalizeException",
                    f"Too many selected classes in the subquery - found '{alias}' at {pos} in "
                    f"'{text}'",
                )
            class_name, rows = self._run_branch(branch, text)
            ancestor = class_name if common is None else self._common_ancestor(common, class_name)
            if ancestor is None:
                assert common is not None
                kin = self._model[common].family
                family = sorted(n for n, k in self._model.items() if k.family == kin)
                raise _OqlError(
                    "OqlNormalizeException",
                    f"Incompatible classes: could not find a common ancestor - found "
                    f"'{branch.selected}' at {branch.selected_pos} in '{text}', expecting "
                    f"{{{', '.join(family)}}}, I would suggest to use ''",
                )
            common = ancestor
            found.extend(rows)
        assert common is not None
        return common, self._sorted(common, found)

    def _common_ancestor(self, first: str, second: str) -> str | None:
        current: str | None = first
        while current is not None:
            if self._is_a(second, current):
                return current
            current = self._model[current].parent
        return None

    def _run_branch(self, query: _Query, text: str) -> tuple[str, list[Row]]:
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


def _suggest(word: str, candidates: list[str]) -> str:
    close = difflib.get_close_matches(word, candidates, n=1, cutoff=0.85)
    return close[0] if close else ""


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
