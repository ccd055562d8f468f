"""Where test data lives: in the repository (`tests/data/`) or, for third-party reference
material we may not copy, in the `shared/` folder beside the checkout.

What the tests need to run lives under `tests/data/`: the iTop transcripts (the project's own
lab recordings) and Intercom payloads written for this project in Intercom's documented shapes.
A few tests also compare with reference material that stays outside the repository (Intercom's
OpenAPI and Canvas Kit schemas, Intercom's own example payloads). `reference()` gives its path;
when it is missing the test is skipped with the reason, except under CI (`CI` set to anything
but "", "0" or "false"), where a missing reference is a failure.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

#: The checkout (the folder that holds `tests/`).
REPO = Path(__file__).resolve().parents[1]
#: Test data kept in the repository.
DATA = REPO / "tests" / "data"


def shared_dir() -> Path:
    """The reference folder: $ITOP_SHARED_DIR, else `shared/` beside the checkout."""
    configured = os.environ.get("ITOP_SHARED_DIR")
    if configured:
        return Path(configured)
    return REPO.parent / "shared"


def under_ci() -> bool:
    """True when the environment says CI (GitHub Actions, GitLab CI and others set CI=true)."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def missing_reference(path: Path) -> str:
    """The reason shown when reference material is not there."""
    return (
        f"reference material {path} not found: put the shared/ folder beside the checkout "
        "or set ITOP_SHARED_DIR"
    )


def reference(relpath: str) -> Path:
    """The path of `relpath` under the reference folder; skips the calling test when it is
    missing (fails under CI)."""
    path = shared_dir() / relpath
    if not path.exists():
        if under_ci():
            pytest.fail(f"CI is set, so this is an error: {missing_reference(path)}", pytrace=False)
        pytest.skip(missing_reference(path))
    return path
