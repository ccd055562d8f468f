"""All iTop checks, in the order they depend on each other."""

from __future__ import annotations

import asyncio

import httpx

from itop_intercom.itop.client import ItopClient
from itop_intercom.ops.doctor.backsync import history_access
from itop_intercom.ops.doctor.itop_access import AccessChecks
from itop_intercom.ops.doctor.itop_datamodel import DatamodelChecks
from itop_intercom.ops.doctor.itop_profiles import ProfileChecks
from itop_intercom.ops.doctor.texts import secret_value


class ItopChecks(AccessChecks, ProfileChecks, DatamodelChecks):
    async def run(self) -> None:
        rest_url = self.settings.itop.rest_url
        if rest_url is None:
            self._skip_itop_settings("the iTop URL (step 1)")
            return
        # Without a token, iTop is still checked for being there (it answers "Invalid login").
        token = secret_value(self.settings.itop.token)
        async with (
            ItopClient(
                rest_url,
                token or "",
                version=self.settings.itop.rest_version,
                timeout=self.timeout,
                read_retries=0,
                verify_tls=self.settings.itop.verify_tls,
                transport=self.transport,
            ) as client,
            httpx.AsyncClient(
                timeout=httpx.Timeout(self.timeout, connect=min(self.timeout, 5.0)),
                verify=self.settings.itop.verify_tls,
                transport=self.transport,
                headers={"User-Agent": "itop-intercom"},
            ) as http,
        ):
            self.client = client
            self.http = http
            if not await self._check_login(have_token=token is not None):
                self._skip_itop_settings("iTop to accept the token (step 1)")
                return
            _, class_ok, history = await asyncio.gather(
                self._check_administrator(),
                self._check_ticket_class(),
                self._call(history_access(client, self.settings)),
            )
            self.out.append(history)
            if class_ok:
                await self._check_attributes()
