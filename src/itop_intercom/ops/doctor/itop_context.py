"""What the iTop checks share: settings, clients, results, one deadline per call."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Literal, TypeVar

import httpx

from itop_intercom.itop.client import ItopClient
from itop_intercom.itop.errors import ItopTimeout
from itop_intercom.ops.doctor.result import CheckGroup, CheckResult
from itop_intercom.ops.doctor.texts import safe_url
from itop_intercom.settings.model import Settings

T = TypeVar("T")


@dataclass(frozen=True)
class StatusProbe:
    """What `webservices/status.php` says (it needs no login, and answers HTTP 500 when iTop is
    installed but broken)."""

    kind: Literal["running", "broken", "absent", "refused", "dns", "tls", "timeout", "other"]
    """running / broken: iTop answers (RUNNING or not); absent: something else answers; the
    others: why no connection could be made."""
    text: str


class ItopContext(CheckGroup):
    """What every iTop check shares: the settings, the clients, the results and deadlines."""

    client: ItopClient
    http: httpx.AsyncClient
    """Both set for the duration of `run`."""

    def __init__(
        self,
        settings: Settings,
        transport: httpx.AsyncBaseTransport | None,
        out: list[CheckResult],
    ) -> None:
        super().__init__(settings, transport, out, settings.itop.timeout_seconds)
        self.ticket_class = settings.ticket.class_

    # each call has its own deadline, whatever the transport does with httpx's timeouts
    async def _call(self, call: Awaitable[T]) -> T:
        try:
            return await asyncio.wait_for(call, self.timeout)
        except TimeoutError:
            raise ItopTimeout(
                f"iTop did not answer in {self.timeout:g} s", operation="doctor"
            ) from None

    @property
    def rest_url(self) -> str:
        return safe_url(self.settings.itop.rest_url or "")

    @property
    def status_url(self) -> str:
        return str(self.settings.itop.url).rstrip("/") + "/webservices/status.php"

    def _skip_itop_settings(self, needs: str) -> None:
        self.out.append(
            CheckResult(
                "6",
                f"Ticket class and attributes not checked: they need {needs}",
                "skip",
                key="itop.settings_skipped",
            )
        )
