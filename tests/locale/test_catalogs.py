"""Every text exists in both languages, with the same placeholders."""

from __future__ import annotations

import string

from itop_intercom.locale import CATALOGS, Texts


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_same_keys_and_placeholders() -> None:
    en, fr = CATALOGS["en"], CATALOGS["fr"]
    assert set(en) == set(fr)
    for key in en:
        assert _fields(en[key]) == _fields(fr[key]), key


def test_texts_helpers() -> None:
    t = Texts("fr")
    assert t("common.back") == "Retour"
    assert t.optional("attr.nothing") is None
    assert t.pick({"en": "Hot", "fr": "Chaud"}) == "Chaud"
    assert t.pick({"en": "Hot"}) == "Hot"
    assert t.pick("Plain") == "Plain"
    assert Texts("de").language == "en"
