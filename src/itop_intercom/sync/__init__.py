"""Conversation → ticket sync: every message, once, in order, nothing lost.

The path of a message, one module per step:

- `intake`: the webhook stores every part of a verified notification (group commit,
  `groupcommit`) and answers 200 — nothing else happens in the request;
- `planner` (in the worker): decides once, per part, which tickets get it (linked, sync on);
  each (part, ticket) pair is a *delivery* in the `queue`;
- `worker`: leases conversations and applies their deliveries in order (`apply`: attachments,
  then the case-log entry built by `entries`, authored via `authors`), retrying transient
  failures with backoff (`failures`), pausing while iTop is down (`health`);
- `history`: the same queue for copying a whole conversation into a new ticket;
- `jobs`: a small durable job runner living in the same worker;
- `commands`: the `worker` and `events list|show|replay` commands.

The other direction, ticket → conversation, is the `back` package (the same worker runs it).
"""
