"""CLI commands of the sync side: `worker` and `events` (list, show, replay).

An *event* is a delivery: one conversation part going to one ticket's case log. Its id is what
`events show` and `events replay` take. With `--jobs`, `list` and `replay` work on the
background jobs instead (e.g. a reply to post in Intercom after a ticket was created). Exit
status: 0 done; 1 something asked for was not found or could not be replayed, or a settings or
database problem; 2 a command line that does not make sense.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, TextIO

from itop_intercom.cli_style import (
    EXIT_FAILED,
    ConfigAdder,
    add_command,
    add_subcommands,
    fail,
    usage_error,
)
from itop_intercom.settings.loader import load_or_report
from itop_intercom.settings.model import Settings


def register(sub: Any, with_config: ConfigAdder) -> None:
    """Add `worker` and `events list|show|replay` to the command's subparsers."""
    worker = with_config(
        add_command(
            sub,
            "worker",
            "run the sync worker on its own",
            "Run the sync worker on its own: apply the stored conversation parts to the iTop "
            "tickets until stopped (several workers may share one PostgreSQL database).",
        )
    )
    worker.add_argument(
        "--once",
        action="store_true",
        help="apply what is due now, then exit (for cron-style runs and checks)",
    )
    worker.set_defaults(func=cmd_worker)

    events = add_command(sub, "events", "inspect and replay synchronised parts")
    events_sub = add_subcommands(events, "events_command")

    listing = with_config(add_command(events_sub, "list", "list events, newest first"))
    listing.add_argument(
        "--state",
        choices=["pending", "done", "dead", "unplanned"],
        help="only this state (unplanned: received, not yet matched to tickets)",
    )
    listing.add_argument("--conversation", metavar="ID", help="only this Intercom conversation")
    listing.add_argument(
        "--limit", type=int, default=50, metavar="N", help="at most N rows (default 50)"
    )
    listing.add_argument("--jobs", action="store_true", help="list background jobs instead")
    listing.add_argument(
        "--outbound", action="store_true", help="list posts from iTop to Intercom instead"
    )
    listing.set_defaults(func=cmd_events_list)

    show = with_config(add_command(events_sub, "show", "everything about one event"))
    show.add_argument("id", type=int, metavar="ID", help="the event id (first column of list)")
    show.set_defaults(func=cmd_events_show)

    replay = with_config(
        add_command(events_sub, "replay", "apply dead events again (never twice in iTop)")
    )
    replay.add_argument(
        "ids", type=int, nargs="*", metavar="ID", help="the events (or jobs) to replay"
    )
    replay.add_argument("--dead", action="store_true", help="replay every dead event")
    replay.add_argument("--jobs", action="store_true", help="replay background jobs instead")
    replay.add_argument(
        "--outbound", action="store_true", help="replay posts from iTop to Intercom instead"
    )
    replay.set_defaults(func=cmd_events_replay)


def _settings(args: argparse.Namespace, stderr: TextIO) -> Settings | None:
    return load_or_report(args.config, stderr)


def _with_db(settings: Settings, action: Callable[[Any], Awaitable[int]], stderr: TextIO) -> int:
    """Run `action(db)` on a migrated database; report database failures in one line."""
    from sqlalchemy.exc import SQLAlchemyError

    from itop_intercom.store.database import Database
    from itop_intercom.store.db import create_engine, upgrade
    from itop_intercom.store.problems import describe

    async def main() -> int:
        db = Database(create_engine(settings.database_url))
        try:
            return await action(db)
        finally:
            await db.dispose()

    try:
        upgrade(settings.database_url)
        return asyncio.run(main())
    except SQLAlchemyError as exc:
        return fail(describe(exc, settings.database_url), stderr)


def cmd_worker(args: argparse.Namespace) -> int:
    settings = _settings(args, sys.stderr)
    if settings is None:
        return EXIT_FAILED
    from itop_intercom.logs import configure
    from itop_intercom.runtime import build_services, freeze_startup_heap
    from itop_intercom.store.db import upgrade
    from itop_intercom.sync.worker import Worker, run_until_signalled

    # On SQLite, the instance lock first: a second instance stops before touching anything.
    services = build_services(settings, single_instance=True)
    configure(settings.log_level, settings.log_format, services.secret_mask)
    try:
        upgrade(settings.database_url)
    except BaseException:
        if services.instance_lock is not None:
            services.instance_lock.release()
        raise

    async def main() -> int:
        if args.once:
            try:
                await Worker(services).run_once()
            finally:
                await services.aclose()
        else:
            freeze_startup_heap()
            await run_until_signalled(services)
        return 0

    return asyncio.run(main())


# -- events -------------------------------------------------------------------------------------


def _when(epoch: float | None) -> str:
    if epoch is None:
        return "-"
    try:
        return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M:%S")
    except (OverflowError, OSError, ValueError):
        # A time stored before times were checked at the edge: shown, not a crash.
        return f"(not a date: {epoch:.0f})"


def _short(text: str | None, width: int) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= width else text[: width - 1] + "…"


def cmd_events_list(args: argparse.Namespace) -> int:
    settings = _settings(args, sys.stderr)
    if settings is None:
        return EXIT_FAILED
    if args.jobs:
        return _with_db(settings, lambda db: jobs_list(db, args, sys.stdout), sys.stderr)
    if args.outbound:
        from itop_intercom.sync.back.commands import outbound_list

        return _with_db(settings, lambda db: outbound_list(db, args, sys.stdout), sys.stderr)
    return _with_db(settings, lambda db: events_list(db, args, sys.stdout), sys.stderr)


async def jobs_list(db: Any, args: argparse.Namespace, out: TextIO) -> int:
    from itop_intercom.sync import events

    rows = await events.list_jobs(db, state=args.state, limit=max(1, args.limit))
    if not rows:
        print("no jobs", file=out)
        return 0
    print(
        f"{'ID':>8}  {'STATE':<7}  {'KIND':<24}  {'TRIES':>5}  {'CREATED (UTC)':<19}  LAST ERROR",
        file=out,
    )
    for r in rows:
        created = r.created_at.strftime("%Y-%m-%d %H:%M:%S")
        print(
            f"{r.id:>8}  {r.state:<7}  {_short(r.kind, 24):<24}  {r.attempts:>5}  "
            f"{created:<19}  {_short(r.last_error, 60)}",
            file=out,
        )
    return 0


async def events_list(db: Any, args: argparse.Namespace, out: TextIO) -> int:
    from itop_intercom.sync import events
    from itop_intercom.sync.unplanned import UNPLANNED, UnplannedPart, list_unplanned

    limit = max(1, args.limit)
    rows = []
    if args.state != UNPLANNED:
        rows = await events.list_events(
            db, state=args.state, conversation_id=args.conversation, limit=limit
        )
    unplanned: list[UnplannedPart] = []
    waiting = 0
    if args.state in (None, "pending", UNPLANNED):
        unplanned, waiting = await list_unplanned(
            db, conversation_id=args.conversation, limit=limit
        )
    if not rows and not waiting:
        print("no events", file=out)
    if rows:
        header = f"{'ID':>8}  {'STATE':<7}  {'CONVERSATION':<18}  {'PART':<14}  {'TICKET':<18}  "
        print(header + f"{'TRIES':>5}  {'RECEIVED (UTC)':<19}  LAST ERROR", file=out)
        for r in rows:
            ticket = f"{r.ticket_class}::{r.ticket_id}"
            print(
                f"{r.id:>8}  {r.state:<7}  {_short(r.conversation_id, 18):<18}  "
                f"{_short(r.part_id, 14):<14}  {_short(ticket, 18):<18}  {r.attempts:>5}  "
                f"{_when(r.created_at):<19}  {_short(r.last_error, 60)}",
                file=out,
            )
    if waiting:
        _print_unplanned(unplanned, waiting, out)
    if args.conversation:
        kept = await events.kept_parts(db, args.conversation)
        if kept:
            print(
                f"{kept} part(s) of this conversation were kept without being applied "
                "(no ticket had sync on when they arrived)",
                file=out,
            )
    return 0


def _print_unplanned(parts: list[Any], total: int, out: TextIO) -> None:
    """The parts received but not planned yet (no event exists for them)."""
    from itop_intercom.sync.unplanned import UNPLANNED

    print(
        f"{total} part(s) received, not planned yet: the worker matches them to tickets with "
        "sync on as soon as iTop answers (no event id until then)",
        file=out,
    )
    header = f"{'PART ROW':>8}  {'STATE':<9}  {'CONVERSATION':<18}  {'PART':<14}  {'LOG':<7}  "
    print(header + f"{'RECEIVED (UTC)':<19}  TOPIC", file=out)
    for p in parts:
        print(
            f"{p.row_id:>8}  {UNPLANNED:<9}  {_short(p.conversation_id, 18):<18}  "
            f"{_short(p.part_id, 14):<14}  {p.log:<7}  "
            f"{p.received_at.strftime('%Y-%m-%d %H:%M:%S'):<19}  {_short(p.topic, 40)}",
            file=out,
        )
    if total > len(parts):
        print(f"… and {total - len(parts)} more", file=out)


def cmd_events_show(args: argparse.Namespace) -> int:
    settings = _settings(args, sys.stderr)
    if settings is None:
        return EXIT_FAILED
    return _with_db(
        settings, lambda db: events_show(db, args.id, sys.stdout, sys.stderr), sys.stderr
    )


async def events_show(db: Any, event_id: int, out: TextIO, err: TextIO) -> int:
    from itop_intercom.sync import events

    event = await events.get_event(db, event_id)
    if event is None:
        return fail(f"no event {event_id}; `itop-intercom events list` shows the ids", err)
    attachments = event.progress.get("attachments") or []
    lines = [
        ("event", str(event.id)),
        ("state", event.state),
        ("workspace", event.workspace_id),
        ("conversation", event.conversation_id),
        ("part", f"{event.part_id} ({event.part_type or '?'}, {event.topic})"),
        ("log", event.log or "-"),
        ("ticket", f"{event.ticket_class}::{event.ticket_id}"),
        ("origin", event.origin),
        (
            "author",
            " ".join(
                x
                for x in (
                    event.author_name,
                    f"<{event.author_email}>" if event.author_email else None,
                )
                if x
            )
            or "-",
        ),
        ("written in Intercom", _when(float(event.part_created_at))),
        ("received", _when(event.created_at)),
        ("attempts", str(event.attempts)),
        ("next attempt", _when(event.due_at) if event.state == "pending" else "-"),
        ("finished", _when(event.finished_at)),
        (
            "unconfirmed write",
            f"{event.step} at {_when(event.started_at)}" if event.started_at is not None else "-",
        ),
        (
            "attachments",
            ", ".join(
                f"{a.get('name')}: "
                + (
                    f"iTop Attachment {a['itop_id']}"
                    if "itop_id" in a
                    else f"not copied ({a.get('why')})"
                )
                for a in attachments
                if isinstance(a, dict)
            )
            or "-",
        ),
        ("last error", event.last_error or "-"),
        ("text", _short(event.body, 300) or "-"),
    ]
    width = max(len(label) for label, _ in lines)
    for label, value in lines:
        print(f"{label:<{width}}  {value}", file=out)
    return 0


def cmd_events_replay(args: argparse.Namespace) -> int:
    if not args.ids and not args.dead:
        return usage_error("give event ids or --dead")
    if args.ids and args.dead:
        return usage_error("give event ids or --dead, not both")
    settings = _settings(args, sys.stderr)
    if settings is None:
        return EXIT_FAILED
    replay = jobs_replay if args.jobs else events_replay
    if args.outbound:
        from itop_intercom.sync.back.commands import outbound_replay

        replay = outbound_replay
    return _with_db(
        settings,
        lambda db: replay(db, args.ids, args.dead, sys.stdout, sys.stderr),
        sys.stderr,
    )


async def jobs_replay(db: Any, ids: list[int], all_dead: bool, out: TextIO, err: TextIO) -> int:
    from itop_intercom.sync import jobs

    replayed, not_found, not_dead = await jobs.replay(db, ids, all_dead=all_dead)
    for job_id in not_found:
        fail(f"no job {job_id}", err)
    for job_id, state in not_dead:
        fail(f"job {job_id} is {state}, not dead: not replayed", err)
    if replayed:
        print(f"{len(replayed)} job(s) will run again: {', '.join(map(str, replayed))}", file=out)
    elif all_dead:
        print("no dead jobs", file=out)
    return 1 if not_found or not_dead else 0


async def events_replay(db: Any, ids: list[int], all_dead: bool, out: TextIO, err: TextIO) -> int:
    from itop_intercom.sync import queue

    result = await queue.replay(db, ids, all_dead=all_dead)
    for event_id in result.not_found:
        fail(f"no event {event_id}", err)
    for event_id, state in result.not_dead:
        fail(f"event {event_id} is {state}, not dead: not replayed", err)
    if result.replayed:
        shown = ", ".join(str(i) for i in result.replayed[:20])
        more = f" and {len(result.replayed) - 20} more" if len(result.replayed) > 20 else ""
        print(f"{len(result.replayed)} event(s) will be applied again: {shown}{more}", file=out)
    elif all_dead:
        print("no dead events", file=out)
    return 1 if result.not_found or result.not_dead else 0
