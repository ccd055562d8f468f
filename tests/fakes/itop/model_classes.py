"""Attributes of the other classes (contacts, users, attachments, change ops, catalogue)."""

from __future__ import annotations

from tests.fakes.itop.model_types import A, _key_fields

_CONTACT_HEAD = [
    A("status", "enum", "Status", null=False, values=("active", "inactive"), default="active"),
    A("org_id", "extkey", "Organization", null=False, target="Organization"),
    A("org_name", "extfield", key="org_id", remote="name"),
    A("email", "email", "Email"),
    A("phone", "phone", "Phone"),
    A("notify", "enum", "Notification", values=("no", "yes"), default="yes"),
    A("function", "string", "Function"),
    A("cis_list", "linkset", "CIs"),
]


_CONTACT_TAIL = [
    A("finalclass", "finalclass"),
    A("friendlyname", "friendlyname"),
    A("obsolescence_flag", "obsflag"),
    A("obsolescence_date", "obsdate"),
    *_key_fields("org_id", obsolescence=True),
]


_PERSON_ATTRS = [
    A("name", "string", "Last Name", null=False),
    *_CONTACT_HEAD,
    A("picture", "image", "Picture"),
    A("first_name", "string", "First Name", null=False),
    A("employee_number", "string", "Employee number"),
    A("mobile_phone", "phone", "Mobile phone"),
    A("location_id", "extkey", "Location", target="Location"),
    A("location_name", "extfield", key="location_id", remote="name"),
    A("manager_id", "extkey", "Manager", target="Person"),
    A("manager_name", "extfield", key="manager_id", remote="name"),
    A("team_list", "linkset", "Teams"),
    A("user_list", "linkset", "Users"),
    A("tickets_list", "linkset", "Tickets"),
    *_CONTACT_TAIL,
    *_key_fields("location_id", obsolescence=True),
    *_key_fields("manager_id", obsolescence=True),
]


_TEAM_ATTRS = [
    A("name", "string", "Name", null=False),
    *_CONTACT_HEAD,
    A("persons_list", "linkset", "Members"),
    A("tickets_list", "linkset", "Tickets"),
    *_CONTACT_TAIL,
]


_CONTACT_ATTRS = [A("name", "string", "Name", null=False), *_CONTACT_HEAD, *_CONTACT_TAIL]


_ORGANIZATION_ATTRS = [
    A("name", "string", "Name", null=False),
    A("code", "string", "Code"),
    A("status", "enum", "Status", values=("active", "inactive"), default="active"),
    A("parent_id", "extkey", "Parent", target="Organization"),
    A("parent_name", "extfield", key="parent_id", remote="name"),
    A("overview", "dashboard"),
    A("deliverymodel_id", "extkey", "Delivery model", target="DeliveryModel"),
    A("deliverymodel_name", "extfield", key="deliverymodel_id", remote="name"),
    A("friendlyname", "friendlyname"),
    A("obsolescence_flag", "obsflag"),
    A("obsolescence_date", "obsdate"),
    *_key_fields("parent_id", obsolescence=True),
    *_key_fields("deliverymodel_id"),
]


_USER_HEAD = [
    A("contactid", "extkey", "Person", target="Person"),
    A("last_name", "extfield", key="contactid", remote="name"),
    A("first_name", "extfield", key="contactid", remote="first_name"),
    A("email", "extfield", key="contactid", remote="email"),
    A("org_id", "extfield", key="contactid", remote="org_id", default=0),
]


_USER_MIDDLE = [
    A("language", "language", "Language", null=False, default="EN US"),
    A("status", "enum", "Status", null=False, values=("enabled", "disabled"), default="enabled"),
    A("profile_list", "linkset", "Profiles"),
    A("allowed_org_list", "linkset", "Allowed Organizations"),
    A("log", "caselog", "log"),
]


_USER_TAIL = [
    A("finalclass", "finalclass"),
    A("friendlyname", "friendlyname"),
    A("contactid_friendlyname", "extfield", key="contactid", remote="friendlyname"),
    A("contactid_obsolescence_flag", "extfield", key="contactid", remote="obsolescence_flag"),
    A("org_id_friendlyname", "extfield", key="contactid", remote="org_id_friendlyname"),
    A("org_id_obsolescence_flag", "extfield", key="contactid", remote="org_id_obsolescence_flag"),
]


_USER_ATTRS = [*_USER_HEAD, A("login", "string", "Login", null=False), *_USER_MIDDLE, *_USER_TAIL]


_USERLOCAL_ATTRS = [
    *_USER_HEAD,
    A("login", "string", "Login", null=False),
    *_USER_MIDDLE,
    A("reset_pwd_token", "password", "reset pwd token"),
    A("password", "password", "Password", null=False),
    A(
        "expiration",
        "enum",
        "Password expiration",
        null=False,
        values=("can_expire", "never_expire", "force_expire", "otp_expire"),
        default="never_expire",
    ),
    A("password_renewed_date", "date", "Password renewed on"),
    *_USER_TAIL,
]


_USERTOKEN_ATTRS = [
    *_USER_HEAD,
    A("login", "string", "Remote application", null=False),
    *_USER_MIDDLE,
    A("reset_pwd_token", "password", "reset pwd token"),
    A("auth_token", "password", "Auth token"),
    A("scope", "enumset", "Scope"),
    *_USER_TAIL,
]


_ATTACHMENT_ATTRS = [
    A("expire", "datetime", "Expire", null=False),
    A("temp_id", "string", "Temporary id"),
    A("item_class", "string", "Item class", null=False),
    A("item_id", "objkey", "Item"),
    A("item_org_id", "int", "Item organization"),
    A("contents", "blob", "Contents", null=False),
    A("creation_date", "datetime", "Creation date"),
    A("user_id", "extkey", "User id", target="User"),
    A("contact_id", "extkey", "Contact id", target="Person"),
    A("friendlyname", "friendlyname"),
    A("user_id_friendlyname", "extfield", key="user_id", remote="friendlyname"),
    A("user_id_finalclass_recall", "extfield", key="user_id", remote="finalclass", default="User"),
    *_key_fields("contact_id", obsolescence=True),
]


_PROFILE_ATTRS = [
    A("name", "string", "Name", null=False),
    A("description", "string", "Description"),
    A("friendlyname", "friendlyname"),
]


_USER_PROFILE_ATTRS = [
    A("userid", "extkey", "User", null=False, target="User"),
    A("userlogin", "extfield", key="userid", remote="login"),
    A("profileid", "extkey", "Profile", null=False, target="URP_Profiles"),
    A("profile", "extfield", key="profileid", remote="name"),
    A("reason", "string", "Reason"),
    A("friendlyname", "friendlyname"),
    A("userid_friendlyname", "extfield", key="userid", remote="friendlyname"),
    A("profileid_friendlyname", "extfield", key="profileid", remote="friendlyname"),
]


_NAMED_ATTRS = [A("name", "string", "Name", null=False), A("friendlyname", "friendlyname")]


_SERVICE_ATTRS = [
    A("name", "string", "Name", null=False),
    A("org_id", "extkey", "Provider", null=False, target="Organization"),
    A(
        "status",
        "enum",
        "Status",
        values=("implementation", "obsolete", "production"),
        default="production",
    ),
    A("friendlyname", "friendlyname"),
    *_key_fields("org_id", obsolescence=True),
]


_CATALOG_STATUSES = ("implementation", "obsolete", "production")


_SUBCATEGORY_ATTRS = [
    A("name", "string", "Name", null=False),
    A("service_id", "extkey", "Service", null=False, target="Service"),
    A("status", "enum", "Status", values=_CATALOG_STATUSES, default="production"),
    A("friendlyname", "friendlyname"),
    *_key_fields("service_id"),
]


#: Contract (abstract) and CustomerContract, from iTop 3.2's itop-service-mgmt datamodel (not
#: in the dumps): who is a customer of which services (`services_list`, through
#: lnkCustomerContractToService).
_CONTRACT_ATTRS = [
    A("name", "string", "Name", null=False),
    A("org_id", "extkey", "Customer", null=False, target="Organization"),
    A("organization_name", "extfield", key="org_id", remote="name"),
    A("contacts_list", "linkset", "Contacts"),
    A("documents_list", "linkset", "Documents"),
    A("description", "text", "Description", size=65535),
    A("start_date", "date", "Start date"),
    A("end_date", "date", "End date"),
    A("cost", "string", "Cost"),
    A("cost_currency", "enum", "Cost Currency", values=("dollars", "euros")),
    A("contracttype_id", "extkey", "Contract type", target="ContractType"),
    A("contracttype_name", "extfield", key="contracttype_id", remote="name"),
    A("billing_frequency", "string", "Billing frequency"),
    A("cost_unit", "string", "Cost unit"),
    A("provider_id", "extkey", "Provider", null=False, target="Organization"),
    A("provider_name", "extfield", key="provider_id", remote="name"),
    A("status", "enum", "Status", values=_CATALOG_STATUSES, default="production"),
]


_CONTRACT_TAIL = [
    A("finalclass", "finalclass"),
    A("friendlyname", "friendlyname"),
    *_key_fields("org_id", obsolescence=True),
    *_key_fields("contracttype_id"),
    *_key_fields("provider_id", obsolescence=True),
]


_CUSTOMER_CONTRACT_ATTRS = [
    *_CONTRACT_ATTRS,
    A("services_list", "linkset", "Services"),
    *_CONTRACT_TAIL,
]


_CONTRACT_SERVICE_ATTRS = [
    A(
        "customercontract_id",
        "extkey",
        "Customer contract",
        null=False,
        target="CustomerContract",
    ),
    A("customercontract_name", "extfield", key="customercontract_id", remote="name"),
    A("service_id", "extkey", "Service", null=False, target="Service"),
    A("service_name", "extfield", key="service_id", remote="name"),
    A("sla_id", "extkey", "SLA", target="SLA"),
    A("sla_name", "extfield", key="sla_id", remote="name"),
    A("friendlyname", "friendlyname"),
    *_key_fields("customercontract_id"),
    *_key_fields("service_id"),
    *_key_fields("sla_id"),
]


_OTHER_TICKET_ATTRS = [
    A("ref", "string", "Ref"),
    A("title", "string", "Title", null=False),
    A("finalclass", "finalclass"),
    A("friendlyname", "friendlyname"),
]
