"""Links to tickets for agents (back office) and end users (portal or a template)."""

from __future__ import annotations

from itop_intercom.itop.ticket_urls import backoffice_url, portal_url
from itop_intercom.settings.model import Settings


def _settings(maker: str = "itop-portal") -> Settings:
    return Settings(
        itop={"url": "https://itop.example.com/itop/"}, messenger={"portal_url_maker": maker}
    )


def test_backoffice() -> None:
    assert backoffice_url(_settings(), "UserRequest", 12) == (
        "https://itop.example.com/itop/pages/UI.php?operation=details&class=UserRequest&id=12"
    )


def test_portal_and_templates() -> None:
    assert portal_url(_settings(), "UserRequest", 12) == (
        "https://itop.example.com/itop/pages/exec.php/object/view/UserRequest/12"
        "?exec_module=itop-portal-base&exec_page=index.php&portal_id=itop-portal"
    )
    assert portal_url(_settings("backoffice"), "UserRequest", 12).endswith("&id=12")
    template = "{itop_url}/custom/{class}/{id}"
    assert portal_url(_settings(template), "UserRequest", 12) == (
        "https://itop.example.com/itop/custom/UserRequest/12"
    )
