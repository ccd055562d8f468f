"""One line of the `check` report, and the setup steps results belong to."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final, Literal

import httpx

from itop_intercom.settings.model import Settings

Status = Literal["ok", "warn", "fail", "skip"]

#: The setup steps of the administrator's guide ("Setting it up" in the README), as the report
#: names them.
STEPS: Final[Mapping[str, str]] = {
    "1": "iTop token user",
    "2": "Intercom app",
    "3": "Client secret",
    "4": "Access token",
    "5": "Canvas Kit and webhook URLs",
    "6": "Module settings",
    "7": "End users' chat (iTop module)",
}


@dataclass(frozen=True)
class CheckResult:
    """One line of the report.

    `title` is one plain sentence; `detail` explains it and `fix` says what to do (both may be
    empty for OK results). `key` is a stable identifier of the kind of result (for tests,
    machine-readable output and documentation); it never changes with the wording.
    """

    step: str
    title: str
    status: Status
    detail: str = ""
    fix: str = ""
    key: str = ""

    @property
    def blocking(self) -> bool:
        """A failure keeps the service from working; warnings and skips do not."""
        return self.status == "fail"


def step_order(step: str) -> tuple[int, str]:
    return (int(step), step) if step.isdigit() else (1_000, step)


class CheckGroup:
    """The checks of one side (iTop or Intercom): the settings, the transport (tests give a
    fake), where results go, and the deadline of each call."""

    def __init__(
        self,
        settings: Settings,
        transport: httpx.AsyncBaseTransport | None,
        out: list[CheckResult],
        timeout: float,
    ) -> None:
        self.settings = settings
        self.transport = transport
        self.out = out
        self.timeout = timeout
