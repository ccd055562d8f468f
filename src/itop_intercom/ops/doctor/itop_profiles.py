"""Step 1, profiles: the token user has the Administrator profile (needed to write case log
entries on behalf of other users)."""

from __future__ import annotations

from itop_intercom.itop.errors import ItopAuthError, ItopError, readable
from itop_intercom.itop.probes import probe_class
from itop_intercom.ops.doctor.itop_context import ItopContext
from itop_intercom.ops.doctor.result import CheckResult
from itop_intercom.ops.doctor.texts import itop_error_text


class ProfileChecks(ItopContext):
    async def _check_administrator(self) -> None:
        try:
            await self._call(probe_class(self.client, "User"))
        except ItopAuthError as exc:
            self.out.append(
                CheckResult(
                    "1",
                    "The token user is not an Administrator (blocking)",
                    "fail",
                    f"iTop refuses it to read user accounts (“{readable(exc.message)}”). iTop "
                    "only lets Administrators write case-log entries on behalf of other people "
                    "(user_id), and only they can find the iTop account of a person: messages "
                    "from Intercom could not be attributed to their authors, so the service "
                    "treats this as blocking.",
                    "In iTop, open the token-based user (Administration › User accounts), add "
                    "the Administrator profile to it, and save.",
                    key="itop.not_admin",
                )
            )
        except ItopError as exc:
            self.out.append(
                CheckResult(
                    "1",
                    "Could not check that the token user is an Administrator",
                    "warn",
                    itop_error_text(exc),
                    "Run check again; if it persists, check iTop's error log.",
                    key="itop.admin_unknown",
                )
            )
        else:
            self.out.append(
                CheckResult(
                    "1",
                    "The token user has the Administrator profile (needed to write entries on "
                    "behalf of other people)",
                    "ok",
                    key="itop.admin_ok",
                )
            )

    # step 6 ------------------------------------------------------------------------------------
