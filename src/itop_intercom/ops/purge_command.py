"""`itop-intercom db purge [--dry-run]`: delete what is past retention now, and say how much.

The worker does the same on its own every `retention.every_minutes`; the command is for an
operator who wants to see (`--dry-run`) or reclaim the space at once.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any, TextIO

from itop_intercom.cli_style import EXIT_FAILED, ConfigAdder, add_command
from itop_intercom.settings.loader import load_or_report


def register(db_sub: Any, with_config: ConfigAdder) -> None:
    purge = with_config(
        add_command(
            db_sub,
            "purge",
            "delete what is past retention (retention.* settings)",
            "Delete the applied parts, dead deliveries and finished jobs past retention "
            "(retention.done_days, retention.dead_days), in small batches; print what went, "
            "the database size and the rows per table.",
        )
    )
    purge.add_argument("--dry-run", action="store_true", help="only count what would be deleted")
    purge.set_defaults(func=cmd_db_purge)


def cmd_db_purge(args: argparse.Namespace) -> int:
    settings = load_or_report(args.config, sys.stderr)
    if settings is None:
        return EXIT_FAILED
    from itop_intercom.store.database import Database
    from itop_intercom.store.db import create_engine, upgrade

    upgrade(settings.database_url)

    async def main() -> int:
        db = Database(create_engine(settings.database_url))
        try:
            return await run_purge(db, settings.retention, args.dry_run, sys.stdout)
        finally:
            await db.dispose()

    return asyncio.run(main())


async def run_purge(db: Any, retention: Any, dry_run: bool, out: TextIO) -> int:
    from itop_intercom.store.usage import database_usage, human_size
    from itop_intercom.sync.retention import purge

    report = await purge(db, retention, dry_run=dry_run)
    print(
        f"past retention (done: {retention.done_days:g} days, dead: {retention.dead_days:g} days)"
        + (", dry run: nothing deleted" if dry_run else ""),
        file=out,
    )
    for label, count in report.lines():
        print(f"  {label:<16} {count:>10}", file=out)
    verb = "would delete" if dry_run else "deleted"
    summary = f"{verb} {report.total} row(s)"
    if not dry_run:
        summary += f" in {report.seconds:.1f} s ({report.batches} batch(es))"
    print(summary, file=out)
    usage = await database_usage(db.engine)
    rows = ", ".join(f"{name} {count}" for name, count in sorted(usage.rows.items()))
    print(f"database: {human_size(usage.size_bytes)}; rows: {rows}", file=out)
    return 0
