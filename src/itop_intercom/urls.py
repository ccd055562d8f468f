"""The URLs an administrator pastes into the Intercom Developer Hub (setup step 5)."""

from __future__ import annotations

from dataclasses import dataclass

from itop_intercom.settings.model import Settings

INITIALIZE_PATH = "/intercom/canvas/initialize"
SUBMIT_PATH = "/intercom/canvas/submit"
WEBHOOK_PATH = "/intercom/webhooks"


@dataclass(frozen=True)
class DeveloperHubUrls:
    initialize: str
    submit: str
    webhooks: str


def developer_hub_urls(settings: Settings) -> DeveloperHubUrls:
    if settings.public_url is None:
        raise ValueError("public_url is not set: it is the address where Intercom reaches us")
    base = str(settings.public_url).rstrip("/")
    return DeveloperHubUrls(base + INITIALIZE_PATH, base + SUBMIT_PATH, base + WEBHOOK_PATH)


def render(urls: DeveloperHubUrls, *, https: bool) -> str:
    lines = [
        'Paste these into the Intercom Developer Hub, app "iTop":',
        "",
        "  Canvas Kit > For teammates > Inbox",
        f"    Initialize flow webhook URL:  {urls.initialize}",
        f"    Submit flow webhook URL:      {urls.submit}",
        "",
        "  Webhooks",
        f"    Request endpoint URL:         {urls.webhooks}",
        "    Topics: conversation.user.replied, conversation.admin.replied,"
        " conversation.admin.noted",
    ]
    if not https:
        lines += ["", "Warning: Intercom only calls https:// URLs; public_url is not https."]
    return "\n".join(lines)
