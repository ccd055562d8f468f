"""What the iTop module sends: the logged-in user as iTop knows them, and scope results.

Every field is bounded: the module runs inside iTop and is trusted once its signature checks,
but a misconfigured or outdated module must get a precise 400, never a crash.
"""

from __future__ import annotations

import hashlib
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

_Short = Annotated[str, Field(max_length=255)]
_ClassName = Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")]


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)


class ItopUser(_Model):
    id: Annotated[str, Field(min_length=1, max_length=32)]
    login: _Short = ""
    profiles: Annotated[list[_Short], Field(max_length=100)] = Field(default_factory=list)


class ItopPerson(_Model):
    class_: _ClassName = Field(alias="class")
    id: Annotated[int, Field(gt=0)]
    name: _Short = ""
    email: _Short = ""
    org_id: Annotated[int, Field(ge=0)] = 0
    org_name: _Short = ""


class BootRequest(_Model):
    portal: Annotated[str, Field(min_length=1, max_length=64)]
    """`backoffice` for the console, else the portal's id (e.g. `itop-portal`)."""
    user: ItopUser
    person: ItopPerson | None = None
    scopes: dict[str, bool] = Field(default_factory=dict, max_length=200)
    """Results of the scope OQL evaluated by iTop with the user's rights, by `scope_key`."""

    @field_validator("scopes")
    @classmethod
    def _keys(cls, value: dict[str, bool]) -> dict[str, bool]:
        for key in value:
            if len(key) != 64:
                raise ValueError("scope keys are sha256 hex digests")
        return value


def scope_key(oql: str) -> str:
    """The key of a scope's result: its OQL's digest, so a changed scope is evaluated again."""
    return hashlib.sha256(oql.strip().encode()).hexdigest()
