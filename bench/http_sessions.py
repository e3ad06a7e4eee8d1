"""Signed-in sessions and API tokens for the HTTP benchmark (bench/http.sh), written to files.

    DATABASE_URL=... SECRET_KEY=... python bench/http_sessions.py OUT_DIR [--reps 50]

Signs in the reps rep1…repN and the managers of their teams through Django's own
`login()` (the test client's `force_login`, which stores a real session row), and gets
each manager an API token. The server must run with the same SECRET_KEY and database:
a session is only valid for the key that hashed it.

Writes, one line per user, `<HTTP header>\\t<pages>`, the pages of a manager's lead list
or of a rep's queue:

- `managers.txt`: session cookies of the managers (the lead list, the floor pages);
- `reps.txt`: session cookies of the reps (the queue);
- `mixed.txt`: both (the dashboard);
- `tokens.txt`: the managers' API tokens (the leads API).

The page count lets the load generator ask for a random page that exists.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "salesmarketing.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.test import Client  # noqa: E402
from rest_framework.authtoken.models import Token  # noqa: E402

from leads import selectors  # noqa: E402
from teams.models import Role, User  # noqa: E402

PAGE_SIZE = 50
BACKEND = "teams.backends.ModelBackendWithTeam"


def main() -> None:
    parser = argparse.ArgumentParser(description="Write sessions and tokens for the HTTP benchmark.")
    parser.add_argument("out", type=Path)
    parser.add_argument("--reps", type=int, default=50)
    args = parser.parse_args()
    reps = list(
        User.objects.filter(role=Role.SALES_REP, username__in=[f"rep{n}" for n in range(1, args.reps + 1)]).order_by(
            "pk"
        )
    )
    if not reps:
        sys.exit("No rep1… in this database: fill it with bench/generate.py first.")
    managers = list(
        User.objects.filter(role=Role.SALES_MANAGER, team_id__in={rep.team_id for rep in reps}).order_by("pk")
    )
    lines: dict[str, list[str]] = {"managers": [], "reps": [], "mixed": [], "tokens": []}
    for user in managers + reps:
        cookie = f"Cookie: {settings.SESSION_COOKIE_NAME}={_session_key(user)}"
        kind = "managers" if user.role == Role.SALES_MANAGER else "reps"
        leads = selectors.lead_list(user=user) if kind == "managers" else selectors.lead_queue(user=user)
        pages = max(1, math.ceil(leads.count() / PAGE_SIZE))
        lines[kind].append(f"{cookie}\t{pages}")
        lines["mixed"].append(f"{cookie}\t{pages}")
        if kind == "managers":
            token, _ = Token.objects.get_or_create(user=user)
            lines["tokens"].append(f"Authorization: Token {token.key}\t{pages}")
    args.out.mkdir(parents=True, exist_ok=True)
    for name, rows in lines.items():
        (args.out / f"{name}.txt").write_text("\n".join(rows) + "\n")
    print(f"{len(managers)} managers, {len(reps)} reps signed in; files in {args.out}")


def _session_key(user: User) -> str:
    client = Client()
    client.force_login(user, backend=BACKEND)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


if __name__ == "__main__":
    main()
