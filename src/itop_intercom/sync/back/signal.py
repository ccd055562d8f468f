"""`POST /itop/changed`: an optional "poll now" signal from an iTop webhook action.

An iTop administrator may add a trigger (e.g. "on object update" of UserRequest) with a webhook
action calling this URL, with the shared secret `backsync.webhook_secret` in the
`X-Itop-Intercom-Secret` header (or `Authorization: Bearer <secret>`). The call only wakes the
poller: nothing in its body is read or trusted, the history stays the source of truth, and the
back-sync works the same (within `backsync.poll_seconds`) when the call never comes.
Answers: 202 accepted, 401 wrong or missing secret, 404 when no secret is configured.
"""

from __future__ import annotations

import hmac

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from itop_intercom.runtime import Services
from itop_intercom.sync.back.poller import state_of

PATH = "/itop/changed"


def _given_secret(request: Request) -> str:
    header = request.headers.get("x-itop-intercom-secret")
    if header:
        return header.strip()
    auth = request.headers.get("authorization") or ""
    scheme, _, value = auth.partition(" ")
    return value.strip() if scheme.lower() == "bearer" else ""


def register(app: FastAPI, services: Services) -> None:
    @app.post(PATH)
    async def itop_changed(request: Request) -> Response:
        metrics = services.metrics
        secret = services.settings.backsync.webhook_secret
        if secret is None or not services.settings.backsync.enabled:
            metrics.requests.labels("itop_changed", "refused_404").inc()
            return JSONResponse({"error": "not found"}, status_code=404)
        given = _given_secret(request).encode()
        if not given or not hmac.compare_digest(given, secret.get_secret_value().encode()):
            metrics.requests.labels("itop_changed", "refused_401").inc()
            return JSONResponse({"error": "missing or wrong secret"}, status_code=401)
        state_of(services).poll_now.set()
        metrics.requests.labels("itop_changed", "accepted").inc()
        return JSONResponse({"status": "polling"}, status_code=202)
