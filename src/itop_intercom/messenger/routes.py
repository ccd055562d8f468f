"""The endpoints the iTop module calls, server to server.

`POST /itop/messenger/boot`: the logged-in user's identity (and scope results) in, one of three
answers out: `boot` (settings for the Messenger), `none` (no Messenger for this user; the module
remembers it for `cache_seconds`), or `evaluate` (scopes the module must evaluate with the user's
rights, then ask again). `POST /itop/messenger/ping`: an authenticated no-op for `check`.

Order of the gate: size, signature headers, timestamp window, signature (constant time), then
the nonce (recorded only for authentic requests, so that nobody can fill the table), then JSON.
A refusal is a status and a short reason, never the body, a key or a secret.
"""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from pydantic import ValidationError

from itop_intercom.logs import get_logger
from itop_intercom.messenger import nonces, signing
from itop_intercom.messenger.boot import boot_answer
from itop_intercom.messenger.decision import decide
from itop_intercom.messenger.request import BootRequest
from itop_intercom.web.access_log import log_fields
from itop_intercom.web.guard import Refused, read_body

if TYPE_CHECKING:
    from itop_intercom.runtime import Services

log = get_logger("itop_intercom.messenger")

BOOT_PATH = "/itop/messenger/boot"
PING_PATH = "/itop/messenger/ping"

#: A boot request is a few hundred bytes; anything much larger is not from the module.
MAX_BODY_BYTES = 64 * 1024


async def authenticate(request: Request, services: Services, path: str) -> bytes:
    """The raw body of an authentic, fresh, first-seen module request; `Refused` otherwise."""
    messenger = services.settings.messenger
    if messenger.shared_key is None:
        raise Refused(503, "messenger.shared_key is not set")
    body = await read_body(request, MAX_BODY_BYTES)
    timestamp = request.headers.get(signing.TIMESTAMP_HEADER, "")
    nonce = request.headers.get(signing.NONCE_HEADER, "")
    given = request.headers.get(signing.SIGNATURE_HEADER, "")
    if not (timestamp and nonce and given):
        raise Refused(401, "missing signature headers")
    try:
        age = time.time() - int(timestamp)
    except ValueError:
        raise Refused(401, "invalid timestamp") from None
    if abs(age) > messenger.request_max_age_seconds:
        raise Refused(401, "request expired (check both clocks)")
    if not signing.valid_nonce(nonce):
        raise Refused(401, "invalid nonce")
    headers = signing.SignedHeaders(timestamp, nonce, given)
    key = messenger.shared_key.get_secret_value()
    if not signing.matches(key, request.method, path, headers, body):
        raise Refused(401, "signature does not match")
    # Kept twice the window: a request signed slightly in the future stays refused as long.
    if not await nonces.first_use(services.db, nonce, 2 * messenger.request_max_age_seconds):
        raise Refused(401, "replayed request")
    return body


def answer(services: Services, request: BootRequest) -> tuple[dict[str, Any], str]:
    settings = services.settings
    decision = decide(settings, request)
    if decision.evaluate:
        scopes = [{"key": s.key, "oql": s.oql} for s in decision.evaluate]
        return {"status": "evaluate", "scopes": scopes}, "evaluate"
    if decision.workspace_id is None or request.person is None:
        reason = decision.refusal or "scope"
        cache = settings.messenger.refusal_cache_seconds
        return {"status": "none", "reason": reason, "cache_seconds": cache}, f"none_{reason}"
    workspace = settings.workspace(decision.workspace_id)
    assert workspace is not None  # the id comes from the settings
    assert settings.messenger.shared_key is not None  # checked by authenticate
    body = boot_answer(
        settings,
        workspace,
        request.person,
        shared_key=settings.messenger.shared_key.get_secret_value(),
    )
    return body, "boot"


def register(app: FastAPI, services: Services) -> None:
    def refused(request: Request, exc: Refused, endpoint: str) -> JSONResponse:
        log_fields(request.scope).update(outcome="refused", reason=exc.reason)
        services.metrics.requests.labels(endpoint, f"refused_{exc.status}").inc()
        return JSONResponse({"error": exc.reason}, status_code=exc.status)

    @app.post(BOOT_PATH)
    async def messenger_boot(request: Request) -> Response:
        try:
            raw = await authenticate(request, services, BOOT_PATH)
            parsed = _parse(raw)
        except Refused as exc:
            return refused(request, exc, "messenger_boot")
        body, outcome = answer(services, parsed)
        fields = log_fields(request.scope)
        fields.update(outcome=outcome, portal=parsed.portal, itop_user=parsed.user.id)
        if body.get("workspace"):
            fields["workspace"] = body["workspace"]
        services.metrics.requests.labels("messenger_boot", outcome).inc()
        return JSONResponse(body, headers={"Cache-Control": "no-store"})

    @app.post(PING_PATH)
    async def messenger_ping(request: Request) -> Response:
        try:
            await authenticate(request, services, PING_PATH)
        except Refused as exc:
            return refused(request, exc, "messenger_ping")
        services.metrics.requests.labels("messenger_ping", "ok").inc()
        return JSONResponse({"status": "ok"}, headers={"Cache-Control": "no-store"})


def _parse(raw: bytes) -> BootRequest:
    try:
        data = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise Refused(400, "body is not valid JSON") from None
    try:
        return BootRequest.model_validate(data)
    except ValidationError as exc:
        where = sorted({".".join(str(p) for p in e["loc"]) for e in exc.errors()})
        raise Refused(400, f"invalid boot request: {', '.join(where[:5])}") from None
