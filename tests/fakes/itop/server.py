"""rest.php and status.php: authentication, version and JSON checks, injected failures, ASGI."""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import email.parser
import email.policy
import json
import secrets
import urllib.parse
from collections.abc import Awaitable, Callable, Mapping, MutableMapping
from typing import Any

from tests.fakes.itop.common import (
    _JSON_HEADERS,
    _TEXT_HEADERS,
    SUPPORTED_VERSIONS,
    Failure,
    Row,
    _Reply,
)
from tests.fakes.itop.errors import _ApiError, _ResultError
from tests.fakes.itop.operations import _Operations
from tests.fakes.itop.php import _php_empty_json, _php_str
from tests.fakes.itop.sessions import with_session_cookie

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


class _Server(_Operations):
    """The HTTP face of the fake."""

    @property
    def app(self) -> Callable[..., Awaitable[None]]:
        """The ASGI application (POST/GET /webservices/rest.php, GET /webservices/status.php)."""
        return self._asgi

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
            # Refused at login, before anything is read or written (see `sessions`).
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
