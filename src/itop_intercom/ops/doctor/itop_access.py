"""Step 1, iTop reachability and token: the network, the REST endpoint, the token and the
`rest-token` login mode, with an explanation of each way it can fail."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from itop_intercom.itop.errors import (
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
from itop_intercom.ops.doctor.itop_context import ItopContext, StatusProbe
from itop_intercom.ops.doctor.result import CheckResult
from itop_intercom.ops.doctor.texts import (
    FORCED_WITHOUT_TOKEN,
    connect_failure,
    describe_body,
    excerpt,
    safe_url,
)


class AccessChecks(ItopContext):
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

        iTop answers both with the same code 1 "Invalid login" (a wrong token, a disabled token
        user, and a valid token while `rest-token` is not an allowed login mode), so
        a second request is needed: `login_mode=rest-token` forced in the query, with no token.
        When `rest-token` is in `allowed_login_types`, iTop uses only that mode, and the token
        login plugin of authent-token stops with the plain-text body "login_mode 'rest-token'
        forced without any token passed". When it is not allowed, iTop ignores
        the forced mode, tries the allowed ones, finds no credentials and answers the JSON code 1
        "Invalid login".

        The second case is INFERRED from iTop's login code (LoginWebPage drops a `login_mode`
        that is not in `allowed_login_types`), not observed: what is observed is only that a
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
            if FORCED_WITHOUT_TOKEN in exc.body_excerpt:
                return CheckResult(
                    "1",
                    "iTop refuses the token: the token itself is wrong",
                    "fail",
                    "iTop answers “Invalid login”. Token logins (rest-token) are enabled in "
                    "iTop, so the token is not one this iTop knows: mistyped, truncated, "
                    "regenerated since, or copied from another iTop (a test instance, say).",
                    "In iTop, open the token-based user (Administration › User accounts), copy "
                    "its token again (or generate a new one) and put it in itop.token. Check "
                    f"that itop.url ({safe_url(str(self.settings.itop.url))}) is the iTop that "
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

    async def _status(self) -> StatusProbe:
        """GET status.php, to tell whether iTop itself answers at this URL, and why not."""
        url = safe_url(self.status_url)
        try:
            response = await asyncio.wait_for(self.http.get(self.status_url), self.timeout)
        except (TimeoutError, httpx.TimeoutException):
            return StatusProbe("timeout", f"no answer within {self.timeout:g} s")
        except httpx.HTTPError as exc:
            kind, reason = connect_failure(exc)
            return StatusProbe(kind, reason)
        body: Any
        try:
            body = response.json()
        except ValueError:
            body = None
        if isinstance(body, dict) and "status" in body:
            if response.status_code == 200 and body.get("status") == "RUNNING":
                return StatusProbe("running", f"{url} answers RUNNING")
            message = str(body.get("message") or body.get("status") or "")
            return StatusProbe(
                "broken", f"{url} answers HTTP {response.status_code}: {excerpt(message)}"
            )
        return StatusProbe(
            "absent",
            f"{url} answers HTTP {response.status_code} with {describe_body(response.text)}",
        )

    def _unreachable(self, probe: StatusProbe) -> CheckResult:
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
            f"iTop cannot be reached at {safe_url(str(self.settings.itop.url))}",
            "fail",
            f"No connection could be made: {probe.text}.",
            fix,
            key="itop.unreachable",
        )

    def _not_rest(
        self, exc: ItopHttpError | ItopNotRestEndpoint, probe: StatusProbe
    ) -> CheckResult:
        status = exc.status_code if isinstance(exc, ItopHttpError) else 200
        if isinstance(exc, ItopHttpError):
            answer = f"HTTP {exc.status_code} instead of iTop's JSON"
        else:
            answer = f"{describe_body(exc.body_excerpt)} instead of iTop's JSON"
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
