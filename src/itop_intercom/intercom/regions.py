"""Intercom's hosts per hosting region (US, EU, Australia).

A workspace lives in one region. Calling the regional REST host directly is what Intercom
recommends (`api.intercom.io` only "attempts" to route), the Messenger needs the regional
`api_base`, and a link to a conversation must point at the web app the teammate logs in to.

Sources: REST hosts from Intercom's REST API page and the OpenAPI `servers`; Messenger `api_base`
values from Intercom's own Messenger installation instructions.
The regional web-app hosts (`app.eu.intercom.com`, `app.au.intercom.com`) are not in Intercom's
developer docs: they are what EU and AU teammates log in to and what several public integrations
use for conversation links. The PHP extension always wrote `app.intercom.com`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final
from urllib.parse import quote

from itop_intercom.settings.model import Region

REST_BASE_URLS: Final[Mapping[Region, str]] = {
    "us": "https://api.intercom.io",
    "eu": "https://api.eu.intercom.io",
    "au": "https://api.au.intercom.io",
}

MESSENGER_API_BASES: Final[Mapping[Region, str]] = {
    "us": "https://api-iam.intercom.io",
    "eu": "https://api-iam.eu.intercom.io",
    "au": "https://api-iam.au.intercom.io",
}

APP_BASE_URLS: Final[Mapping[Region, str]] = {
    "us": "https://app.intercom.com",
    "eu": "https://app.eu.intercom.com",
    "au": "https://app.au.intercom.com",
}

_REGION_NAMES: Final[Mapping[str, Region]] = {
    "us": "us",
    "usa": "us",
    "united states": "us",
    "eu": "eu",
    "europe": "eu",
    "au": "au",
    "australia": "au",
}


def normalize_region(value: str | None) -> Region | None:
    """Map what Intercom reports (`"US"` in `/me`, `workspace_region` in canvases, whose exact
    values are undocumented) to our `Region`, case-insensitively; None when unknown."""
    if value is None:
        return None
    return _REGION_NAMES.get(value.strip().lower())


def rest_base_url(region: Region) -> str:
    """The REST API root for a region, without a trailing slash."""
    return REST_BASE_URLS[region]


def messenger_api_base(region: Region) -> str:
    """The Messenger's `api_base` boot setting for a region."""
    return MESSENGER_API_BASES[region]


def app_base_url(region: Region) -> str:
    """The Intercom web app a teammate of that region uses."""
    return APP_BASE_URLS[region]


def conversation_url(workspace_id: str, conversation_id: str, region: Region = "us") -> str:
    """Link to a conversation in the Inbox, as the PHP extension stores in `intercom_url`.

    Ids are percent-encoded: they come from signed payloads, but a link must never be able to
    escape its path segment.
    """
    return (
        f"{APP_BASE_URLS[region]}/a/apps/{quote(workspace_id, safe='')}"
        f"/inbox/inbox/all/conversations/{quote(conversation_id, safe='')}"
    )
