"""Texts shown to agents and end users, in English and French (as the PHP extension).

Screens never hard-code a sentence: they ask `Texts` for a key, so a missing translation is a
KeyError in the tests rather than an English phrase in a French Inbox.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from itop_intercom.locale.en import TEXTS as EN
from itop_intercom.locale.fr import TEXTS as FR

CATALOGS: Final[Mapping[str, Mapping[str, str]]] = {"en": EN, "fr": FR}


class Texts:
    def __init__(self, language: str) -> None:
        self.language = language if language in CATALOGS else "en"
        self._catalog = CATALOGS[self.language]

    def __call__(self, key: str, **values: Any) -> str:
        return self._catalog[key].format(**values)

    def optional(self, key: str, **values: Any) -> str | None:
        """The text when the catalog has one: for labels of datamodel attributes and values,
        which exist for the standard iTop classes only."""
        template = self._catalog.get(key)
        return None if template is None else template.format(**values)

    def pick(self, label: str | dict[str, str]) -> str:
        """A label from the settings: one text, or one per language (falling back to English,
        then to any language given)."""
        if isinstance(label, str):
            return label
        return label.get(self.language) or label.get("en") or next(iter(label.values()), "")


def texts(language: str) -> Texts:
    return Texts(language)
