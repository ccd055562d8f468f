"""The signature of the iTop module's requests (one shared key, HMAC-SHA256).

The module signs `METHOD`, the route path, a unix timestamp, a random nonce and the raw body,
one per line, and sends the timestamp, nonce and `v1=<hex>` signature in headers. The route path
is the service's own path (`/itop/messenger/boot`), not the full URL: a reverse proxy that
mounts the service under a prefix does not break the signature. A request is accepted once,
within `request_max_age_seconds` of the service's clock.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

TIMESTAMP_HEADER = "X-Itop-Intercom-Timestamp"
NONCE_HEADER = "X-Itop-Intercom-Nonce"
SIGNATURE_HEADER = "X-Itop-Intercom-Signature"
SIGNATURE_VERSION = "v1"

_NONCE_CHARS = frozenset("0123456789abcdefABCDEF-_")


@dataclass(frozen=True)
class SignedHeaders:
    timestamp: str
    nonce: str
    signature: str

    def as_dict(self) -> dict[str, str]:
        return {
            TIMESTAMP_HEADER: self.timestamp,
            NONCE_HEADER: self.nonce,
            SIGNATURE_HEADER: self.signature,
        }


def canonical(method: str, path: str, timestamp: str, nonce: str, body: bytes) -> bytes:
    head = f"{method.upper()}\n{path}\n{timestamp}\n{nonce}\n".encode()
    return head + body


def signature(key: str, method: str, path: str, timestamp: str, nonce: str, body: bytes) -> str:
    digest = hmac.new(
        key.encode(), canonical(method, path, timestamp, nonce, body), hashlib.sha256
    ).hexdigest()
    return f"{SIGNATURE_VERSION}={digest}"


def sign(
    key: str, method: str, path: str, body: bytes, *, now: float | None = None
) -> SignedHeaders:
    """Headers for a request, as the iTop module builds them (used by `check` and tests)."""
    timestamp = str(int(time.time() if now is None else now))
    nonce = secrets.token_hex(16)
    return SignedHeaders(timestamp, nonce, signature(key, method, path, timestamp, nonce, body))


def valid_nonce(nonce: str) -> bool:
    return 16 <= len(nonce) <= 64 and all(c in _NONCE_CHARS for c in nonce)


def matches(key: str, method: str, path: str, headers: SignedHeaders, body: bytes) -> bool:
    expected = signature(key, method, path, headers.timestamp, headers.nonce, body)
    return hmac.compare_digest(expected.encode(), headers.signature.strip().encode())
