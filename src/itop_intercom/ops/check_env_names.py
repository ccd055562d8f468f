"""Every fix of the `check` report names the environment variable beside the settings key.

Operators who configure the service from the environment (containers, systemd) read
"set itop.url" and must translate it to `ITOP_INTERCOM_ITOP__URL` by hand; the report does it
for them: each known key in a fix gets its variable in parentheses, once.
"""

from __future__ import annotations

import re
from dataclasses import replace

import itop_intercom.settings.keys as keys
from itop_intercom.ops.doctor.result import CheckResult
from itop_intercom.settings.model import Settings

#: A dotted key, or one of the top-level keys whose names cannot be mistaken for words.
_KEY = re.compile(
    r"(?<![\w.$/])(public_url|data_dir|log_level|log_format|[a-z_]+(?:\.[A-Za-z0-9_-]+)+)"
    r"(?![\w(])"
)


def env_name_of(dotted: str) -> str | None:
    """`itop.url` → `ITOP_INTERCOM_ITOP__URL`; workspace ids keep their case. None when the
    text names no setting (a file name, a host, an attribute code)."""
    path = dotted.split(".")
    root = keys.node_of(Settings)
    node = keys.resolve(root, path)
    if node is None or node.kind == "section":
        return None
    parts = []
    parent = root
    for name in path:
        parts.append(name if parent.kind == "map" else name.upper())
        found = keys.resolve(parent, [name])
        if found is None:  # pragma: no cover - resolved above
            return None
        parent = found
    return keys.ENV_PREFIX + keys.ENV_DELIMITER.join(parts)


def with_env_names(result: CheckResult) -> CheckResult:
    if not result.fix:
        return result

    def annotate(match: re.Match[str]) -> str:
        dotted = match.group(1).rstrip(".")
        tail = match.group(1)[len(dotted) :]
        env = env_name_of(dotted)
        if env is None or env in result.fix:
            return match.group(0)
        return f"{dotted} ({env}){tail}"

    return replace(result, fix=_KEY.sub(annotate, result.fix))
