"""`check`: may the token user read iTop's change history (the back-sync's only source)?

iTop lets only users with the Administrator profile read `CMDBChangeOp*` and `CMDBChange`; others
get code 1 "not enough permissions for reading data of class …". Without it, nothing written in
iTop reaches Intercom, so the failure is blocking when back-sync is on, and only a note when an
administrator turned it off.
"""

from __future__ import annotations

from itop_intercom.itop import history
from itop_intercom.itop.client import ItopClient
from itop_intercom.itop.errors import CODE_UNAUTHORIZED, ItopApiError, ItopError
from itop_intercom.ops.doctor.result import CheckResult
from itop_intercom.settings.model import Settings

STEP = "1"


async def history_access(client: ItopClient, settings: Settings) -> CheckResult:
    if not settings.backsync.enabled:
        return CheckResult(
            STEP,
            "Back-sync (iTop → Intercom) is off: the change history is not read",
            "skip",
            key="backsync.off",
        )
    try:
        await history.can_read(client)
    except ItopApiError as exc:
        if exc.code == CODE_UNAUTHORIZED:
            return CheckResult(
                STEP,
                "The token user may not read iTop's change history (back-sync cannot work)",
                "fail",
                "Replies, notes and status changes written in iTop reach Intercom by reading "
                "iTop's change history, which only users with the Administrator profile may "
                "read; iTop answers “not enough permissions”.",
                "In iTop, give the token user (Administration › User accounts) the "
                "Administrator profile, or set backsync.enabled = false to do without back-sync.",
                key="backsync.history_denied",
            )
        return CheckResult(
            STEP,
            "iTop refused to read its change history",
            "fail",
            f"iTop answered code {exc.code}: {exc.message}"[:300],
            "Check that this iTop is version 2.7 or later and that the token user is an "
            "Administrator.",
            key="backsync.history_error",
        )
    except ItopError as exc:
        return CheckResult(
            STEP,
            "Could not check access to iTop's change history",
            "warn",
            exc.message[:300],
            "Run check again when iTop answers.",
            key="backsync.history_unknown",
        )
    return CheckResult(
        STEP,
        "The token user may read iTop's change history (back-sync iTop → Intercom)",
        "ok",
        key="backsync.history_ok",
    )
