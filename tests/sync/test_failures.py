"""Failure classification and backoff."""

from __future__ import annotations

import pytest

from itop_intercom.intercom.errors import IntercomError, IntercomRateLimited
from itop_intercom.itop.errors import (
    ItopApiError,
    ItopAuthError,
    ItopHttpError,
    ItopNotRestEndpoint,
    ItopTimeout,
    ItopUnreachable,
)
from itop_intercom.runtime import NotConfigured
from itop_intercom.sync.failures import Failure, backoff, classify


@pytest.mark.parametrize(
    ("exc", "transient", "outage"),
    [
        (ItopUnreachable("refused"), True, True),
        (ItopTimeout("slow"), True, True),
        (ItopHttpError("503", status_code=503), True, True),
        (ItopHttpError("404", status_code=404), True, False),
        (ItopNotRestEndpoint("html", body_excerpt="<html>"), True, True),
        (ItopAuthError(1, "Error: Invalid login"), True, False),
        (ItopApiError(100, "Error: public_log: Unknown attribute"), False, False),
        (IntercomRateLimited("429", retry_after=3), True, False),
        (IntercomError("400"), False, False),
        (NotConfigured("itop.url"), True, False),
        (RuntimeError("bug"), True, False),
    ],
)
def test_classify(exc: Exception, transient: bool, outage: bool) -> None:
    failure = classify(exc)
    assert (failure.transient, failure.outage) == (transient, outage)
    assert failure.reason


def test_refusals_carry_itops_message_without_its_prefix() -> None:
    exc = ItopApiError(100, "Error: title: Null not allowed", operation="core/update")
    assert classify(exc) == Failure(False, "iTop refused core/update: title: Null not allowed")


def test_backoff_grows_is_capped_and_jittered() -> None:
    delays = [backoff(n, 2, 300) for n in range(1, 12)]
    assert all(1 <= d <= 450 for d in delays)
    assert 1 <= backoff(1, 2, 300) <= 3
    assert 8 <= backoff(4, 2, 300) <= 24
    assert 150 <= backoff(50, 2, 300) <= 450
    assert len({backoff(5, 2, 300) for _ in range(20)}) > 1


def test_database_errors_never_quote_their_parameters() -> None:
    from sqlalchemy.exc import IntegrityError

    exc = IntegrityError("INSERT ...", {"body": "secret message body"}, Exception("UNIQUE"))
    failure = classify(exc)
    assert failure.transient
    assert "secret" not in failure.reason
    assert failure.reason == "database error: IntegrityError (Exception)"
