"""Routing canvas requests to screens, and turning iTop trouble into a readable canvas.

Component ids are `action` or `action:argument`; each action has one handler. Whatever goes
wrong with iTop (down, slow beyond the budget, refusing), the agent gets a canvas that says so
with a Retry button, never an HTTP error that Intercom would show as "Something went wrong".
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from itop_intercom.inbox import home
from itop_intercom.inbox.context import Canvas, ScreenContext
from itop_intercom.intercom import canvas as ck
from itop_intercom.itop.errors import ItopApiError, ItopError, ItopTimeout, readable
from itop_intercom.logs import get_logger
from itop_intercom.runtime import NotConfigured

log = get_logger("itop_intercom.inbox")

Handler = Callable[[ScreenContext, str], Awaitable[Canvas]]

ACTIONS: dict[str, Handler] = {}


def action(name: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        ACTIONS[name] = handler
        return handler

    return register


@action("home")
@action("retry")
async def _home(ctx: ScreenContext, _arg: str) -> Canvas:
    return await home.render(ctx)


@action("home:pause")
async def _pause(ctx: ScreenContext, _arg: str) -> Canvas:
    store = await ctx.services.link_store()
    await store.set_sync(ctx.workspace.id, ctx.conversation_id, False)
    return await home.render(ctx)


@action("home:resume")
async def _resume(ctx: ScreenContext, _arg: str) -> Canvas:
    store = await ctx.services.link_store()
    await store.set_sync(ctx.workspace.id, ctx.conversation_id, True)
    return await home.render(ctx)


async def placeholder(ctx: ScreenContext, _arg: str) -> Canvas:
    return ck.canvas(
        [
            ck.text(ctx.t("placeholder.soon"), style="muted"),
            ck.submit_button("home", ctx.t("common.back"), style="secondary"),
        ]
    )


def resolve_handler(component_id: str) -> tuple[Handler, str]:
    if component_id in ACTIONS:
        return ACTIONS[component_id], ""
    name, _, argument = component_id.rpartition(":")
    if name in ACTIONS:
        return ACTIONS[name], argument
    return placeholder, ""


async def initialize(ctx: ScreenContext) -> tuple[Canvas, str]:
    return await _guarded(ctx, _home, "", retry_id="retry")


async def submit(ctx: ScreenContext) -> tuple[Canvas, str]:
    component_id = ctx.request.component_id or "home"
    handler, argument = resolve_handler(component_id)
    return await _guarded(ctx, handler, argument, retry_id=component_id)


def error_canvas(ctx: ScreenContext, message: str, retry_id: str) -> Canvas:
    return ck.canvas(
        [
            ck.text(message, style="error"),
            ck.submit_button(retry_id, ctx.t("common.retry")),
            ck.submit_button("home", ctx.t("common.back"), style="secondary"),
        ],
        {"screen": "error"},
    )


async def _guarded(
    ctx: ScreenContext, handler: Handler, argument: str, *, retry_id: str
) -> tuple[Canvas, str]:
    """Run a screen within the iTop budget; return the canvas and an outcome for the log."""
    budget = ctx.services.settings.itop.canvas_budget_seconds
    try:
        return await asyncio.wait_for(handler(ctx, argument), timeout=budget), "ok"
    except (TimeoutError, ItopTimeout):
        return error_canvas(ctx, ctx.t("error.itop_slow"), retry_id), "itop_slow"
    except NotConfigured:
        return error_canvas(ctx, ctx.t("error.itop_config"), retry_id), "not_configured"
    except ItopApiError as exc:
        log.warning(
            "itop refused", code=exc.code, itop_message=exc.message, operation=exc.operation
        )
        message = ctx.t("error.itop_refused", message=readable(exc.message))
        return error_canvas(ctx, message, retry_id), "itop_refused"
    except ItopError as exc:
        log.warning("itop unavailable", error=type(exc).__name__, detail=exc.message)
        return error_canvas(ctx, ctx.t("error.itop_down"), retry_id), "itop_down"
