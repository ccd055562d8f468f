"""A service catalogue in the iTop fake, for the creation form's service choices.

The shared fake knows `Service` and `ServiceSubcategory` but not the customer contracts that say
which organisation may use which service (iTop's `CustomerContract` and
`lnkCustomerContractToService`), nor the `status` of subcategories, which the form's default
queries use as iTop's own portal does. This adds them to one fake instance (test-side only: the
shared fake is another helper's file), with data:

- Demo (org 3, Agatha Christie): 3 services by contract; "Computers and peripherals" (id 1) has
  three subcategories (one obsolete), "Software" (id 2) one, "Telephony" (id 3) none.
- IT Department (org 2, Victor Hugo): 14 services by contract (more than a dropdown takes).
"""

from __future__ import annotations

from tests.fakes import itop as fake_module
from tests.fakes.itop import FakeItop

A = fake_module.A

DEMO_SERVICES = {1: "Computers and peripherals", 2: "Software", 3: "Telephony"}
DEMO_SUBCATEGORIES = {
    1: (1, "New desktop ordering", "production"),
    2: (1, "Printer repair", "production"),
    3: (1, "Fax machines", "obsolete"),
    4: (2, "Licence request", "production"),
}
IT_SERVICES = {100 + i: f"IT service {chr(ord('A') + i)}{i:02d}" for i in range(14)}


def _extend_model(fake: FakeItop) -> None:
    model = fake._model
    named = fake_module._key_fields
    subcategory = model["ServiceSubcategory"]
    if "status" not in subcategory.attrs:
        subcategory.attrs["status"] = A(
            "status",
            "enum",
            "Status",
            values=("implementation", "obsolete", "production"),
            default="production",
        )
    classes = {
        "CustomerContract": [
            A("name", "string", "Name", null=False),
            A("org_id", "extkey", "Customer", null=False, target="Organization"),
            A("friendlyname", "friendlyname"),
            *named("org_id"),
        ],
        "lnkCustomerContractToService": [
            A(
                "customercontract_id",
                "extkey",
                "Customer contract",
                null=False,
                target="CustomerContract",
            ),
            A("service_id", "extkey", "Service", null=False, target="Service"),
            A("friendlyname", "friendlyname"),
            *named("customercontract_id"),
            *named("service_id"),
        ],
    }
    for name, attrs in classes.items():
        if name in model:
            continue
        name_attrs: tuple[str, ...] = ("name",) if name == "CustomerContract" else ()
        model[name] = fake_module._Class(
            name, {a.code: a for a in attrs}, family=name, name_attrs=name_attrs
        )
        fake._rows[name] = {}
        fake._next_id[name] = 1
    fake._filter_code_cache.clear()


def with_service_catalog(fake: FakeItop) -> FakeItop:
    _extend_model(fake)
    fake._rows["ServiceSubcategory"].clear()
    for service_id, name in {**DEMO_SERVICES, **IT_SERVICES}.items():
        if service_id in fake._rows["Service"]:
            fake._rows["Service"][service_id]["name"] = name
        else:
            fake._seed_row("Service", service_id, name=name, org_id=2)
    for sub_id, (service_id, name, status) in DEMO_SUBCATEGORIES.items():
        fake._seed_row(
            "ServiceSubcategory", sub_id, name=name, service_id=service_id, status=status
        )
    fake._seed_row("CustomerContract", 1, name="Demo support", org_id=3)
    fake._seed_row("CustomerContract", 2, name="IT internal", org_id=2)
    link = 1
    for service_id in DEMO_SERVICES:
        fake._seed_row(
            "lnkCustomerContractToService", link, customercontract_id=1, service_id=service_id
        )
        link += 1
    for service_id in IT_SERVICES:
        fake._seed_row(
            "lnkCustomerContractToService", link, customercontract_id=2, service_id=service_id
        )
        link += 1
    return fake
