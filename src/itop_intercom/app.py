"""The web application: Intercom's canvas and webhook endpoints, health and metrics.

Every Intercom request passes `web.guard.verify` first; nothing is parsed into models, read from
iTop or written before the signature is checked. Internal failures never reach Intercom as a
stack trace: canvas endpoints answer an error canvas, the others a short JSON error.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import sqlalchemy as sa
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from pydantic import ValidationError
from starlette.types import ASGIApp

from itop_intercom import __version__
from itop_intercom.inbox import dispatch, warmup
from itop_intercom.inbox.context import ScreenContext
from itop_intercom.inbox.state_seal import seal_answer
from itop_intercom.intercom.invalid import invalid_fields
from itop_intercom.intercom.payloads import CanvasRequest
from itop_intercom.intercom.signatures import verify_canvas_signature, verify_webhook_signature
from itop_intercom.logs import get_logger
from itop_intercom.messenger import routes as messenger_routes
from itop_intercom.metrics import topic_label
from itop_intercom.preview import routes as preview_routes
from itop_intercom.runtime import Services
from itop_intercom.sync import intake
from itop_intercom.sync.back import signal as backsync_signal
from itop_intercom.web.access_log import AccessLog, log_fields
from itop_intercom.web.body_gate import BodyGate, BodyLimits
from itop_intercom.web.guard import Refused, VerifiedRequest, client_secrets, verify

log = get_logger("itop_intercom.app")

#: Starts background work (the sync worker) for the life of the app; returns its stopper.
BackgroundStarter = Callable[[Services], Any]

#: Longest conversation id accepted (the size of the id columns of the database).
MAX_ID_CHARS = 64


def create_app(
    services: Services,
    *,
    background: BackgroundStarter | None = None,
    on_shutdown_close: bool = True,
) -> ASGIApp:
    """The ASGI app (FastAPI wrapped in the access log) serving `services`."""
    settings = services.settings
    secrets = client_secrets(settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        stopper = background(services) if background is not None else None
        try:
            yield
        finally:
            if stopper is not None:
                await stopper()
            if on_shutdown_close:
                await services.aclose()

    app = FastAPI(
        title="itop-intercom",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.services = services

    def refused(request: Request, exc: Refused, endpoint: str) -> JSONResponse:
        log_fields(request.scope).update(outcome="refused", reason=exc.reason)
        services.metrics.requests.labels(endpoint, f"refused_{exc.status}").inc()
        return JSONResponse({"error": exc.reason}, status_code=exc.status)

    async def canvas_endpoint(request: Request, endpoint: str) -> Response:
        try:
            verified = await verify(
                request,
                settings,
                signature_header="X-Body-Signature",
                workspace_key="workspace_id",
                check=verify_canvas_signature,
                secrets=secrets,
                unstorable="repair",
            )
            payload = _canvas_request(verified)
        except Refused as exc:
            return refused(request, exc, endpoint)
        assert payload.conversation is not None  # checked by _canvas_request
        fields = log_fields(request.scope)
        fields.update(
            workspace=verified.workspace.id,
            conversation=str(payload.conversation.id),
            component=payload.component_id,
        )
        ctx = ScreenContext.build(services, verified.workspace, payload)
        try:
            if endpoint == "initialize":
                body, outcome = await dispatch.initialize(ctx)
            else:
                body, outcome = await dispatch.submit(ctx)
        except Exception:
            log.exception("canvas failed", workspace=verified.workspace.id)
            body = dispatch.error_canvas(ctx, ctx.t("error.internal"), "home")
            outcome = "error"
        fields["outcome"] = outcome
        services.metrics.requests.labels(endpoint, outcome).inc()
        return JSONResponse(seal_answer(body, verified.workspace, ctx.conversation_id))

    @app.post("/intercom/canvas/initialize")
    async def canvas_initialize(request: Request) -> Response:
        return await canvas_endpoint(request, "initialize")

    @app.post("/intercom/canvas/submit")
    async def canvas_submit(request: Request) -> Response:
        return await canvas_endpoint(request, "submit")

    @app.head("/intercom/webhooks")
    async def webhook_head() -> Response:
        # Intercom validates the endpoint with a HEAD request when it is saved.
        return Response(status_code=200)

    @app.post("/intercom/webhooks")
    async def webhook(request: Request) -> Response:
        try:
            verified = await verify(
                request,
                settings,
                signature_header="X-Hub-Signature",
                workspace_key="app_id",
                check=verify_webhook_signature,
                secrets=secrets,
            )
        except Refused as exc:
            return refused(request, exc, "webhook")
        fields = log_fields(request.scope)
        topic = str(verified.data.get("topic") or "")
        fields.update(workspace=verified.workspace.id, topic=topic)
        try:
            status, body, outcome = await intake.accept(services, verified.workspace, verified.data)
        except intake.MalformedNotification as exc:
            return refused(request, Refused(400, str(exc)), "webhook")
        fields.update(outcome=outcome, conversation=body.get("conversation"))
        if outcome == "accepted":
            warmup.after_webhook(services, verified.workspace, verified.data)
        services.metrics.requests.labels("webhook", outcome).inc()
        services.metrics.intake.labels(topic_label(topic), outcome).inc()
        return JSONResponse(body, status_code=status)

    messenger_routes.register(app, services)
    if settings.server.preview:
        preview_routes.register(app, services)
    backsync_signal.register(app, services)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "alive"}

    @app.get("/readyz")
    async def readyz() -> Response:
        problems: list[str] = []
        try:
            async with services.engine.connect() as conn:
                await conn.execute(sa.text("SELECT 1"))
        except Exception as exc:
            problems.append(f"database unreachable: {type(exc).__name__}")
        problems.extend(readiness_problems(services))
        if problems:
            return JSONResponse({"status": "not ready", "problems": problems}, status_code=503)
        return JSONResponse({"status": "ready"})

    @app.get("/")
    async def root() -> JSONResponse:
        # What someone who opens the service's address sees: what it is, and where to look.
        return JSONResponse(
            {"service": "itop-intercom", "version": __version__, "health": "/healthz"}
        )

    @app.get("/metrics")
    async def metrics() -> Response:
        await intake.refresh_gauges(services)
        await services.usage.refresh()
        return Response(services.metrics.render(), media_type="text/plain; version=0.0.4")

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.error("unhandled error", error=type(exc).__name__, path=request.url.path)
        return JSONResponse({"error": "internal error"}, status_code=500)

    return AccessLog(BodyGate(app, BodyLimits.of(settings.server), services.metrics))


def _canvas_request(verified: VerifiedRequest) -> CanvasRequest:
    """The typed request; a canvas request without a conversation is useless to every screen."""
    try:
        payload = CanvasRequest.model_validate(verified.data)
    except ValidationError as exc:
        raise Refused(400, f"invalid canvas request: {invalid_fields(exc)}") from None
    conversation = payload.conversation
    if conversation is None or not conversation.id or len(conversation.id) > MAX_ID_CHARS:
        # Intercom's conversation ids are short digit strings; a longer one fits no column.
        raise Refused(400, "invalid canvas request: conversation.id")
    return payload


def readiness_problems(services: Services) -> list[str]:
    settings = services.settings
    problems = []
    if settings.itop.url is None:
        problems.append("itop.url is not set")
    if settings.itop.token is None:
        problems.append("itop.token is not set")
    if not settings.workspaces:
        problems.append("no workspace is configured")
    for workspace_id in settings.workspaces:
        ws = settings.workspace(workspace_id)
        if ws is not None and ws.client_secret is None:
            problems.append(f"workspace {workspace_id}: no client secret")
    return problems
