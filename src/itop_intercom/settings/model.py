"""The one typed settings model of the service.

Keys follow the PHP extension's module settings (`sync_app.ticket.class`...) so that an
administrator who knows the extension recognises them, with our additions (per-workspace secrets,
regions, database, sync tuning, back-sync, retention). Secrets are `SecretStr` so that printing a
model, a validation error or a log event never shows them; they may come from the TOML file, the
environment or a `*_file` path.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Final, Literal

from pydantic import (
    AnyHttpUrl,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

from itop_intercom.settings.backsync import BacksyncSettings
from itop_intercom.settings.form import (
    DEFAULT_FORM_ATTRIBUTES,
    FormFieldSettings,
    check_placeholders,
    default_fields,
)
from itop_intercom.settings.retention import RetentionSettings

Region = Literal["us", "eu", "au"]
MessengerSecurity = Literal["jwt", "user_hash"]
Language = Literal["en", "fr"]

#: The extension's defaults for `sync_app.ticket.attributes_mapping`.
DEFAULT_ATTRIBUTES_MAPPING: Final[Mapping[str, str]] = {
    "org_id": "org_id",
    "caller_id": "caller_id",
    "status": "status",
    "intercom_ref": "intercom_ref",
    "intercom_url": "intercom_url",
    "intercom_sync_activated": "intercom_sync_activated",
    "public_log": "public_log",
    "private_log": "private_log",
}

_WORKSPACE_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class _Section(BaseModel):
    # Unknown keys are refused: a typo in a settings file must not be silently ignored.
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


def _read_secret_file(path: Path | None, what: str) -> SecretStr | None:
    if path is None:
        return None
    try:
        value = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ValueError(f"cannot read the {what} file {path}: {exc.strerror}") from None
    if not value:
        raise ValueError(f"the {what} file {path} is empty")
    return SecretStr(value)


class ServerSettings(_Section):
    host: str = "127.0.0.1"
    port: Annotated[int, Field(ge=1, le=65535)] = 8080
    max_body_bytes: Annotated[int, Field(ge=1024)] = 1024 * 1024
    preview: bool = False
    """Serve the canvas preview page at /preview (an admin tool; off in production)."""


class DatabaseSettings(_Section):
    url: str = ""
    """Empty: SQLite in `data_dir`. `postgresql://…` or `sqlite:///…` otherwise."""

    @field_validator("url")
    @classmethod
    def _known_scheme(cls, value: str) -> str:
        if value and not value.startswith(
            ("sqlite:", "sqlite+", "postgresql:", "postgresql+", "postgres:")
        ):
            raise ValueError("must start with sqlite:/// or postgresql://")
        return value


class ItopSettings(_Section):
    url: AnyHttpUrl | None = None
    """iTop's application root, e.g. https://itop.example.com/ (rest.php lives below it)."""
    token: SecretStr | None = None
    token_file: Path | None = None
    rest_version: str = "1.3"
    timeout_seconds: Annotated[float, Field(gt=0, le=300)] = 10.0
    canvas_budget_seconds: Annotated[float, Field(gt=0, le=60)] = 3.0
    """How long an Inbox screen may wait for iTop before it answers a 'retry' canvas."""
    verify_tls: bool = True
    read_retries: Annotated[int, Field(ge=0, le=10)] = 2
    retry_delay_seconds: Annotated[float, Field(ge=0, le=10)] = 0.1
    """Base of the backoff between two tries of a read: delay × 2^attempt, capped at 2 s."""

    @field_validator("rest_version")
    @classmethod
    def _version(cls, value: str) -> str:
        if not re.fullmatch(r"1\.[0-9]+", value):
            raise ValueError("must be an iTop REST version such as 1.3 or 1.4")
        return value

    @model_validator(mode="after")
    def _token_from_file(self) -> ItopSettings:
        if self.token is None:
            self.token = _read_secret_file(self.token_file, "itop.token")
        return self

    @property
    def rest_url(self) -> str | None:
        if self.url is None:
            return None
        return str(self.url).rstrip("/") + "/webservices/rest.php"


class IntercomSettings(_Section):
    client_secret: SecretStr | None = None
    client_secret_file: Path | None = None
    access_token: SecretStr | None = None
    access_token_file: Path | None = None
    api_base: AnyHttpUrl | None = None
    """Overrides the regional REST base URL (tests, proxies)."""
    api_version: str = "2.11"
    region: Region = "us"
    timeout_seconds: Annotated[float, Field(gt=0, le=300)] = 10.0
    retry_delay_seconds: Annotated[float, Field(ge=0, le=10)] = 0.1
    """Base of the backoff between two tries of a call: delay × 2^attempt, capped at 2 s."""

    @model_validator(mode="after")
    def _secrets_from_files(self) -> IntercomSettings:
        if self.client_secret is None:
            self.client_secret = _read_secret_file(
                self.client_secret_file, "intercom.client_secret"
            )
        if self.access_token is None:
            self.access_token = _read_secret_file(self.access_token_file, "intercom.access_token")
        return self


class WorkspaceSettings(_Section):
    scope: str = ""
    """OQL selecting the iTop users who get the chat widget for this workspace."""
    client_secret: SecretStr | None = None
    client_secret_file: Path | None = None
    access_token: SecretStr | None = None
    access_token_file: Path | None = None
    region: Region | None = None
    language: Language | None = None
    messenger_secret: SecretStr | None = None
    """The Messenger's identity-verification secret (Intercom: Settings › Messenger › Security).
    Signs the identity token of users booted from iTop; never leaves the service."""
    messenger_secret_file: Path | None = None
    messenger_security: MessengerSecurity = "jwt"
    """How the identity is signed: `jwt` (Messenger security, current) or `user_hash` (legacy)."""
    messenger_enforced: bool = False
    """True once "Enforce" is on in Intercom's Messenger security settings: only then is a
    contact's user id proof of who chats, and the Inbox trusts it without checking the email."""

    @model_validator(mode="after")
    def _secrets_from_files(self) -> WorkspaceSettings:
        if self.client_secret is None:
            self.client_secret = _read_secret_file(self.client_secret_file, "client_secret")
        if self.access_token is None:
            self.access_token = _read_secret_file(self.access_token_file, "access_token")
        if self.messenger_secret is None:
            self.messenger_secret = _read_secret_file(
                self.messenger_secret_file, "messenger_secret"
            )
        return self


class TicketSettings(_Section):
    class_: str = Field(default="UserRequest", alias="class")
    attributes_mapping: dict[str, str] = Field(
        default_factory=lambda: dict(DEFAULT_ATTRIBUTES_MAPPING)
    )
    origin: str = "chat"
    """Value of `origin` for tickets created from the Inbox."""
    origin_fallback: str | None = None
    """`origin` used when iTop does not allow `origin` (older datamodels have no `chat`);
    empty: left to iTop's default."""
    link_store: Literal["auto", "itop", "local"] = "auto"
    """Where links live: `itop` (the extension's `intercom_*` fields), `local` (our database),
    or `auto`: iTop when the ticket class has the fields, else local."""

    @field_validator("attributes_mapping")
    @classmethod
    def _complete_mapping(cls, value: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(value) - set(DEFAULT_ATTRIBUTES_MAPPING))
        if unknown:
            raise ValueError(
                f"unknown logical name(s) {', '.join(unknown)}; "
                f"known: {', '.join(DEFAULT_ATTRIBUTES_MAPPING)}"
            )
        return {**DEFAULT_ATTRIBUTES_MAPPING, **value}

    def attribute(self, logical_name: str) -> str:
        return self.attributes_mapping[logical_name]


class CreateTicketSettings(_Section):
    form_attributes: list[str] = Field(default_factory=lambda: list(DEFAULT_FORM_ATTRIBUTES))
    """Attributes offered in the creation form, on top of the mandatory ones without a value."""
    fields: dict[str, FormFieldSettings] = Field(default_factory=default_fields)
    """How each attribute is offered (see `settings.form`); merged over the defaults."""

    @field_validator("fields", mode="before")
    @classmethod
    def _merge_defaults(cls, value: object) -> object:
        # A table for a standard attribute changes only the keys it gives (e.g. a label).
        if not isinstance(value, dict):
            return value
        merged: dict[str, object] = dict(default_fields())
        for attcode, given in value.items():
            base = merged.get(attcode)
            if isinstance(given, dict) and isinstance(base, FormFieldSettings):
                merged[attcode] = {**base.model_dump(exclude_defaults=True), **given}
            else:
                merged[attcode] = given
        return merged

    @model_validator(mode="after")
    def _placeholders(self) -> CreateTicketSettings:
        check_placeholders(self.fields)
        return self


class SearchTicketSettings(_Section):
    excluded_states: list[str] = Field(default_factory=lambda: ["rejected", "closed"])
    subtitle_attribute: str = "title"


class ViewTicketSettings(_Section):
    details_attributes: list[str] = Field(
        default_factory=lambda: ["status", "title", "description", "start_date", "last_update"]
    )
    show_open_in_backoffice_button: bool = True


class MessengerSettings(_Section):
    enabled_portals: list[str] = Field(default_factory=lambda: ["itop-portal"])
    allowed_profiles: list[str] = Field(default_factory=lambda: ["Portal user"])
    portal_url_maker: str = "itop-portal"
    """Which iTop page end users get: `itop-portal`, `backoffice`, or a URL template with
    {itop_url}, {class} and {id}."""
    shared_key: SecretStr | None = None
    """The key the iTop module signs its requests with (the same value in iTop's configuration)."""
    shared_key_file: Path | None = None
    user_id_template: str = "itop-{person_class}-{person_id}"
    """The Intercom `user_id` of an iTop person; must keep {person_class} and {person_id}."""
    company_id_template: str = "itop-org-{org_id}"
    """The Intercom `company_id` of the person's organisation."""
    token_seconds: Annotated[int, Field(ge=300, le=86400)] = 3600
    """Lifetime of the signed identity; iTop reuses a boot answer until shortly before."""
    refusal_cache_seconds: Annotated[int, Field(ge=0, le=86400)] = 300
    """How long iTop remembers "no Messenger for this user" before asking again."""
    request_max_age_seconds: Annotated[int, Field(ge=5, le=600)] = 60
    """How old (or early) a request of the module may be; also how long nonces are kept."""
    widget_url: str = "https://widget.intercom.io/widget/{app_id}"
    """Intercom's Messenger loader script; {app_id} is the workspace id."""

    @field_validator("user_id_template")
    @classmethod
    def _user_id_template(cls, value: str) -> str:
        if "{person_class}" not in value or "{person_id}" not in value:
            raise ValueError("must contain {person_class} and {person_id}")
        return value

    @model_validator(mode="after")
    def _shared_key_from_file(self) -> MessengerSettings:
        if self.shared_key is None:
            self.shared_key = _read_secret_file(self.shared_key_file, "messenger.shared_key")
        return self


class SyncSettings(_Section):
    worker_in_serve: bool = True
    settle_seconds: Annotated[float, Field(ge=0, le=600)] = 2.0
    max_age_hours: Annotated[float, Field(gt=0)] = 24.0
    attachment_max_bytes: Annotated[int, Field(ge=0)] = 10 * 1024 * 1024
    poll_seconds: Annotated[float, Field(gt=0, le=60)] = 0.5
    concurrency: Annotated[int, Field(ge=1, le=64)] = 8
    """Conversations one worker applies at the same time (each one stays in order)."""
    lease_seconds: Annotated[float, Field(ge=2, le=600)] = 20.0
    """How long a conversation stays with a worker that stopped renewing it (a crashed worker's
    work is taken over after this). Renewed every third of it while the worker lives."""
    retry_base_seconds: Annotated[float, Field(gt=0, le=3600)] = 2.0
    retry_max_seconds: Annotated[float, Field(gt=0, le=86400)] = 300.0
    """Backoff between attempts after a transient failure: base × 2^attempt, capped, jittered."""
    author_cache_seconds: Annotated[float, Field(ge=0, le=86400)] = 600.0
    """How long "which iTop user has this email" is remembered (saves one call per part)."""


class Settings(BaseSettings):
    """Everything the service reads at start. See `itop-intercom.example.toml`."""

    model_config = SettingsConfigDict(
        env_prefix="ITOP_INTERCOM_",
        env_nested_delimiter="__",
        extra="forbid",
        populate_by_name=True,
    )

    public_url: AnyHttpUrl | None = None
    """Where Intercom reaches this service (https://…); `urls` builds on it."""
    data_dir: Path = Path("data")
    language: Language = "en"
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    log_format: Literal["auto", "json", "console"] = "auto"

    server: ServerSettings = Field(default_factory=ServerSettings)
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    itop: ItopSettings = Field(default_factory=ItopSettings)
    intercom: IntercomSettings = Field(default_factory=IntercomSettings)
    workspaces: dict[str, WorkspaceSettings] = Field(default_factory=dict)
    ticket: TicketSettings = Field(default_factory=TicketSettings)
    create_ticket: CreateTicketSettings = Field(default_factory=CreateTicketSettings)
    search_ticket: SearchTicketSettings = Field(default_factory=SearchTicketSettings)
    view_ticket: ViewTicketSettings = Field(default_factory=ViewTicketSettings)
    messenger: MessengerSettings = Field(default_factory=MessengerSettings)
    sync: SyncSettings = Field(default_factory=SyncSettings)
    retention: RetentionSettings = Field(default_factory=RetentionSettings)
    backsync: BacksyncSettings = Field(default_factory=BacksyncSettings)

    @field_validator("workspaces")
    @classmethod
    def _workspace_ids(cls, value: dict[str, WorkspaceSettings]) -> dict[str, WorkspaceSettings]:
        for workspace_id in value:
            if not _WORKSPACE_ID.match(workspace_id):
                raise ValueError(f"{workspace_id!r} is not an Intercom workspace id")
        return value

    @property
    def database_url(self) -> str:
        """The SQLAlchemy URL, with the async driver of each backend."""
        url = self.database.url or f"sqlite:///{self.data_dir / 'itop-intercom.sqlite3'}"
        return to_async_url(url)

    def workspace(self, workspace_id: str) -> ResolvedWorkspace | None:
        """The workspace's effective settings, with the global fallbacks applied."""
        ws = self.workspaces.get(workspace_id)
        if ws is None:
            # Environment variable names are case-insensitive, so ids may arrive lower-cased.
            ws = self.workspaces.get(workspace_id.lower())
        if ws is None:
            return None
        return ResolvedWorkspace(
            id=workspace_id,
            scope=ws.scope,
            client_secret=ws.client_secret or self.intercom.client_secret,
            access_token=ws.access_token or self.intercom.access_token,
            region=ws.region or self.intercom.region,
            language=ws.language or self.language,
            messenger_secret=ws.messenger_secret,
            messenger_security=ws.messenger_security,
            messenger_enforced=ws.messenger_enforced,
        )


class ResolvedWorkspace(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    scope: str
    client_secret: SecretStr | None
    access_token: SecretStr | None
    region: Region
    language: Language
    messenger_secret: SecretStr | None = None
    messenger_security: MessengerSecurity = "jwt"
    messenger_enforced: bool = False


def to_async_url(url: str) -> str:
    """Map a user-facing database URL to the async driver SQLAlchemy needs."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        return "postgresql+psycopg://" + url[len("postgresql://") :]
    if url.startswith("sqlite:///") and not url.startswith("sqlite+"):
        return "sqlite+aiosqlite:///" + url[len("sqlite:///") :]
    return url
