"""Values copied from the example settings and never replaced.

`itop-intercom.example.toml` (which `scripts/serve` copies on the first run) holds addresses
under the reserved example domains (`example.com`, `.org`, `.net`, never anyone's server) and
an example workspace id. Left in place, they make the URLs pasted into Intercom point nowhere,
or make the service wait for a workspace that does not exist; the report says which.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from itop_intercom.ops.doctor.result import CheckResult
from itop_intercom.settings.model import Settings

#: Second-level domains reserved for documentation: no real service lives there.
EXAMPLE_DOMAINS = ("example.com", "example.org", "example.net")
#: The workspace id of the example settings.
EXAMPLE_WORKSPACE_ID = "abc123de"


def is_example_host(url: str | None) -> bool:
    if not url:
        return False
    host = (urlsplit(url).hostname or "").lower().rstrip(".")
    return any(host == d or host.endswith("." + d) for d in EXAMPLE_DOMAINS)


def placeholder_checks(settings: Settings) -> list[CheckResult]:
    out: list[CheckResult] = []
    public_url = str(settings.public_url) if settings.public_url is not None else None
    if is_example_host(public_url):
        out.append(
            CheckResult(
                "5",
                f"The service's public URL is the example one ({public_url})",
                "fail",
                "Intercom would call an address that is not this service: the URLs printed by "
                "`itop-intercom urls` would point nowhere.",
                "Set public_url to the https address where Intercom reaches this service.",
                key="settings.public_url_placeholder",
            )
        )
    itop_url = str(settings.itop.url) if settings.itop.url is not None else None
    if is_example_host(itop_url):
        out.append(
            CheckResult(
                "1",
                f"The iTop URL is the example one ({itop_url})",
                "fail",
                "The example settings point at a documentation address, not at your iTop.",
                "Set itop.url to iTop's application root, the address you open iTop with.",
                key="settings.itop_url_placeholder",
            )
        )
    if is_example_host(settings.database.url):
        out.append(
            CheckResult(
                "6",
                "The database URL names the example host",
                "fail",
                "The example PostgreSQL address is a documentation address.",
                "Set database.url to your PostgreSQL server, or leave it empty for SQLite.",
                key="settings.database_url_placeholder",
            )
        )
    if EXAMPLE_WORKSPACE_ID in settings.workspaces:
        out.append(
            CheckResult(
                "6",
                f"The workspace {EXAMPLE_WORKSPACE_ID} is the example one",
                "fail",
                "Intercom names your workspace in every request; the example id matches none.",
                f"Rename the table [workspaces.{EXAMPLE_WORKSPACE_ID}] to your workspace id, the "
                "part after /a/apps/ in the address of your Intercom Inbox.",
                key="settings.workspace_placeholder",
            )
        )
    return out
