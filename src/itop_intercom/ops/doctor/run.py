"""Running every check concurrently, each group within its deadline."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import httpx

from itop_intercom.ops.doctor.intercom import IntercomChecks, intercom_skipped
from itop_intercom.ops.doctor.itop import ItopChecks
from itop_intercom.ops.doctor.messenger import messenger_checks
from itop_intercom.ops.doctor.result import CheckResult, step_order
from itop_intercom.ops.doctor.settings_checks import settings_checks
from itop_intercom.ops.doctor.texts import configured_secrets, scrub
from itop_intercom.settings.model import Settings


async def run_checks(
    settings: Settings,
    *,
    itop_only: bool = False,
    itop_transport: httpx.AsyncBaseTransport | None = None,
    intercom_transport: httpx.AsyncBaseTransport | None = None,
    messenger_transport: httpx.AsyncBaseTransport | None = None,
) -> list[CheckResult]:
    """Run every check; the results come ordered by setup step."""
    # Imported here: the added checks import this package's result type.
    from itop_intercom.ops.check_more import finish, more_checks

    settings_results = settings_checks(settings, itop_only=itop_only)
    itop_results: list[CheckResult] = []
    intercom_results: list[CheckResult] = []
    itop_group = asyncio.ensure_future(
        bounded_group(
            ItopChecks(settings, itop_transport, itop_results).run(),
            itop_results,
            itop_budget(settings),
            itop_overrun,
        )
    )
    groups: list[Awaitable[None]] = [itop_group]
    intercom_checks = IntercomChecks(settings, intercom_transport, intercom_results)
    if itop_only:
        intercom_results.extend(intercom_skipped())
    else:
        groups.append(
            bounded_group(
                intercom_checks.run(),
                intercom_results,
                intercom_budget(settings),
                intercom_overrun,
            )
        )

    async def itop_usable() -> bool:
        await itop_group
        return not any(r.blocking and r.step == "1" for r in itop_results)

    # Placeholders, scopes, token permissions (ops/check_more.py): the scope once iTop's token
    # user works, the permissions reusing the /me answers above.
    more: list[CheckResult] = []
    groups.append(
        more_checks(
            settings,
            more,
            itop_only=itop_only,
            itop_usable=itop_usable,
            me_of=intercom_checks.me_task,
            itop_transport=itop_transport,
            intercom_transport=intercom_transport,
        )
    )
    await asyncio.gather(*groups)
    results = [*settings_results, *itop_results, *intercom_results, *more]
    results += await messenger_checks(
        settings,
        messenger_transport,
        intercom=not itop_only,
        intercom_transport=intercom_transport,
    )
    results = finish(results)
    # Stable sort: within a step, the order in which the checks ran is kept.
    results.sort(key=lambda r: step_order(r.step))
    secrets = configured_secrets(settings)
    return [scrub(result, secrets) for result in results]


def itop_budget(settings: Settings) -> float:
    # At most four rounds of calls one after another (login, rights and class, attributes,
    # attribute one by one), each bounded by the timeout.
    return settings.itop.timeout_seconds * 4 + 1.0


def intercom_budget(settings: Settings) -> float:
    # One round of /me calls, plus the client's retries of a failed connection.
    return settings.intercom.timeout_seconds * 2 + 1.0


def itop_overrun(seconds: float) -> CheckResult:
    return CheckResult(
        "1",
        f"The iTop checks did not finish within {seconds:g} s",
        "fail",
        "iTop answers too slowly for the remaining checks to run.",
        "Check iTop's load and the network, or raise itop.timeout_seconds.",
        key="itop.overrun",
    )


def intercom_overrun(seconds: float) -> CheckResult:
    return CheckResult(
        "4",
        f"The Intercom checks did not finish within {seconds:g} s",
        "fail",
        "Intercom's API answers too slowly.",
        "Check the network between this machine and Intercom, or raise intercom.timeout_seconds.",
        key="intercom.overrun",
    )


async def bounded_group(
    group: Awaitable[None],
    out: list[CheckResult],
    seconds: float,
    overrun: Callable[[float], CheckResult],
) -> None:
    try:
        await asyncio.wait_for(group, seconds)
    except TimeoutError:
        out.append(overrun(seconds))
