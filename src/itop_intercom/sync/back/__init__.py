"""Ticket → conversation back-sync: what happens in a linked iTop ticket reaches Intercom.

- `poller`: reads iTop's change history with a cursor (one `core/get` per poll for every linked
  ticket, one more for the tickets that changed), decides what goes where (`decide`), and
  writes an outbox row per (change, conversation) in the same transaction as the cursor;
- `sender`: leases conversations and posts their outbox rows in iTop's order (`render` builds
  the messages, `admins` finds the Intercom admin of an iTop author), with retries, dead letters
  and a marker check that keeps a post from appearing twice after a crash;
- `outbox`: the tables' queries (cursor, claim, finish); `events`: lag, listing and replay
  for operators (`commands`: `events list|replay --outbound`);
- `runner`: the loops, run inside the sync worker.
"""
