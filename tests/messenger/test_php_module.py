"""The iTop module's PHP: every file lints, and its PHPUnit suite passes (counted here, so that a
PHP failure fails the Python suite too)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

MODULE_ROOT = Path(__file__).resolve().parents[2] / "itop-module"
PHP_FILES = sorted(MODULE_ROOT.rglob("*.php"))

pytestmark = pytest.mark.skipif(
    (shutil.which("php") is None or shutil.which("phpunit") is None) and not os.environ.get("CI"),
    reason="needs php-cli and phpunit (scripts/test installs them)",
)


@pytest.mark.parametrize("path", PHP_FILES, ids=lambda p: str(p.relative_to(MODULE_ROOT)))
def test_php_file_lints(path: Path) -> None:
    result = subprocess.run(
        ["php", "-l", str(path)], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_phpunit_suite_passes() -> None:
    result = subprocess.run(
        ["phpunit", "-c", str(MODULE_ROOT / "tests" / "phpunit.xml")],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=MODULE_ROOT / "tests",
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    summary = re.search(r"OK \((\d+) tests?, (\d+) assertions?\)", output)
    assert summary is not None, output
    print(f"\nPHPUnit: {summary.group(0)}")
