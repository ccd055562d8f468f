"""CLI commands of the sync side: `worker` and `events` (list, show, replay)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

ConfigAdder = Callable[[argparse.ArgumentParser], argparse.ArgumentParser]


def register(sub: Any, with_config: ConfigAdder) -> None:
    """Filled in by the sync issue (worker, events list/show/replay)."""
    return None
