"""`events list --outbound` and `events replay --outbound`: the back-sync's posts to Intercom."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from typing import Any, TextIO

from itop_intercom.sync.back import events


def _short(text: str | None, width: int) -> str:
    value = " ".join((text or "").split())
    return value if len(value) <= width else value[: width - 1] + "…"


async def outbound_list(db: Any, args: argparse.Namespace, out: TextIO) -> int:
    rows = await events.list_rows(
        db, state=args.state, conversation_id=args.conversation, limit=max(1, args.limit)
    )
    if not rows:
        print("no posts to Intercom", file=out)
        return 0
    print(
        f"{'ID':>8}  {'STATE':<7}  {'KIND':<10}  {'CONVERSATION':<18}  {'TICKET':<18}  "
        f"{'CHANGE':>8}  {'TRIES':>5}  {'QUEUED (UTC)':<19}  LAST ERROR",
        file=out,
    )
    for r in rows:
        queued = datetime.fromtimestamp(r.created_at, UTC).strftime("%Y-%m-%d %H:%M:%S")
        print(
            f"{r.id:>8}  {r.state:<7}  {r.kind:<10}  {_short(r.conversation_id, 18):<18}  "
            f"{_short(r.ticket, 18):<18}  {r.op_id:>8}  {r.attempts:>5}  {queued:<19}  "
            f"{_short(r.last_error, 60)}",
            file=out,
        )
    return 0


async def outbound_replay(db: Any, ids: list[int], all_dead: bool, out: TextIO, err: TextIO) -> int:
    replayed, not_found, not_dead = await events.replay(db, ids, all_dead=all_dead)
    for row_id in not_found:
        print(f"itop-intercom: no post {row_id}", file=err)
    for row_id, state in not_dead:
        print(f"itop-intercom: post {row_id} is {state}, not dead: not replayed", file=err)
    if replayed:
        shown = ", ".join(str(i) for i in replayed[:20])
        more = f" and {len(replayed) - 20} more" if len(replayed) > 20 else ""
        print(
            f"{len(replayed)} post(s) will be sent to Intercom again (never twice): {shown}{more}",
            file=out,
        )
    elif all_dead:
        print("no dead posts to Intercom", file=out)
    return 1 if not_found or not_dead else 0
