"""The `itop-intercom` command: serve, worker, check, urls, config import, db, events."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from itop_intercom.settings import Settings
from itop_intercom.settings.loader import load_or_report


def _load(args: argparse.Namespace, stderr: TextIO) -> Settings | None:
    return load_or_report(args.config, stderr)


def cmd_serve(args: argparse.Namespace) -> int:
    settings = _load(args, sys.stderr)
    if settings is None:
        return 2
    from itop_intercom.serve import run

    return run(settings, host=args.host, port=args.port, with_worker=not args.no_worker)


def cmd_urls(args: argparse.Namespace) -> int:
    settings = _load(args, sys.stderr)
    if settings is None:
        return 2
    from itop_intercom.urls import developer_hub_urls, render

    try:
        urls = developer_hub_urls(settings)
    except ValueError as exc:
        print(f"itop-intercom: {exc}", file=sys.stderr)
        return 2
    https = str(settings.public_url).startswith("https://")
    print(render(urls, https=https))
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    settings = _load(args, sys.stderr)
    if settings is None:
        return 2
    from itop_intercom.logs import SecretMask, configure
    from itop_intercom.ops.doctor import render, run_checks
    from itop_intercom.runtime import secrets_of

    configure(settings.log_level, settings.log_format, SecretMask(secrets_of(settings)))

    results = asyncio.run(run_checks(settings, itop_only=args.itop_only))
    return render(results, sys.stdout)


def cmd_config_import(args: argparse.Namespace) -> int:
    from itop_intercom.settings.legacy_import import run_import

    return run_import(
        Path(args.file),
        Path(args.output) if args.output else None,
        args.secrets,
        sys.stdout,
        sys.stderr,
    )


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    settings = _load(args, sys.stderr)
    if settings is None:
        return 2
    from itop_intercom.store.db import upgrade

    upgrade(settings.database_url)
    print("database schema is up to date")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="itop-intercom",
        description="Intercom Inbox app and conversation sync for iTop.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    def with_config(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
        p.add_argument(
            "--config",
            "-c",
            metavar="FILE",
            help="settings file (default: $ITOP_INTERCOM_CONFIG or ./itop-intercom.toml)",
        )
        return p

    serve = with_config(sub.add_parser("serve", help="run the web service (and the sync worker)"))
    serve.add_argument("--host", help="listen address (default: server.host)")
    serve.add_argument("--port", type=int, help="listen port (default: server.port)")
    serve.add_argument(
        "--no-worker", action="store_true", help="do not run the sync worker in this process"
    )
    serve.set_defaults(func=cmd_serve)

    urls = with_config(sub.add_parser("urls", help="print the URLs to paste into Intercom"))
    urls.set_defaults(func=cmd_urls)

    check = with_config(sub.add_parser("check", help="test the iTop and Intercom setup"))
    check.add_argument("--itop-only", action="store_true", help="skip the Intercom checks")
    check.set_defaults(func=cmd_check)

    config = sub.add_parser("config", help="settings tools")
    config_sub = config.add_subparsers(dest="config_command", required=True)
    imp = config_sub.add_parser(
        "import", help="convert the PHP extension's settings (config-itop.php or XML delta)"
    )
    imp.add_argument("file", help="config-itop.php or an iTop XML datamodel delta")
    imp.add_argument("-o", "--output", help="settings file to write (default: standard output)")
    imp.add_argument(
        "--secrets",
        choices=["files", "inline", "omit"],
        help="where to put the client secret and access token "
        "(default: files beside -o, omitted on standard output)",
    )
    imp.set_defaults(func=cmd_config_import)

    db = sub.add_parser("db", help="database tools")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    up = with_config(db_sub.add_parser("upgrade", help="run the database migrations"))
    up.set_defaults(func=cmd_db_upgrade)

    from itop_intercom.sync.commands import register as register_sync_commands

    register_sync_commands(sub, with_config)
    from itop_intercom.messenger.module_files import register as register_messenger_commands

    register_messenger_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
