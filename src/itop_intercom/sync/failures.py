"""What a failure means for the queue: retry later, give up now, and is iTop down?

- `transient`: try again with backoff until the maximum age. iTop unreachable, timeouts, HTTP
  5xx, a non-JSON answer (maintenance page, PHP fatal), Intercom outages and rate limits, and
  also *setup* problems an administrator fixes without touching the queue (token refused, the
  token user lacks Administrator, settings missing): giving up on those would lose messages for
  a configuration mistake; retrying lets the queue resume as soon as it is fixed.
- permanent: iTop understood and refused (code 100: ticket deleted, attribute missing, value
  refused) or the data itself is unusable. Marked dead with the reason; `events replay` resends.
- `outage`: iTop as a whole is not answering. The worker then stops taking work and probes
  iTop, instead of letting every conversation discover the outage on its own.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from sqlalchemy.exc import SQLAlchemyError

from itop_intercom.errors import NotConfigured
from itop_intercom.intercom.errors import IntercomError
from itop_intercom.itop.errors import (
    CODE_UNAUTHORIZED,
    ItopApiError,
    ItopError,
    ItopHttpError,
    ItopNotRestEndpoint,
    readable,
)


@dataclass(frozen=True)
class Failure:
    transient: bool
    reason: str
    outage: bool = False


def classify(exc: BaseException) -> Failure:
    if isinstance(exc, ItopApiError):
        text = f"iTop refused {exc.operation or 'the call'}: {readable(exc.message)}"
        return Failure(transient=exc.code == CODE_UNAUTHORIZED, reason=text)
    if isinstance(exc, ItopNotRestEndpoint):
        return Failure(True, f"iTop is not answering as a REST API: {exc.message}", outage=True)
    if isinstance(exc, ItopHttpError):
        return Failure(True, exc.message, outage=exc.transient)
    if isinstance(exc, ItopError):
        return Failure(True, exc.message, outage=exc.transient)
    if isinstance(exc, IntercomError):
        return Failure(exc.transient, f"Intercom: {exc.message}")
    if isinstance(exc, NotConfigured):
        return Failure(True, f"not configured: {exc}")
    if isinstance(exc, SQLAlchemyError):
        # Never the exception's text: it quotes the statement's parameters (message bodies).
        cause = type(getattr(exc, "orig", None) or exc).__name__
        return Failure(True, f"database error: {type(exc).__name__} ({cause})")
    if getattr(exc, "transient", False):
        return Failure(True, str(exc) or type(exc).__name__)
    # A bug must not lose a message: retry (the reason says what happened) until max age.
    return Failure(True, f"internal error: {type(exc).__name__}: {exc}"[:500])


def past_max_age(failure: Failure, age_from: float, max_age_hours: float, now: float) -> Failure:
    """A transient failure of work older than `sync.max_age_hours` becomes permanent (dead),
    saying why; anything else is left as it is."""
    if failure.transient and now - age_from > max_age_hours * 3600:
        return Failure(False, f"gave up after {max_age_hours:g} h: {failure.reason}")
    return failure


def backoff(attempts: int, base: float, cap: float) -> float:
    """Seconds before the next attempt: base × 2^(attempts-1), capped, with ±50 % jitter so
    that retries of many parts (or several workers) do not hit iTop in the same instant."""
    exponent = min(max(attempts - 1, 0), 30)
    delay = min(cap, base * (2**exponent))
    return float(delay * (0.5 + random.random()))
