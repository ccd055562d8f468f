"""The creation form: prefill, defaults, dependent choices, search beyond 10 choices."""

from __future__ import annotations

from itop_intercom.locale import Texts
from itop_intercom.runtime import Services
from itop_intercom.settings.form import FormFieldSettings
from tests.fakes.itop import FakeItop
from tests.inbox.catalog import IT_SERVICES
from tests.inbox.driver import Inbox


async def _open(inbox: Inbox) -> None:
    await inbox.initialize()
    await inbox.click("home:create")
    assert inbox.screen == "form"


async def test_form_opens_prefilled(inbox: Inbox, t: Texts) -> None:
    inbox.subject = "<b>VPN</b> is down"
    inbox.source_body = "<p>Hello,</p><p>the VPN drops every <i>5 minutes</i>.</p>"
    await _open(inbox)
    assert t("form.caller", name="Agatha Christie", org="Demo") in inbox.texts()
    title = inbox.component("field:title")
    assert title["value"] == "VPN is down"
    assert title["label"] == t("form.mandatory", label=t("attr.title"))
    description = inbox.component("field:description")
    assert description["type"] == "textarea"
    assert description["value"] == "Hello,\n\nthe VPN drops every 5 minutes."
    urgency = inbox.component("field:urgency")
    assert urgency["value"] == "4"
    assert inbox.options("field:urgency") == [
        (str(n), t(f"value.urgency.{n}")) for n in range(1, 5)
    ]
    assert inbox.component("field:impact")["value"] == "1"
    service = inbox.component("field:service_id")
    assert service["type"] == "single-select" and service["action"] == {"type": "submit"}
    assert service["label"] == t("attr.service_id")  # optional: not marked
    assert inbox.options("field:service_id")[0] == ("__none__", t("form.none"))
    assert (
        t("form.waiting", label=t("attr.servicesubcategory_id"), needed=t("attr.service_id"))
        in inbox.texts()
    )


async def test_title_falls_back_to_the_first_message(inbox: Inbox) -> None:
    inbox.subject = ""
    inbox.source_body = "<p>" + "word " * 40 + "</p>"
    await _open(inbox)
    title = inbox.component("field:title")["value"]
    assert title.startswith("word word") and title.endswith("…") and len(title) <= 80


async def test_choosing_a_service_brings_its_subcategories(inbox: Inbox, t: Texts) -> None:
    await _open(inbox)
    await inbox.click("field:service_id", field__service_id="1", field__title="Kept title")
    assert inbox.component("field:title")["value"] == "Kept title"
    assert inbox.component("field:service_id")["value"] == "1"
    assert inbox.options("field:servicesubcategory_id") == [
        ("__none__", t("form.none")),
        ("1", "New desktop ordering"),
        ("2", "Printer repair"),
    ]  # the obsolete subcategory is not offered
    sub = inbox.component("field:servicesubcategory_id")
    assert sub["type"] == "dropdown" and sub["value"] == "__none__"

    # Another service: the subcategory chosen before is not one of its own any more.
    await inbox.click("field:service_id", field__service_id="2", field__servicesubcategory_id="2")
    assert inbox.options("field:servicesubcategory_id")[1:] == [("4", "Licence request")]
    assert inbox.component("field:servicesubcategory_id")["value"] == "__none__"

    await inbox.click("field:service_id", field__service_id="3")
    assert t("form.no_choice", label=t("attr.servicesubcategory_id")) in inbox.texts()


async def test_more_than_ten_choices_become_a_search(
    inbox: Inbox, fake_itop: FakeItop, t: Texts
) -> None:
    inbox.contact_email = "victor.hugo@it.com"
    await _open(inbox)
    assert "field:service_id" not in inbox.ids()
    search = inbox.component("search:service_id")
    assert search["action"] == {"type": "submit"}
    assert search["placeholder"] == t("form.search_placeholder", count=len(IT_SERVICES))

    await inbox.click("search:service_id", search__service_id="it service", field__title="T")
    options = inbox.options("field:service_id")
    assert len(options) == 10 and options[0][0] == "__none__"
    assert t("form.search_more", count=14) in inbox.texts()
    assert inbox.component("field:title")["value"] == "T"

    await inbox.click("search:service_id", search__service_id="zzz")
    assert t("form.search_none") in inbox.texts()

    # A search with one match chooses it, and the fields depending on it follow.
    await inbox.click("search:service_id", search__service_id="SÉRVICE d03")  # accents, case
    assert inbox.options("field:service_id") == [
        ("__none__", t("form.none")),
        ("103", "IT service D03"),
    ]
    assert inbox.component("field:service_id")["value"] == "103"
    assert t("form.no_choice", label=t("attr.servicesubcategory_id")) in inbox.texts()
    assert inbox.stored["form"]["values"]["service_id"] == "103"

    # Choosing among several matches.
    await inbox.click("search:service_id", search__service_id="service b0")
    options = inbox.options("field:service_id")
    assert ("101", "IT service B01") in options and ("103", "IT service D03") in options
    await inbox.click("field:service_id", field__service_id="101")
    assert inbox.component("field:service_id")["value"] == "101"


async def test_admin_described_attributes(inbox: Inbox, services: Services, t: Texts) -> None:
    settings = services.settings.create_ticket
    settings.form_attributes = [*settings.form_attributes, "escalation_reason", "origin_note"]
    settings.fields["escalation_reason"] = FormFieldSettings(
        kind="text", label={"en": "Why is it hot?", "fr": "Pourquoi est-ce urgent ?"}
    )
    settings.fields["request_type"] = FormFieldSettings(
        kind="choice", mandatory=True, values={"service_request": None}
    )
    await _open(inbox)
    label = inbox.component("field:escalation_reason")["label"]
    assert label == ("Why is it hot?" if t.language == "en" else "Pourquoi est-ce urgent ?")
    # Listed but not described: a short text named by its code.
    assert inbox.component("field:origin_note")["label"] == "origin_note"
    # Mandatory without a default, so shown though not listed; its only choice is chosen.
    assert (
        t(
            "form.fixed",
            label=t("form.mandatory", label=t("attr.request_type")),
            value=t("value.request_type.service_request"),
        )
        in inbox.texts()
    )


async def test_a_query_this_itop_refuses_leaves_the_field_empty(
    inbox: Inbox, services: Services, t: Texts
) -> None:
    services.settings.create_ticket.fields["service_id"] = FormFieldSettings(
        kind="choice", query="SELECT NoSuchClass WHERE org_id = :org_id"
    )
    await _open(inbox)
    assert t("form.no_choice", label=t("attr.service_id")) in inbox.texts()
    assert "field:title" in inbox.ids()
