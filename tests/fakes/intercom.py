"""An in-process fake of the parts of Intercom's REST API the service uses.

It answers with the example bodies of `tests/data/intercom/rest_api` (written for this project in
the shapes of Intercom's REST API 2.x), checks the bearer token and a reply's body the way Intercom
does, and has switches for the failures the client must survive: outage (`down`), rate limiting
(`rate_limit_next`), slowness (`latency`) and error statuses (`fail_status`). Tests use it through
`transport()` (no sockets); benchmarks start it on a real port with `serve_in_thread()`.

`latency` delays the *answer*, after the request has been processed: a client that times out has
therefore still had its reply posted, which is exactly the case where a write must not be retried.
"""

from __future__ import annotations

import asyncio
import copy
import html
import itertools
import math
import re
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route
from starlette.types import Message, Receive, Scope, Send

from itop_intercom.settings.model import Region
from tests.fakes.signing import load_example
from tests.loopback import serve_in_thread

DEFAULT_TOKEN = "intercom-test-token"
DEFAULT_WORKSPACE_ID = "wstest01"
#: Stand-in for Intercom's attachment CDN (downloads.intercomcdn.com) when used via transport().
ATTACHMENT_BASE = "https://downloads.intercomcdn.test"

_TAG = re.compile(r"<[^>]+>")
_MAX_ATTACHMENT_URLS = 10


@dataclass
class FakeCall:
    """One request the fake received."""

    method: str
    path: str
    url: str
    query: dict[str, str]
    headers: dict[str, str]
    """Lower-case header names."""
    json: Any = None


@dataclass
class _Attachment:
    name: str
    content: bytes
    content_type: str
    send_length: bool


def _error_body(code: str, message: str) -> dict[str, Any]:
    return {
        "type": "error.list",
        "request_id": "00000000-fake-4000-8000-000000000000",
        "errors": [{"code": code, "message": message}],
    }


def _plaintext(value: Any) -> Any:
    if isinstance(value, str):
        return html.unescape(_TAG.sub("", value))
    return value


class FakeIntercom:
    """A fake Intercom workspace: an ASGI app plus the state tests inspect."""

    def __init__(
        self,
        *,
        valid_token: str = DEFAULT_TOKEN,
        workspace_id: str = DEFAULT_WORKSPACE_ID,
        region: Region = "us",
        app_package_code: str = "itop-intercom",
    ) -> None:
        self.valid_token = valid_token
        self.workspace_id = workspace_id
        self.region: Region = region
        self.app_package_code = app_package_code
        """Set on parts posted through the API, as Intercom does for an app's own posts."""
        self.identity_verification = False
        """`app.identity_verification` in `GET /me` (Messenger security enforced)."""

        # Switches.
        self.down = False
        """transport(): connections are refused; threaded server: every answer is a 503."""
        self.rate_limit_next = 0
        """Answer 429 to the next N API calls."""
        self.rate_limit_reset_in = 1.0
        """Seconds from now that `X-RateLimit-Reset` announces on a 429 (rounded up)."""
        self.latency = 0.0
        """Seconds by which every answer is delayed (after the request was processed)."""
        self.fail_status: int | None = None
        """When set, every call is answered with this status and an error body."""
        self.denied: set[str] = set()
        """Permissions the token lacks: "read" and/or "write" (conversations). Intercom then
        answers 401 `token_unauthorized` to the calls that need them, before looking up the
        conversation."""
        self.lose_answer_next = 0
        """The next N replies are stored, then answered 502: the post happened, the caller
        cannot know it (a crash or a cut connection between the post and its bookkeeping)."""

        # State.
        self.calls: list[FakeCall] = []
        self.replies: list[dict[str, Any]] = []
        self.state_changes: list[dict[str, Any]] = []
        """Accepted close / open bodies, each with its `conversation_id`."""
        """Accepted reply bodies, each with the `conversation_id` it was posted to."""
        self.conversations: dict[str, dict[str, Any]] = {}
        self.contacts: dict[str, dict[str, Any]] = {}
        self.admins: dict[str, dict[str, Any]] = {}
        self.base_url = "https://api.intercom.test"
        self.attachment_base = ATTACHMENT_BASE
        self._attachments: dict[str, _Attachment] = {}
        self._part_ids = itertools.count(90_000_001)
        self._attachment_ids = itertools.count(1)

        me = load_example("rest_api/me.json")
        self.admins[str(me["id"])] = {k: me[k] for k in ("type", "id", "name", "email")}
        for admin in load_example("rest_api/admins.json")["admins"]:
            self.admins[str(admin["id"])] = admin

        self.app = Starlette(
            routes=[
                Route("/me", self._me, methods=["GET"]),
                Route("/admins", self._list_admins, methods=["GET"]),
                Route("/conversations", self._list_conversations, methods=["GET"]),
                Route("/conversations/{id}", self._get_conversation, methods=["GET"]),
                Route("/conversations/{id}/reply", self._reply, methods=["POST"]),
                Route("/conversations/{id}/parts", self._manage, methods=["POST"]),
                Route("/contacts/{id}", self._get_contact, methods=["GET"]),
                Route("/_attachments/{key}/{name}", self._attachment, methods=["GET"]),
            ]
        )

    # -- setup -------------------------------------------------------------------------------

    def add_conversation(self, conv: dict[str, Any]) -> str:
        """Serve a conversation (a deep copy) at `/conversations/{id}`; returns the id."""
        stored = copy.deepcopy(conv)
        conversation_id = str(stored["id"])
        stored["id"] = conversation_id
        parts = stored.setdefault(
            "conversation_parts", {"type": "conversation_part.list", "conversation_parts": []}
        )
        parts.setdefault("conversation_parts", [])
        parts["total_count"] = len(parts["conversation_parts"])
        self.conversations[conversation_id] = stored
        return conversation_id

    def add_contact(self, contact: dict[str, Any]) -> str:
        stored = copy.deepcopy(contact)
        self.contacts[str(stored["id"])] = stored
        return str(stored["id"])

    def add_admin(self, admin: dict[str, Any]) -> str:
        stored = {"type": "admin", **copy.deepcopy(admin)}
        self.admins[str(stored["id"])] = stored
        return str(stored["id"])

    def add_attachment(
        self,
        name: str,
        content: bytes,
        *,
        content_type: str = "application/octet-stream",
        send_length: bool = True,
    ) -> str:
        """Serve `content` without authentication, like Intercom's CDN; returns its URL.

        `send_length=False` streams it without a Content-Length header, so that a client's size
        limit must work on the stream itself.
        """
        key = f"a{next(self._attachment_ids)}"
        self._attachments[key] = _Attachment(name, content, content_type, send_length)
        return f"{self.attachment_base}/_attachments/{key}/{quote(name, safe='')}"

    def conversation(self, conversation_id: str) -> dict[str, Any]:
        return self.conversations[conversation_id]

    # -- clients -------------------------------------------------------------------------------

    def transport(self) -> httpx.AsyncBaseTransport:
        """An httpx transport that reaches this fake in-process, honouring read timeouts."""
        return _FakeTransport(self)

    def serve_in_thread(self, port: int = 0) -> tuple[str, Callable[[], None]]:
        """Run the fake on 127.0.0.1 in a background thread; returns (base_url, stop).

        Attachment URLs added afterwards point at that server.
        """
        base_url, stop = serve_in_thread(self, name="fake-intercom", port=port)
        self.base_url = base_url
        self.attachment_base = base_url
        return base_url, stop

    # -- ASGI ------------------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.latency <= 0:
            await self.app(scope, receive, send)
            return

        async def delayed_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                await asyncio.sleep(self.latency)
            await send(message)

        await self.app(scope, receive, delayed_send)

    async def _gate(self, request: Request, *, api: bool = True) -> Response | None:
        """Record the call and apply the switches and authentication; None means go on."""
        payload: Any = None
        raw = await request.body()
        if raw:
            try:
                payload = await request.json()
            except ValueError:
                payload = raw.decode("utf-8", "replace")
        self.calls.append(
            FakeCall(
                method=request.method,
                path=request.url.path,
                url=str(request.url),
                query=dict(request.query_params),
                headers={k.lower(): v for k, v in request.headers.items()},
                json=payload,
            )
        )
        if self.down:
            return JSONResponse(_error_body("service_unavailable", "Down"), status_code=503)
        if api and self.rate_limit_next > 0:
            self.rate_limit_next -= 1
            reset = math.ceil(time.time() + self.rate_limit_reset_in)
            return JSONResponse(
                _error_body("rate_limit_exceeded", "Exceeded rate limit of 10000 per minute"),
                status_code=429,
                headers={
                    "X-RateLimit-Limit": "10000",
                    "X-RateLimit-Remaining": "0",
                    "X-RateLimit-Reset": str(reset),
                },
            )
        if self.fail_status is not None:
            return JSONResponse(
                _error_body("server_error", f"Fake failure {self.fail_status}"),
                status_code=self.fail_status,
            )
        if api and request.headers.get("authorization") != f"Bearer {self.valid_token}":
            return JSONResponse(load_example("rest_api/error.401.json"), status_code=401)
        return None

    def _ok(self, body: dict[str, Any]) -> JSONResponse:
        reset = math.ceil(time.time() + 10)
        return JSONResponse(
            body,
            headers={
                "X-RateLimit-Limit": "10000",
                "X-RateLimit-Remaining": "9999",
                "X-RateLimit-Reset": str(reset),
            },
        )

    @staticmethod
    def _not_found() -> JSONResponse:
        return JSONResponse(load_example("rest_api/error.404.json"), status_code=404)

    @staticmethod
    def _bad_request(code: str, message: str) -> JSONResponse:
        return JSONResponse(_error_body(code, message), status_code=400)

    async def _me(self, request: Request) -> Response:
        if (refused := await self._gate(request)) is not None:
            return refused
        me = load_example("rest_api/me.json")
        me["app"]["id_code"] = self.workspace_id
        me["app"]["region"] = self.region.upper()
        me["app"]["identity_verification"] = self.identity_verification
        return self._ok(me)

    async def _list_admins(self, request: Request) -> Response:
        if (refused := await self._gate(request)) is not None:
            return refused
        return self._ok({"type": "admin.list", "admins": list(self.admins.values())})

    def _lacks(self, permission: str) -> JSONResponse | None:
        if permission not in self.denied:
            return None
        return JSONResponse(
            _error_body("token_unauthorized", "Not authorized to access resource"),
            status_code=401,
        )

    async def _list_conversations(self, request: Request) -> Response:
        if (refused := await self._gate(request)) is not None:
            return refused
        if (refused := self._lacks("read")) is not None:
            return refused
        per_page = int(request.query_params.get("per_page", "20"))
        conversations = [copy.deepcopy(c) for c in self.conversations.values()][:per_page]
        return self._ok(
            {
                "type": "conversation.list",
                "conversations": conversations,
                "total_count": len(self.conversations),
                "pages": {"type": "pages", "page": 1, "per_page": per_page, "total_pages": 1},
            }
        )

    async def _get_conversation(self, request: Request) -> Response:
        if (refused := await self._gate(request)) is not None:
            return refused
        if (refused := self._lacks("read")) is not None:
            return refused
        conversation = self.conversations.get(request.path_params["id"])
        if conversation is None:
            return self._not_found()
        answer = copy.deepcopy(conversation)
        if request.query_params.get("display_as") == "plaintext":
            _to_plaintext(answer)
        return self._ok(answer)

    async def _get_contact(self, request: Request) -> Response:
        if (refused := await self._gate(request)) is not None:
            return refused
        contact = self.contacts.get(request.path_params["id"])
        if contact is None:
            return self._not_found()
        return self._ok(copy.deepcopy(contact))

    async def _attachment(self, request: Request) -> Response:
        if (refused := await self._gate(request, api=False)) is not None:
            return refused
        attachment = self._attachments.get(request.path_params["key"])
        if attachment is None:
            return Response(b"Not Found", status_code=404, media_type="text/plain")
        if attachment.send_length:
            return Response(attachment.content, media_type=attachment.content_type)

        async def chunks() -> AsyncIterator[bytes]:
            data = attachment.content
            for start in range(0, len(data), 4096):
                yield data[start : start + 4096]

        return StreamingResponse(chunks(), media_type=attachment.content_type)

    async def _reply(self, request: Request) -> Response:
        if (refused := await self._gate(request)) is not None:
            return refused
        if (refused := self._lacks("write")) is not None:
            return refused
        body = self.calls[-1].json
        if not isinstance(body, dict):
            return self._bad_request("parameter_invalid", "Request body must be a JSON object")
        problem = _validate_reply(body)
        if problem is not None:
            return self._bad_request(*problem)
        conversation_id = request.path_params["id"]
        conversation = self.conversations.get(conversation_id)
        if conversation is None:
            return JSONResponse(load_example("rest_api/error.404.json"), status_code=404)

        now = int(time.time())
        if body["type"] == "admin":
            admin = self.admins.get(str(body["admin_id"]), {})
            author = {
                "id": str(body["admin_id"]),
                "type": "admin",
                "name": admin.get("name"),
                "email": admin.get("email"),
            }
        else:
            author = {
                "id": str(body.get("intercom_user_id") or body.get("user_id") or ""),
                "type": "user",
                "name": None,
                "email": body.get("email"),
            }
        part = {
            "type": "conversation_part",
            "id": str(next(self._part_ids)),
            "part_type": body["message_type"],
            "body": body.get("body"),
            "created_at": now,
            "updated_at": now,
            "notified_at": now,
            "assigned_to": None,
            "author": author,
            "attachments": [
                {
                    "type": "upload",
                    "name": url.rsplit("/", 1)[-1],
                    "url": url,
                    "content_type": "application/octet-stream",
                    "filesize": 0,
                    "width": None,
                    "height": None,
                }
                for url in body.get("attachment_urls") or []
            ],
            "external_id": None,
            "redacted": False,
            "metadata": {},
            "email_message_metadata": None,
            "app_package_code": self.app_package_code,
        }
        parts = conversation["conversation_parts"]
        parts["conversation_parts"].append(part)
        parts["total_count"] = len(parts["conversation_parts"])
        conversation["updated_at"] = now
        self.replies.append({"conversation_id": conversation_id, **copy.deepcopy(body)})
        if self.lose_answer_next > 0:
            self.lose_answer_next -= 1
            return JSONResponse(_error_body("bad_gateway", "Bad gateway"), status_code=502)
        return self._ok(copy.deepcopy(conversation))

    async def _manage(self, request: Request) -> Response:
        """`POST /conversations/{id}/parts`: close or open a conversation as an admin."""
        if (refused := await self._gate(request)) is not None:
            return refused
        body = self.calls[-1].json
        if not isinstance(body, dict) or body.get("type") != "admin":
            return self._bad_request("parameter_invalid", "type must be admin")
        message_type = body.get("message_type")
        if message_type not in ("close", "open", "snoozed", "assignment"):
            return self._bad_request("parameter_invalid", "message_type is invalid")
        if not body.get("admin_id"):
            return self._bad_request("parameter_not_found", "admin_id not specified")
        conversation = self.conversations.get(request.path_params["id"])
        if conversation is None:
            return self._not_found()
        if message_type in ("close", "open"):
            conversation["state"] = "closed" if message_type == "close" else "open"
            conversation["open"] = message_type == "open"
        self.state_changes.append(
            {"conversation_id": request.path_params["id"], **copy.deepcopy(body)}
        )
        return self._ok(copy.deepcopy(conversation))


def _validate_reply(body: dict[str, Any]) -> tuple[str, str] | None:
    """Intercom's checks on a reply body (OpenAPI `reply_conversation_request`)."""
    kind = body.get("type")
    message_type = body.get("message_type")
    if kind not in ("admin", "user"):
        return "parameter_invalid", "type must be admin or user"
    if message_type not in ("comment", "note", "quick_reply"):
        return "parameter_invalid", "message_type is invalid"
    if kind == "admin":
        admin_id = body.get("admin_id")
        if admin_id in (None, "") or isinstance(admin_id, bool):
            return "parameter_not_found", "admin_id not specified"
        if not isinstance(admin_id, str | int):
            return "parameter_invalid", "admin_id must be a string"
    else:
        if message_type != "comment":
            return "parameter_invalid", "contacts can only reply with comments"
        if not any(body.get(k) for k in ("intercom_user_id", "user_id", "email")):
            return "parameter_not_found", "intercom_user_id, user_id or email is required"
    if message_type in ("comment", "note"):
        text = body.get("body")
        if not isinstance(text, str) or not text.strip():
            return "parameter_not_found", "body is required"
    if message_type == "quick_reply" and not isinstance(body.get("reply_options"), list):
        return "parameter_not_found", "reply_options is required for quick_reply"
    urls = body.get("attachment_urls")
    if urls is not None:
        if not isinstance(urls, list) or not all(isinstance(u, str) for u in urls):
            return "parameter_invalid", "attachment_urls must be a list of URLs"
        if len(urls) > _MAX_ATTACHMENT_URLS:
            return "parameter_invalid", "attachment_urls accepts at most 10 URLs"
    return None


def _to_plaintext(conversation: dict[str, Any]) -> None:
    source = conversation.get("source")
    if isinstance(source, dict):
        source["body"] = _plaintext(source.get("body"))
        source["subject"] = _plaintext(source.get("subject"))
    parts = conversation.get("conversation_parts") or {}
    for part in parts.get("conversation_parts") or []:
        part["body"] = _plaintext(part.get("body"))


class _FakeTransport(httpx.AsyncBaseTransport):
    """ASGI transport plus what ASGI alone lacks: refused connections and read timeouts."""

    def __init__(self, fake: FakeIntercom) -> None:
        self._fake = fake
        self._asgi = httpx.ASGITransport(app=fake)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self._fake.down:
            raise httpx.ConnectError("fake Intercom is down", request=request)
        timeouts = request.extensions.get("timeout") or {}
        read_timeout = timeouts.get("read")
        try:
            return await asyncio.wait_for(self._asgi.handle_async_request(request), read_timeout)
        except TimeoutError:
            raise httpx.ReadTimeout("fake Intercom answered too late", request=request) from None

    async def aclose(self) -> None:
        await self._asgi.aclose()
