"""The `itop-intercom` command: serve, worker, check, urls, config import, db, events.

One style for every sub-command: a description line and help for each argument; errors are
printed as `itop-intercom: error: <one line naming the cause and the fix>`; exit status 0 when
done, 1 when the command could not do its work (settings, database, iTop, Intercom, files), 2 for
a command line that does not make sense (argparse's own convention).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from itop_intercom import __version__
from itop_intercom.cli_style import (
    EXIT_FAILED,
    PROG,
    CommandListFormatter,
    add_command,
    add_subcommands,
    fail,
)
from itop_intercom.errors import StartupError
from itop_intercom.settings import Settings
from itop_intercom.settings.loader import load_or_report


def _load(args: argparse.Namespace, stderr: TextIO) -> Settings | None:
    return load_or_report(args.config, stderr)


def cmd_serve(args: argparse.Namespace) -> int:
    settings = _load(args, sys.stderr)
    if settings is None:
        return EXIT_FAILED
    from itop_intercom.serve import run

    return run(settings, host=args.host, port=args.port, with_worker=not args.no_worker)


def cmd_urls(args: argparse.Namespace) -> int:
    settings = _load(args, sys.stderr)
    if settings is None:
        return EXIT_FAILED
    from itop_intercom.urls import developer_hub_urls, render

    try:
        urls = developer_hub_urls(settings)
    except ValueError as exc:
        return fail(str(exc))
    https = str(settings.public_url).startswith("https://")
    print(render(urls, https=https))
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    settings = _load(args, sys.stderr)
    if settings is None:
        return EXIT_FAILED
    from itop_intercom.logs import SecretMask, configure
    from itop_intercom.ops.doctor import render, run_checks
    from itop_intercom.runtime import secrets_of

    configure(settings.log_level, settings.log_format, SecretMask(secrets_of(settings)))

    results = asyncio.run(run_checks(settings, itop_only=args.itop_only))
    return render(results, sys.stdout)


def cmd_config_import(args: argparse.Namespace) -> int:
    from itop_intercom.settings.legacy_import import run_import
    from itop_intercom.settings.overwrite import refuse_overwrite

    output = Path(args.output) if args.output else None
    if output is not None and not args.force:
        refused = refuse_overwrite(output)
        if refused:
            return fail(refused)
    return run_import(Path(args.file), output, args.secrets, sys.stdout, sys.stderr)


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    settings = _load(args, sys.stderr)
    if settings is None:
        return EXIT_FAILED
    from itop_intercom.store.db import upgrade

    upgrade(settings.database_url)
    print("database schema is up to date")
    return 0


def with_config(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
    p.add_argument(
        "--config",
        "-c",
        metavar="FILE",
        help="settings file (default: $ITOP_INTERCOM_CONFIG or ./itop-intercom.toml)",
    )
    return p


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Intercom Inbox app and conversation sync for iTop.",
        formatter_class=CommandListFormatter,
    )
    parser.add_argument(
        "--version", action="version", version=f"%(prog)s {__version__}", help="print the version"
    )
    sub = add_subcommands(parser, "command")

    serve = with_config(
        add_command(
            sub,
            "serve",
            "run the web service (and the sync worker)",
            "Run the web service: migrate the database, then answer Intercom; the sync worker "
            "runs in the same process unless --no-worker or sync.worker_in_serve = false.",
        )
    )
    serve.add_argument("--host", help="listen address (default: server.host)")
    serve.add_argument("--port", type=int, help="listen port (default: server.port)")
    serve.add_argument(
        "--no-worker", action="store_true", help="do not run the sync worker in this process"
    )
    serve.set_defaults(func=cmd_serve)

    urls = with_config(add_command(sub, "urls", "print the URLs to paste into Intercom"))
    urls.set_defaults(func=cmd_urls)

    check = with_config(
        add_command(
            sub,
            "check",
            "test the iTop and Intercom setup",
            "Test the settings, iTop and Intercom, and say for each setup step what to fix. "
            "Exit status 1 when something blocks.",
        )
    )
    check.add_argument("--itop-only", action="store_true", help="skip the Intercom checks")
    check.set_defaults(func=cmd_check)

    config = add_command(sub, "config", "settings tools")
    config_sub = add_subcommands(config, "config_command")
    imp = add_command(
        config_sub,
        "import",
        "convert the PHP extension's settings (config-itop.php or XML delta)",
        "Convert the settings of the PHP extension combodo-intercom-integration, from "
        "config-itop.php or an iTop XML datamodel delta, into this service's TOML settings.",
    )
    imp.add_argument("file", help="config-itop.php or an iTop XML datamodel delta")
    imp.add_argument(
        "-o", "--output", metavar="FILE", help="settings file to write (default: standard output)"
    )
    imp.add_argument(
        "--force",
        action="store_true",
        help="replace FILE and its secret files when they exist (default: refuse)",
    )
    imp.add_argument(
        "--secrets",
        choices=["files", "inline", "omit"],
        help="where to put the client secret and access token "
        "(default: files beside -o, omitted on standard output)",
    )
    imp.set_defaults(func=cmd_config_import)

    db = add_command(sub, "db", "database tools")
    db_sub = add_subcommands(db, "db_command")
    up = with_config(add_command(db_sub, "upgrade", "run the database migrations"))
    up.set_defaults(func=cmd_db_upgrade)
    from itop_intercom.ops.purge_command import register as register_purge

    register_purge(db_sub, with_config)

    from itop_intercom.sync.commands import register as register_sync_commands

    register_sync_commands(sub, with_config)
    from itop_intercom.messenger.module_files import register as register_messenger_commands

    register_messenger_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        result: int = args.func(args)
    except StartupError as exc:
        return fail(str(exc))
    except KeyboardInterrupt:
        return 130
    return result


if __name__ == "__main__":
    sys.exit(main())
