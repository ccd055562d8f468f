"""Signatures of what Intercom sends us (Canvas Kit requests and webhooks).

Both are HMACs of the request body keyed with the app's client secret, but not the same HMAC:

- Canvas Kit: `X-Body-Signature: <hex HMAC-SHA256>`, no prefix.
- Webhooks: `X-Hub-Signature: sha1=<hex HMAC-SHA1>`.

They are computed over the **raw bytes** of the body as received. Parsing the JSON and serialising
it again changes spacing, key order, `\\u` escapes (Intercom's Rails escapes `<`, `>` and `&`) or
non-ASCII text, so a check over re-serialised JSON fails on genuine requests or, worse, invites
"fixes" that weaken it. Comparisons use `hmac.compare_digest` so that the time taken does not
reveal how many leading characters of a forged signature were right.
"""

from __future__ import annotations

import hashlib
import hmac
import re

#: Header names, as Intercom sends them.
CANVAS_SIGNATURE_HEADER = "X-Body-Signature"
WEBHOOK_SIGNATURE_HEADER = "X-Hub-Signature"

_SHA256_HEX = re.compile(r"[0-9a-fA-F]{64}")
_SHA1_HEX = re.compile(r"[0-9a-fA-F]{40}")
_WEBHOOK_PREFIX = "sha1="


def canvas_signature(raw: bytes, secret: str) -> str:
    """Lower-case hex HMAC-SHA256 of `raw` keyed with `secret` (the `X-Body-Signature` value)."""
    return hmac.new(secret.encode("utf-8"), raw, hashlib.sha256).hexdigest()


def webhook_signature(raw: bytes, secret: str) -> str:
    """`sha1=` + lower-case hex HMAC-SHA1 of `raw` keyed with `secret` (`X-Hub-Signature`)."""
    return _WEBHOOK_PREFIX + hmac.new(secret.encode("utf-8"), raw, hashlib.sha1).hexdigest()


def verify_canvas_signature(raw: bytes, header: str | None, secret: str) -> bool:
    """Whether `header` is the Canvas Kit signature of `raw` under `secret`.

    The header may carry surrounding whitespace and upper-case hex (both are harmless and some
    proxies or test tools produce them); anything that is not exactly 64 hex digits is refused
    before any comparison, so a SHA-1 webhook signature can never pass as a canvas one. An empty
    secret refuses everything: an HMAC with an empty key is one anybody can compute.
    """
    if header is None or not secret:
        return False
    candidate = header.strip()
    if not _SHA256_HEX.fullmatch(candidate):
        return False
    return hmac.compare_digest(candidate.lower(), canvas_signature(raw, secret))


def verify_webhook_signature(raw: bytes, header: str | None, secret: str) -> bool:
    """Whether `header` is the webhook signature (`sha1=<hex>`) of `raw` under `secret`.

    The `sha1=` prefix is required (case-insensitively), followed by exactly 40 hex digits in
    either case; surrounding whitespace is ignored. A bare digest, a SHA-256 digest or any other
    algorithm prefix is refused: accepting them would let one kind of signature stand in for the
    other. An empty secret refuses everything, as for canvases.
    """
    if header is None or not secret:
        return False
    candidate = header.strip()
    if candidate[: len(_WEBHOOK_PREFIX)].lower() != _WEBHOOK_PREFIX:
        return False
    digest = candidate[len(_WEBHOOK_PREFIX) :]
    if not _SHA1_HEX.fullmatch(digest):
        return False
    expected = webhook_signature(raw, secret)[len(_WEBHOOK_PREFIX) :]
    return hmac.compare_digest(digest.lower(), expected)
