"""Probes of iTop's datamodel and rights: queries that match nothing, so that iTop checks the
class, the output fields and the caller's right to read them without returning any object."""

from __future__ import annotations

from collections.abc import Sequence

from itop_intercom.itop import oql
from itop_intercom.itop.client import GetResult, ItopClient


async def probe_class(
    client: ItopClient, class_: str, fields: Sequence[str] = ("id",)
) -> GetResult:
    """Raises what iTop answers when the class or a field is unknown or not readable."""
    klass = oql.identifier(class_)
    return await client.get(klass, f"SELECT {klass} WHERE id = 0", ",".join(fields))
