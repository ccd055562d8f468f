"""The composition root: every long-lived object of one service instance is built here, once,
and handed to whoever needs it through `Services`.

What lives as long as the service: the database (engine, SQLite write gate, worker wake-ups),
the intake's group-commit writer, the iTop and Intercom clients, the link store, the caches of
the Inbox (iTop choices, person look-ups, origins iTop refused, running creations, the preview
outbox), the teammates' emails asked of Intercom, the Inbox action table, the job-handler table,
the metrics and the secret mask that logging installs. Nothing of the kind is a module global
anywhere else: two services in one process (the tests build many) share nothing.

Modules below this one see `Services` as a type only (imported under `TYPE_CHECKING`), so the
root may import every package without an import cycle. Tests build it with fake transports;
`serve` and `worker` build it from the settings alone.
"""

from __future__ import annotations

import asyncio
import gc
from dataclasses import dataclass, field
from functools import cached_property

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from itop_intercom.errors import NotConfigured
from itop_intercom.inbox.actions import action_table
from itop_intercom.inbox.creation import Creations
from itop_intercom.inbox.home_cache import HomeCache
from itop_intercom.inbox.jobs import job_handlers
from itop_intercom.inbox.messages import PreviewOutbox
from itop_intercom.inbox.person import PersonLookups
from itop_intercom.inbox.registry import ActionTable
from itop_intercom.intercom.admins import AdminDirectory
from itop_intercom.intercom.client import IntercomClient
from itop_intercom.itop.catalog import Catalog
from itop_intercom.itop.client import ItopClient
from itop_intercom.itop.tickets import Tickets
from itop_intercom.links import LinkStore, open_link_store
from itop_intercom.logs import SecretMask
from itop_intercom.metrics import Metrics
from itop_intercom.settings.model import ResolvedWorkspace, Settings
from itop_intercom.store.database import Database
from itop_intercom.store.db import create_engine
from itop_intercom.store.instance_lock import InstanceLock, hold_instance_lock
from itop_intercom.store.usage import UsageGauges
from itop_intercom.sync.back.state import BacksyncState
from itop_intercom.sync.groupcommit import PartWriter
from itop_intercom.sync.jobs import JobHandler
from itop_intercom.work_queue import BoundedWork

#: Home warm-ups run one at a time (iTop serves only a few calls at once, and the agents' own
#: screens and the sync come first); at most this many wait, further ones are dropped.
WARMUP_CONCURRENCY = 1
WARMUP_MAX_PENDING = 200

__all__ = ("NotConfigured", "Services", "build_services", "secrets_of")


@dataclass
class Services:
    settings: Settings
    db: Database
    metrics: Metrics
    secret_mask: SecretMask
    part_writer: PartWriter
    actions: ActionTable
    job_handlers: dict[str, JobHandler]
    itop_transport: httpx.AsyncBaseTransport | None = None
    intercom_transport: httpx.AsyncBaseTransport | None = None
    person_lookups: PersonLookups = field(default_factory=PersonLookups)
    creations: Creations = field(default_factory=Creations)
    preview_outbox: PreviewOutbox = field(default_factory=PreviewOutbox)
    refused_origins: set[str] = field(default_factory=set)
    """Ticket origins this iTop refused (an iTop without `chat`): not tried again."""
    _itop: ItopClient | None = None
    _tickets: Tickets | None = None
    _link_store: LinkStore | None = None
    _link_store_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    _intercom: dict[str, IntercomClient] = field(default_factory=dict)
    _usage: UsageGauges | None = None
    instance_lock: InstanceLock | None = None
    """Held by `serve` and `worker` on a SQLite database: one instance per file."""

    @property
    def usage(self) -> UsageGauges:
        """The database size and row-count gauges of /metrics, with their short cache."""
        if self._usage is None:
            self._usage = UsageGauges(
                self.engine, self.metrics.database_bytes, self.metrics.table_rows
            )
        return self._usage

    backsync: BacksyncState | None = None
    home_cache: HomeCache = field(default_factory=HomeCache)
    """What Home shows, per conversation, for a minute (see `inbox.home_cache`)."""
    warmups: BoundedWork = field(
        default_factory=lambda: BoundedWork(
            "home warm-up", concurrency=WARMUP_CONCURRENCY, max_pending=WARMUP_MAX_PENDING
        )
    )
    """Home data read in the background when a webhook announces a message."""

    @property
    def engine(self) -> AsyncEngine:
        """For reads; writes go through `db.write_transaction()` (the SQLite write gate)."""
        return self.db.engine

    @property
    def itop(self) -> ItopClient:
        if self._itop is None:
            rest_url = self.settings.itop.rest_url
            token = self.settings.itop.token
            if rest_url is None or token is None:
                raise NotConfigured("itop.url and itop.token must be set")
            self._itop = ItopClient(
                rest_url,
                token.get_secret_value(),
                version=self.settings.itop.rest_version,
                timeout=self.settings.itop.timeout_seconds,
                read_retries=self.settings.itop.read_retries,
                retry_delay=self.settings.itop.retry_delay_seconds,
                verify_tls=self.settings.itop.verify_tls,
                transport=self.itop_transport,
                observer=self.metrics.observe_itop,
            )
        return self._itop

    @property
    def tickets(self) -> Tickets:
        if self._tickets is None:
            self._tickets = Tickets(self.itop, self.settings)
        return self._tickets

    @cached_property
    def catalog(self) -> Catalog:
        """Choices of the creation form read from iTop, cached briefly."""
        return Catalog(self.itop)

    @cached_property
    def intercom_admins(self) -> AdminDirectory:
        """Emails of teammates known only by id (older payloads), asked of Intercom, cached."""
        return AdminDirectory(
            lambda ws: self.intercom(ws) if ws.access_token is not None else None,
            self.settings.sync.author_cache_seconds,
        )

    async def link_store(self) -> LinkStore:
        """The configured store; with `auto`, decided once by asking iTop about its fields."""
        if self._link_store is not None:
            return self._link_store
        async with self._link_store_lock:
            if self._link_store is None:
                self._link_store = await open_link_store(
                    self.settings.ticket.link_store, self.tickets, self.db
                )
        return self._link_store

    def intercom(self, workspace: ResolvedWorkspace) -> IntercomClient:
        client = self._intercom.get(workspace.id)
        if client is None:
            if workspace.access_token is None:
                raise NotConfigured(f"no Intercom access token for workspace {workspace.id}")
            api_base = self.settings.intercom.api_base
            client = IntercomClient(
                workspace.access_token.get_secret_value(),
                region=workspace.region,
                api_base=str(api_base) if api_base else None,
                api_version=self.settings.intercom.api_version,
                timeout=self.settings.intercom.timeout_seconds,
                retry_delay=self.settings.intercom.retry_delay_seconds,
                transport=self.intercom_transport,
                observer=self.metrics.observe_intercom,
            )
            self._intercom[workspace.id] = client
        return client

    async def aclose(self) -> None:
        await self.warmups.aclose()
        if self.instance_lock is not None:
            self.instance_lock.release()
        if self._itop is not None:
            await self._itop.aclose()
        for client in self._intercom.values():
            await client.aclose()
        await self.db.dispose()


def freeze_startup_heap() -> None:
    """For the long-running commands (`serve`, `worker`), once everything is imported and built:
    move what exists now out of the garbage collector's reach. A full collection walks every
    object it tracks; with the startup heap (modules, the app, the settings) frozen it walks
    only what requests allocated since, and the pause it puts in a webhook's way (about 100 ms
    with the whole heap, measured by bench/purge.py) shrinks to a few milliseconds."""
    gc.collect()
    gc.freeze()


def secrets_of(settings: Settings) -> list[str | None]:
    values = [settings.itop.token, settings.intercom.client_secret, settings.intercom.access_token]
    values.append(settings.messenger.shared_key)
    for ws in settings.workspaces.values():
        values += [ws.client_secret, ws.access_token, ws.messenger_secret]
    return [v.get_secret_value() if v is not None else None for v in values]


def build_services(
    settings: Settings,
    *,
    itop_transport: httpx.AsyncBaseTransport | None = None,
    intercom_transport: httpx.AsyncBaseTransport | None = None,
    single_instance: bool = False,
) -> Services:
    """The services of one instance. `single_instance` (serve, worker): on SQLite, take the
    database's instance lock first (`SecondInstance` when another process holds it)."""
    lock = hold_instance_lock(settings.database_url) if single_instance else None
    db = Database(create_engine(settings.database_url))
    return Services(
        instance_lock=lock,
        settings=settings,
        db=db,
        metrics=Metrics(),
        secret_mask=SecretMask(secrets_of(settings)),
        part_writer=PartWriter(db),
        actions=action_table(),
        job_handlers=job_handlers(),
        itop_transport=itop_transport,
        intercom_transport=intercom_transport,
        backsync=BacksyncState(
            settings.backsync.admin_cache_seconds, settings.sync.author_cache_seconds
        ),
    )
