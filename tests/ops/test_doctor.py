"""The `check` doctor against the iTop and Intercom fakes: one distinct result per setup mistake,
a clean run on a correct setup, and no secret in the output, ever."""

from __future__ import annotations

import io
import socket
import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from itop_intercom.ops import doctor
from itop_intercom.ops.doctor import CheckResult, explain, render, run_checks
from itop_intercom.ops.doctor import run as doctor_run
from itop_intercom.ops.doctor.texts import configured_secrets, scrub
from itop_intercom.settings.model import Settings
from tests.fakes.intercom import FakeIntercom
from tests.fakes.itop import ADMIN_TOKEN, AGENT_TOKEN, NO_REST_TOKEN, FakeItop

WORKSPACE = "wsdoc01"
OTHER_WORKSPACE = "wsdoc02"
# Secrets made of characters that never occur together in the report, so that any fragment of
# them in the output is a leak.
ITOP_TOKEN = "Qx7Lp3Vn8Kz2Tb5W"
INTERCOM_TOKEN = "Jm4Rw9Yc2Hd6Fs1Q"
OTHER_INTERCOM_TOKEN = "Zt8Gk3Pb7Nv2Lx5C"
CLIENT_SECRET = "Vb6Xq1Ws9Ke4Ty7U"
OTHER_CLIENT_SECRET = "Nc5Hj8Dm2Ra6Pq3Z"
WRONG_ITOP_TOKEN = "Wr0ngGv4Mk7Bq2Ys"
SECRETS = (
    ITOP_TOKEN,
    INTERCOM_TOKEN,
    OTHER_INTERCOM_TOKEN,
    CLIENT_SECRET,
    OTHER_CLIENT_SECRET,
    WRONG_ITOP_TOKEN,
)
#: The fake's own tokens ("admin-token"...) share words with the report: checked whole.
FAKE_TOKENS = (ADMIN_TOKEN, AGENT_TOKEN, NO_REST_TOKEN)

Run = Callable[..., Awaitable[list[CheckResult]]]


def assert_no_secret(text: str) -> None:
    for secret in SECRETS:
        # Not even a part of it: every 6-character window of each secret.
        for start in range(len(secret) - 5):
            fragment = secret[start : start + 6]
            assert fragment not in text, f"a fragment of a secret leaked: {fragment!r}"
    for token in FAKE_TOKENS:
        assert token not in text, f"a token leaked: {token!r}"


def make_settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "public_url": "https://bridge.support.test/",
        "itop": {"url": "http://itop.test/", "token": ITOP_TOKEN, "timeout_seconds": 2.0},
        "intercom": {"access_token": INTERCOM_TOKEN, "timeout_seconds": 2.0},
        "workspaces": {WORKSPACE: {"scope": "SELECT Person", "client_secret": CLIENT_SECRET}},
    }
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(values.get(key), dict) and key != "workspaces":
            values[key] = {**values[key], **value}
        else:
            values[key] = value
    return Settings(**values)


def with_app_token(fake: FakeItop, token: str = ITOP_TOKEN) -> FakeItop:
    """A token-based user like the guide's: Administrator + REST Services User."""
    fake.add_user(
        "doctor_app",
        0,
        ("Administrator", "REST Services User"),
        finalclass="UserToken",
        token=token,
    )
    return fake


@pytest.fixture
def itop() -> FakeItop:
    return with_app_token(FakeItop(instance="intercom"))


@pytest.fixture
def intercom() -> FakeIntercom:
    return FakeIntercom(valid_token=INTERCOM_TOKEN, workspace_id=WORKSPACE)


@pytest.fixture
def run(itop: FakeItop, intercom: FakeIntercom) -> Run:
    async def runner(settings: Settings | None = None, **kwargs: Any) -> list[CheckResult]:
        kwargs.setdefault("itop_transport", itop.transport())
        kwargs.setdefault("intercom_transport", intercom.transport())
        results = await run_checks(settings or make_settings(), **kwargs)
        # Whatever the scenario, the report never shows a secret.
        out = io.StringIO()
        render(results, out)
        assert_no_secret(out.getvalue())
        for result in results:
            assert_no_secret(repr(result))
        return results

    return runner


def keys(results: list[CheckResult]) -> dict[str, CheckResult]:
    return {r.key: r for r in results}


def only(results: list[CheckResult], key: str) -> CheckResult:
    found = [r for r in results if r.key == key]
    assert len(found) == 1, f"{key}: {[r.key for r in results]}"
    return found[0]


def failures(results: list[CheckResult]) -> list[str]:
    return [r.key for r in results if r.status == "fail"]


def report(results: list[CheckResult]) -> tuple[int, str]:
    out = io.StringIO()
    status = render(results, out)
    return status, out.getvalue()


# -- a correct setup ----------------------------------------------------------------------------


async def test_correct_setup_passes_with_exit_status_0(run: Run, itop: FakeItop) -> None:
    results = await run()
    assert [r for r in results if r.status != "ok"] == []
    status, text = report(results)
    assert status == 0
    assert "Step 1 · iTop token user\n" in text
    assert "  OK    iTop answers at http://itop.test/webservices/rest.php (REST 1.3)\n" in text
    assert "Links kept in iTop (extension datamodel installed)" in text
    assert "Everything checked is ready." in text
    # One line per step heading, in the order of the guide.
    headings = [line for line in text.splitlines() if line.startswith("Step ")]
    assert headings == [
        f"Step {n} · {doctor.STEPS[n]}" for n in ("1", "2", "3", "4", "5", "6", "7")
    ]
    # Nothing is written to iTop.
    assert {c["operation"] for c in itop.calls} <= {"list_operations", "core/get"}


async def test_vanilla_itop_keeps_links_in_the_service_database(intercom: FakeIntercom) -> None:
    itop = with_app_token(FakeItop(instance="vanilla"))
    results = await run_checks(
        make_settings(),
        itop_transport=itop.transport(),
        intercom_transport=intercom.transport(),
    )
    store = only(results, "itop.link_store_local")
    assert store.status == "ok"
    assert store.title == "Links kept in the service database"
    assert "itop.link_store_itop" not in keys(results)
    assert report(results)[0] == 0


async def test_the_report_is_aligned_text() -> None:
    result = CheckResult(
        "1",
        "iTop refuses the token",
        "fail",
        "iTop answers “Invalid login”.",
        "Copy the token again.",
        key="x",
    )
    assert explain(result) == (
        "  FAIL  iTop refuses the token\n"
        "        iTop answers “Invalid login”.\n"
        "        Fix: Copy the token again."
    )
    ok = CheckResult("1", "iTop answers", "ok", fix="never shown for OK")
    assert explain(ok) == "  OK    iTop answers"
    assert render([ok, CheckResult("5", "No URL", "warn")], io.StringIO()) == 0
    assert render([result], io.StringIO()) == 1
    assert result.blocking and not ok.blocking


# -- 1. settings incomplete ----------------------------------------------------------------------


async def test_missing_itop_url(run: Run) -> None:
    results = await run(make_settings(itop={"url": None}))
    assert only(results, "settings.itop_url_missing").status == "fail"
    assert only(results, "itop.settings_skipped").status == "skip"
    assert "itop.reachable" not in keys(results)


async def test_missing_itop_token_still_checks_that_itop_answers(run: Run) -> None:
    results = await run(make_settings(itop={"token": None}))
    missing = only(results, "settings.itop_token_missing")
    assert missing.status == "fail"
    assert missing.title == "The iTop token is not set (itop.token)"
    assert only(results, "itop.reachable").status == "ok"
    assert failures(results) == ["settings.itop_token_missing"]


async def test_no_workspace_configured(run: Run) -> None:
    results = await run(make_settings(workspaces={}))
    assert only(results, "settings.no_workspace").status == "fail"
    # The access token tells which workspace to add.
    suggestion = only(results, "intercom.workspace_suggested")
    assert f"[workspaces.{WORKSPACE}]" in suggestion.fix


async def test_workspace_without_client_secret(run: Run) -> None:
    results = await run(make_settings(workspaces={WORKSPACE: {"scope": "SELECT Person"}}))
    missing = only(results, "settings.client_secret_missing")
    assert missing.step == "3"
    assert missing.title == f"Workspace {WORKSPACE} has no client secret"
    assert f"workspaces.{WORKSPACE}.client_secret" in missing.fix


async def test_global_client_secret_is_a_fallback(run: Run) -> None:
    results = await run(
        make_settings(workspaces={WORKSPACE: {}}, intercom={"client_secret": OTHER_CLIENT_SECRET})
    )
    present = only(results, "settings.client_secret_present")
    assert "the global one" in present.title
    assert failures(results) == []


async def test_no_access_token(run: Run) -> None:
    results = await run(make_settings(intercom={"access_token": None}))
    assert only(results, "settings.access_token_missing").status == "fail"
    assert only(results, "intercom.app_skipped").status == "skip"


async def test_public_url_missing_or_not_https_is_a_warning(run: Run) -> None:
    missing = await run(make_settings(public_url=None))
    assert only(missing, "settings.public_url_missing").status == "warn"
    assert report(missing)[0] == 0
    plain = await run(make_settings(public_url="http://bridge.support.test/"))
    assert only(plain, "settings.public_url_not_https").status == "warn"
    assert failures(plain) == []


async def test_same_value_for_client_secret_and_access_token(run: Run) -> None:
    settings = make_settings(
        workspaces={WORKSPACE: {"client_secret": INTERCOM_TOKEN}},
    )
    results = await run(settings)
    assert only(results, "settings.secret_equals_token").status == "warn"


# -- 2. iTop unreachable --------------------------------------------------------------------------


async def test_closed_port_is_unreachable(run: Run) -> None:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    results = await run(
        make_settings(itop={"url": f"http://127.0.0.1:{port}/"}), itop_transport=None
    )
    unreachable = only(results, "itop.unreachable")
    assert unreachable.status == "fail"
    assert unreachable.title == f"iTop cannot be reached at http://127.0.0.1:{port}/"
    assert "refused" in unreachable.detail
    assert "port" in unreachable.fix
    assert failures(results) == ["itop.unreachable"]
    assert only(results, "itop.settings_skipped").status == "skip"


async def test_fake_down_is_unreachable(run: Run, itop: FakeItop) -> None:
    itop.down = True
    results = await run()
    assert failures(results) == ["itop.unreachable"]


async def test_slow_itop_times_out_within_the_configured_timeout(run: Run, itop: FakeItop) -> None:
    itop.latency = 5.0
    started = time.monotonic()
    results = await run(make_settings(itop={"timeout_seconds": 0.3}))
    assert time.monotonic() - started < 3.0
    timeout = only(results, "itop.timeout")
    assert (
        timeout.title == "iTop did not answer within 0.3 s at http://itop.test/webservices/rest.php"
    )
    assert "itop.unreachable" not in keys(results)


async def test_the_itop_group_has_an_overall_deadline(
    run: Run, itop: FakeItop, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(doctor_run, "itop_budget", lambda settings: 0.2)
    itop.latency = 0.5
    results = await run()
    assert only(results, "itop.overrun").status == "fail"


# -- 3. not an iTop REST endpoint ----------------------------------------------------------------


async def test_html_page_where_no_itop_answers(run: Run, itop: FakeItop) -> None:
    itop.not_rest = True
    results = await run()
    not_rest = only(results, "itop.not_rest")
    assert not_rest.title == "http://itop.test/webservices/rest.php is not iTop's REST API"
    assert "web page titled “iTop login”" in not_rest.detail
    assert "No iTop answers at this address either" in not_rest.detail
    assert "application root" in not_rest.fix
    assert failures(results) == ["itop.not_rest"]


async def test_rest_php_intercepted_while_itop_itself_answers(run: Run, itop: FakeItop) -> None:
    itop.fail_next = ["not_rest"]  # rest.php only; status.php still answers RUNNING
    results = await run()
    not_rest = only(results, "itop.not_rest")
    assert "iTop itself answers" in not_rest.detail
    assert "status.php answers RUNNING" in not_rest.detail
    assert "webservices/rest.php" in not_rest.fix


async def test_http_error_at_rest_php(run: Run, itop: FakeItop) -> None:
    itop.http_status = 500
    results = await run()
    not_rest = only(results, "itop.not_rest")
    assert "HTTP 500" in not_rest.detail
    assert "status.php fails too" in not_rest.detail
    assert "error logs" in not_rest.fix


async def test_http_404_means_a_wrong_url(run: Run, itop: FakeItop) -> None:
    itop.http_status = 404
    results = await run()
    not_rest = only(results, "itop.not_rest")
    assert "HTTP 404" in not_rest.detail
    assert "application root" in not_rest.fix


# -- 4./5. token refused vs rest-token not allowed -----------------------------------------------


async def test_wrong_token_with_rest_token_allowed(run: Run, itop: FakeItop) -> None:
    results = await run(make_settings(itop={"token": WRONG_ITOP_TOKEN}))
    refused = only(results, "itop.token_refused")
    assert refused.title == "iTop refuses the token: the token itself is wrong"
    assert "copy its token again" in refused.fix
    assert "allowed_login_types" not in refused.fix
    assert failures(results) == ["itop.token_refused"]
    assert only(results, "itop.reachable").status == "ok"
    # The probe was sent without any token, with login_mode forced in the query.
    assert [c["operation"] for c in itop.calls] == ["list_operations", "list_operations"]


async def test_rest_token_not_in_allowed_login_types(run: Run, itop: FakeItop) -> None:
    itop.rest_token_allowed = False
    results = await run()
    refused = only(results, "itop.rest_token_not_allowed")
    assert "allowed_login_types" in refused.title
    assert "rest-token" in refused.fix and "config-itop.php" in refused.fix
    assert "itop.token_refused" not in keys(results)
    assert failures(results) == ["itop.rest_token_not_allowed"]


async def test_invalid_login_that_the_probe_cannot_explain(run: Run, itop: FakeItop) -> None:
    # The token is refused, and the probe gets an unexpected answer.
    itop.fail_next = ["invalid_login", {"code": 100, "message": "Error: boom"}]
    results = await run()
    unclear = only(results, "itop.invalid_login")
    assert "rest-token" in unclear.fix and "itop.token" in unclear.fix


# -- 6. no REST profile ----------------------------------------------------------------------------


async def test_token_user_without_rest_profile(run: Run) -> None:
    results = await run(make_settings(itop={"token": NO_REST_TOKEN}))
    no_rest = only(results, "itop.no_rest_profile")
    assert no_rest.title == "The token user lacks the REST Services User profile"
    assert "REST Services User" in no_rest.fix
    assert failures(results) == ["itop.no_rest_profile"]


# -- 7. not an Administrator -----------------------------------------------------------------------


async def test_token_user_not_administrator_is_blocking(run: Run) -> None:
    results = await run(make_settings(itop={"token": AGENT_TOKEN}))
    not_admin = only(results, "itop.not_admin")
    assert not_admin.status == "fail" and not_admin.blocking
    assert not_admin.title == "The token user is not an Administrator (blocking)"
    assert "on behalf of other people (user_id)" in not_admin.detail
    assert "Administrator profile" in not_admin.fix
    # The ticket checks still run: a non-admin can read tickets.
    assert only(results, "itop.class_ok").status == "ok"
    # Nor may it read the change history, so nothing written in iTop would reach Intercom.
    assert failures(results) == ["itop.not_admin", "backsync.history_denied"]
    assert report(results)[0] == 1


# -- 8. ticket class -------------------------------------------------------------------------------


async def test_unknown_ticket_class(run: Run) -> None:
    results = await run(make_settings(ticket={"class": "UserRequestX"}))
    unknown = only(results, "itop.unknown_class")
    assert unknown.title == "The ticket class UserRequestX does not exist in iTop (ticket.class)"
    assert "UserRequestX" in unknown.detail
    assert failures(results) == ["itop.unknown_class"]
    assert "itop.mapping_ok" not in keys(results)


async def test_ticket_class_that_is_not_a_name(run: Run, itop: FakeItop) -> None:
    results = await run(make_settings(ticket={"class": "UserRequest WHERE 1"}))
    assert only(results, "itop.unknown_class").status == "fail"
    assert all("UserRequest WHERE" not in str(c["json_data"]) for c in itop.calls)


# -- 9. attributes ---------------------------------------------------------------------------------


async def test_bogus_mapped_attributes_are_named(run: Run) -> None:
    settings = make_settings(
        ticket={"attributes_mapping": {"status": "statuz", "public_log": "public_logg"}}
    )
    results = await run(settings)
    missing = only(results, "itop.mapping_missing")
    assert missing.title == (
        "UserRequest has no attribute statuz, public_logg (ticket.attributes_mapping)"
    )
    assert "status → statuz" in missing.detail and "public_log → public_logg" in missing.detail
    assert "caller_id" not in missing.title
    assert failures(results) == ["itop.mapping_missing"]
    # The other attribute settings are unaffected.
    assert only(results, "itop.form_attributes_ok").status == "ok"


async def test_bogus_form_subtitle_and_detail_attributes(run: Run) -> None:
    settings = make_settings(
        create_ticket={"form_attributes": ["title", "colour"]},
        search_ticket={"subtitle_attribute": "subtitel"},
        view_ticket={"details_attributes": ["status", "size", "weight"]},
    )
    results = await run(settings)
    assert only(results, "itop.form_attributes_missing").title == (
        "UserRequest has no attribute colour (create_ticket.form_attributes)"
    )
    assert only(results, "itop.subtitle_attributes_missing").title == (
        "UserRequest has no attribute subtitel (search_ticket.subtitle_attribute)"
    )
    assert only(results, "itop.details_attributes_missing").title == (
        "UserRequest has no attribute size, weight (view_ticket.details_attributes)"
    )
    assert only(results, "itop.mapping_ok").status == "ok"
    assert sorted(failures(results)) == [
        "itop.details_attributes_missing",
        "itop.form_attributes_missing",
        "itop.subtitle_attributes_missing",
    ]


async def test_partial_extension_fields_are_a_warning(run: Run) -> None:
    settings = make_settings(ticket={"attributes_mapping": {"intercom_url": "intercom_link"}})
    results = await run(settings)
    partial = only(results, "itop.link_store_partial")
    assert partial.status == "warn"
    assert "intercom_link" in partial.detail
    assert failures(results) == []


# -- 10./11. Intercom ------------------------------------------------------------------------------


async def test_intercom_token_refused(run: Run) -> None:
    results = await run(make_settings(intercom={"access_token": OTHER_INTERCOM_TOKEN}))
    refused = only(results, "intercom.token_refused")
    assert refused.step == "4"
    assert refused.title == (
        f"Workspace {WORKSPACE}: Intercom refuses the global access token (intercom.access_token)"
    )
    assert "intercom.access_token" in refused.fix
    assert failures(results) == ["intercom.token_refused"]


async def test_per_workspace_token_refused_names_the_workspace_setting(run: Run) -> None:
    settings = make_settings(
        workspaces={
            WORKSPACE: {"client_secret": CLIENT_SECRET, "access_token": OTHER_INTERCOM_TOKEN}
        }
    )
    results = await run(settings)
    refused = only(results, "intercom.token_refused")
    assert "refuses its access token" in refused.title
    assert f"workspaces.{WORKSPACE}.access_token" in refused.fix


async def test_workspace_mismatch(run: Run, intercom: FakeIntercom) -> None:
    intercom.workspace_id = "wsreal99"
    results = await run()
    mismatch = only(results, "intercom.workspace_mismatch")
    assert mismatch.step == "6"
    assert mismatch.title == (
        f"Workspace {WORKSPACE} does not match its access token, which belongs to workspace "
        "wsreal99"
    )
    assert "[workspaces.wsreal99]" in mismatch.fix
    assert only(results, "intercom.token_ok").status == "ok"
    assert failures(results) == ["intercom.workspace_mismatch"]


async def test_shared_global_token_matches_only_one_workspace(
    run: Run, intercom: FakeIntercom
) -> None:
    settings = make_settings(
        workspaces={
            WORKSPACE: {"client_secret": CLIENT_SECRET},
            OTHER_WORKSPACE: {"client_secret": OTHER_CLIENT_SECRET},
        }
    )
    results = await run(settings)
    assert only(results, "intercom.workspace_ok").title.startswith(f"Workspace {WORKSPACE} ")
    mismatch = only(results, "intercom.workspace_mismatch")
    assert mismatch.title.startswith(f"Workspace {OTHER_WORKSPACE} ")
    assert "also in the settings" in mismatch.detail
    # /me is asked once for the shared token.
    assert sum(1 for call in intercom.calls if call.path == "/me") == 1


async def test_intercom_unreachable(run: Run, intercom: FakeIntercom) -> None:
    intercom.down = True
    results = await run()
    assert only(results, "intercom.unreachable").status == "fail"
    assert failures(results) == ["intercom.unreachable"]


async def test_itop_only_skips_intercom(run: Run, intercom: FakeIntercom) -> None:
    results = await run(
        make_settings(intercom={"access_token": OTHER_INTERCOM_TOKEN}), itop_only=True
    )
    assert intercom.calls == []
    skipped = [r for r in results if r.key == "intercom.skipped"]
    assert {r.step for r in skipped} == {"2", "3", "4", "5", "6"}
    assert all(r.status == "skip" for r in skipped)
    assert failures(results) == []
    status, text = report(results)
    assert status == 0
    assert "  SKIP  Intercom access token: not checked (--itop-only)" in text


# -- concurrency and secrets -----------------------------------------------------------------------


async def test_itop_and_intercom_are_checked_concurrently(
    run: Run, itop: FakeItop, intercom: FakeIntercom
) -> None:
    itop.latency = 0.2
    intercom.latency = 0.6
    started = time.monotonic()
    results = await run()
    elapsed = time.monotonic() - started
    assert failures(results) == []
    # iTop: 4 rounds of 0.2 s; Intercom: 1 call of 0.6 s; one after the other would be 1.4 s.
    assert elapsed < 1.3


async def test_no_secret_in_any_output(run: Run, itop: FakeItop) -> None:
    # A scenario that prints as much as possible: every kind of failure at once.
    itop.rest_token_allowed = False
    settings = make_settings(
        public_url=None,
        intercom={"access_token": OTHER_INTERCOM_TOKEN, "client_secret": CLIENT_SECRET},
        workspaces={
            WORKSPACE: {"access_token": INTERCOM_TOKEN},
            OTHER_WORKSPACE: {"client_secret": OTHER_CLIENT_SECRET},
        },
    )
    results = await run(settings)
    status, text = report(results)
    assert status == 1
    assert_no_secret(text)


def test_scrub_removes_a_secret_that_an_error_text_would_echo() -> None:
    settings = make_settings()
    result = CheckResult("1", f"echo {ITOP_TOKEN}", "fail", f"x{CLIENT_SECRET}y", INTERCOM_TOKEN)
    cleaned = scrub(result, configured_secrets(settings))
    assert_no_secret(repr(cleaned))
    assert cleaned.title == "echo [secret]"
