"""The checks added to `check` beside the doctor's own: placeholders left from the example
settings, each workspace's scope in iTop, the access token's permissions; and the environment
variable named beside each settings key in the fixes."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Final

import httpx

from itop_intercom.ops.check_env_names import with_env_names
from itop_intercom.ops.check_intercom_permissions import permission_checks
from itop_intercom.ops.check_placeholders import placeholder_checks
from itop_intercom.ops.check_scope import scope_checks
from itop_intercom.ops.doctor.result import CheckResult
from itop_intercom.settings.model import Region, Settings

#: An OK result that a failure of the same setting contradicts.
_SUPERSEDED: Final[Mapping[str, str]] = {
    "settings.public_url_placeholder": "settings.public_url_ok"
}


async def more_checks(
    settings: Settings,
    out: list[CheckResult],
    *,
    itop_only: bool,
    itop_usable: Callable[[], Awaitable[bool]],
    me_of: Callable[[str, Region], Awaitable[Any]],
    itop_transport: httpx.AsyncBaseTransport | None,
    intercom_transport: httpx.AsyncBaseTransport | None,
) -> None:
    """Append the added checks to `out`. The scope is tried once iTop's token user is known to
    work (`itop_usable`); the permissions as soon as the doctor's own `GET /me` of each token
    answered (`me_of`), so no call is made twice."""
    out.extend(placeholder_checks(settings))

    async def scopes() -> list[CheckResult]:
        return await scope_checks(settings, itop_transport) if await itop_usable() else []

    calls = [scopes()]
    if not itop_only:
        calls.append(permission_checks(settings, me_of, intercom_transport))
    for batch in await asyncio.gather(*calls):
        out.extend(batch)


def finish(results: list[CheckResult]) -> list[CheckResult]:
    keys = {r.key for r in results}
    dropped = {ok for failure, ok in _SUPERSEDED.items() if failure in keys}
    return [with_env_names(r) for r in results if r.key not in dropped]
