"""The data model (transcribed from the lab's dump): classes, OQL filter codes, the
UserRequest lifecycle, priorities, profiles and which classes a non-administrator may touch."""

from __future__ import annotations

from typing import Any

from tests.fakes.itop.common import Instance
from tests.fakes.itop.history import history_classes
from tests.fakes.itop.model_classes import (
    _ATTACHMENT_ATTRS,
    _CONTACT_ATTRS,
    _CONTRACT_ATTRS,
    _CONTRACT_SERVICE_ATTRS,
    _CONTRACT_TAIL,
    _CUSTOMER_CONTRACT_ATTRS,
    _NAMED_ATTRS,
    _ORGANIZATION_ATTRS,
    _OTHER_TICKET_ATTRS,
    _PERSON_ATTRS,
    _PROFILE_ATTRS,
    _SERVICE_ATTRS,
    _SUBCATEGORY_ATTRS,
    _TEAM_ATTRS,
    _USER_ATTRS,
    _USER_PROFILE_ATTRS,
    _USERLOCAL_ATTRS,
    _USERTOKEN_ATTRS,
)
from tests.fakes.itop.model_tickets import _user_request_attrs
from tests.fakes.itop.model_types import _Attr, _Class, _words


def _build_model(instance: Instance) -> dict[str, _Class]:
    def cls(name: str, attrs: list[_Attr], **kwargs: Any) -> _Class:
        return _Class(name, {a.code: a for a in attrs}, **kwargs)

    classes = [
        cls("Organization", _ORGANIZATION_ATTRS, family="Organization"),
        cls("Contact", _CONTACT_ATTRS, abstract=True, family="Contact"),
        cls(
            "Person",
            _PERSON_ATTRS,
            parent="Contact",
            family="Contact",
            name_attrs=("first_name", "name"),
        ),
        cls("Team", _TEAM_ATTRS, parent="Contact", family="Contact"),
        cls("User", _USER_ATTRS, abstract=True, family="User", name_attrs=("login",)),
        cls("UserLocal", _USERLOCAL_ATTRS, parent="User", family="User", name_attrs=("login",)),
        cls("UserToken", _USERTOKEN_ATTRS, parent="User", family="User", name_attrs=("login",)),
        cls("URP_Profiles", _PROFILE_ATTRS, family="URP_Profiles"),
        cls("URP_UserProfile", _USER_PROFILE_ATTRS, family="URP_UserProfile", name_attrs=()),
        cls(
            "UserRequest",
            _user_request_attrs(instance),
            family="Ticket",
            name_attrs=("ref",),
            order="ref_desc",
        ),
        cls(
            "Incident", _OTHER_TICKET_ATTRS, family="Ticket", name_attrs=("ref",), order="ref_desc"
        ),
        cls("Problem", _OTHER_TICKET_ATTRS, family="Ticket", name_attrs=("ref",), order="ref_desc"),
        cls("Change", _OTHER_TICKET_ATTRS, family="Ticket", name_attrs=("ref",), order="ref_desc"),
        cls(
            "Attachment",
            _ATTACHMENT_ATTRS,
            family="Attachment",
            name_attrs=("item_class", "temp_id"),
            order="id",
        ),
        *history_classes(cls),
        cls("Service", _SERVICE_ATTRS, family="Service"),
        cls("ServiceSubcategory", _SUBCATEGORY_ATTRS, family="ServiceSubcategory"),
        cls("Contract", [*_CONTRACT_ATTRS, *_CONTRACT_TAIL], abstract=True, family="Contract"),
        cls("CustomerContract", _CUSTOMER_CONTRACT_ATTRS, parent="Contract", family="Contract"),
        cls(
            "lnkCustomerContractToService",
            _CONTRACT_SERVICE_ATTRS,
            family="lnkCustomerContractToService",
            name_attrs=("customercontract_id", "service_id"),
        ),
        cls("Location", _NAMED_ATTRS, family="Location"),
        cls("DeliveryModel", _NAMED_ATTRS, family="DeliveryModel"),
        cls("ContractType", _NAMED_ATTRS, family="ContractType"),
        cls("SLA", _NAMED_ATTRS, family="SLA"),
    ]
    return {c.name: c for c in classes}


#: Sub-codes of stopwatches that OQL accepts as filter codes (045).
_SLA_SUBCODES = tuple(
    _words(
        "started laststart stopped 75_deadline 75_passed 75_triggered 75_overrun 100_deadline"
        " 100_passed 100_triggered 100_overrun"
    )
)


_STOPWATCH_SUBCODES = {
    "cumulatedpending": ("started", "laststart", "stopped"),
    "tto": _SLA_SUBCODES,
    "ttr": _SLA_SUBCODES,
}


_KEY_DERIVED_REMOTES = ("friendlyname", "obsolescence_flag", "finalclass")


def _filter_codes(klass: _Class) -> list[str]:
    """The codes OQL accepts for a class, in the order of iTop's OqlNormalizeException (045)."""
    attrs = list(klass.attrs.values())
    derived = {
        a.code
        for a in attrs
        if a.kind == "extfield"
        and a.remote in _KEY_DERIVED_REMOTES
        and a.code.startswith(f"{a.key}_")
    }
    codes: list[str] = [c for c in ("finalclass", "friendlyname") if c in klass.attrs]
    for a in attrs:
        if a.code in ("finalclass", "friendlyname") or a.code in derived or a.kind == "linkset":
            continue
        codes.append(a.code)
        if a.kind == "extkey":
            codes += [d.code for d in attrs if d.code in derived and d.key == a.code]
        if a.kind == "stopwatch":
            codes += [f"{a.code}_{s}" for s in _STOPWATCH_SUBCODES.get(a.code, ())]
    codes.append("id")
    return codes


#: UserRequest lifecycle from the data model dump: transitions and the attributes that a
#: target state declares mandatory (only those REST checks, with PHP's `== ''`).
_TRANSITIONS: dict[str, dict[str, str]] = {
    "new": {
        "ev_assign": "assigned",
        "ev_timeout": "escalated_tto",
        "ev_wait_for_approval": "waiting_for_approval",
        "ev_autoresolve": "resolved",
    },
    "escalated_tto": {"ev_assign": "assigned"},
    "assigned": {
        "ev_pending": "pending",
        "ev_resolve": "resolved",
        "ev_reassign": "assigned",
        "ev_timeout": "escalated_ttr",
        "ev_autoresolve": "resolved",
    },
    "escalated_ttr": {
        "ev_pending": "pending",
        "ev_resolve": "resolved",
        "ev_reassign": "assigned",
        "ev_autoresolve": "resolved",
    },
    "waiting_for_approval": {"ev_approve": "approved", "ev_reject": "rejected"},
    "approved": {
        "ev_timeout": "escalated_tto",
        "ev_assign": "assigned",
        "ev_autoresolve": "resolved",
    },
    "rejected": {"ev_reopen": "new"},
    "pending": {"ev_assign": "assigned", "ev_autoresolve": "resolved"},
    "resolved": {"ev_close": "closed", "ev_reopen": "assigned", "ev_autoresolve": "resolved"},
    "closed": {},
}


_STATE_MANDATORY: dict[str, tuple[str, ...]] = {
    "new": ("org_id", "caller_id"),
    "escalated_tto": ("org_id", "caller_id"),
    "assigned": ("org_id", "team_id", "agent_id"),
    "escalated_ttr": ("org_id", "team_id", "agent_id"),
    "waiting_for_approval": ("org_id", "caller_id"),
    "approved": ("org_id", "caller_id"),
    "rejected": ("org_id", "caller_id"),
    "pending": ("org_id", "team_id", "agent_id", "pending_reason"),
    "resolved": ("service_id", "resolution_code", "solution"),
    "closed": (),
}


#: Dates set by the lifecycle actions (assign/resolve/close recorded in 064/067/068).
_STIMULUS_DATES = {
    "ev_assign": "assignment_date",
    "ev_reassign": "assignment_date",
    "ev_pending": "last_pending_date",
    "ev_resolve": "resolution_date",
    "ev_autoresolve": "resolution_date",
    "ev_close": "close_date",
}


#: Priority computed from impact (1 department, 2 service, 3 person) and urgency.
_PRIORITY = {
    "1": {"1": "1", "2": "1", "3": "2", "4": "4"},
    "2": {"1": "1", "2": "2", "3": "3", "4": "4"},
    "3": {"1": "2", "2": "3", "3": "3", "4": "4"},
}


_PROFILES = (
    (1, "Administrator"),
    (2, "Portal user"),
    (3, "Configuration Manager"),
    (4, "Service Desk Agent"),
    (5, "Support Agent"),
    (6, "Problem Manager"),
    (7, "Change Implementor"),
    (8, "Change Supervisor"),
    (9, "Change Approver"),
    (10, "Service Manager"),
    (11, "Document author"),
    (12, "Portal power user"),
    (1024, "REST Services User"),
)


#: Classes that only administrators can read (024, 072).
_ADMIN_READ_FAMILIES = frozenset({"User", "URP_UserProfile", "CMDBChangeOp", "CMDBChange"})


#: Classes that non-administrators can create/modify (028, 055, 063; README quirk 26).
_AGENT_WRITE_FAMILIES = frozenset({"Ticket", "Attachment", "Contact"})
