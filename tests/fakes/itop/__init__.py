"""A faithful in-memory fake of iTop 3.2.0's REST/JSON API (`webservices/rest.php`).

It behaves like the two lab instances recorded in `tests/data/itop-rest/{intercom,vanilla}/*.json`
(the "transcripts", cited below by number, e.g. 025; quirks by number refer to that folder's
README.md) with the data model of `tests/data/itop-rest/datamodel/*.json`. Where the transcripts and
an assumption disagree, the transcripts win; `tests/itop/test_fake_contract.py` replays every
transcript against this fake and compares status, content type, code, message and the whole body
(dates of "now" excepted).

Usage::

    fake = FakeItop()                           # intercom instance, admin token is ADMIN_TOKEN
    client = ItopClient(rest_url="http://itop.test/webservices/rest.php", token=ADMIN_TOKEN,
                        transport=fake.transport())
    base_url, stop = fake.serve_in_thread()     # real loopback HTTP (uvicorn), for benchmarks
    python -m tests.fakes.itop --port 8181 --latency 0.07

Layout (each layer of `FakeItop` is a base class of the next, so each module only uses those
listed before it):

- `common`: tokens, type aliases, small records; `errors`: how rest.php reports errors.
- `model_types`, `model_tickets`, `model_classes`, `datamodel`: the data model and lifecycle.
- `php`: PHP value semantics, collation, dates; `html_text`: HTML sanitiser and rendering;
  `oql`: the OQL lexer, parser and AST.
- `rows` (state, storage, rights, rendering) -> `search` (OQL evaluation, keys, values) ->
  `writes` (checks, insert, update) -> `operations` (one method per REST verb) -> `server`
  (rest.php, status.php, ASGI) -> `fake` (`FakeItop`: toggles, test helpers, seed data).
- `snapshots`: the lab database the change-history cases 110+ start from, built with the
  helpers of `FakeItop`, and the history cursor of a restored database.
- `transport`: the httpx transport with network failures; `__main__`: serve over HTTP.

Behaviour and where it comes from
---------------------------------
Transport, auth and errors (quirks 1-4 of the transcripts' README)
- status.php answers `{"status":"RUNNING","code":0,"message":""}` without auth (001).
- POST or GET (091); `version`, `json_data`, `auth_token` read from query and form like PHP's
  `$_REQUEST` (form wins); token also in the `Auth-Token` header (083/084/085); form login with
  `auth_user`/`auth_pwd` (086) and HTTP Basic for UserLocal accounts.
- Auth first (088), then version (2), json_data (3, also for an application/json body: 090),
  JSON (4), operation, supported version (10: 004), verb (11: 079). HTTP 200 for every API error.
- Wrong/unknown token, other instance's token, no credentials, replayed cookie: code 1
  "Error: Invalid login" (080-082, 094). `rest_token_allowed = False` makes every token invalid
  (093). A user without "REST Services User" gets the message of 086 (also for NO_REST_TOKEN).
- `login_mode=rest-token` without a token: the plain-text body of 092 (text/html).
- Errors raised as exceptions come back as `{"code", "message": "Error: ..."}`; errors set on
  the result (rights: 024/072/075, page: 048, stimulus: 065) as `{"code","message","objects":null}`
  without the "Error: " prefix.
Reading (quirks 6-15)
- `core/get` with `key` as id, OQL or search object (011-017, 042, 097); `objects` keyed
  "Class::id", null when empty, real class of each object (019, 023); `Found: N` = total before
  paging (041, 070); page=0 -> 13 (048); unknown class (043), unknown output field (046);
  the OQL class wins over `class`, output fields follow `class` (047); `*` = every attribute
  (038/039). Default order: tickets by ref descending (039), other classes by friendlyname
  (023, 014), change ops by id (071).
- OQL: a small real parser/evaluator (SELECT [alias FROM] Class [AS a] [JOIN C AS b ON a.x = b.y]
  [WHERE ...] with = != <> < > <= >= LIKE, [NOT] IN, AND, OR, parentheses, '...' and "..."
  literals with backslash escapes, integers). Its syntax errors (015, 044) and unknown filter codes
  (045, vanilla 095: the full list of filter codes) are worded as iTop's. `=` on strings is case-
  and accent-insensitive like MariaDB's utf8mb4_unicode_ci (012). `SELECT a, b FROM ...` returns
  `a` only (139); `UNION` merges its branches, each object once (130-132), and refuses a branch
  selecting two classes or a class without a common ancestor (133, 134).
- All scalars are strings, empty external key "0", empty date "" (038); an empty Person external
  key has friendlyname " " in core/get with an explicit output list on a leaf class (040), but ""
  with "*" (039), on an abstract class such as User (023) or in write answers (030);
  `parent_change_id_finalclass_recall` is "Change" only in create answers (038 vs 039).
  Stopwatches are 0, `sla_*_over` null (038).
Writing (quirks 16-21)
- `comment` mandatory (036); external keys as id / OQL / search object matching exactly one object
  (026, 033, 034: "No item found with criteria" / "Several items found (N)"); unknown attribute
  (037, vanilla 037/095). Attribute checks from the data model: NOT NULL -> "Null not allowed"
  (029), enums -> "Value not allowed [x]" (031, 032, 100; `true` becomes "1"), URL -> "Wrong
  format" (101); caller_id and the caller's org are not checked (030, 035). Defaults when omitted
  (038: urgency 4, impact 1, origin phone, ...); priority computed from impact x urgency.
  A failed DB check still consumes a ticket ref, a failed field parse does not (029-038).
- HTML attributes (description, solution, html case-log entries) are sanitised (025, 057, 058):
  script/style and unknown tags removed with their content, on* and unknown attributes removed,
  href/src must be http(s)/mailto/data:image..., leading bare text wrapped in <p> (038, 057).
- Case logs (049-062): add_item html/text (056), plain string append (057), `items` replaces the
  whole log even for non-admins (062), `user_id` (id / OQL / search object on User) replaces
  user_login by the Person's "First Last" (050, 051, 098), `user_id: 0` + `user_login` verbatim with
  an integer 0 (052), `user_login` alone ignored (053), non-admin user_id -> code 1 "<att>: Only
  administrators can set the user id" and nothing written (054), bad date (059), unknown user
  (060). Dates: ISO with Z/offset converted to Europe/Paris, naive read as Paris (050, 051).
  Entries keep insertion order (061). Every write records its change history (`history`):
  a CMDBChange per call, case-log and scalar ops, admin only (071, 072, 110-129).
- `status` can be written directly (063); apply_stimulus follows the UserRequest lifecycle of the
  data model dump, checks target-state mandatory attributes with PHP 8's `== ''` (an empty external
  key passes: 066), sets assignment/resolution/close dates (064, 067, 068); invalid stimulus (065).
  Closed tickets remain writable (069).
- Attachments with base64 `contents` (073, 074); delete admin-only (075), simulate (076), real
  (077); get_related answers the scope objects themselves (078, minimal).
Rights: the non-admin token can read everything but User classes and change history (024, 072),
create/update tickets and attachments (028, 055, 063), cannot delete (075) nor set user_id (054).

Inferred, NOT recorded in any transcript (flagged so that nobody mistakes them for iTop facts)
- `login_mode=rest-token` without token when rest-token is not allowed: JSON code 1 "Error:
  Invalid login" instead of the plain text of 092.
- Messages never recorded: "Invalid object <Class>::<id>", "No item found for query: <oql>",
  "Several items found (N) for query", "Wrong format for key", "Missing mandatory attribute(s) for
  applying the stimulus: a, b." (these five follow iTop's RestUtils/CoreServices sources), OQL lexer
  errors ("Unexpected input at N ..."), unknown OQL class/alias, read-only attribute writes,
  "String too long (found N, limited to M)" (README quirk 18, checked by hand), email format,
  date attributes, several issues at once, users without profile, write/create permission texts.
- Which classes a non-admin may write (tickets, attachments, contacts) and the exact HTML
  sanitiser whitelist are approximations. The html->text rendering of `message` reproduces 049-058.
- Priority matrix (impact x urgency) beyond the four combinations of 025-038; the dates set by
  ev_pending/ev_reopen; the JSON of empty images/passwords/obsolescence flags (""); `items`
  entries with a user_id (admin) are kept verbatim without a User lookup; a case-log value that
  is an object without add_item/items changes nothing; add_item defaults to format html.
- Link sets other than User.profile_list are accepted on input and always read back as [];
  get_related does not follow relations; deleting a ticket also deletes its attachments, other
  deletions ignore referential integrity. The HTML pages of `http_status` / `not_rest`.
- PHP date parsing is approximated: ISO 8601 / 'Y-m-d[ H:i[:s]]' / @epoch / now|today|yesterday|
  tomorrow; the error position of other strings is a heuristic (exact for 059).
- The service catalogue classes Contract (abstract), CustomerContract, lnkCustomerContractToService
  (with minimal ContractType and SLA targets) and ServiceSubcategory.status are transcribed from
  iTop 3.2's itop-service-mgmt datamodel, not from the dumps: their labels, the `production`
  default of the catalogue statuses (empty in iTop) and the friendlyname of a link class (the
  friendlynames of the objects it links, joined by a space) are not recorded anywhere.
- Users' ids: intercom admin 1, intercom_sync_app 2, intercom_sync_agent 3, agatha.christie 4,
  victor.hugo 5 (vanilla: 1, 4, 5, 6, 7; the lab rebuilt for 110+: as intercom in both); the extra
  NO_REST_TOKEN user is id 100
  ("intercom_sync_norest"). Demo persons other than those named in the transcripts are invented.

Seeds: `seed="lab"` (default) is the database as the transcripts use it after their setup cases
007-010 (agatha.christie / victor.hugo accounts, Persons 40 and 41); `seed="install"` is the clean
snapshot the recordings start from (demo data and the token users only); `seed="rebuilt"` is
that install on the lab rebuilt for the cases 110+, whose token users are 2 and 3 in both
instances (`snapshots.before_history_cases` adds the rest of that lab's snapshot).

Test hooks (see FakeItop): `rest_token_allowed`, `down`, `http_status`, `not_rest`, `latency`,
`fail_next`, `calls`, `clock`, `default_version`, and the helpers add_person / add_user /
add_ticket / add_object / ticket / log_entries / attachments / api / remove / serve_in_thread.
"""

from tests.fakes.itop.common import (
    ADMIN_TOKEN,
    AGENT_TOKEN,
    NO_REST_TOKEN,
    OTHER_INSTANCE_TOKEN,
    TEST_USER_PASSWORD,
    WEB_ADMIN_LOGIN,
    WEB_ADMIN_PASSWORD,
    Failure,
)
from tests.fakes.itop.fake import FakeItop

__all__ = [
    "ADMIN_TOKEN",
    "AGENT_TOKEN",
    "NO_REST_TOKEN",
    "OTHER_INSTANCE_TOKEN",
    "TEST_USER_PASSWORD",
    "WEB_ADMIN_LOGIN",
    "WEB_ADMIN_PASSWORD",
    "Failure",
    "FakeItop",
]
