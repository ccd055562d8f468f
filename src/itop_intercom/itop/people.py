"""Finding iTop persons and their user accounts.

Emails are not unique in iTop (two persons may share one) and persons can be obsolete, so a look-up
by email returns every active match and lets the caller decide: several matches are reported, never
guessed. Reading `User` needs the Administrator profile (other profiles get code 1).
"""

from __future__ import annotations

from dataclasses import dataclass

from itop_intercom.itop import oql
from itop_intercom.itop.client import ItopClient, ItopObject

PERSON_FIELDS = "id,friendlyname,first_name,name,email,org_id,org_id_friendlyname,status"
USER_FIELDS = "id,login,finalclass,status,contactid,email"


@dataclass(frozen=True)
class Person:
    class_: str
    id: int
    name: str
    email: str
    org_id: int
    org_name: str

    @classmethod
    def from_object(cls, obj: ItopObject) -> Person:
        return cls(
            class_=obj.class_,
            id=obj.id,
            name=obj.get("friendlyname"),
            email=obj.get("email"),
            org_id=int(obj.get("org_id", "0") or 0),
            org_name=obj.get("org_id_friendlyname"),
        )


@dataclass(frozen=True)
class ItopUser:
    id: int
    login: str
    contact_id: int
    email: str

    @classmethod
    def from_object(cls, obj: ItopObject) -> ItopUser:
        return cls(
            id=obj.id,
            login=obj.get("login"),
            contact_id=int(obj.get("contactid", "0") or 0),
            email=obj.get("email"),
        )


async def persons_by_email(client: ItopClient, email: str) -> list[Person]:
    """Active persons with this email; iTop compares emails case-insensitively."""
    query = f"SELECT Person WHERE email = {oql.quote(email.strip())} AND status != 'inactive'"
    result = await client.get("Person", query, PERSON_FIELDS)
    return [Person.from_object(obj) for obj in result.objects]


async def person_by_id(client: ItopClient, class_: str, person_id: int) -> Person | None:
    query = f"SELECT {oql.identifier(class_)} WHERE id = {oql.integer(person_id)}"
    result = await client.get(class_, query, PERSON_FIELDS)
    return Person.from_object(result.objects[0]) if result.objects else None


async def users_by_email(client: ItopClient, email: str) -> list[ItopUser]:
    """Enabled iTop users whose person has this email (`User.email` is the person's)."""
    query = f"SELECT User WHERE email = {oql.quote(email.strip())} AND status = 'enabled'"
    result = await client.get("User", query, USER_FIELDS)
    return [ItopUser.from_object(obj) for obj in result.objects]


async def users_of_person(client: ItopClient, person_id: int) -> list[ItopUser]:
    """Enabled iTop users attached to a person; needs read rights on User (Administrators)."""
    query = f"SELECT User WHERE contactid = {oql.integer(person_id)} AND status = 'enabled'"
    result = await client.get("User", query, USER_FIELDS)
    return [ItopUser.from_object(obj) for obj in result.objects]
