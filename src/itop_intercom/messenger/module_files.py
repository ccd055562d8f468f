"""`itop-intercom messenger module --output DIR`: write the iTop module, ready to copy.

The module's files ship inside the package (wheel) and live in the repository's `itop-module/`
folder (editable install); the command copies them and prints the installation steps. The shared
key is never printed: the administrator copies it from where they keep the service's settings.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from importlib import resources
from pathlib import Path
from typing import Any, TextIO

from itop_intercom.messenger.routes import BOOT_PATH

MODULE_NAME = "itop-intercom-messenger"

STEPS = """\
Wrote the iTop module to {target}

Install it in iTop:
  1. Copy the folder {name}/ into iTop's extensions/ folder
     (e.g. /var/www/itop/extensions/{name}/).
  2. Run iTop's setup (https://<your iTop>/setup/), choose "Upgrade an existing iTop instance",
     keep the other choices and tick "Intercom Messenger for iTop (itop-intercom)".
  3. In iTop's configuration file (conf/production/config-itop.php), add to
     'module_settings' =>
        '{name}' => array(
            'service_url' => '<the URL where iTop reaches this service, e.g. {example}>',
            'shared_key' => '<the value of messenger.shared_key in the service settings>',
            // optional: 'budget_seconds' => 0.3,  (the module's time per page, at most 1)
        ),
  4. Run `itop-intercom check`: step 7 tests the shared key and that {boot} answers.
"""


def module_source() -> Path:
    """Where the module's files are: inside the installed package, or the repository."""
    packaged = Path(str(resources.files("itop_intercom.messenger"))) / "itop_module"
    if (packaged / f"module.{MODULE_NAME}.php").is_file():
        return packaged
    repository = Path(__file__).resolve().parents[3] / "itop-module" / MODULE_NAME
    if (repository / f"module.{MODULE_NAME}.php").is_file():
        return repository
    raise FileNotFoundError("the iTop module's files are not part of this installation")


def write_module(output: Path, *, force: bool = False) -> Path:
    target = output / MODULE_NAME
    if target.exists():
        if not force:
            raise FileExistsError(f"{target} exists (use --force to replace it)")
        shutil.rmtree(target)
    shutil.copytree(module_source(), target)
    return target


def cmd_module(args: argparse.Namespace, stdout: TextIO | None = None) -> int:
    try:
        target = write_module(Path(args.output), force=args.force)
    except (FileExistsError, FileNotFoundError, OSError) as exc:
        print(f"itop-intercom: {exc}", file=sys.stderr)
        return 1
    (stdout or sys.stdout).write(
        STEPS.format(
            target=target,
            name=MODULE_NAME,
            example="https://itop-intercom.example.com/",
            boot=BOOT_PATH,
        )
    )
    return 0


def register(sub: Any) -> None:
    """Add `messenger module` to the command's subparsers."""
    from itop_intercom.cli_style import add_command, add_subcommands

    messenger = add_command(sub, "messenger", "the end users' chat in iTop (iTop module)")
    messenger_sub = add_subcommands(messenger, "messenger_command")
    module = add_command(
        messenger_sub,
        "module",
        "write the iTop module, ready to copy into iTop's extensions/ folder",
    )
    module.add_argument("--output", "-o", required=True, metavar="DIR", help="folder to write to")
    module.add_argument("--force", action="store_true", help="replace an existing copy")
    module.set_defaults(func=cmd_module)
