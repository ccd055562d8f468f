"""Routing canvas requests to screens, and turning iTop trouble into a readable canvas.

Component ids (see `registry`) and the screens they lead to:

| component id                         | screen                                              |
|--------------------------------------|-----------------------------------------------------|
| (initialize), `home`, `retry`        | Home                                                |
| `home:pause`, `home:resume`          | flip the sync flag of every linked ticket, then Home |
| `home:linked`, `list:linked:<page>`  | tickets linked to the conversation (30 per page)    |
| `home:ongoing`, `list:ongoing:<page>`| ongoing tickets of the contact's person             |
| `ticket:<id>`                        | ticket detail                                       |
| `link:<id>`, `relink:<id>`           | link (after confirmation when linked elsewhere)     |
| `home:create`, `field:<attcode>`,    | creation form; a choice / search re-renders it      |
| `search:<attcode>`                   |                                                     |
| `form:submit`                        | create the ticket, then the confirmation            |
| `home:person`, `person:<Class>-<id>` | choose among several persons with the same email    |
| `home:noperson`, `find`              | no person: what to do, and find a ticket by its ref |

Whatever goes wrong with iTop (down, slow beyond the budget, refusing), the agent gets a canvas
that says so with a Retry button, never an HTTP error that Intercom would show as "Something went
wrong". The error canvas keeps the failed canvas's state, so Retry replays the same action with
the same values.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from itop_intercom.errors import NotConfigured
from itop_intercom.inbox import home
from itop_intercom.inbox.context import Canvas, ScreenContext
from itop_intercom.inbox.registry import Handler
from itop_intercom.intercom import canvas as ck
from itop_intercom.itop.errors import ItopApiError, ItopError, ItopTimeout, readable
from itop_intercom.logs import get_logger

log = get_logger("itop_intercom.inbox")

#: The failed canvas's state kept for Retry stays well under stored_data's 64 KB.
RETRY_STATE_MAX_BYTES = 48 * 1024


async def _home(ctx: ScreenContext, _arg: str) -> Canvas:
    return await home.render(ctx)


async def initialize(ctx: ScreenContext) -> tuple[Canvas, str]:
    return await _guarded(ctx, _home, "", retry_id="retry")


async def submit(ctx: ScreenContext) -> tuple[Canvas, str]:
    component_id = ctx.request.component_id or "home"
    resolved = ctx.services.actions.resolve(component_id)
    if resolved is None:
        # A canvas of an older version of the app, or a forged id: start again from Home.
        log.info("unknown component", component=component_id[:64])
        return await _guarded(ctx, _home, "", retry_id="retry")
    handler, argument = resolved
    return await _guarded(ctx, handler, argument, retry_id=component_id)


def error_canvas(ctx: ScreenContext, message: str, retry_id: str) -> Canvas:
    """A short error with Retry (replaying `retry_id` with the state of the failed canvas)."""
    retry: dict[str, Any] = {"stored": ctx.stored, "inputs": ctx.inputs}
    if len(json.dumps(retry, ensure_ascii=False).encode("utf-8")) > RETRY_STATE_MAX_BYTES:
        # Intercom refuses stored_data over 64 KB: Retry then starts from the stored state.
        retry = {"stored": ctx.stored, "inputs": {}}
        if len(json.dumps(retry, ensure_ascii=False).encode("utf-8")) > RETRY_STATE_MAX_BYTES:
            retry = {"stored": {}, "inputs": {}}
    components = [
        ck.text(message, style="error"),
        ck.submit_button(retry_id, ctx.t("common.retry")),
    ]
    if retry_id not in ("home", "retry"):
        components.append(ck.submit_button("home", ctx.t("common.back_home"), style="secondary"))
    return ck.canvas(components, {"screen": "error", "retry": retry})


async def _guarded(
    ctx: ScreenContext, handler: Handler, argument: str, *, retry_id: str
) -> tuple[Canvas, str]:
    """Run a screen within the iTop budget; return the canvas and an outcome for the log."""
    budget = ctx.services.settings.itop.canvas_budget_seconds
    ctx.deadline = asyncio.get_running_loop().time() + budget
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
