"""A service catalogue in the iTop fake, for the creation form's service choices.

The form's default queries, like iTop's own portal, offer the services of the caller's
organisation by customer contract (`CustomerContract`, `lnkCustomerContractToService`) and the
subcategories of a service that are not obsolete (`ServiceSubcategory.status`). This seeds, through
the fake's public API only:

- Demo (org 3, Agatha Christie): 3 services by contract; "Computers and peripherals" (id 1) has
  three subcategories (one obsolete), "Software" (id 2) one, "Telephony" (id 3) none.
- IT Department (org 2, Victor Hugo): 14 services by contract (more than a dropdown takes).

Every service is provided by IT Department (org 2).
"""

from __future__ import annotations

from typing import Any

from tests.fakes.itop import FakeItop

DEMO_SERVICES = {1: "Computers and peripherals", 2: "Software", 3: "Telephony"}
DEMO_SUBCATEGORIES = {
    1: (1, "New desktop ordering", "production"),
    2: (1, "Printer repair", "production"),
    3: (1, "Fax machines", "obsolete"),
    4: (2, "Licence request", "production"),
}
IT_SERVICES = {100 + i: f"IT service {chr(ord('A') + i)}{i:02d}" for i in range(14)}
#: Customer contracts: name, customer org, service ids.
CONTRACTS = (
    ("Demo support", 3, tuple(DEMO_SERVICES)),
    ("IT internal", 2, tuple(IT_SERVICES)),
)
PROVIDER_ORG = 2


def _call(fake: FakeItop, payload: dict[str, Any]) -> dict[str, Any]:
    answer = fake.api(payload)
    if answer.get("code") != 0:
        raise RuntimeError(f"{payload['operation']} {payload['class']}: {answer}")
    return answer


def _create(fake: FakeItop, class_name: str, **fields: Any) -> int:
    answer = _call(
        fake,
        {
            "operation": "core/create",
            "comment": "service catalogue for the inbox tests",
            "class": class_name,
            "fields": fields,
            "output_fields": "id",
        },
    )
    (created,) = answer["objects"].values()
    return int(created["key"])


def _exists(fake: FakeItop, class_name: str, object_id: int) -> bool:
    answer = _call(
        fake,
        {"operation": "core/get", "class": class_name, "key": object_id, "output_fields": "id"},
    )
    return bool(answer["objects"])


def with_service_catalog(fake: FakeItop) -> FakeItop:
    # The subcategories are exactly these (the fake's own seed has one of them).
    _call(
        fake,
        {
            "operation": "core/delete",
            "comment": "service catalogue for the inbox tests",
            "class": "ServiceSubcategory",
            "key": "SELECT ServiceSubcategory",
        },
    )
    for service_id, name in {**DEMO_SERVICES, **IT_SERVICES}.items():
        if _exists(fake, "Service", service_id):
            _call(
                fake,
                {
                    "operation": "core/update",
                    "comment": "service catalogue for the inbox tests",
                    "class": "Service",
                    "key": service_id,
                    "fields": {"name": name},
                },
            )
        else:
            fake.add_object("Service", object_id=service_id, name=name, org_id=PROVIDER_ORG)
    for sub_id, (service_id, name, status) in DEMO_SUBCATEGORIES.items():
        fake.add_object(
            "ServiceSubcategory", object_id=sub_id, name=name, service_id=service_id, status=status
        )
    for name, org_id, service_ids in CONTRACTS:
        contract = _create(
            fake, "CustomerContract", name=name, org_id=org_id, provider_id=PROVIDER_ORG
        )
        for service_id in service_ids:
            _create(
                fake,
                "lnkCustomerContractToService",
                customercontract_id=contract,
                service_id=service_id,
            )
    return fake
