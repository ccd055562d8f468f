"""Our canvas state (`stored_data`) is authenticated, because it travels through the browser.

Intercom signs each request, but what it signs includes `current_canvas.stored_data`, which is
only what the agent's browser sent back: the caller and organisation of the creation form, the
form's token, the state a Retry replays. A modified browser could send anything there, and
Intercom would sign it. So every `stored_data` we answer carries `mac`, an HMAC-SHA256 of ours
over the state, the workspace id and the conversation id; state that comes back without a
valid `mac` is not used (the agent gets Home again, with a note), never written anywhere.

The key is derived from the workspace's client secret with a fixed context string
(HMAC-SHA256(client_secret, "itop-intercom canvas state v1")): no new setting, the secret never
leaves the service, a key per workspace secret, and rotating the secret invalidates open canvases
(the agent starts from Home once). Binding the workspace and the conversation stops a valid
state from one conversation (a caller of another organisation) being replayed in another.

The MAC is computed over a canonical JSON text (sorted keys, no spaces, ASCII escapes, whole
floats written as integers), so the key order, spacing or number style of the echo (a browser's
JavaScript writes 2.0 as 2 and puts integer-like keys first) does not matter.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

from itop_intercom.settings.model import ResolvedWorkspace

#: Key of `stored_data` holding the MAC.
MAC_KEY = "mac"
#: Fixed context of the key derivation (changing it invalidates every open canvas).
KEY_CONTEXT = b"itop-intercom canvas state v1"


def _key(workspace: ResolvedWorkspace) -> bytes | None:
    if workspace.client_secret is None:
        return None
    secret = workspace.client_secret.get_secret_value().encode("utf-8")
    return hmac.new(secret, KEY_CONTEXT, hashlib.sha256).digest()


def _canonical(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {str(k): _canonical(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_canonical(v) for v in value]
    return value


def _mac(key: bytes, workspace_id: str, conversation_id: str, state: dict[str, Any]) -> str:
    text = json.dumps(
        [workspace_id, conversation_id, _canonical(state)],
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=True,
    )
    return hmac.new(key, text.encode("ascii"), hashlib.sha256).hexdigest()


def seal(
    state: dict[str, Any], workspace: ResolvedWorkspace, conversation_id: str
) -> dict[str, Any]:
    """`state` with its MAC added (an empty state stays empty: there is nothing to trust)."""
    key = _key(workspace)
    plain = {k: v for k, v in state.items() if k != MAC_KEY}
    if not plain or key is None:
        return plain
    return {**plain, MAC_KEY: _mac(key, workspace.id, conversation_id, plain)}


def unseal(
    stored: dict[str, Any], workspace: ResolvedWorkspace, conversation_id: str
) -> dict[str, Any] | None:
    """The state without its MAC; {} for an empty state; None when it is not authentic."""
    plain = {k: v for k, v in stored.items() if k != MAC_KEY}
    if not plain:
        return {}
    key = _key(workspace)
    given = stored.get(MAC_KEY)
    if key is None or not isinstance(given, str):
        return None
    try:
        expected = _mac(key, workspace.id, conversation_id, plain)
    except (TypeError, ValueError):
        return None
    if not hmac.compare_digest(given.encode("ascii", "replace"), expected.encode("ascii")):
        return None
    return plain


def seal_answer(
    answer: dict[str, Any], workspace: ResolvedWorkspace, conversation_id: str
) -> dict[str, Any]:
    """The canvas answer with its `stored_data` sealed (in place; returned for chaining)."""
    canvas = answer.get("canvas")
    if isinstance(canvas, dict) and isinstance(canvas.get("stored_data"), dict):
        sealed = seal(canvas["stored_data"], workspace, conversation_id)
        if sealed:
            canvas["stored_data"] = sealed
        else:
            canvas.pop("stored_data")
    return answer
