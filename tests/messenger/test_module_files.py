"""`itop-intercom messenger module`: the module written ready to copy, with the steps."""

from __future__ import annotations

from pathlib import Path

import pytest

from itop_intercom.cli import main
from itop_intercom.messenger.module_files import MODULE_NAME, module_source


def test_writes_the_module_and_prints_the_steps(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["messenger", "module", "--output", str(tmp_path)]) == 0
    target = tmp_path / MODULE_NAME
    written = sorted(p.relative_to(target).as_posix() for p in target.rglob("*.php"))
    expected = sorted(
        p.relative_to(module_source()).as_posix() for p in module_source().rglob("*.php")
    )
    assert written == expected
    assert f"module.{MODULE_NAME}.php" in written
    out = capsys.readouterr().out
    assert "extensions/" in out and "'service_url'" in out and "'shared_key'" in out


def test_refuses_to_overwrite_without_force(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / MODULE_NAME).mkdir()
    assert main(["messenger", "module", "-o", str(tmp_path)]) == 1
    assert "--force" in capsys.readouterr().err
    assert main(["messenger", "module", "-o", str(tmp_path), "--force"]) == 0
    assert (tmp_path / MODULE_NAME / f"module.{MODULE_NAME}.php").is_file()
