"""Settings of the iTop → Intercom back-sync (`[backsync]`, with `[backsync.workspaces.<id>]`).

Defaults do nothing the end user sees except the public replies: private-log notes, the reply
on resolution and closing / reopening conversations are off until the administrator turns them
on. Status notes are internal notes (only agents see them), so they are on.
"""

from __future__ import annotations

from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class BacksyncWorkspaceSettings(_Section):
    """Per-workspace overrides; a key left out takes the `[backsync]` value."""

    enabled: bool | None = None
    default_admin_id: str | None = None
    private_notes: bool | None = None
    status_notes: bool | None = None
    reply_on_resolution: bool | None = None
    close_conversations: bool | None = None


class BacksyncOptions(_Section):
    """The effective options of one workspace."""

    model_config = ConfigDict(frozen=True)

    enabled: bool
    default_admin_id: str
    private_notes: bool
    status_notes: bool
    reply_on_resolution: bool
    close_conversations: bool


class BacksyncSettings(_Section):
    enabled: bool = True
    """Post what happens in linked tickets back to their conversations."""
    poll_seconds: Annotated[float, Field(gt=0, le=3600)] = 5.0
    """How often iTop's change history is read (one REST call when nothing changed)."""
    itop_timezone: str = "Europe/Paris"
    """iTop's `timezone` setting: the history's dates are in it, without an offset."""
    default_admin_id: str = ""
    """The Intercom admin who posts when the iTop author is not an Intercom admin (their name
    is then written at the top of the message). Empty: such entries wait (dead letter)."""
    private_notes: bool = False
    """Private-log entries become internal notes in the conversation."""
    status_notes: bool = True
    """Status changes become an internal note ("R-000123 is now Resolved …")."""
    reply_on_resolution: bool = False
    """Also tell the end user (a reply) when the ticket is resolved."""
    close_conversations: bool = False
    """Close the conversation when the ticket is closed, reopen it when the ticket reopens."""
    admin_cache_seconds: Annotated[float, Field(ge=0, le=86400)] = 600.0
    """How long the list of Intercom admins (email → admin id) is kept."""
    webhook_secret: SecretStr | None = None
    """Shared secret of the optional `POST /itop/changed` signal (an iTop webhook action)."""
    workspaces: dict[str, BacksyncWorkspaceSettings] = Field(default_factory=dict)

    @field_validator("itop_timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not a known time zone (e.g. Europe/Paris)") from None
        return value

    def for_workspace(self, workspace_id: str) -> BacksyncOptions:
        ws = self.workspaces.get(workspace_id) or self.workspaces.get(workspace_id.lower())
        ws = ws or BacksyncWorkspaceSettings()

        def pick(name: str) -> object:
            value = getattr(ws, name)
            return getattr(self, name) if value is None else value

        return BacksyncOptions.model_validate(
            {name: pick(name) for name in BacksyncOptions.model_fields}
        )
