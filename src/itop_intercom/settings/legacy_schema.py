"""The PHP extension's settings, and where each one goes in ours (the import's schema)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final, Literal

from itop_intercom.settings.model import DEFAULT_ATTRIBUTES_MAPPING

#: iTop's URL maker classes (compared case-insensitively, as PHP compares class names).
URL_MAKERS: Final[Mapping[str, str]] = {
    "itopportalviewurlmaker": "itop-portal",
    "itopportalediturlmaker": "itop-portal",
    "itopstandardurlmaker": "backoffice",
}

LeafKind = Literal["str", "list", "bool", "secret", "url_maker"]


@dataclass(frozen=True)
class Leaf:
    kind: LeafKind
    target: tuple[str, ...]
    """Our key, relative to the enclosing map entry (absolute outside maps)."""


@dataclass(frozen=True)
class MapSetting:
    """A setting whose keys are data (workspace ids, logical attribute names)."""

    target: tuple[str, ...]
    entry: Spec
    allowed_keys: frozenset[str] | None = None


Spec = Mapping[str, "Spec"] | Leaf | MapSetting

#: The extension's settings and where each one goes in our settings.
SCHEMA: Final[Mapping[str, Spec]] = {
    "workspaces": MapSetting(("workspaces",), {"scope": Leaf("str", ("scope",))}),
    "sync_app": {
        "client_secret": Leaf("secret", ("client_secret",)),
        "access_token": Leaf("secret", ("access_token",)),
        "ticket": {
            "class": Leaf("str", ("ticket", "class")),
            "attributes_mapping": MapSetting(
                ("ticket", "attributes_mapping"),
                Leaf("str", ()),
                frozenset(DEFAULT_ATTRIBUTES_MAPPING),
            ),
        },
        "create_ticket": {
            "form_attributes": Leaf("list", ("create_ticket", "form_attributes")),
        },
        "search_ticket": {
            "excluded_states": Leaf("list", ("search_ticket", "excluded_states")),
            "subtitle_attribute": Leaf("str", ("search_ticket", "subtitle_attribute")),
        },
        "view_ticket": {
            "details_attributes": Leaf("list", ("view_ticket", "details_attributes")),
            "show_open_in_backoffice_button": Leaf(
                "bool", ("view_ticket", "show_open_in_backoffice_button")
            ),
        },
        "portal_url_maker_class": Leaf("url_maker", ("messenger", "portal_url_maker")),
    },
    "enabled_portals": Leaf("list", ("messenger", "enabled_portals")),
    "allowed_profiles": Leaf("list", ("messenger", "allowed_profiles")),
}

#: Order of the tables in the produced file: what an admin checks first comes first.
SECTION_ORDER = (
    "workspaces",
    "ticket",
    "create_ticket",
    "search_ticket",
    "view_ticket",
    "messenger",
)


def schema_targets(spec: Spec, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    if isinstance(spec, Leaf):
        return [prefix + spec.target]
    if isinstance(spec, MapSetting):
        return [prefix + spec.target]
    return [target for child in spec.values() for target in schema_targets(child, prefix)]


#: Our keys in the order of the extension's settings (`SCHEMA`), so that the file reads like the
#: extension's docs.
KEY_ORDER: Final[Mapping[tuple[str, ...], int]] = {
    target: index for index, target in enumerate(schema_targets(SCHEMA))
}
