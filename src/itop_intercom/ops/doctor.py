"""The `check` command: test the settings, iTop and Intercom, and explain what to fix.

Each result belongs to a setup step of the administrator's guide (DESIGN §2), so that the
report reads like the guide: "Step 1 · iTop token user", then OK, or what is wrong and how to fix
it, in words an iTop administrator understands without reading our code.

1. iTop token user: settings, network, REST endpoint, token, `rest-token` login mode, REST
   Services User profile, Administrator profile.
2. Intercom app: the workspace the access token belongs to (`GET /me`).
3. Client secret: present for each workspace (it cannot be tested remotely).
4. Access token: present and accepted by Intercom, for each workspace.
5. Canvas Kit and webhook URLs: `public_url` present and https.
6. Module settings: workspaces (and whether they match the access tokens), ticket class,
   mapped attribute codes, form / subtitle / detail attributes, and where links are kept.

The checks only read: nothing is written to iTop or Intercom. iTop and Intercom are checked
concurrently, and every call, and each of the two groups, has a deadline derived from the
configured timeouts. No token or client secret is ever part of a result: messages are built
from our own words, URLs and iTop's error texts, and everything is scrubbed of every configured
secret before it is returned, as a second line of defence.
"""

from __future__ import annotations

import asyncio
import html
import re
import socket
import ssl
import textwrap
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Final, Literal, TextIO, TypeVar
from urllib.parse import urlsplit, urlunsplit

import httpx
from pydantic import SecretStr

from itop_intercom.intercom.client import IntercomClient
from itop_intercom.intercom.errors import (
    IntercomAuthError,
    IntercomError,
    IntercomForbidden,
    IntercomUnavailable,
)
from itop_intercom.itop.client import ItopClient
from itop_intercom.itop.errors import (
    CODE_INTERNAL_ERROR,
    CODE_UNSUPPORTED_VERSION,
    ItopApiError,
    ItopAuthError,
    ItopError,
    ItopHttpError,
    ItopNotRestEndpoint,
    ItopTimeout,
    ItopUnreachable,
    readable,
)
from itop_intercom.settings.model import Region, Settings

Status = Literal["ok", "warn", "fail", "skip"]

#: The setup steps of DESIGN §2, as the report names them.
STEPS: Final[Mapping[str, str]] = {
    "1": "iTop token user",
    "2": "Intercom app",
    "3": "Client secret",
    "4": "Access token",
    "5": "Canvas Kit and webhook URLs",
    "6": "Module settings",
}

_LABELS: Final[Mapping[str, str]] = {"ok": "OK", "warn": "WARN", "fail": "FAIL", "skip": "SKIP"}

#: The logical names whose attributes hold the links when the extension's datamodel is installed.
INTERCOM_FIELDS = ("intercom_ref", "intercom_url", "intercom_sync_activated")

#: The text iTop's token login plugin answers, in plain text, when `login_mode=rest-token` is
#: forced without a token (transcript 092).
_FORCED_WITHOUT_TOKEN = "forced without any token passed"

#: How many single-attribute probes may run at once when iTop refuses a list of attributes.
_PROBE_CONCURRENCY = 4

_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)

_T = TypeVar("_T")


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


# -- entry points -------------------------------------------------------------------------------


async def run_checks(
    settings: Settings,
    *,
    itop_only: bool = False,
    itop_transport: httpx.AsyncBaseTransport | None = None,
    intercom_transport: httpx.AsyncBaseTransport | None = None,
) -> list[CheckResult]:
    """Run every check; the results come ordered by setup step."""
    settings_results = _settings_checks(settings, itop_only=itop_only)
    itop_results: list[CheckResult] = []
    intercom_results: list[CheckResult] = []
    groups: list[Awaitable[None]] = [
        _bounded_group(
            _ItopChecks(settings, itop_transport, itop_results).run(),
            itop_results,
            _itop_budget(settings),
            _itop_overrun,
        )
    ]
    if itop_only:
        intercom_results.extend(_intercom_skipped())
    else:
        groups.append(
            _bounded_group(
                _IntercomChecks(settings, intercom_transport, intercom_results).run(),
                intercom_results,
                _intercom_budget(settings),
                _intercom_overrun,
            )
        )
    await asyncio.gather(*groups)
    results = [*settings_results, *itop_results, *intercom_results]
    # Stable sort: within a step, the order in which the checks ran is kept.
    results.sort(key=lambda r: _step_order(r.step))
    secrets = _secrets(settings)
    return [_scrub(result, secrets) for result in results]


def explain(result: CheckResult, *, width: int = 100) -> str:
    """The result as indented text: status and title, then the detail and the fix."""
    label = f"  {_LABELS[result.status]:<6}"
    indent = " " * len(label)
    lines = _wrap(result.title, width, label, indent)
    if result.detail:
        lines.extend(_wrap(result.detail, width, indent, indent))
    if result.fix and result.status != "ok":
        lines.extend(_wrap("Fix: " + result.fix, width, indent, indent + "     "))
    return "\n".join(lines)


def render(results: Sequence[CheckResult], stream: TextIO, *, width: int = 100) -> int:
    """Print the report grouped by setup step; return the exit status (1 when anything fails)."""
    current: str | None = None
    for result in results:
        if result.step != current:
            if current is not None:
                stream.write("\n")
            current = result.step
            stream.write(f"Step {result.step} · {STEPS.get(result.step, 'Other')}\n")
        stream.write(explain(result, width=width) + "\n")
    failures = sum(1 for r in results if r.status == "fail")
    warnings = sum(1 for r in results if r.status == "warn")
    stream.write("\n")
    if failures:
        summary = f"{_plural(failures, 'problem')} to fix"
        if warnings:
            summary += f", {_plural(warnings, 'warning')}"
        stream.write(summary + ". The service will not work until the problems are fixed.\n")
    elif warnings:
        stream.write(f"Ready, with {_plural(warnings, 'warning')} worth a look.\n")
    else:
        stream.write("Everything checked is ready.\n")
    return 1 if failures else 0


# -- settings (no network) ----------------------------------------------------------------------


def _settings_checks(settings: Settings, *, itop_only: bool) -> list[CheckResult]:
    out: list[CheckResult] = []
    if settings.itop.url is None:
        out.append(
            CheckResult(
                "1",
                "The iTop URL is not set (itop.url)",
                "fail",
                "The service does not know where iTop is.",
                "Set itop.url to iTop's application root, the address you open iTop with, "
                "for example https://itop.example.com/ (the folder that contains webservices/).",
                key="settings.itop_url_missing",
            )
        )
    if _secret_value(settings.itop.token) is None:
        out.append(
            CheckResult(
                "1",
                "The iTop token is not set (itop.token)",
                "fail",
                "The service needs the token of an iTop token-based user to call iTop's REST API.",
                "In iTop, open the token-based user (Administration › User accounts), copy its "
                "token, and put it in itop.token, itop.token_file or the environment variable "
                "ITOP_INTERCOM_ITOP__TOKEN.",
                key="settings.itop_token_missing",
            )
        )
    if itop_only:
        return out

    if not settings.workspaces:
        out.append(
            CheckResult(
                "6",
                "No Intercom workspace is configured (workspaces)",
                "fail",
                "Every request from Intercom names its workspace, and the service answers only "
                "the workspaces listed in the settings.",
                "Add a [workspaces.<workspace id>] section; the workspace id is the part after "
                "/a/apps/ in the address of your Intercom Inbox.",
                key="settings.no_workspace",
            )
        )
    for workspace_id in sorted(settings.workspaces):
        ws = settings.workspace(workspace_id)
        if ws is None:  # pragma: no cover - the id comes from the same map
            continue
        own = settings.workspaces[workspace_id]
        secret = _secret_value(ws.client_secret)
        if secret is None:
            out.append(
                CheckResult(
                    "3",
                    f"Workspace {workspace_id} has no client secret",
                    "fail",
                    "Without the Intercom app's client secret the service cannot check the "
                    "signature of what Intercom sends, so it refuses every Inbox request and "
                    "webhook.",
                    "In the Intercom Developer Hub, open the app › Configure › Basic information, "
                    f"copy the client secret, and put it in workspaces.{workspace_id}"
                    ".client_secret (or intercom.client_secret for all workspaces).",
                    key="settings.client_secret_missing",
                )
            )
        else:
            source = "its own" if _secret_value(own.client_secret) else "the global"
            out.append(
                CheckResult(
                    "3",
                    f"Workspace {workspace_id} has a client secret ({source} one)",
                    "ok",
                    "It cannot be tested from here: a wrong secret shows as refused signatures "
                    "in the service's log when Intercom calls.",
                    key="settings.client_secret_present",
                )
            )
        token = _secret_value(ws.access_token)
        if token is None:
            out.append(
                CheckResult(
                    "4",
                    f"Workspace {workspace_id} has no access token",
                    "fail",
                    "Without the Intercom app's access token the service cannot read "
                    "conversations nor post notes and replies.",
                    "In the Intercom Developer Hub, open the app › Configure › Authentication, "
                    f"copy the access token, and put it in workspaces.{workspace_id}"
                    ".access_token (or intercom.access_token for all workspaces).",
                    key="settings.access_token_missing",
                )
            )
        elif secret is not None and secret == token:
            out.append(
                CheckResult(
                    "3",
                    f"Workspace {workspace_id} has the same value as client secret and as "
                    "access token",
                    "warn",
                    "They are two different values in the Developer Hub; one of them was "
                    "probably pasted twice.",
                    "Copy the client secret (Basic information) and the access token "
                    "(Authentication) again, each into its own setting.",
                    key="settings.secret_equals_token",
                )
            )

    if settings.public_url is None:
        out.append(
            CheckResult(
                "5",
                "The service's public URL is not set (public_url)",
                "warn",
                "The service works without it, but it cannot print the Initialize, Submit and "
                "webhook URLs to paste in Intercom, nor build links to itself.",
                "Set public_url to the https address where Intercom reaches this service, then "
                "run `itop-intercom urls`.",
                key="settings.public_url_missing",
            )
        )
    elif settings.public_url.scheme != "https":
        out.append(
            CheckResult(
                "5",
                f"The service's public URL is not https ({_safe_url(str(settings.public_url))})",
                "warn",
                "Intercom only calls https URLs for Canvas Kit and webhooks.",
                "Put the service behind an https reverse proxy (or a tunnel while testing) and "
                "set public_url to its https address.",
                key="settings.public_url_not_https",
            )
        )
    else:
        out.append(
            CheckResult(
                "5",
                f"The service's public URL is {_safe_url(str(settings.public_url))}",
                "ok",
                "Run `itop-intercom urls` for the Initialize, Submit and webhook URLs to paste in "
                "the Intercom Developer Hub.",
                key="settings.public_url_ok",
            )
        )
    return out


# -- iTop ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _StatusProbe:
    """What `webservices/status.php` (unauthenticated, transcript 001) says."""

    kind: Literal["running", "broken", "absent", "refused", "dns", "tls", "timeout", "other"]
    """running / broken: iTop answers (RUNNING or not); absent: something else answers; the
    others: why no connection could be made."""
    text: str


class _ItopChecks:
    client: ItopClient
    http: httpx.AsyncClient
    """Both set for the duration of `run`."""

    def __init__(
        self,
        settings: Settings,
        transport: httpx.AsyncBaseTransport | None,
        out: list[CheckResult],
    ) -> None:
        self.settings = settings
        self.transport = transport
        self.out = out
        self.timeout = settings.itop.timeout_seconds
        self.ticket_class = settings.ticket.class_

    async def run(self) -> None:
        rest_url = self.settings.itop.rest_url
        if rest_url is None:
            self._skip_itop_settings("the iTop URL (step 1)")
            return
        # Without a token, iTop is still checked for being there (it answers "Invalid login").
        token = _secret_value(self.settings.itop.token)
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
            _, class_ok = await asyncio.gather(
                self._check_administrator(), self._check_ticket_class()
            )
            if class_ok:
                await self._check_attributes()

    # each call has its own deadline, whatever the transport does with httpx's timeouts
    async def _call(self, call: Awaitable[_T]) -> _T:
        try:
            return await asyncio.wait_for(call, self.timeout)
        except TimeoutError:
            raise ItopTimeout(
                f"iTop did not answer in {self.timeout:g} s", operation="doctor"
            ) from None

    @property
    def rest_url(self) -> str:
        return _safe_url(self.settings.itop.rest_url or "")

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

    # step 1 ------------------------------------------------------------------------------------

    async def _check_login(self, *, have_token: bool) -> bool:
        """Reach iTop, check it is a REST endpoint and that it accepts the token."""
        try:
            body = await self._call(
                self.client.call({"operation": "list_operations"}, send_token=have_token)
            )
        except ItopUnreachable:
            self.out.append(self._unreachable(await self._status()))
            return False
        except ItopTimeout:
            self.out.append(
                CheckResult(
                    "1",
                    f"iTop did not answer within {self.timeout:g} s at {self.rest_url}",
                    "fail",
                    "A connection may have been made, but no answer came back in time.",
                    "Check that iTop is up and not overloaded (open it in a browser), that no "
                    "firewall silently drops the traffic between this machine and iTop, or raise "
                    "itop.timeout_seconds.",
                    key="itop.timeout",
                )
            )
            return False
        except (ItopHttpError, ItopNotRestEndpoint) as exc:
            probe = await self._status()
            self.out.append(self._not_rest(exc, probe))
            return False
        except ItopAuthError as exc:
            self.out.append(self._answers(None))
            if not have_token:
                return False  # "the token is not set" is already reported
            if exc.is_missing_rest_profile:
                self.out.append(
                    CheckResult(
                        "1",
                        "The token user lacks the REST Services User profile",
                        "fail",
                        f"iTop accepts the token but answers: “{readable(exc.message)}”. "
                        "Every REST user needs this profile, Administrators included.",
                        "In iTop, open the token-based user (Administration › User accounts), "
                        "add the profile “REST Services User” to it, and save.",
                        key="itop.no_rest_profile",
                    )
                )
            elif exc.is_invalid_login:
                self.out.append(await self._explain_invalid_login())
            else:
                self.out.append(
                    CheckResult(
                        "1",
                        "iTop refuses the token user",
                        "fail",
                        f"iTop answers: “{readable(exc.message)}”.",
                        "Check the token-based user in iTop: it must be enabled and have the "
                        "Administrator and REST Services User profiles.",
                        key="itop.login_refused",
                    )
                )
            return False
        except ItopApiError as exc:
            self.out.append(self._answers(None))
            if exc.code == CODE_UNSUPPORTED_VERSION:
                self.out.append(
                    CheckResult(
                        "1",
                        f"iTop does not know REST version {self.settings.itop.rest_version}",
                        "fail",
                        f"iTop answers: “{readable(exc.message)}”.",
                        "Set itop.rest_version to 1.3 (known by every iTop since 2.2).",
                        key="itop.rest_version",
                    )
                )
            else:
                self.out.append(
                    CheckResult(
                        "1",
                        "iTop refuses the REST call",
                        "fail",
                        f"iTop answers with code {exc.code}: “{readable(exc.message)}”.",
                        "Check iTop's error log; this is not a setup mistake the service knows.",
                        key="itop.api_error",
                    )
                )
            return False
        except ItopError as exc:  # pragma: no cover - every subclass is handled above
            self.out.append(
                CheckResult("1", "iTop call failed", "fail", exc.message, key="itop.error")
            )
            return False
        version = str(body.get("version") or self.settings.itop.rest_version)
        self.out.append(self._answers(version))
        if not have_token:  # pragma: no cover - iTop never answers a call without credentials
            return False
        self.out.append(
            CheckResult(
                "1",
                "iTop accepts the token, and its user has the REST Services User profile",
                "ok",
                key="itop.token_ok",
            )
        )
        return True

    def _answers(self, version: str | None) -> CheckResult:
        suffix = f" (REST {version})" if version else ""
        return CheckResult(
            "1", f"iTop answers at {self.rest_url}{suffix}", "ok", key="itop.reachable"
        )

    async def _explain_invalid_login(self) -> CheckResult:
        """Tell a wrong token from a disabled `rest-token` login mode.

        iTop answers both with the same code 1 "Invalid login" (transcripts 080, 081 and 093), so
        a second request is needed: `login_mode=rest-token` forced in the query, with no token.
        When `rest-token` is in `allowed_login_types`, iTop uses only that mode, and the token
        login plugin of authent-token stops with the plain-text body "login_mode 'rest-token'
        forced without any token passed" (transcript 092). When it is not allowed, iTop ignores
        the forced mode, tries the allowed ones, finds no credentials and answers the JSON code 1
        "Invalid login".

        The second case is INFERRED from iTop's login code (LoginWebPage drops a `login_mode`
        that is not in `allowed_login_types`), not recorded: transcript 093 only shows that a
        valid token gets "Invalid login" without rest-token. Any other answer is reported as
        "cannot tell", with both fixes.
        """
        try:
            await self._call(
                self.client.call(
                    {"operation": "list_operations"},
                    extra_params={"login_mode": "rest-token"},
                    send_token=False,
                )
            )
        except ItopNotRestEndpoint as exc:
            if _FORCED_WITHOUT_TOKEN in exc.body_excerpt:
                return CheckResult(
                    "1",
                    "iTop refuses the token: the token itself is wrong",
                    "fail",
                    "iTop answers “Invalid login”. Token logins (rest-token) are enabled in "
                    "iTop, so the token is not one this iTop knows: mistyped, truncated, "
                    "regenerated since, or copied from another iTop (a test instance, say).",
                    "In iTop, open the token-based user (Administration › User accounts), copy "
                    "its token again (or generate a new one) and put it in itop.token. Check "
                    f"that itop.url ({_safe_url(str(self.settings.itop.url))}) is the iTop that "
                    "user belongs to, and that the token's scope includes REST/JSON.",
                    key="itop.token_refused",
                )
        except ItopAuthError as exc:
            if exc.is_invalid_login:
                return CheckResult(
                    "1",
                    "iTop does not accept token logins: rest-token is not in allowed_login_types",
                    "fail",
                    "iTop answers “Invalid login” to every token, valid or not, because the "
                    "login mode rest-token is not enabled in iTop's configuration.",
                    "Edit iTop's configuration file (conf/production/config-itop.php) and add "
                    "rest-token to 'allowed_login_types', e.g. "
                    "'allowed_login_types' => 'rest-token|form|external|basic'. Check that the "
                    "authent-token extension is installed.",
                    key="itop.rest_token_not_allowed",
                )
        except ItopError:
            pass
        return CheckResult(
            "1",
            "iTop refuses the token (Invalid login)",
            "fail",
            "iTop answers “Invalid login”: either the token is wrong, or token logins are not "
            "enabled in iTop; the service could not tell which.",
            "Copy the token of the token-based user again into itop.token, and check that "
            "rest-token is listed in 'allowed_login_types' in iTop's configuration file "
            "(conf/production/config-itop.php).",
            key="itop.invalid_login",
        )

    async def _status(self) -> _StatusProbe:
        """GET status.php, to tell whether iTop itself answers at this URL, and why not."""
        url = _safe_url(self.status_url)
        try:
            response = await asyncio.wait_for(self.http.get(self.status_url), self.timeout)
        except (TimeoutError, httpx.TimeoutException):
            return _StatusProbe("timeout", f"no answer within {self.timeout:g} s")
        except httpx.HTTPError as exc:
            kind, reason = _connect_failure(exc)
            return _StatusProbe(kind, reason)
        body: Any
        try:
            body = response.json()
        except ValueError:
            body = None
        if isinstance(body, dict) and "status" in body:
            if response.status_code == 200 and body.get("status") == "RUNNING":
                return _StatusProbe("running", f"{url} answers RUNNING")
            message = str(body.get("message") or body.get("status") or "")
            return _StatusProbe(
                "broken", f"{url} answers HTTP {response.status_code}: {_excerpt(message)}"
            )
        return _StatusProbe(
            "absent",
            f"{url} answers HTTP {response.status_code} with {_describe_body(response.text)}",
        )

    def _unreachable(self, probe: _StatusProbe) -> CheckResult:
        fixes = {
            "refused": (
                "Nothing accepts connections at that address and port: check the host and port "
                "in itop.url, that iTop's web server is running, and that no firewall rejects "
                "this machine."
            ),
            "dns": (
                "The host name in itop.url cannot be resolved: check its spelling, and this "
                "machine's DNS (an internal name may need the company DNS or VPN)."
            ),
            "tls": (
                "iTop's https certificate is not trusted on this machine: install the "
                "certificate of its issuing authority here, or fix the certificate on the iTop "
                "server. Only for tests, itop.verify_tls = false turns the check off."
            ),
            "timeout": (
                "The connection attempt got no answer: a firewall probably drops the traffic "
                "between this machine and iTop, or the host is off. Check the address in "
                "itop.url and the network path."
            ),
        }
        fix = fixes.get(
            probe.kind,
            "Check itop.url (open it in a browser from this machine), that iTop's web server "
            "runs, and the network and firewalls between this machine and iTop.",
        )
        return CheckResult(
            "1",
            f"iTop cannot be reached at {_safe_url(str(self.settings.itop.url))}",
            "fail",
            f"No connection could be made: {probe.text}.",
            fix,
            key="itop.unreachable",
        )

    def _not_rest(
        self, exc: ItopHttpError | ItopNotRestEndpoint, probe: _StatusProbe
    ) -> CheckResult:
        status = exc.status_code if isinstance(exc, ItopHttpError) else 200
        if isinstance(exc, ItopHttpError):
            answer = f"HTTP {exc.status_code} instead of iTop's JSON"
        else:
            answer = f"{_describe_body(exc.body_excerpt)} instead of iTop's JSON"
        if probe.kind == "running":
            itop = (
                f"iTop itself answers ({probe.text}), so rest.php is blocked or replaced: a "
                "reverse proxy, a single sign-on layer or a web server rule probably intercepts "
                "webservices/rest.php."
            )
            fix = (
                "Let POST requests to webservices/rest.php through the web server and any proxy "
                "or single sign-on in front of iTop, and check iTop's error log."
            )
        elif probe.kind == "broken":
            itop = f"iTop is installed there but reports a problem ({probe.text})."
            fix = (
                "Repair iTop first (its error log says why; maybe an upgrade or setup is "
                "unfinished), then run check again."
            )
        elif status >= 500:
            itop = f"status.php fails too ({probe.text})."
            fix = (
                "The web server or PHP fails on the iTop server: look at their error logs (and "
                "iTop's log/error.log). If iTop is being upgraded, wait for the end."
            )
        elif status in (401, 403, 407):
            itop = f"Something in front of iTop refuses the request ({probe.text})."
            fix = (
                "Let this machine reach webservices/rest.php without an extra login: adjust the "
                "proxy, firewall or web server authentication in front of iTop."
            )
        else:
            itop = f"No iTop answers at this address either ({probe.text})."
            fix = (
                "Set itop.url to iTop's application root, the address of the login page "
                "without pages/UI.php: e.g. https://itop.example.com/ or "
                "https://www.example.com/itop/."
            )
        return CheckResult(
            "1",
            f"{self.rest_url} is not iTop's REST API",
            "fail",
            f"It answered {answer}. {itop}",
            fix,
            key="itop.not_rest",
        )

    async def _check_administrator(self) -> None:
        try:
            await self._call(self.client.get("User", "SELECT User WHERE id = 0", "id"))
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
                    _itop_error_text(exc),
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

    async def _check_ticket_class(self) -> bool:
        cls = self.ticket_class
        if not _is_code(cls):
            self.out.append(
                CheckResult(
                    "6",
                    f"The ticket class {cls!r} is not a class name (ticket.class)",
                    "fail",
                    "Class names have only letters, digits and underscores.",
                    "Set ticket.class to an iTop class such as UserRequest.",
                    key="itop.unknown_class",
                )
            )
            return False
        try:
            await self._call(self.client.get(cls, f"SELECT {cls} WHERE id = 0", "id"))
        except ItopAuthError as exc:
            self.out.append(
                CheckResult(
                    "6",
                    f"The token user cannot read {cls} tickets",
                    "fail",
                    f"iTop answers: “{readable(exc.message)}”.",
                    f"Give the token-based user a profile that can read and write {cls} "
                    "(Administrator does).",
                    key="itop.class_denied",
                )
            )
            return False
        except ItopApiError as exc:
            if exc.code == CODE_INTERNAL_ERROR:
                self.out.append(
                    CheckResult(
                        "6",
                        f"The ticket class {cls} does not exist in iTop (ticket.class)",
                        "fail",
                        f"iTop answers: “{readable(exc.message)}”.",
                        "Set ticket.class to the class of the tickets to create, as named in "
                        "iTop's data model (Configuration › Data model), e.g. UserRequest.",
                        key="itop.unknown_class",
                    )
                )
            else:
                self.out.append(self._probe_failed(exc))
            return False
        except ItopError as exc:
            self.out.append(self._probe_failed(exc))
            return False
        self.out.append(
            CheckResult("6", f"The ticket class {cls} exists", "ok", key="itop.class_ok")
        )
        return True

    def _probe_failed(self, exc: ItopError) -> CheckResult:
        return CheckResult(
            "6",
            f"Could not check the ticket class {self.ticket_class}",
            "warn",
            _itop_error_text(exc),
            "Run check again; if it persists, check iTop's error log.",
            key="itop.class_unknown_error",
        )

    async def _check_attributes(self) -> None:
        s = self.settings
        mapping = s.ticket.attributes_mapping
        groups: list[tuple[str, str, list[str]]] = [
            (
                "mapping",
                "ticket.attributes_mapping",
                [code for name, code in mapping.items() if name not in INTERCOM_FIELDS],
            ),
            ("form", "create_ticket.form_attributes", list(s.create_ticket.form_attributes)),
            ("subtitle", "search_ticket.subtitle_attribute", [s.search_ticket.subtitle_attribute]),
            ("details", "view_ticket.details_attributes", list(s.view_ticket.details_attributes)),
        ]
        intercom_codes = [mapping[name] for name in INTERCOM_FIELDS]
        required = _unique(code for _, _, codes in groups for code in codes)
        found_required, found_intercom = await asyncio.gather(
            self._existing(required), self._existing(intercom_codes)
        )
        if found_required is None or found_intercom is None:
            self.out.append(
                CheckResult(
                    "6",
                    f"Could not check the attributes of {self.ticket_class}",
                    "warn",
                    "iTop did not answer the attribute probes as expected.",
                    "Run check again; if it persists, check iTop's error log.",
                    key="itop.attributes_unknown_error",
                )
            )
            return
        cls = self.ticket_class
        for kind, setting, codes in groups:
            missing = [code for code in _unique(codes) if code not in found_required]
            if kind == "mapping":
                if missing:
                    wrong = ", ".join(
                        f"{name} → {code}"
                        for name, code in mapping.items()
                        if code in missing and name not in INTERCOM_FIELDS
                    )
                    self.out.append(
                        CheckResult(
                            "6",
                            f"{cls} has no attribute {_names(missing)} (ticket.attributes_mapping)",
                            "fail",
                            f"The mapping says {wrong}, but iTop's {cls} has no such attribute, "
                            "so iTop would refuse every ticket the service reads or writes.",
                            "In ticket.attributes_mapping, give each logical name the code of an "
                            f"existing attribute of {cls} (see Configuration › Data model in "
                            "iTop), or remove the entry to use the default.",
                            key="itop.mapping_missing",
                        )
                    )
                else:
                    self.out.append(
                        CheckResult(
                            "6",
                            f"The mapped attributes exist on {cls} ({_names(codes)})",
                            "ok",
                            key="itop.mapping_ok",
                        )
                    )
            elif missing:
                self.out.append(
                    CheckResult(
                        "6",
                        f"{cls} has no attribute {_names(missing)} ({setting})",
                        "fail",
                        f"{setting} names attributes that iTop's {cls} does not have; the "
                        "Inbox screens that show them would fail.",
                        f"Remove {_names(missing)} from {setting} or replace them with existing "
                        f"attribute codes of {cls} (see Configuration › Data model in iTop).",
                        key=f"itop.{kind}_attributes_missing",
                    )
                )
            else:
                self.out.append(
                    CheckResult(
                        "6",
                        f"The attributes of {setting} exist on {cls}",
                        "ok",
                        key=f"itop.{kind}_attributes_ok",
                    )
                )
        present = [code for code in intercom_codes if code in found_intercom]
        if len(present) == len(intercom_codes):
            self.out.append(
                CheckResult(
                    "6",
                    "Links kept in iTop (extension datamodel installed)",
                    "ok",
                    f"{cls} has {_names(intercom_codes)}: conversation links and sync flags are "
                    "stored on the tickets, as with the PHP extension.",
                    key="itop.link_store_itop",
                )
            )
        elif not present:
            self.out.append(
                CheckResult(
                    "6",
                    "Links kept in the service database",
                    "ok",
                    f"{cls} has no {_names(intercom_codes)} attributes (the PHP extension's "
                    "datamodel is not installed). That is fine: conversation links and sync "
                    "flags are kept in the service's own database.",
                    key="itop.link_store_local",
                )
            )
        else:
            missing = [code for code in intercom_codes if code not in found_intercom]
            self.out.append(
                CheckResult(
                    "6",
                    "Links kept in the service database (the extension's fields are incomplete)",
                    "warn",
                    f"{cls} has {_names(present)} but not {_names(missing)}, so the links "
                    "cannot be kept in iTop and the service keeps them in its own database.",
                    "Either install the extension's datamodel completely, or correct the "
                    "intercom_* entries of ticket.attributes_mapping.",
                    key="itop.link_store_partial",
                )
            )

    async def _existing(self, codes: list[str]) -> set[str] | None:
        """Which of `codes` are attributes of the ticket class (None when iTop misbehaves).

        iTop checks `output_fields` even when nothing matches, and names only the first bad
        code (transcript 046), so the whole list is tried once and, when refused, each code
        alone.
        """
        valid = [code for code in codes if _is_code(code)]
        if not valid:
            return set()
        if len(valid) == len(codes):
            outcome = await self._probe(valid)
            if outcome is None:
                return None
            if outcome:
                return set(valid)
            if len(valid) == 1:
                return set()
        semaphore = asyncio.Semaphore(_PROBE_CONCURRENCY)

        async def one(code: str) -> bool | None:
            async with semaphore:
                return await self._probe([code])

        outcomes = await asyncio.gather(*(one(code) for code in valid))
        if any(o is None for o in outcomes):
            return None
        return {code for code, ok in zip(valid, outcomes, strict=True) if ok}

    async def _probe(self, codes: list[str]) -> bool | None:
        cls = self.ticket_class
        try:
            await self._call(
                self.client.get(cls, f"SELECT {cls} WHERE id = 0", ",".join(["id", *codes]))
            )
        except ItopApiError as exc:
            return False if exc.code == CODE_INTERNAL_ERROR else None
        except ItopError:
            return None
        return True


# -- Intercom -----------------------------------------------------------------------------------


class _IntercomChecks:
    def __init__(
        self,
        settings: Settings,
        transport: httpx.AsyncBaseTransport | None,
        out: list[CheckResult],
    ) -> None:
        self.settings = settings
        self.transport = transport
        self.out = out
        self.timeout = settings.intercom.timeout_seconds
        self._me: dict[tuple[str, Region], asyncio.Task[dict[str, Any] | IntercomError]] = {}

    async def run(self) -> None:
        s = self.settings
        workspace_ids = sorted(s.workspaces)
        if not workspace_ids:
            await self._guess_workspace()
            return
        # One /me per distinct (token, region): workspaces sharing the global token share it.
        checks = []
        for workspace_id in workspace_ids:
            ws = s.workspace(workspace_id)
            if ws is None:  # pragma: no cover
                continue
            token = _secret_value(ws.access_token)
            if token is None:
                self.out.append(
                    CheckResult(
                        "2",
                        f"Workspace {workspace_id}: the Intercom app cannot be checked without "
                        "an access token",
                        "skip",
                        key="intercom.app_skipped",
                    )
                )
                continue
            fallback = _secret_value(s.workspaces[workspace_id].access_token) is None
            checks.append(self._workspace(workspace_id, token, ws.region, fallback))
        results = await asyncio.gather(*checks)
        for batch in results:
            self.out.extend(batch)

    def _me_task(self, token: str, region: Region) -> asyncio.Task[dict[str, Any] | IntercomError]:
        key = (token, region)
        if key not in self._me:
            self._me[key] = asyncio.ensure_future(self._fetch_me(token, region))
        return self._me[key]

    async def _fetch_me(self, token: str, region: Region) -> dict[str, Any] | IntercomError:
        api_base = self.settings.intercom.api_base
        async with IntercomClient(
            token,
            region=region,
            api_base=str(api_base) if api_base is not None else None,
            api_version=self.settings.intercom.api_version,
            timeout=self.timeout,
            transport=self.transport,
        ) as client:
            try:
                return await asyncio.wait_for(client.me(), self.timeout)
            except TimeoutError:
                return IntercomUnavailable(
                    f"Intercom did not answer in {self.timeout:g} s", maybe_applied=False
                )
            except IntercomError as exc:
                return exc

    async def _workspace(
        self, workspace_id: str, token: str, region: Region, fallback: bool
    ) -> list[CheckResult]:
        which = (
            "the global access token (intercom.access_token)" if fallback else "its access token"
        )
        setting = "intercom.access_token" if fallback else f"workspaces.{workspace_id}.access_token"
        me = await self._me_task(token, region)
        if isinstance(me, IntercomError):
            return [
                self._token_failure(workspace_id, which, setting, region, me),
                CheckResult(
                    "2",
                    f"Workspace {workspace_id}: the Intercom app cannot be checked (see step 4)",
                    "skip",
                    key="intercom.app_skipped",
                ),
                CheckResult(
                    "6",
                    f"Workspace {workspace_id}: cannot check that the access token belongs to "
                    "this workspace (see step 4)",
                    "skip",
                    key="intercom.workspace_skipped",
                ),
            ]
        app = _app(me)
        id_code = str(app.get("id_code") or "")
        name = str(app.get("name") or "")
        out = [
            CheckResult(
                "4",
                f"Workspace {workspace_id}: Intercom accepts {which}",
                "ok",
                key="intercom.token_ok",
            ),
            CheckResult(
                "2",
                f"Workspace {workspace_id}: the access token belongs to the Intercom workspace "
                f"{name!r} ({id_code or 'id not given'})",
                "ok",
                key="intercom.app_ok",
            ),
        ]
        if not id_code:
            out.append(
                CheckResult(
                    "6",
                    f"Workspace {workspace_id}: Intercom did not say which workspace the access "
                    "token belongs to",
                    "warn",
                    "The answer of GET /me has no app.id_code.",
                    key="intercom.workspace_unknown",
                )
            )
        elif id_code.lower() == workspace_id.lower():
            out.append(
                CheckResult(
                    "6",
                    f"Workspace {workspace_id} matches the workspace of its access token",
                    "ok",
                    key="intercom.workspace_ok",
                )
            )
        else:
            configured = any(w.lower() == id_code.lower() for w in self.settings.workspaces)
            if configured:
                detail = (
                    f"Workspace {id_code} is also in the settings: each workspace needs the "
                    "access token of its own Intercom app, or the service would read and "
                    "write the conversations of the wrong workspace."
                )
                fix = (
                    f"Put the access token of workspace {workspace_id}'s app in "
                    f"workspaces.{workspace_id}.access_token."
                )
            else:
                detail = (
                    f"Workspace {id_code} is not in the settings, so the service would refuse "
                    "its requests, and could not use this token for workspace "
                    f"{workspace_id}."
                )
                fix = (
                    f"If {id_code} is your workspace (the part after /a/apps/ in the address "
                    f"of your Inbox), rename [workspaces.{workspace_id}] to "
                    f"[workspaces.{id_code}]. Otherwise put the access token of workspace "
                    f"{workspace_id} in {setting}."
                )
            out.append(
                CheckResult(
                    "6",
                    f"Workspace {workspace_id} does not match its access token, which belongs "
                    f"to workspace {id_code}",
                    "fail",
                    detail,
                    fix,
                    key="intercom.workspace_mismatch",
                )
            )
        return out

    def _token_failure(
        self, workspace_id: str, which: str, setting: str, region: str, exc: IntercomError
    ) -> CheckResult:
        if isinstance(exc, IntercomAuthError):
            return CheckResult(
                "4",
                f"Workspace {workspace_id}: Intercom refuses {which}",
                "fail",
                f"GET /me answered HTTP {exc.status_code or 401}"
                + (f" ({exc.message})" if exc.message else "")
                + ": the token is wrong, revoked, or from another region.",
                "In the Intercom Developer Hub, open the app › Configure › Authentication, copy "
                f"the access token again into {setting}, and check that the region ({region}) "
                "is where the workspace is hosted.",
                key="intercom.token_refused",
            )
        if isinstance(exc, IntercomForbidden):
            return CheckResult(
                "4",
                f"Workspace {workspace_id}: Intercom forbids {which} to read the workspace",
                "fail",
                f"GET /me answered HTTP 403 ({exc.message}).",
                "In the Developer Hub, give the app the permissions read conversations and "
                "write conversations, and check the workspace's plan includes API access.",
                key="intercom.token_forbidden",
            )
        if isinstance(exc, IntercomUnavailable):
            return CheckResult(
                "4",
                f"Workspace {workspace_id}: Intercom's API cannot be reached",
                "fail",
                f"{exc.message}.",
                "Check that this machine can reach Intercom's API over https (proxy, firewall, "
                "DNS), then run check again.",
                key="intercom.unreachable",
            )
        return CheckResult(
            "4",
            f"Workspace {workspace_id}: Intercom answered an error to GET /me",
            "fail",
            exc.message,
            "Run check again; if it persists, contact Intercom support with the request id "
            "from the service's log.",
            key="intercom.error",
        )

    async def _guess_workspace(self) -> None:
        """No workspace configured: with a global token, say which workspace it belongs to."""
        token = _secret_value(self.settings.intercom.access_token)
        if token is None:
            self.out.append(
                CheckResult(
                    "4",
                    "No Intercom access token to check (no workspace, no intercom.access_token)",
                    "skip",
                    key="intercom.token_skipped",
                )
            )
            return
        me = await self._me_task(token, self.settings.intercom.region)
        if isinstance(me, IntercomError):
            self.out.append(
                self._token_failure(
                    "(global)",
                    "the global access token (intercom.access_token)",
                    "intercom.access_token",
                    self.settings.intercom.region,
                    me,
                )
            )
            return
        app = _app(me)
        id_code = str(app.get("id_code") or "")
        self.out.append(
            CheckResult(
                "4",
                "Intercom accepts the global access token (intercom.access_token)",
                "ok",
                key="intercom.token_ok",
            )
        )
        if id_code:
            self.out.append(
                CheckResult(
                    "6",
                    f"The access token belongs to workspace {id_code}, which is not configured",
                    "fail",
                    "No workspace is configured, so the service would refuse every request.",
                    f"Add a [workspaces.{id_code}] section to the settings.",
                    key="intercom.workspace_suggested",
                )
            )


def _app(me: dict[str, Any]) -> dict[str, Any]:
    app = me.get("app")
    return app if isinstance(app, dict) else {}


def _intercom_skipped() -> list[CheckResult]:
    return [
        CheckResult(step, f"{title}: not checked (--itop-only)", "skip", key="intercom.skipped")
        for step, title in (
            ("2", "Intercom app"),
            ("3", "Client secret"),
            ("4", "Intercom access token"),
            ("5", "Canvas Kit and webhook URLs"),
            ("6", "Workspaces"),
        )
    ]


# -- deadlines ----------------------------------------------------------------------------------


def _itop_budget(settings: Settings) -> float:
    # At most four rounds of calls one after another (login, rights and class, attributes,
    # attribute one by one), each bounded by the timeout.
    return settings.itop.timeout_seconds * 4 + 1.0


def _intercom_budget(settings: Settings) -> float:
    # One round of /me calls, plus the client's retries of a failed connection.
    return settings.intercom.timeout_seconds * 2 + 1.0


def _itop_overrun(seconds: float) -> CheckResult:
    return CheckResult(
        "1",
        f"The iTop checks did not finish within {seconds:g} s",
        "fail",
        "iTop answers too slowly for the remaining checks to run.",
        "Check iTop's load and the network, or raise itop.timeout_seconds.",
        key="itop.overrun",
    )


def _intercom_overrun(seconds: float) -> CheckResult:
    return CheckResult(
        "4",
        f"The Intercom checks did not finish within {seconds:g} s",
        "fail",
        "Intercom's API answers too slowly.",
        "Check the network between this machine and Intercom, or raise intercom.timeout_seconds.",
        key="intercom.overrun",
    )


async def _bounded_group(
    group: Awaitable[None],
    out: list[CheckResult],
    seconds: float,
    overrun: Callable[[float], CheckResult],
) -> None:
    try:
        await asyncio.wait_for(group, seconds)
    except TimeoutError:
        out.append(overrun(seconds))


# -- helpers ------------------------------------------------------------------------------------


def _secret_value(secret: SecretStr | None) -> str | None:
    if secret is None:
        return None
    value = secret.get_secret_value().strip()
    return value or None


def _secrets(settings: Settings) -> list[str]:
    values: list[SecretStr | None] = [
        settings.itop.token,
        settings.intercom.client_secret,
        settings.intercom.access_token,
    ]
    for ws in settings.workspaces.values():
        values.extend([ws.client_secret, ws.access_token])
    found = {v for v in (_secret_value(s) for s in values) if v is not None}
    # Longest first, so that a secret containing another is removed whole.
    return sorted(found, key=len, reverse=True)


def _scrub(result: CheckResult, secrets: Sequence[str]) -> CheckResult:
    def clean(text: str) -> str:
        for secret in secrets:
            # Shorter values would also hit ordinary words; no real token or secret is so short.
            if len(secret) >= 8:
                text = text.replace(secret, "[secret]")
        return text

    return replace(
        result, title=clean(result.title), detail=clean(result.detail), fix=clean(result.fix)
    )


def _safe_url(url: str) -> str:
    """The URL without user info, query or fragment."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


def _connect_failure(
    exc: httpx.HTTPError,
) -> tuple[Literal["refused", "dns", "tls", "timeout", "other"], str]:
    """Why a connection failed, from the most specific exception in the chain.

    httpx only says "All connection attempts failed" for a refused connection; the OSError
    under it knows better.
    """
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ssl.SSLError):
            return "tls", f"the https connection failed ({_excerpt(str(current))})"
        if isinstance(current, ConnectionRefusedError):
            return "refused", "the connection was refused"
        if isinstance(current, socket.gaierror):
            return "dns", f"the host name cannot be resolved ({_excerpt(str(current))})"
        if isinstance(current, (TimeoutError, httpx.TimeoutException)):
            return "timeout", "the connection attempt timed out"
        current = current.__cause__ or current.__context__
    text = str(exc).strip() or type(exc).__name__
    lowered = text.lower()
    if "certificate" in lowered or "ssl" in lowered:
        return "tls", f"the https connection failed ({_excerpt(text)})"
    if "refused" in lowered:
        return "refused", "the connection was refused"
    if "name or service" in lowered or "nodename" in lowered or "getaddrinfo" in lowered:
        return "dns", f"the host name cannot be resolved ({_excerpt(text)})"
    return "other", _excerpt(text)


def _describe_body(text: str) -> str:
    """A short description of an answer that is not JSON: a page title or an excerpt."""
    stripped = text.strip()
    if not stripped:
        return "an empty body"
    if stripped.startswith("<"):
        match = _TITLE.search(stripped)
        if match and match.group(1).strip():
            return f"a web page titled “{_excerpt(html.unescape(match.group(1)), 80)}”"
        return "a web page"
    return f"the text “{_excerpt(stripped, 80)}”"


def _itop_error_text(exc: ItopError) -> str:
    if isinstance(exc, ItopApiError):
        return f"iTop answers with code {exc.code}: “{readable(exc.message)}”."
    return exc.message


def _excerpt(text: str, limit: int = 120) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _is_code(name: str) -> bool:
    return bool(name) and not name[0].isdigit() and all(c.isalnum() or c == "_" for c in name)


def _unique(codes: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(codes))


def _names(codes: Iterable[str]) -> str:
    return ", ".join(codes)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" + ("" if count == 1 else "s")


def _step_order(step: str) -> tuple[int, str]:
    return (int(step), step) if step.isdigit() else (1_000, step)


def _wrap(text: str, width: int, first: str, rest: str) -> list[str]:
    return textwrap.wrap(
        text,
        width=width,
        initial_indent=first,
        subsequent_indent=rest,
        break_long_words=False,
        break_on_hyphens=False,
    ) or [first.rstrip()]
