"""UserRequest's attributes, which differ between the two lab instances."""

from __future__ import annotations

from tests.fakes.itop.common import Instance
from tests.fakes.itop.model_types import A, _Attr, _key_fields, _words

_TICKET_STATUSES = tuple(
    _words(
        "new waiting_for_approval approved rejected assigned pending escalated_tto escalated_ttr"
        " resolved closed"
    )
)


def _user_request_attrs(instance: Instance) -> list[_Attr]:
    attrs = [
        A("operational_status", "metaenum", values=("closed", "ongoing", "resolved")),
        A("ref", "string", "Ref"),
        A("org_id", "extkey", "Organization", null=False, target="Organization"),
        A("org_name", "extfield", key="org_id", remote="name"),
        A("caller_id", "extkey", "Caller", target="Person"),
        A("caller_name", "extfield", key="caller_id", remote="name"),
        A("team_id", "extkey", "Team", target="Team"),
        A("team_name", "extfield", key="team_id", remote="name"),
        A("team_email", "extfield", key="team_id", remote="email"),
        A("agent_id", "extkey", "Agent", target="Person"),
        A("agent_name", "extfield", key="agent_id", remote="name"),
        A("title", "string", "Title", null=False),
        A("description", "html", "Description", null=False, size=65535),
        A("start_date", "datetime", "Start date"),
        A("end_date", "datetime", "End date"),
        A("last_update", "datetime", "Last update"),
        A("close_date", "datetime", "Close date"),
        A("private_log", "caselog", "Private log"),
        A("contacts_list", "linkset", "Contacts"),
        A("functionalcis_list", "linkset", "CIs"),
        A("workorders_list", "linkset", "Work orders"),
        A("status", "enum", "Status", null=False, values=_TICKET_STATUSES, default="new"),
        A(
            "request_type",
            "enum",
            "Request Type",
            values=("service_request",),
            default="service_request",
        ),
        A("impact", "enum", "Impact", null=False, values=("1", "2", "3"), default="1"),
        A("priority", "enum", "Priority", null=False, values=("1", "2", "3", "4"), default="4"),
        A("urgency", "enum", "Urgency", null=False, values=("1", "2", "3", "4"), default="4"),
        A(
            "origin",
            "enum",
            "Origin",
            values=("mail", "in_person", "phone", "portal", "chat"),
            default="phone",
        ),
        A("approver_id", "extkey", "Approver", target="Person"),
        A("approver_email", "extfield", key="approver_id", remote="email"),
        A("service_id", "extkey", "Service", target="Service"),
        A("service_name", "extfield", key="service_id", remote="name"),
        A("servicesubcategory_id", "extkey", "Service subcategory", target="ServiceSubcategory"),
        A("servicesubcategory_name", "extfield", key="servicesubcategory_id", remote="name"),
        A("escalation_flag", "enum", "Hot Flag", values=("no", "yes"), default="no"),
        A("escalation_reason", "string", "Hot reason"),
        A("assignment_date", "datetime", "Assignment date"),
        A("resolution_date", "datetime", "Resolution date"),
        A("last_pending_date", "datetime", "Last pending date"),
        A("cumulatedpending", "stopwatch", "cumulatedpending"),
        A("tto", "stopwatch", "TTO"),
        A("ttr", "stopwatch", "TTR"),
        A("tto_escalation_deadline", "subitem", default=""),
        A("sla_tto_passed", "subitem", default="no"),
        A("sla_tto_over", "subitem", default=None),
        A("ttr_escalation_deadline", "subitem", default=""),
        A("sla_ttr_passed", "subitem", default="no"),
        A("sla_ttr_over", "subitem", default=None),
        A("time_spent", "duration", "Resolution delay"),
        A(
            "resolution_code",
            "enum",
            "Resolution code",
            values=(
                "assistance",
                "bug fixed",
                "hardware repair",
                "other",
                "software patch",
                "system update",
                "training",
            ),
            default="assistance",
        ),
        A("solution", "html", "Solution", size=65535),
        A("pending_reason", "text", "Pending reason", size=65535),
        A("parent_request_id", "extkey", "Parent request", target="UserRequest"),
        A("parent_request_ref", "extfield", key="parent_request_id", remote="ref"),
        A("parent_incident_id", "extkey", "Parent incident", target="Incident"),
        A("parent_incident_ref", "extfield", key="parent_incident_id", remote="ref"),
        A("parent_problem_id", "extkey", "Parent problem", target="Problem"),
        A("parent_problem_ref", "extfield", key="parent_problem_id", remote="ref"),
        A("parent_change_id", "extkey", "Parent change", target="Change"),
        A("parent_change_ref", "extfield", key="parent_change_id", remote="ref"),
        A("related_request_list", "linkset", "Child Requests"),
        A("public_log", "caselog", "Public log"),
        A(
            "user_satisfaction",
            "enum",
            "User satisfaction",
            values=("1", "2", "3", "4"),
            default="1",
        ),
        A("user_comment", "text", "User comment", size=65535),
    ]
    if instance == "intercom":
        attrs += [
            A("intercom_ref", "string", "Intercom conversation ID"),
            A("intercom_url", "url", "Intercom conversation URL", size=2048),
            A(
                "intercom_sync_activated",
                "enum",
                "Intercom sync. activated?",
                null=False,
                values=("no", "yes"),
                default="no",
            ),
        ]
    attrs += [
        A("finalclass", "finalclass"),
        A("friendlyname", "friendlyname"),
        *_key_fields("org_id", obsolescence=True),
        *_key_fields("caller_id", obsolescence=True),
        *_key_fields("team_id", obsolescence=True),
        *_key_fields("agent_id", obsolescence=True),
        *_key_fields("approver_id", obsolescence=True),
        *_key_fields("service_id"),
        *_key_fields("servicesubcategory_id"),
        *_key_fields("parent_request_id"),
        *_key_fields("parent_incident_id"),
        *_key_fields("parent_problem_id"),
        *_key_fields("parent_change_id"),
        A(
            "parent_change_id_finalclass_recall",
            "extfield",
            key="parent_change_id",
            remote="finalclass",
            default="Change",
        ),
    ]
    return attrs
