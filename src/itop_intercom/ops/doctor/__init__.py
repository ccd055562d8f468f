"""The `check` command: test the settings, iTop and Intercom, and explain what to fix.

Each result belongs to a setup step of the administrator's guide ("Setting it up" in the README), so
that the report reads like the guide: "Step 1 · iTop token user", then OK, or what is wrong and how
to fix it, in words an iTop administrator understands without reading our code.

1. iTop token user: settings, network, REST endpoint, token, `rest-token` login mode, REST
   Services User profile, Administrator profile.
2. Intercom app: the workspace the access token belongs to (`GET /me`).
3. Client secret: present for each workspace (it cannot be tested remotely).
4. Access token: present and accepted by Intercom, for each workspace.
5. Canvas Kit and webhook URLs: `public_url` present and https.
6. Module settings: workspaces (and whether they match the access tokens), ticket class,
   mapped attribute codes, form / subtitle / detail attributes, and where links are kept.
7. End users' chat (iTop module): the shared key, the module's endpoint, Messenger security
   per workspace (`messenger`).

The checks only read: nothing is written to iTop or Intercom. iTop and Intercom are checked
concurrently, and every call, and each of the two groups, has a deadline derived from the
configured timeouts. No token or client secret is ever part of a result: messages are built
from our own words, URLs and iTop's error texts, and everything is scrubbed of every configured
secret before it is returned, as a second line of defence.

Modules: `result` (a result and the setup steps), `settings_checks`, `itop_access` (step 1,
reachability and token), `itop_profiles` (step 1, profiles), `itop_datamodel` (step 6, ticket
class, attributes and link store), `intercom` (steps 2 to 6, Intercom side), `run` (all of
them, with deadlines) and `report` (the text the command prints).
"""

from __future__ import annotations

from itop_intercom.ops.doctor.report import explain, render
from itop_intercom.ops.doctor.result import STEPS, CheckResult, Status
from itop_intercom.ops.doctor.run import run_checks

__all__ = ("STEPS", "CheckResult", "Status", "explain", "render", "run_checks")
