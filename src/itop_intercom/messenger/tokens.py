"""The signed identity of an iTop person for Intercom's Messenger.

`user_id` is built from `messenger.user_id_template` (default `itop-{person_class}-{person_id}`):
stable for a person whatever their login or email, and readable back by the Inbox (`parse_user_id`).
Messenger security (current): a JWT, HS256, signed with the workspace's identity-verification
secret, carrying the identity claims and a short `exp`. Legacy identity verification: `user_hash`,
the hex HMAC-SHA256 of the user id with the same secret.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from typing import Any


def user_id(template: str, person_class: str, person_id: int) -> str:
    return template.replace("{person_class}", person_class).replace("{person_id}", str(person_id))


def parse_user_id(template: str, value: str) -> tuple[str, int] | None:
    """(person class, person id) of a user id built with `template`; None for any other id."""
    pattern = re.escape(template)
    pattern = pattern.replace(re.escape("{person_class}"), r"(?P<cls>[A-Za-z_][A-Za-z0-9_]{0,63})")
    pattern = pattern.replace(re.escape("{person_id}"), r"(?P<id>[1-9][0-9]{0,17})")
    match = re.fullmatch(pattern, value)
    if match is None:
        return None
    return match.group("cls"), int(match.group("id"))


def company_id(template: str, org_id: int) -> str:
    return template.replace("{org_id}", str(org_id))


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def jwt_hs256(claims: dict[str, Any], secret: str) -> str:
    """A compact JWS (HS256) of `claims`."""
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    payload = _b64(json.dumps(claims, separators=(",", ":"), ensure_ascii=False).encode())
    signing_input = f"{header}.{payload}".encode("ascii")
    mac = hmac.new(secret.encode(), signing_input, hashlib.sha256).digest()
    return f"{header}.{payload}.{_b64(mac)}"


def user_hash(secret: str, value: str) -> str:
    """Intercom's legacy identity verification hash of a user id."""
    return hmac.new(secret.encode(), value.encode(), hashlib.sha256).hexdigest()
