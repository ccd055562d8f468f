"""The repository stands on its own: no code or script points at a folder of the machine it was
written on, and only `tests/reference.py` knows where the reference material outside the
repository lives (it skips, or fails under CI, when that material is missing)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from tests.reference import REPO

#: Where code and scripts live (test data, prose and lock files aside).
CODE_SUFFIXES = {".py", ".sh", ".toml", ".cfg", ".ini", ".yml", ".yaml"}
#: A path into the lab machine's work folder, or a path built towards the shared folder.
MACHINE_PATH = re.compile(r"""(?<![\w.])/work/|["']\.\./shared\b|["']shared["']""")


def _tracked_code() -> list[Path]:
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True
    ).stdout.decode()
    paths = [REPO / name for name in listed.split("\0") if name]
    code = [
        p
        for p in paths
        if (p.suffix in CODE_SUFFIXES or p.parent.name == "scripts")
        and not p.is_relative_to(REPO / "tests" / "data")
        and p.is_file()
    ]
    assert code, "no tracked code found: is this a git checkout?"
    return code


def test_no_code_points_at_a_machine_folder_or_at_the_shared_folder() -> None:
    allowed = {REPO / "tests" / "reference.py", Path(__file__).resolve()}
    offenders = [
        f"{path.relative_to(REPO)}:{number}: {line.strip()}"
        for path in _tracked_code()
        if path not in allowed
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if MACHINE_PATH.search(line)
    ]
    assert offenders == []


def test_the_data_the_tests_need_is_in_the_repository() -> None:
    data = REPO / "tests" / "data"
    assert len(list((data / "itop-rest" / "intercom").glob("[0-9][0-9][0-9]-*.json"))) > 100
    assert len(list((data / "itop-rest" / "vanilla").glob("[0-9][0-9][0-9]-*.json"))) > 100
    assert (data / "itop-rest" / "README.md").is_file()
    assert list((data / "itop-rest" / "datamodel").glob("*.json"))
    for kind in ("rest_api", "canvas_kit", "webhooks"):
        assert list((data / "intercom" / kind).glob("*.json")), kind
