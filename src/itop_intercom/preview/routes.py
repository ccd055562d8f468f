"""The preview page: the Inbox app rendered in a browser, driven through the real signed path.

An admin chooses a workspace, a sample conversation and a contact (an email, or the iTop person
the chat widget would have set), and clicks through the canvases as an agent would. Each click
becomes a genuine Canvas Kit request body, signed with the workspace's client secret and sent to
the service's own `/intercom/canvas/initialize` or `/submit` endpoint in-process, so signature
checking, parsing, dispatching and iTop calls are exactly what Intercom would trigger. The secret
never leaves the server. Requests are marked as preview ones (`PREVIEW_KEY`), which only changes
what would be posted in Intercom: the notes and replies are kept and shown on the page instead.

Off by default (`server.preview`): the page acts on iTop with the service's token, so it is an
admin tool for a trusted network, not something to expose publicly.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import TYPE_CHECKING, Any

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, Field

from itop_intercom.inbox.context import PREVIEW_KEY
from itop_intercom.intercom.signatures import CANVAS_SIGNATURE_HEADER, canvas_signature
from itop_intercom.locale import CATALOGS, Texts
from itop_intercom.logs import get_logger
from itop_intercom.preview.samples import SAMPLES, sample
from itop_intercom.urls import INITIALIZE_PATH, SUBMIT_PATH

if TYPE_CHECKING:
    from itop_intercom.runtime import Services

log = get_logger("itop_intercom.preview")

PAGE_PATH = "/preview"
API_PATH = "/preview/api/canvas"


class PreviewContact(BaseModel):
    email: str = ""
    name: str = ""
    itop_contact_class: str = ""
    itop_contact_id: str = ""


class PreviewClick(BaseModel):
    """One interaction of the page: no `component_id` means Initialize."""

    workspace_id: str
    sample_id: str = SAMPLES[0].id
    conversation_id: str = Field(default="preview-1", min_length=1, max_length=64)
    contact: PreviewContact = Field(default_factory=PreviewContact)
    component_id: str | None = None
    input_values: dict[str, Any] = Field(default_factory=dict)
    current_canvas: dict[str, Any] | None = None


def _request_body(click: PreviewClick, texts: Texts, services: Services) -> dict[str, Any]:
    workspace = services.settings.workspace(click.workspace_id)
    region = workspace.region if workspace is not None else "us"
    agent = {"type": "admin", "id": "preview-agent", "name": texts("preview.agent"), "email": ""}
    attributes: dict[str, Any] = {}
    if click.contact.itop_contact_class and click.contact.itop_contact_id:
        attributes = {
            "itop_contact_class": click.contact.itop_contact_class,
            "itop_contact_id": click.contact.itop_contact_id,
        }
    contact = {
        "type": "contact",
        "id": "contact",
        "role": "user",
        "email": click.contact.email or None,
        "name": click.contact.name or None,
        "custom_attributes": attributes,
    }
    body: dict[str, Any] = {
        "workspace_id": click.workspace_id,
        "workspace_region": region,
        "admin": agent,
        "conversation": sample(click.sample_id).conversation(click.conversation_id, contact, agent),
        "contact": contact,
        "context": {"location": "conversation", "locale": texts.language},
        PREVIEW_KEY: True,
    }
    if click.component_id is not None:
        body["component_id"] = click.component_id
        body["input_values"] = click.input_values
        body["current_canvas"] = click.current_canvas or {"content": {"components": []}}
    return body


def _page(services: Services) -> str:
    language = services.settings.language
    texts = CATALOGS.get(language, CATALOGS["en"])
    setup = {
        "language": language,
        "texts": {k: v for k, v in texts.items() if k.startswith("preview.")},
        "workspaces": sorted(services.settings.workspaces),
        "samples": [{"id": s.id, "title": s.title} for s in SAMPLES],
        "api": API_PATH,
    }
    template = resources.files("itop_intercom.preview").joinpath("page.html").read_text("utf-8")
    # `</` cannot close the script element from inside the JSON.
    data = json.dumps(setup, ensure_ascii=False).replace("</", "<\\/")
    return template.replace("__SETUP_JSON__", data).replace("__LANG__", language)


def register(app: FastAPI, services: Services) -> None:
    """Add the preview routes (the caller checks `server.preview`)."""
    log.warning(
        "preview page enabled at /preview: whoever reaches it acts on iTop with the service's "
        "token; keep it off in production"
    )

    @app.get(PAGE_PATH)
    async def preview_page() -> Response:
        return HTMLResponse(_page(services), headers={"Cache-Control": "no-store"})

    @app.post(API_PATH)
    async def preview_canvas(request: Request, click: PreviewClick) -> Response:
        workspace = services.settings.workspace(click.workspace_id)
        texts = Texts(workspace.language if workspace else services.settings.language)
        if workspace is None or workspace.client_secret is None:
            return JSONResponse({"error": texts("preview.no_secret")}, status_code=400)
        body = _request_body(click, texts, services)
        raw = json.dumps(body, ensure_ascii=False).encode("utf-8")
        signature = canvas_signature(raw, workspace.client_secret.get_secret_value())
        path = SUBMIT_PATH if click.component_id is not None else INITIALIZE_PATH
        if click.component_id is None:
            services.preview_outbox.clear(click.workspace_id, click.conversation_id)
        transport = httpx.ASGITransport(app=request.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://preview") as http:
            answer = await http.post(
                path,
                content=raw,
                headers={"Content-Type": "application/json", CANVAS_SIGNATURE_HEADER: signature},
            )
        outbox = [
            {"type": m.message_type, "body": m.body}
            for m in services.preview_outbox.messages(click.workspace_id, click.conversation_id)
        ]
        try:
            payload = answer.json()
        except ValueError:
            payload = {"error": answer.text[:500]}
        return JSONResponse(
            {"status": answer.status_code, "answer": payload, "outbox": outbox},
            headers={"Cache-Control": "no-store"},
        )
