"""Links to a ticket in iTop: the back office for agents, the portal (or another page) for end
users, as chosen by `messenger.portal_url_maker` (the extension's `portal_url_maker_class`)."""

from __future__ import annotations

from urllib.parse import quote, urlencode

from itop_intercom.settings.model import Settings


def _root(settings: Settings) -> str:
    if settings.itop.url is None:
        raise ValueError("itop.url is not set")
    return str(settings.itop.url).rstrip("/")


def backoffice_url(settings: Settings, class_: str, ticket_id: int) -> str:
    query = urlencode({"operation": "details", "class": class_, "id": str(int(ticket_id))})
    return f"{_root(settings)}/pages/UI.php?{query}"


def portal_url(settings: Settings, class_: str, ticket_id: int) -> str:
    """The page an end user gets in the reply that announces a new ticket."""
    maker = settings.messenger.portal_url_maker
    root = _root(settings)
    if maker == "backoffice":
        return backoffice_url(settings, class_, ticket_id)
    if maker == "itop-portal":
        return (
            f"{root}/pages/exec.php/object/view/{quote(class_, safe='')}/{int(ticket_id)}"
            "?exec_module=itop-portal-base&exec_page=index.php&portal_id=itop-portal"
        )
    return maker.format(itop_url=root, **{"class": quote(class_, safe="")}, id=int(ticket_id))
